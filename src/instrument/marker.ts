/**
 * The mark jsftrace appends to every module text it has decided on.
 *
 * Owns: the mark's text. Invariant: appended once, at the very end of the
 * text (load.ts), so that a later stage handed marked text passes it on
 * and a reader of V8's view of the script (its coverage's ranges, which
 * end at the end of the compiled text: original/coverage-files.ts) knows
 * how much of the end is not the module's.
 */

export const MARKER = '\n/*@jsftrace-instrumented*/\n';
