/**
 * The field a carried source map keeps for the program's view of it.
 *
 * Owns: the name and content of that field. Invariant: it is written by
 * the transform (source-map.ts) into every map it carries, and read by the
 * `module.findSourceMap` stand-in (find-source-map.ts), possibly in another
 * thread or process (the disk cache keeps transformed modules): a change of
 * its content changes the transform version.
 *
 * A map consumer ignores a field it does not know (`x_` names extensions),
 * so Node and debuggers read the carried map as before.
 */

export const ORIGINAL = 'x_jsftrace_original';

export interface OriginalView {
  /** The module's own map's mappings. */
  mappings: string;
  /** How many lines the module has (the compiled text has one more: the edit table's). */
  lines: number;
  /** [line index, length] wherever the module's line is not as long as the compiled one. */
  lengths: [number, number][];
}
