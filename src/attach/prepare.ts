/**
 * The heavy half of giving a loaded script its sites: the transform of its
 * source and the pairing of its functions (functions.ts). Pure: no shared
 * state, no core, so that it runs in a worker thread (prepare-worker.ts)
 * while the attached program goes on in its main thread.
 *
 * Owns: what a prepared script carries back. Invariant: the result is plain
 * data (strings, numbers, arrays), cloned between threads as it is.
 */

import { transformSource } from '../instrument/transform.js';
import { scriptFunctions, type Format, type ScriptFunctions } from './functions.js';

export interface PrepareInput {
  source: string;
  path: string;
  format: Format;
  /** The file and package as site names show them (packages.ts's identify). */
  file: string;
  package: string;
}

export interface Prepared {
  output: string;
  sf: ScriptFunctions;
  /** `line:column` of each function's start (sf.fns order), as site records hold them. */
  positions: string[];
}

/** `line:column` (1-based) of each offset, in one pass over the source. */
function lineCols(source: string, offsets: readonly number[]): string[] {
  const order = offsets.map((o, i) => [o, i] as const).sort((a, b) => a[0] - b[0]);
  const out: string[] = new Array(offsets.length);
  let line = 1;
  let start = 0;
  let nl = source.indexOf('\n');
  for (const [o, i] of order) {
    while (nl >= 0 && nl < o) {
      line++;
      start = nl + 1;
      nl = source.indexOf('\n', nl + 1);
    }
    out[i] = `${line}:${o - start + 1}`;
  }
  return out;
}

/** Null when the script has no function; throws when the transform or the pairing fails. */
export function prepareScript(input: PrepareInput): Prepared | null {
  const out = transformSource({ code: input.source, filename: input.path, format: input.format, file: input.file, package: input.package, live: true });
  if (out.sites === 0) return null;
  const sf = scriptFunctions(input.source, out.code, input.format, out.added ?? []);
  if (sf.fns.length !== out.sites) throw new Error(`the transform made ${out.sites} sites for ${sf.fns.length} functions`);
  return { output: out.code, sf, positions: lineCols(input.source, sf.fns.map((f) => f.start)) };
}
