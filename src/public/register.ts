/**
 * `node --import jsftrace/register app.js`: starts jsftrace in this thread
 * (start.ts) and holds the program until the start has done what the
 * program depends on (start.ts says what that is). Worker
 * threads run this again (they inherit the flag), and so do child
 * processes when JSFTRACE_CHILDREN=1. `--require jsftrace/register` is
 * register.cts.
 *
 * Not part of the runtime's file (it awaits at its top level): it takes the
 * start from that file directly, so that nothing of jsftrace's but this
 * module passes through Node's ES module loader, or a loader of the
 * program's.
 */

import { createRequire } from 'node:module';
import type * as StartModule from './start.js';
import type * as LoadModule from '../instrument/load.js';
import type { ThreadSettings } from '../shared/thread-settings.cjs';

const requireHere = createRequire(import.meta.url);
// A worker that jsftrace reached through the options its program gave it
// (execArgv, or its environment's NODE_OPTIONS): those as given.
(requireHere('../shared/thread-settings.cjs') as ThreadSettings).giveBackOptions();
const runtimeFile = requireHere('../shared/runtime-file.cjs') as { requireRuntime(name: string): unknown; startCompileCache(): void; hideOwnEntries(): void };
runtimeFile.startCompileCache();
const runtime = runtimeFile.requireRuntime('jsftrace.cjs') as { load(path: string): unknown };

// Awaited only when the program must wait (start.ts says when). Otherwise
// not: a top-level await makes Node evaluate the main module from a later
// tick, so every stack taken while it loads would end in a frame
// (processTicksAndRejections) it does not have without jsftrace. The control
// server listens all the same, before the first turn of the event loop
// (startup.ts). What is not awaited still surfaces its failure as the uncaught exception it would have
// been.
const started = (runtime.load('public/start.js') as typeof StartModule).start(false);
// What the start required besides the runtime file (shared/runtime-file.cts).
runtimeFile.hideOwnEntries();
if (started.holdsProgram) await started.done;
else started.done.catch((err: unknown) => { process.nextTick(() => { throw err; }); });

/** Counters of this process's instrumentation (all threads): transformed, cached, failed, ... */
export const instrumentStats = (runtime.load('instrument/load.js') as typeof LoadModule).instrumentStats;
export type { InstrumentStats } from '../instrument/load.js';
