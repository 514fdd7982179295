// ftrace/func_profile_stat.tc and func_profiler.tc: trace_stat/functionN
// moves while function_profile_enabled is 1 and freezes at 0; the profiler
// follows set_ftrace_filter.

import assert from 'node:assert/strict';
import { functionsOf, selftests } from './harness.js';

/** trace_stat rows as name -> hits. */
function hits(stat: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of stat.split('\n').slice(2)) {
    const m = /^ {2}(\S+) +(\d+) /.exec(l);
    if (m !== null) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

const HEADER = '  Function                               Hit    Time            Avg             s^2\n'
  + '  --------                               ---    ----            ---             ---\n';

selftests({
  async 'func_profile_stat: trace_stat/function0 changes while enabled, freezes when disabled'(fs, prog) {
    assert.equal(await fs.read('function_profile_enabled'), '0\n');
    await fs.write('function_profile_enabled', '1');
    assert.equal(await fs.read('function_profile_enabled'), '1\n');
    await prog.call('schedule', 3);
    assert.ok((await fs.list()).includes('trace_stat/function0'));
    const first = await fs.read('trace_stat/function0');
    assert.ok(first.startsWith(HEADER), first);
    assert.deepEqual([...hits(first)].sort(), [['lib.mjs:__schedule', 3], ['lib.mjs:pick_next_task', 3], ['lib.mjs:schedule', 3]]);
    await prog.call('schedule', 2);
    const second = await fs.read('trace_stat/function0');
    assert.notEqual(second, first);
    assert.equal(hits(second).get('lib.mjs:schedule'), 5);
    await fs.write('function_profile_enabled', '0');
    assert.equal(await fs.read('function_profile_enabled'), '0\n');
    const third = await fs.read('trace_stat/function0');
    await prog.call('schedule', 4);
    assert.equal(await fs.read('trace_stat/function0'), third, 'disabled: the counts stay as they were');
    assert.equal(hits(third).get('lib.mjs:schedule'), 5);
    // Enabling again starts from zero.
    await fs.write('function_profile_enabled', '1');
    assert.equal(await fs.read('trace_stat/function0'), HEADER);
    await prog.call('spin_lock', 2);
    assert.deepEqual([...hits(await fs.read('trace_stat/function0'))], [['lib.mjs:spin_lock', 2]]);
    // Any integer is a switch.
    await fs.write('function_profile_enabled', '0');
    await fs.write('function_profile_enabled', '7');
    assert.equal(await fs.read('function_profile_enabled'), '1\n');
  },

  async 'func_profiler: with a filter only those functions are profiled and traced'(fs, prog) {
    await fs.write('current_tracer', 'function');
    await fs.write('function_profile_enabled', '1');
    await fs.write('set_ftrace_filter', '*schedule');
    await prog.call('schedule_timeout', 2);
    await prog.call('spin_lock', 1);
    const filtered = hits(await fs.read('trace_stat/function0'));
    assert.deepEqual([...filtered].sort(), [['lib.mjs:__schedule', 2], ['lib.mjs:schedule', 2]]);
    await fs.write('function_profile_enabled', '0');
    assert.deepEqual(functionsOf(await fs.read('trace')), Array(2).fill(['lib.mjs:schedule', 'lib.mjs:__schedule']).flat());
    // Clearing the filter brings the others back (the profiler again from zero).
    await fs.write('set_ftrace_filter', '');
    await fs.write('function_profile_enabled', '1');
    await fs.write('trace', '');
    await prog.call('schedule_timeout', 1);
    await prog.call('spin_lock', 1);
    assert.deepEqual([...hits(await fs.read('trace_stat/function0'))].sort(), [
      ['lib.mjs:__schedule', 1], ['lib.mjs:pick_next_task', 1], ['lib.mjs:schedule', 1], ['lib.mjs:schedule_timeout', 1],
      ['lib.mjs:spin_lock', 1],
    ]);
    assert.deepEqual(functionsOf(await fs.read('trace')),
      ['lib.mjs:schedule_timeout', 'lib.mjs:schedule', 'lib.mjs:__schedule', 'lib.mjs:pick_next_task', 'lib.mjs:spin_lock']);
  },

  // Each thread has its own trace_stat/function<threadId>.
  async 'func_profile_stat: a worker thread has its own trace_stat file'(fs, prog) {
    await fs.write('function_profile_enabled', '1');
    await prog.call('mutex_trylock', 2, 'worker');
    const file = `trace_stat/function${prog.workerThreadId}`;
    assert.ok((await fs.list()).includes(file), (await fs.list()).join(' '));
    assert.deepEqual([...hits(await fs.read(file))].sort(), [['lib.mjs:mutex_lock', 2], ['lib.mjs:mutex_trylock', 2]]);
  },
});
