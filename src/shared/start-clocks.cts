/**
 * The clocks and timers of the thread's start, captured by the first
 * module of jsftrace's that the thread loads. CommonJS, so that
 * register.cjs captures them at its preload, ahead of the program's own
 * preloads, even where the rest of the start waits for the main module (a
 * process with loaders of its own, register.cts): a preload may install a
 * test's fake timers. builtins.ts takes them from here.
 *
 * Owns: the captured values. Invariant: read once, at this module's first
 * load in a thread; never from the globals again.
 */

const perf = performance;

/** What builtins.ts reads from this module. */
export interface StartClocks {
  perf: typeof performance; perfNow: () => number; dateNow: () => number; setTimeout: typeof setTimeout;
  clearTimeout: typeof clearTimeout; setImmediate: typeof setImmediate; queueMicrotask: typeof queueMicrotask;
}

const startClocks: StartClocks = {
  perf,
  perfNow: perf.now.bind(perf) as () => number,
  dateNow: Date.now,
  setTimeout,
  clearTimeout,
  setImmediate,
  queueMicrotask,
};

module.exports = startClocks;
