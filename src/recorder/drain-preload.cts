/**
 * The preload of a recording's drain started where the process's working
 * directory was removed (recorder.ts): it does nothing. Node starts a worker
 * given a file there only when the worker has a preload.
 *
 * Owns: nothing. Invariant: no code, so the drain's thread runs nothing but
 * the drain.
 */
export {};
