/**
 * The scripts of an attached process that get sites: every script with a
 * file behind it, except Node's own and jsftrace's.
 *
 * Owns: turning one loaded script into records. The script's source (as V8
 * runs it) has gone through the same transform jsftrace/register would have
 * used (prepare.ts); the transform's prologue is run once, outside the script, which
 * defines the script's sites under the same key and names a preloaded run
 * would have; its values are kept to be read, as bindings of the global
 * lexical scope (not properties of the global object), by whatever
 * instrumented text is later swapped into the script (splice.ts).
 * Invariant: the script itself is not changed here; a script that the
 * transform or the pairing refuses gets no records and is named in the
 * agent's state, never half-defined.
 */

import { fileURLToPath } from 'node:url';
import { dirname, sep } from 'node:path';
import vm from 'node:vm';
import { instance, record, recordCount } from '../core/index.js';
import { isOwnFile } from '../instrument/packages.js';
import type { Format, ScriptFunctions } from './functions.js';
import type { Prepared } from './prepare.js';
import type { Spliced } from './splice.js';

export interface LoadedScript {
  /** Unique in this process's attach: the suffix of the names its patched text reads. */
  serial: number;
  scriptId: string;
  url: string;
  path: string;
  format: Format;
  /** The source V8 ran before the attach: what a restore puts back. */
  source: string;
  output: string;
  sf: ScriptFunctions;
  /** The site of each function (sf.fns order), -1 when it has none. */
  ids: Int32Array;
  /** The prologue's values by name. */
  values: Map<string, unknown>;
  /** The text V8 runs now when some function is patched, else null (the source). */
  current: Spliced | null;
  /** Functions whose instrumented text V8 runs. */
  patched: Set<number>;
  globals: boolean;
}

// dist/src/attach/scripts.js: the package root is three levels up; its node_modules are ours too.
const OWN_MODULES = `${dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))))}${sep}node_modules${sep}`;

/** The file behind a script's URL, or null for scripts without one (node:, eval, wasm) and for jsftrace's own. */
export function scriptPath(url: string): string | null {
  let path: string;
  if (url.startsWith('file://')) {
    try {
      path = fileURLToPath(url);
    } catch {
      return null;
    }
  } else if (url.startsWith('/')) path = url;
  else return null;
  if (isOwnFile(path) || path.startsWith(OWN_MODULES)) return null;
  return path;
}

/** The base id of the block the prologue defined (or found, when this script was attached before). */
function blockBase(before: number, sites: number, file: string, pkg: string, first: string): number {
  const inst = instance();
  const after = recordCount(inst);
  if (after === before + sites) return before;
  for (let id = 0; id < after; id++) {
    const r = record(inst, id);
    if (r.file === file && r.package === pkg && `${r.line}:${r.column}` === first) return id;
  }
  return -1;
}

let serials = 0;

/**
 * Defines the sites of one prepared script (prepare.ts): runs the
 * transform's prologue, as the module's first line would have, which
 * defines the sites and binds what the instrumented functions read.
 */
export function defineScript(scriptId: string, url: string, path: string, format: Format, source: string, p: Prepared, file: string, pkg: string): LoadedScript {
  const { sf, positions } = p;
  const before = recordCount(instance());
  // The declared functions come in as parameters left undefined: the
  // original view has no table for a script that runs its own text.
  const run = new Function(...sf.declared, `${sf.prologue};return [${sf.prologueNames.join(',')}];`) as () => unknown[];
  const got = run();
  const values = new Map<string, unknown>();
  sf.prologueNames.forEach((n, i) => values.set(n, got[i]));
  const base = blockBase(before, sf.fns.length, file, pkg, positions[0]!);
  const ids = new Int32Array(sf.fns.length).fill(-1);
  if (base >= 0) {
    const byPos = new Map<string, number>();
    const inst = instance();
    for (let k = 0; k < sf.fns.length; k++) {
      const r = record(inst, base + k);
      byPos.set(`${r.line}:${r.column}`, base + k);
    }
    positions.forEach((q, i) => { ids[i] = byPos.get(q) ?? -1; });
  }
  return {
    serial: ++serials, scriptId, url, path, format, source, output: p.output, sf, ids, values, current: null, patched: new Set(), globals: false,
  };
}

/** The name under which a script's patched text reads a prologue name. */
export function globalName(s: LoadedScript, name: string): string {
  return `${name}$${s.serial}`;
}

/** Per script serial: sets the values of its bindings (declared once, they stay for the process's life). */
const setters = new Map<number, (values: unknown[]) => void>();

/**
 * Defines the names a script's patched text reads (once): `let` bindings
 * of a script of jsftrace's, in the global lexical scope, which every
 * script's code resolves but which are no properties of the global object
 * (the program's `Reflect.ownKeys(globalThis)` gains none). They cannot be
 * removed: at detach they are set to undefined, and a later attach sets
 * them again.
 */
export function defineGlobals(s: LoadedScript): void {
  if (s.globals) return;
  let set = setters.get(s.serial);
  if (set === undefined) {
    const names = [...s.values.keys()].map((n) => globalName(s, n)).join(',');
    set = vm.runInThisContext(`let ${names};(v)=>{[${names}]=v}`, { filename: 'jsftrace:attach' }) as (values: unknown[]) => void;
    setters.set(s.serial, set);
  }
  set([...s.values.values()]);
  s.globals = true;
}

export function removeGlobals(s: LoadedScript): void {
  if (!s.globals) return;
  setters.get(s.serial)?.([]);
  s.globals = false;
}
