/**
 * What the jsftrace contenders attach, by PEERS_JSFTRACE:
 * - `ops:<glob>`: one ops (an entry callback counting calls) filtered to the
 *   functions the glob selects (one hot function of the workload);
 * - `function`, `function_graph`: that tracer on every function;
 * - `profile`: the function profiler on every function.
 * Tracers use the counter clock (the cheapest) and flight-recorder rings.
 * Prints `PEERS_CALLS <n>` on standard error at exit for the ops.
 */

import * as core from '../../src/core/index.js';
import * as T from '../../src/tracers/index.js';

const mode = process.env['PEERS_JSFTRACE'] ?? '';
if (mode.startsWith('ops:')) {
  let calls = 0;
  const ops = core.createOps({ name: 'peers-hot', func: () => { calls++; } });
  await core.ftraceSetFilter(ops, mode.slice(4));
  await core.registerFtraceFunction(ops);
  process.on('exit', () => { process.stderr.write(`PEERS_CALLS ${calls}\n`); });
} else if (mode !== '') {
  T.setTraceClock('counter');
  T.setOverwrite(true);
  if (mode === 'profile') await T.setFunctionProfileEnabled(true);
  else await T.setCurrentTracer(mode);
}
