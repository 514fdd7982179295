// ftrace/func_traceonoff_triggers.tc: the traceon and traceoff commands of
// set_ftrace_filter, unlimited and counted.

import assert from 'node:assert/strict';
import { events, selftests } from './harness.js';

const ALL = '#### all functions enabled ####\n';

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
});
