/**
 * `node --import jsftrace/register app.js`: starts jsftrace in this thread
 * (start.ts) and holds the program until the start has done what the
 * program depends on (start.ts says what that is). Worker
 * threads run this again (they inherit the flag), and so do child
 * processes when JSFTRACE_CHILDREN=1. `--require jsftrace/register` is
 * register.cts.
 */

import { start } from './start.js';

// Awaited only when the program must wait (start.ts says when). Otherwise
// not: a top-level await makes Node evaluate the main module from a later
// tick, so every stack taken while it loads would end in a frame
// (processTicksAndRejections) it does not have without jsftrace. The control
// server listens all the same, before the first turn of the event loop
// (startup.ts). What is not awaited still surfaces its failure as the uncaught exception it would have
// been.
const started = start(false);
if (started.holdsProgram) await started.done;
else started.done.catch((err: unknown) => { process.nextTick(() => { throw err; }); });

/** Counters of this process's instrumentation (all threads): transformed, cached, failed, ... */
export { instrumentStats, type InstrumentStats } from '../instrument/load.js';
