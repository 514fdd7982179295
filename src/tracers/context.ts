/**
 * The async-context filter (set_ftrace_pid for requests): trace one request
 * and everything it calls, across awaits.
 *
 * Owns: this thread's AsyncLocalStorage marker. Invariant: a call is inside
 * a traced context exactly when it runs, synchronously or after any number
 * of awaits, from the function given to traceContext(); tracers consult it
 * only while the session's context filter is on (chosen at refresh).
 */

import { AsyncLocalStorage } from 'node:async_hooks';

const store = new AsyncLocalStorage<symbol>();
const TRACED = Symbol('jsftrace.traced-context');

/** Runs `fn` (and everything it starts) inside a traced context. */
export function traceContext<T>(fn: () => T): T {
  return store.run(TRACED, fn);
}

export function inTracedContext(): boolean {
  return store.getStore() === TRACED;
}
