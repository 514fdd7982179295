// ftrace/func-filter-pid.tc and func-filter-notrace-pid.tc, for threads:
// set_ftrace_pid and set_ftrace_notrace_pid take threadIds (0 is the main
// thread); the program has one worker.

import assert from 'node:assert/strict';
import { events, selftests } from './harness.js';

/** The thread ids of a function trace's lines. */
async function threadsOf(trace: string): Promise<number[]> {
  return events(trace).map((l) => Number(l.slice(0, l.indexOf(':'))));
}

selftests({
  async 'func-filter-pid: only the listed thread is traced'(fs, prog) {
    const w = prog.workerThreadId;
    assert.equal(await fs.read('set_ftrace_pid'), 'no pid\n');
    await fs.write('set_ftrace_filter', 'lib.mjs:spin_lock');
    await fs.write('current_tracer', 'function');
    await fs.write('set_ftrace_pid', String(w));
    assert.equal(await fs.read('set_ftrace_pid'), `${w}\n`);
    await prog.call('spin_lock', 2);
    await prog.call('spin_lock', 3, 'worker');
    assert.deepEqual(events(await fs.read('trace')), Array(3).fill(`${w}: lib.mjs:spin_lock`));
    // `>>` adds the main thread.
    await fs.append('set_ftrace_pid', '0');
    assert.deepEqual((await fs.read('set_ftrace_pid')).split('\n').filter((l) => l !== '').sort(), ['0', String(w)].sort());
    await fs.write('trace', '');
    await prog.call('spin_lock', 1);
    await prog.call('spin_lock', 1, 'worker');
    assert.deepEqual((await threadsOf(await fs.read('trace'))).sort(), [0, w]);
    // `>` replaces; `echo >` clears.
    await fs.write('set_ftrace_pid', '0');
    assert.equal(await fs.read('set_ftrace_pid'), '0\n');
    await fs.write('set_ftrace_pid', '');
    assert.equal(await fs.read('set_ftrace_pid'), 'no pid\n');
  },

  async 'func-filter-notrace-pid: the listed thread is not traced; notrace wins'(fs, prog) {
    const w = prog.workerThreadId;
    assert.equal(await fs.read('set_ftrace_notrace_pid'), 'no pid\n');
    await fs.write('set_ftrace_filter', 'lib.mjs:spin_lock');
    await fs.write('current_tracer', 'function');
    await fs.write('set_ftrace_notrace_pid', '0');
    assert.equal(await fs.read('set_ftrace_notrace_pid'), '0\n');
    await prog.call('spin_lock', 2);
    await prog.call('spin_lock', 2, 'worker');
    assert.deepEqual(events(await fs.read('trace')), Array(2).fill(`${w}: lib.mjs:spin_lock`));
    // In both lists: not traced; the other thread, outside set_ftrace_pid, neither.
    await fs.write('set_ftrace_pid', '0');
    await fs.write('trace', '');
    await prog.call('spin_lock', 2);
    await prog.call('spin_lock', 2, 'worker');
    assert.deepEqual(events(await fs.read('trace')), []);
    // Notrace of the worker only: the main thread is traced again.
    await fs.write('set_ftrace_notrace_pid', String(w));
    await prog.call('spin_lock', 1);
    assert.deepEqual(events(await fs.read('trace')), ['0: lib.mjs:spin_lock']);
    await fs.write('set_ftrace_notrace_pid', '');
    assert.equal(await fs.read('set_ftrace_notrace_pid'), 'no pid\n');
  },

  // The pid lists apply to function_graph too.
  async 'func-filter-pid: function_graph follows set_ftrace_pid'(fs, prog) {
    const w = prog.workerThreadId;
    await fs.write('set_ftrace_filter', 'lib.mjs:mutex_trylock lib.mjs:mutex_lock');
    await fs.write('current_tracer', 'function_graph');
    await fs.write('set_ftrace_pid', String(w));
    await prog.call('mutex_trylock', 1);
    await prog.call('mutex_trylock', 1, 'worker');
    const lines = (await fs.read('trace')).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.deepEqual(lines.map((l) => l.replace(/^ *(\d+)\).*?\|  /, '$1: ')),
      [`${w}: lib.mjs:mutex_trylock() {`, `${w}:   lib.mjs:mutex_lock();`, `${w}: }`]);
  },
});
