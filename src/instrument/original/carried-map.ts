/**
 * The field a carried source map keeps for the program's view of it.
 *
 * Owns: the name and content of that field. Invariant: it is written by
 * the transform (source-map.ts) into every map it carries, and read by the
 * `module.findSourceMap` stand-in (find-source-map.ts) and the coverage
 * files' rewrite (coverage-files.ts), possibly in another
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

function isView(v: unknown): v is OriginalView {
  const o = v as Partial<OriginalView> | null;
  return typeof o === 'object' && o !== null && typeof o.mappings === 'string' && typeof o.lines === 'number' && Array.isArray(o.lengths);
}

/**
 * The module's own map, given the payload of a map jsftrace carried and the
 * line lengths of the compiled text (when known): the payload with the
 * module's mappings and without this field, and the module's line lengths;
 * null for any other map.
 */
export function ownMap(payload: unknown, compiled: unknown): { payload: Record<string, unknown>; lineLengths: number[] | undefined } | null {
  if (payload === null || typeof payload !== 'object') return null;
  const view = (payload as Record<string, unknown>)[ORIGINAL];
  if (!isView(view)) return null;
  const own: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload)) {
    if (k !== ORIGINAL) own[k] = k === 'mappings' ? view.mappings : v;
  }
  if (!Array.isArray(compiled)) return { payload: own, lineLengths: undefined };
  const lineLengths = (compiled as number[]).slice(0, view.lines);
  for (const [i, n] of view.lengths) lineLengths[i] = n;
  return { payload: own, lineLengths };
}
