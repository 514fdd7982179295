// ftrace/: func-filter-glob.tc, func_set_ftrace_file.tc,
// func-filter-stacktrace.tc, fgraph-filter.tc; and `!` taking a function back
// out (the empty filter again), `:mod:` in the graph files.

import assert from 'node:assert/strict';
import { body, events, graphCalls, refused, selftests } from './harness.js';

const ALL = '#### all functions enabled ####\n';
const NONE = '#### no functions disabled ####\n';

/** Each glob of func-filter-glob.tc, over `lib.mjs:<name>`, with the regex it means. */
const GLOBS: [string, RegExp][] = [
  ['*schedule', /schedule$/], // suffix
  ['*schedule*', /schedule/], // substring
  ['lib.mjs:schedule*', /^lib\.mjs:schedule/], // prefix
  ['*pin*lock', /^.*pin.*lock$/], // full glob
  ['*mutex*try*', /^.*mutex.*try.*$/],
  ['*sch*ule', /^.*sch.*ule$/],
  ['*[Ss]y[Ss]_*', /^.*[Ss]y[Ss]_.*$/],
  ['*sch?dule', /^.*sch.dule$/],
  ['lib.mjs:[Ss]*', /^lib\.mjs:[Ss]/],
  ['lib.mjs:schedule', /^lib\.mjs:schedule$/], // whole name
];

