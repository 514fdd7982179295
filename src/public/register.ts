/**
 * `node --import jsftrace/register app.js`: starts jsftrace in this thread
 * (start.ts) and holds the program until the start is complete. Worker
 * threads run this again (they inherit the flag), and so do child
 * processes when JSFTRACE_CHILDREN=1. `--require jsftrace/register` is
 * register.cts.
 */

import { start } from './start.js';

await start(false).done;

/** Counters of this process's instrumentation (all threads): transformed, cached, failed, ... */
export { instrumentStats, type InstrumentStats } from '../instrument/load.js';
