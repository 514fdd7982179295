/**
 * `node --import jsftrace/register app.js`: starts jsftrace in this thread
 * (start.ts) and holds the program until the start has done what the
 * program depends on (start.ts says what that is). Worker
 * threads run this again (they inherit the flag), and so do child
 * processes when JSFTRACE_CHILDREN=1. `--require jsftrace/register` is
 * register.cts.
 */

import { isMainThread } from 'node:worker_threads';
import { start } from './start.js';

// Awaited when the program must wait, and in the main thread while the
// control server starts (its socket is there when the program's first line
// runs, so a tool that sees the program start can attach at once).
// Otherwise not: a top-level await makes Node evaluate the main module from
// a later tick, so every stack taken while it loads would end in a frame
// (processTicksAndRejections) it does not have without jsftrace. What is
// not awaited still surfaces its failure as the uncaught exception it
// would have been.
const started = start(false);
if (started.holdsProgram || (isMainThread && process.env['JSFTRACE_CONTROL'] !== '0')) await started.done;
else started.done.catch((err: unknown) => { process.nextTick(() => { throw err; }); });

/** Counters of this process's instrumentation (all threads): transformed, cached, failed, ... */
export { instrumentStats, type InstrumentStats } from '../instrument/load.js';
