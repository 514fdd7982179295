// 00basic: basic2.tc, basic3.tc, trace_pipe.tc, ringbuffer_size.tc, and the
// README against the tree.

import assert from 'node:assert/strict';
import { body, currentClock, events, refused, selftests } from './harness.js';

selftests({
  // basic2.tc: every tracer can be set and reads back; then nop.
  async 'basic2: every tracer in available_tracers can be set'(fs) {
    const tracers = (await fs.read('available_tracers')).trim().split(/\s+/);
    assert.deepEqual(tracers, ['function_graph', 'function', 'nop']);
    for (const t of tracers) {
      await fs.write('current_tracer', t);
      assert.equal(await fs.read('current_tracer'), `${t}\n`);
    }
    await fs.write('current_tracer', 'nop');
    assert.equal(await fs.read('current_tracer'), 'nop\n');
  },

  // basic3.tc: every clock can be selected and then shows in [brackets].
  async 'basic3: every clock in trace_clock can be selected'(fs) {
    const text = await fs.read('trace_clock');
    const clocks = text.trim().split(/\s+/).map((c) => c.replace(/^\[(.*)\]$/, '$1'));
    assert.equal((text.match(/\[/g) ?? []).length, 1, text);
    assert.ok(clocks.includes('local') && clocks.includes('counter'), text);
    for (const c of clocks) {
      await fs.write('trace_clock', c);
      const now = await fs.read('trace_clock');
      assert.equal(currentClock(now), c);
      assert.equal((now.match(/\[/g) ?? []).length, 1, now);
      assert.equal(now.replace(/[[\]]/g, ''), text.replace(/[[\]]/g, ''), 'the list itself does not change');
    }
  },

  // trace_pipe.tc: `trace` does not consume, trace_pipe does.
  async 'trace_pipe: reading trace does not consume, trace_pipe does'(fs, prog) {
    await fs.write('trace_clock', 'counter');
    await fs.write('set_ftrace_filter', 'lib.mjs:schedule');
    await fs.write('current_tracer', 'function');
    await prog.call('schedule', 3);
    const first = await fs.read('trace');
    const second = await fs.read('trace');
    assert.equal(second, first);
    assert.deepEqual(events(first), Array(3).fill('0: lib.mjs:schedule'));
    assert.match(first, /^# entries-in-buffer\/entries-written: 3\/3 /m);
    const piped = await fs.read('trace_pipe');
    assert.deepEqual(events(piped), Array(3).fill('0: lib.mjs:schedule'));
    assert.ok(!piped.includes('#'), 'trace_pipe has no header');
    const after = await fs.read('trace');
    assert.deepEqual(body(after), [], 'trace no longer shows what trace_pipe consumed');
    assert.match(after, /^# entries-in-buffer\/entries-written: 0\/0 /m);
    assert.equal(await fs.read('trace_pipe'), '', 'nothing new: empty, and no blocking');
    await prog.call('schedule_timeout', 1);
    // The parent is the nearest caller whose site is enabled; schedule_timeout's is not (ftrace would name it).
    assert.deepEqual(events(await fs.read('trace_pipe')), ['0: lib.mjs:schedule']);
    assert.deepEqual(body(await fs.read('trace')), []);
  },

  // ringbuffer_size.tc: half, double, original; also per thread.
  async 'ringbuffer_size: buffer_size_kb and per_thread/N/buffer_size_kb take half, double, original'(fs, prog) {
    const orig = Number((await fs.read('buffer_size_kb')).trim());
    assert.ok(Number.isInteger(orig) && orig > 1, String(orig));
    for (const kb of [orig / 2, orig * 2, orig]) {
      await fs.write('buffer_size_kb', String(kb));
      assert.equal(await fs.read('buffer_size_kb'), `${kb}\n`);
    }
    await fs.write('current_tracer', 'function');
    await prog.call('spin_lock', 1);
    assert.ok((await fs.list()).includes('per_thread/0/buffer_size_kb'));
    assert.equal(await fs.read('per_thread/0/buffer_size_kb'), `${orig}\n`);
    for (const kb of [orig / 2, orig * 2]) {
      await fs.write('per_thread/0/buffer_size_kb', String(kb));
      assert.equal(await fs.read('per_thread/0/buffer_size_kb'), `${kb}\n`);
      assert.equal(await fs.read('buffer_size_kb'), 'X\n', 'threads differ');
    }
    // Still X until buffer_size_kb is written, which gives every thread its size again.
    await prog.call('spin_lock', 1);
    assert.equal(await fs.read('buffer_size_kb'), 'X\n');
    await fs.write('buffer_size_kb', String(orig));
    assert.equal(await fs.read('buffer_size_kb'), `${orig}\n`);
    assert.equal(await fs.read('per_thread/0/buffer_size_kb'), `${orig}\n`);
    // Writing a size clears the buffers (the selftests' difference from ftrace, which keeps what fits).
    assert.deepEqual(body(await fs.read('trace')), []);
  },

  // tracing_on takes what the kernel's kstrtoul takes: a negative number is EINVAL and changes nothing.
  async 'tracing_on: 0 and 1 switch, -1 is refused (EINVAL)'(fs) {
    await fs.write('tracing_on', '0');
    assert.equal(await fs.read('tracing_on'), '0\n');
    await refused(fs.write('tracing_on', '-1'), 'EINVAL');
    assert.equal(await fs.read('tracing_on'), '0\n');
    await fs.write('tracing_on', '2');
    assert.equal(await fs.read('tracing_on'), '1\n');
    await refused(fs.write('function_profile_enabled', '-1'), 'EINVAL');
  },

  // As per_cpu/cpuN exists for every online CPU, per_thread/<id> exists for every live thread,
  // before it has traced anything: its buffer reads empty, its counters zero, its size the default.
  async 'per_thread: a directory for every live thread, traced or not'(fs, prog) {
    const files = await fs.list();
    for (const id of [0, prog.workerThreadId]) {
      for (const f of ['trace', 'trace_pipe', 'stats', 'buffer_size_kb']) assert.ok(files.includes(`per_thread/${id}/${f}`), `per_thread/${id}/${f}`);
    }
    const w = `per_thread/${prog.workerThreadId}`;
    assert.deepEqual(body(await fs.read(`${w}/trace`)), []);
    assert.match(await fs.read(`${w}/stats`), /^entries: 0$/m);
    assert.equal(await fs.read(`${w}/buffer_size_kb`), await fs.read('buffer_size_kb'));
    await refused(fs.read('per_thread/999999/trace'), 'ENOENT');
  },

  // tracefs's events/: the runtime's events, each off until enabled; events/enable reads X while
  // they differ; each has its format. An enabled event reaches the trace of every thread.
  async 'events: available_events, events/<name>/enable (off by default), events/enable, format'(fs, prog) {
    assert.equal(await fs.read('available_events'), 'jsftrace:gc\njsftrace:loop_delay\njsftrace:async_hook\n');
    for (const e of ['gc', 'loop_delay', 'async_hook']) assert.equal(await fs.read(`events/${e}/enable`), '0\n');
    assert.equal(await fs.read('events/enable'), '0\n');
    await fs.write('events/async_hook/enable', '1');
    assert.equal(await fs.read('events/enable'), 'X\n');
    await refused(fs.write('events/gc/enable', '2'), 'EINVAL');
    assert.equal(await fs.read('events/gc/enable'), '0\n');
    assert.match(await fs.read('events/gc/format'), /^name: gc\nID: \d+\nformat:\n[^]*\tfield:u64 duration;\toffset:20;\tsize:8;\tsigned:0;\n[^]*print fmt: "kind=%u/);
    // A worker's timer, made while async_hook is on, is in its buffer.
    await fs.write('current_tracer', 'function');
    await prog.call('spin_lock', 1, 'worker');
    assert.match(await fs.read(`per_thread/${prog.workerThreadId}/trace`), / async_hook: init id=\d+ trigger=\d+ type=\w+$/m);
    await fs.write('events/enable', '0');
    assert.equal(await fs.read('events/enable'), '0\n');
  },

  // The README lists every file the tree serves, and nothing it does not.
  async 'README: lists every file of list()'(fs, prog) {
    await fs.write('current_tracer', 'function');
    await fs.write('function_profile_enabled', '1');
    await prog.call('spin_lock', 1);
    const files = await fs.list();
    assert.ok(files.some((f) => f.startsWith('per_thread/')), 'a per_thread directory');
    assert.ok(files.some((f) => f.startsWith('trace_stat/')), 'a trace_stat file');
    assert.deepEqual(files, [...files].sort(), 'list() is sorted');
    const readme = await fs.read('README');
    const described = new Set([...readme.matchAll(/^ {2}(\S+) {2,}\S/gm)].map((m) => m[1]!));
    const pattern = (f: string): string => f
      .replace(/^per_thread\/\d+\//, 'per_thread/<id>/')
      .replace(/^trace_stat\/function\d+$/, 'trace_stat/function<id>')
      .replace(/^options\/.+$/, 'options/<name>')
      .replace(/^events\/[^/]+\/(enable|format)$/, 'events/<name>/$1');
    for (const f of files) assert.ok(described.has(pattern(f)), `README does not describe ${f}`);
    const served = new Set(files.map(pattern));
    for (const d of described) assert.ok(served.has(d), `README describes ${d}, which list() does not return`);
  },
});
