// ftrace/func_traceonoff_triggers.tc: the traceon and traceoff commands of
// set_ftrace_filter, unlimited and counted; and what trace_functions.c and
// ftrace.c do with the commands' forms: a command written with a count part
// and one written without are two probes, `!` does not parse what follows
// the command, counts are kstrtoul's (base 0), and removing a probe that is
// not there fails.

import assert from 'node:assert/strict';
import { events, PROBE_LINE, refused, selftests } from './harness.js';
import type { ControlSurface } from '../../src/control/surface.js';

const ALL = '#### all functions enabled ####\n';

/** error_log's entries as [message, caret position under the command]. */
async function logged(fs: ControlSurface): Promise<[string, number][]> {
  const lines = (await fs.read('error_log')).split('\n');
  const out: [string, number][] = [];
  for (let i = 0; i + 2 < lines.length; i += 3) out.push([lines[i]!.replace(/^\[ *[\d.]+\] /, ''), lines[i + 2]!.length - 1 - '  Command: '.length]);
  return out;
}

selftests({
  async 'func_traceonoff_triggers: traceoff, traceon, traceoff:3, removal'(fs, prog) {
    const on = async (): Promise<string> => (await fs.read('tracing_on')).trim();
    const filter = (): Promise<string> => fs.read('set_ftrace_filter');
    await fs.write('trace_clock', 'counter');
    await fs.write('current_tracer', 'function');

    // f:traceoff stops the trace and tracing_on reads 0.
    await fs.write('set_ftrace_filter', 'lib.mjs:schedule:traceoff');
    assert.equal(await filter(), `${ALL}lib.mjs:schedule:traceoff:unlimited\n`);
    await prog.call('spin_lock', 1);
    assert.equal(await on(), '1', 'another function does not fire it');
    await prog.call('schedule_timeout', 1);
    assert.equal(await on(), '0');
    const stopped = events(await fs.read('trace'));
    assert.deepEqual(stopped.slice(0, 2), ['0: lib.mjs:spin_lock', '0: lib.mjs:schedule_timeout']);
    await prog.call('spin_lock', 3);
    await prog.call('schedule_timeout', 1);
    assert.deepEqual(events(await fs.read('trace')), stopped, 'nothing more is written');

    // !f:traceoff removes it, and does not turn tracing on.
    await fs.append('set_ftrace_filter', '!lib.mjs:schedule:traceoff');
    assert.equal(await filter(), ALL);
    assert.equal(await on(), '0');
    await fs.write('tracing_on', '1');
    await prog.call('schedule', 1);
    assert.equal(await on(), '1', 'removed: schedule no longer stops tracing');

    // f:traceon turns tracing on.
    await fs.append('set_ftrace_filter', 'lib.mjs:schedule:traceon');
    assert.equal(await filter(), `${ALL}lib.mjs:schedule:traceon:unlimited\n`);
    await fs.write('tracing_on', '0');
    await prog.call('spin_lock', 1);
    assert.equal(await on(), '0');
    await prog.call('io_schedule', 1);
    assert.equal(await on(), '1');
    await fs.append('set_ftrace_filter', '!lib.mjs:schedule:traceon');
    assert.equal(await filter(), ALL);

    // f:traceoff:3 fires exactly three times; a hit while tracing is off spends nothing.
    await fs.append('set_ftrace_filter', 'lib.mjs:schedule:traceoff:3');
    assert.equal(await filter(), `${ALL}lib.mjs:schedule:traceoff:count=3\n`);
    for (let left = 2; left >= 0; left--) {
      assert.equal(await on(), '1');
      await prog.call('schedule', 1);
      assert.equal(await on(), '0');
      assert.equal(await filter(), `${ALL}lib.mjs:schedule:traceoff:count=${left}\n`);
      await prog.call('schedule', 2);
      assert.equal(await filter(), `${ALL}lib.mjs:schedule:traceoff:count=${left}\n`, 'already off: no count spent');
      await fs.write('tracing_on', '1');
    }
    await prog.call('schedule', 3);
    assert.equal(await on(), '1', 'the count is spent');
    assert.equal(await filter(), `${ALL}lib.mjs:schedule:traceoff:count=0\n`);

    // !f:traceoff:0 removes the counted probe.
    await fs.append('set_ftrace_filter', '!lib.mjs:schedule:traceoff:0');
    assert.equal(await filter(), ALL);
    await prog.call('schedule', 1);
    assert.equal(await on(), '1');
  },

  // The probes fire in every thread, and a count is shared by all of them.
  async 'func_traceonoff_triggers: a worker thread fires the probe'(fs, prog) {
    await fs.write('set_ftrace_filter', 'lib.mjs:spin_lock:traceoff:1');
    await prog.call('spin_lock', 1, 'worker');
    assert.equal(await fs.read('tracing_on'), '0\n');
    await fs.write('tracing_on', '1');
    await prog.call('spin_lock', 1);
    await prog.call('spin_lock', 1, 'worker');
    assert.equal(await fs.read('tracing_on'), '1\n');
    assert.equal(await fs.read('set_ftrace_filter'), `${ALL}lib.mjs:spin_lock:traceoff:count=0\n`);
  },

  // trace_functions.c: `traceoff` and `traceoff:N` are traceoff_probe_ops and
  // traceoff_count_probe_ops, two probes: both kept and listed, each removed by
  // its own form (func_traceonoff_triggers.tc removes its `:3` with `!f:traceoff:0`).
  async 'func_traceonoff_triggers: a counted and an uncounted command on one function are two probes'(fs, prog) {
    const filter = (): Promise<string> => fs.read('set_ftrace_filter');
    await fs.append('set_ftrace_filter', 'lib.mjs:schedule:traceoff');
    await fs.append('set_ftrace_filter', 'lib.mjs:schedule:traceoff:3');
    assert.equal(await filter(), `${ALL}lib.mjs:schedule:traceoff:unlimited\nlib.mjs:schedule:traceoff:count=3\n`);
    // Both act on a hit; the probe registered later acts first (the list calls the newest ops first).
    await prog.call('schedule', 1);
    assert.equal(await fs.read('tracing_on'), '0\n');
    assert.equal(await filter(), `${ALL}lib.mjs:schedule:traceoff:unlimited\nlib.mjs:schedule:traceoff:count=2\n`);
    await fs.write('tracing_on', '1');
    // `!f:traceoff` removes the uncounted one only.
    await fs.append('set_ftrace_filter', '!lib.mjs:schedule:traceoff');
    assert.equal(await filter(), `${ALL}lib.mjs:schedule:traceoff:count=2\n`);
    // `!f:traceoff:<anything>` removes the counted one: the part after the command is not parsed.
    await fs.append('set_ftrace_filter', '!lib.mjs:schedule:traceoff:count=2');
    assert.equal(await filter(), ALL);
    // The same for traceon and stacktrace.
    await fs.append('set_ftrace_filter', 'lib.mjs:spin_lock:traceon lib.mjs:spin_lock:traceon:1 lib.mjs:spin_lock:stacktrace:2 lib.mjs:spin_lock:stacktrace');
    assert.deepEqual((await filter()).split('\n').filter((l) => PROBE_LINE.test(l)).sort(), [
      'lib.mjs:spin_lock:stacktrace:count=2', 'lib.mjs:spin_lock:stacktrace:unlimited', 'lib.mjs:spin_lock:traceon:count=1', 'lib.mjs:spin_lock:traceon:unlimited',
    ]);
    await fs.append('set_ftrace_filter', '!lib.mjs:spin_lock:stacktrace:x !lib.mjs:spin_lock:traceon');
    assert.deepEqual((await filter()).split('\n').filter((l) => PROBE_LINE.test(l)).sort(), [
      'lib.mjs:spin_lock:stacktrace:unlimited', 'lib.mjs:spin_lock:traceon:count=1',
    ]);
    // dump has one form, always counted, with a count of 1 whatever is written ("Only dump once").
    await fs.append('set_ftrace_filter', 'lib.mjs:mutex_lock:dump:5 lib.mjs:mutex_trylock:dump');
    const dumps = (await filter()).split('\n').filter((l) => l.includes(':dump:'));
    assert.deepEqual(dumps, ['lib.mjs:mutex_lock:dump:count=1', 'lib.mjs:mutex_trylock:dump:count=1']);
    await fs.append('set_ftrace_filter', '!lib.mjs:mutex_lock:dump !lib.mjs:mutex_trylock:dump:count=1');
    assert.ok(!(await filter()).includes(':dump:'));
    // The selftests' reset_ftrace_filter: `!name:cmd` for an unlimited line, `!name:cmd:count=N` for a counted one.
    for (const t of (await filter()).split('\n').filter((l) => PROBE_LINE.test(l))) {
      const [, name, cmd, limit] = PROBE_LINE.exec(t)!;
      await fs.write('set_ftrace_filter', `!${name!}:${cmd!}${limit === 'unlimited' ? '' : `:${limit!}`}`);
    }
    assert.equal(await filter(), ALL);
  },

  // trace_functions.c parses a count with kstrtoul(number, 0): hex, octal, a `+`; an empty count is the counted form with the default count.
  async 'func_traceonoff_triggers: counts are kstrtoul\'s; an empty count has no limit'(fs, prog) {
    const filter = (): Promise<string> => fs.read('set_ftrace_filter');
    await fs.write('set_ftrace_filter', 'lib.mjs:schedule:traceoff:0x3 lib.mjs:spin_lock:stacktrace:010 lib.mjs:mutex_lock:traceon:+5');
    assert.equal(await filter(), `${ALL}lib.mjs:schedule:traceoff:count=3\nlib.mjs:spin_lock:stacktrace:count=8\nlib.mjs:mutex_lock:traceon:count=5\n`);
    for (const bad of ['0x', '08', '3x', '-1', '0x1g']) {
      await refused(fs.append('set_ftrace_filter', `lib.mjs:io_schedule:traceoff:${bad}`), 'EINVAL');
    }
    await refused(fs.append('set_ftrace_filter', 'lib.mjs:io_schedule:traceoff:0x10000000000000000'), 'ERANGE');
    // `f:traceoff:` is the counted probe with the default count, -1 (as the kernel reads it back): no limit.
    await fs.write('set_ftrace_filter', '!:traceoff:0 !:stacktrace:0 !:traceon:0 lib.mjs:io_schedule:traceoff:');
    assert.equal(await filter(), `${ALL}lib.mjs:io_schedule:traceoff:count=-1\n`);
    for (let i = 0; i < 3; i++) {
      await prog.call('io_schedule', 1);
      assert.equal(await fs.read('tracing_on'), '0\n', `hit ${i}`);
      await fs.write('tracing_on', '1');
    }
    assert.equal(await filter(), `${ALL}lib.mjs:io_schedule:traceoff:count=-1\n`);
    // It is the counted form: `!f:traceoff` names the other one, which is not there.
    await refused(fs.append('set_ftrace_filter', '!lib.mjs:io_schedule:traceoff'), 'ENODEV');
    await fs.append('set_ftrace_filter', '!lib.mjs:io_schedule:traceoff:');
    assert.equal(await filter(), ALL);
  },

  // unregister_ftrace_function_probe_func: ENODEV when no function has the
  // probe, EINVAL when its glob matches none of those that do; and
  // register_ftrace_function_probe: EINVAL when the command adds nothing.
  async 'func_traceonoff_triggers: removing a probe that is not there, adding one that is, are refused'(fs) {
    const filter = (): Promise<string> => fs.read('set_ftrace_filter');
    await refused(fs.append('set_ftrace_filter', '!lib.mjs:schedule:traceoff'), 'ENODEV');
    await fs.append('set_ftrace_filter', 'lib.mjs:schedule:traceoff');
    await refused(fs.append('set_ftrace_filter', 'lib.mjs:spin_lock !lib.mjs:spin_lock:traceoff'), 'EINVAL');
    await refused(fs.append('set_ftrace_filter', '!lib.mjs:schedule:traceoff:3'), 'ENODEV');
    await refused(fs.append('set_ftrace_filter', 'lib.mjs:sched*:traceoff lib.mjs:schedule:traceoff'), 'EINVAL');
    assert.equal(await filter(), `${ALL}lib.mjs:schedule:traceoff:unlimited\n`, 'nothing changed');
    assert.deepEqual(await logged(fs), [
      ['set_ftrace_filter: error: no function has traceoff', 0],
      ['set_ftrace_filter: error: "lib.mjs:spin_lock" matches none of the functions with traceoff', 18],
      ['set_ftrace_filter: error: no function has traceoff:<count>', 0],
      ['set_ftrace_filter: error: every function "lib.mjs:schedule" matches has traceoff already', 24],
    ]);
    await fs.append('set_ftrace_filter', '!lib.mjs:sch*:traceoff');
    assert.equal(await filter(), ALL);
  },
});