selftests({
  // func-filter-glob.tc: what set_ftrace_filter lists is available_filter_functions filtered by the regex.
  async 'func-filter-glob: each glob selects what its regex selects'(fs) {
    // The test runs its full-glob checks only when README says `accepts: ... glob-matching-pattern`.
    assert.match(await fs.read('README'), /accepts: .* glob-matching-pattern/);
    const available = (await fs.read('available_filter_functions')).split('\n').filter((l) => l !== '');
    assert.equal(available.length, 19, available.join('\n'));
    for (const [glob, re] of GLOBS) {
      await fs.write('set_ftrace_filter', glob);
      const want = available.filter((f) => re.test(f));
      assert.ok(want.length > 0 && want.length < available.length, `${glob} is meaningful here (${want.length})`);
      assert.equal(await fs.read('set_ftrace_filter'), `${want.join('\n')}\n`, glob);
    }
    // The kernel test's own names, to keep the regexes honest.
    await fs.write('set_ftrace_filter', '*pin*lock');
    assert.equal(await fs.read('set_ftrace_filter'), 'lib.mjs:spin_lock\nlib.mjs:spin_unlock\n');
    await fs.write('set_ftrace_filter', '*[Ss]y[Ss]_*');
    assert.equal(await fs.read('set_ftrace_filter'), 'lib.mjs:SyS_read\nlib.mjs:sys_write\n');
    await fs.write('set_ftrace_filter', '*sch?dule');
    assert.equal(await fs.read('set_ftrace_filter'), 'lib.mjs:__schedule\nlib.mjs:schedule\nlib.mjs:io_schedule\n');
    // Several globs, `!`, and an index (line N of available_filter_functions).
    await fs.write('set_ftrace_filter', '*schedule* !*timeout 7');
    assert.equal(await fs.read('set_ftrace_filter'),
      'lib.mjs:__schedule\nlib.mjs:schedule\nlib.mjs:io_schedule\nlib.mjs:scheduler_tick\nlib.mjs:spin_lock\n');
    await fs.write('set_ftrace_filter', '');
    assert.equal(await fs.read('set_ftrace_filter'), ALL);
  },

  // func_set_ftrace_file.tc: the read-back across `>`, `>>`, `echo >`, with probes.
  async 'func_set_ftrace_file: set_ftrace_filter reads back exactly'(fs) {
    const read = (): Promise<string> => fs.read('set_ftrace_filter');
    assert.equal(await read(), ALL);
    await fs.write('set_ftrace_filter', 'lib.mjs:schedule\n');
    assert.equal(await read(), 'lib.mjs:schedule\n');
    await fs.append('set_ftrace_filter', 'lib.mjs:spin_lock\n');
    assert.equal(await read(), 'lib.mjs:schedule\nlib.mjs:spin_lock\n', 'record order, not the order written');
    await fs.append('set_ftrace_filter', 'lib.mjs:schedule:traceoff\n');
    assert.equal(await read(), 'lib.mjs:schedule\nlib.mjs:spin_lock\nlib.mjs:schedule:traceoff:unlimited\n');
    await fs.append('set_ftrace_filter', 'lib.mjs:mutex_lock lib.mjs:spin_lock:traceoff:5\n');
    assert.equal(await read(), 'lib.mjs:schedule\nlib.mjs:spin_lock\nlib.mjs:mutex_lock\n'
      + 'lib.mjs:schedule:traceoff:unlimited\nlib.mjs:spin_lock:traceoff:count=5\n');
    // `echo > set_ftrace_filter`: the functions go, the probes stay.
    await fs.write('set_ftrace_filter', '\n');
    assert.equal(await read(), `${ALL}lib.mjs:schedule:traceoff:unlimited\nlib.mjs:spin_lock:traceoff:count=5\n`);
    await fs.append('set_ftrace_filter', 'lib.mjs:schedule\n');
    assert.equal(await read(), 'lib.mjs:schedule\nlib.mjs:schedule:traceoff:unlimited\nlib.mjs:spin_lock:traceoff:count=5\n');
    // `>` of a probe alone truncates the functions too (O_TRUNC), and keeps the other probes.
    await fs.write('set_ftrace_filter', 'lib.mjs:mutex_lock:traceoff\n');
    assert.equal(await read(), `${ALL}lib.mjs:schedule:traceoff:unlimited\nlib.mjs:spin_lock:traceoff:count=5\n`
      + 'lib.mjs:mutex_lock:traceoff:unlimited\n');
    // Writing a probe that exists adds nothing: EINVAL (register_ftrace_function_probe's
    // "nothing added"), and the first one keeps its count.
    await refused(fs.append('set_ftrace_filter', 'lib.mjs:spin_lock:traceoff:2\n'), 'EINVAL');
    assert.match(await read(), /spin_lock:traceoff:count=5\n/);
    await fs.append('set_ftrace_filter', '!lib.mjs:schedule:traceoff\n');
    await fs.append('set_ftrace_filter', '!lib.mjs:spin_lock:traceoff:0\n');
    assert.equal(await read(), `${ALL}lib.mjs:mutex_lock:traceoff:unlimited\n`);
    await fs.append('set_ftrace_filter', '!lib.mjs:mutex_lock:traceoff\n');
    assert.equal(await read(), ALL);
    // The filter as the tracer sees it: enabled_functions has exactly the functions listed.
    await fs.write('set_ftrace_filter', 'lib.mjs:spin_lock lib.mjs:mutex_lock');
    await fs.write('current_tracer', 'function');
    assert.deepEqual((await fs.read('enabled_functions')).split('\n').filter((l) => l !== '').map((l) => l.split(' ')[0]),
      ['lib.mjs:spin_lock', 'lib.mjs:mutex_lock']);
  },

  // func-filter-stacktrace.tc: `f:stacktrace` reads back with :unlimited and records <stack trace>.
  async 'func-filter-stacktrace: f:stacktrace gives a <stack trace> per call'(fs, prog) {
    await fs.append('set_ftrace_filter', 'lib.mjs:schedule:stacktrace');
    assert.equal(await fs.read('set_ftrace_filter'), `${ALL}lib.mjs:schedule:stacktrace:unlimited\n`);
    await prog.call('schedule_timeout', 2);
    await prog.call('spin_lock', 1);
    const lines = events(await fs.read('trace'));
    const heads = lines.filter((l) => !l.startsWith(' => '));
    assert.deepEqual(heads, ['0: <stack trace>', '0: <stack trace>'], lines.join('\n'));
    // Each stack: the traced function first, its callers after, as ` => ` lines.
    const stacks = lines.join('\n').split('0: <stack trace>\n').slice(1).map((s) => s.split('\n').filter((l) => l !== ''));
    for (const s of stacks) {
      assert.ok(s.every((l) => l.startsWith(' => ')), s.join('\n'));
      assert.match(s[0]!, /^ => schedule \(.*lib\.mjs:\d+:\d+\)$/);
      assert.match(s[1]!, /^ => schedule_timeout \(.*lib\.mjs:\d+:\d+\)$/);
    }
    // A counted one: spent per hit.
    await fs.append('set_ftrace_filter', 'lib.mjs:spin_lock:stacktrace:1');
    await fs.write('trace', '');
    await prog.call('spin_lock', 3);
    assert.equal(events(await fs.read('trace')).filter((l) => l === '0: <stack trace>').length, 1);
    assert.match(await fs.read('set_ftrace_filter'), /^lib\.mjs:spin_lock:stacktrace:count=0$/m);
  },

  // fgraph-filter.tc: function_graph with set_ftrace_filter=f shows only f.
  async 'fgraph-filter: function_graph with a filter shows only that function'(fs, prog) {
    await fs.write('set_ftrace_filter', 'lib.mjs:schedule');
    await fs.write('current_tracer', 'function_graph');
    await prog.call('schedule_timeout', 2);
    await prog.call('io_schedule', 1);
    await prog.call('spin_lock', 4);
    const calls = graphCalls(await fs.read('trace'));
    assert.deepEqual(calls, Array(3).fill('lib.mjs:schedule();'));
    // And unfiltered, the whole call tree.
    await fs.write('set_ftrace_filter', '');
    await fs.write('trace', '');
    await prog.call('schedule_timeout', 1);
    assert.deepEqual(graphCalls(await fs.read('trace')), [
      'lib.mjs:schedule_timeout() {', '  lib.mjs:schedule() {', '    lib.mjs:__schedule() {', '      lib.mjs:pick_next_task();',
      '    }', '  }', '}',
    ]);
    assert.equal(body(await fs.read('trace')).length, 7);
  },

  // ftrace.c's hash: `!f` takes f out; when nothing is left the hash is empty,
  // which is "all functions" (set_ftrace_notrace: none disabled).
  async 'func_set_ftrace_file: f then !f leaves the empty filter, which traces every function'(fs, prog) {
    await fs.write('trace_clock', 'counter');
    for (const [file, empty] of [['set_ftrace_filter', ALL], ['set_graph_function', ALL], ['set_ftrace_notrace', NONE], ['set_graph_notrace', NONE]] as const) {
      await fs.append(file, 'lib.mjs:add');
      assert.equal(await fs.read(file), 'lib.mjs:add\n', file);
      await fs.append(file, '!lib.mjs:add');
      assert.equal(await fs.read(file), empty, file);
      // `!*` takes every function out, as it empties the kernel's hash.
      await fs.write(file, 'lib.mjs:add lib.mjs:spin_*');
      await fs.append(file, '!*');
      assert.equal(await fs.read(file), empty, file);
    }
    await fs.append('set_ftrace_filter', 'lib.mjs:add');
    await fs.append('set_ftrace_filter', '!lib.mjs:add');
    await fs.write('current_tracer', 'function');
    await prog.call('spin_lock', 1);
    assert.deepEqual(events(await fs.read('trace')), ['0: lib.mjs:spin_lock'], 'the empty filter traces every function');
    // A removal that names other functions keeps the rest of the list.
    await fs.write('set_ftrace_filter', 'lib.mjs:spin_* lib.mjs:spin_lock');
    await fs.append('set_ftrace_filter', '!lib.mjs:spin_lock');
    assert.equal(await fs.read('set_ftrace_filter'), 'lib.mjs:spin_unlock\n');
    // Patterns stay patterns: `!` with another glob that covers every added function leaves a
    // filter that selects nothing now, read as nothing (docs/design.md, "Filters").
    await fs.write('set_ftrace_filter', 'lib.mjs:add');
    await fs.append('set_ftrace_filter', '!lib.mjs:a*');
    assert.equal(await fs.read('set_ftrace_filter'), '');
    // A notrace list that excludes nothing reads as the empty one.
    await fs.write('set_ftrace_notrace', 'lib.mjs:add');
    await fs.append('set_ftrace_notrace', '!lib.mjs:a*');
    assert.equal(await fs.read('set_ftrace_notrace'), NONE);
  },

  // ftrace_graph_set_hash has no `:mod:` command: `f:mod:m` is a glob that matches no function.
  async 'fgraph-filter: set_graph_function and set_graph_notrace take no :mod:'(fs) {
    for (const file of ['set_graph_function', 'set_graph_notrace']) {
      for (const word of ['lib.mjs:add:mod:foo', '*:mod:*', 'lib.mjs:*:mod:!nosuch']) {
        await refused(fs.write(file, word), 'EINVAL');
      }
    }
    assert.equal(await fs.read('set_graph_function'), ALL);
    assert.equal(await fs.read('set_graph_notrace'), NONE);
    // set_ftrace_filter keeps its :mod: command: a package not loaded is kept and listed.
    await fs.write('set_ftrace_filter', 'lib.mjs:add:mod:foo');
    assert.equal(await fs.read('set_ftrace_filter'), 'lib.mjs:add:mod:foo\n');
  },
});
