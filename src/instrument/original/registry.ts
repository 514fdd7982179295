/**
 * The instrumented modules of this thread, as the original view needs them.
 *
 * Owns: for each module its tag (from its source's hash, written into its
 * sites), the name V8 gives its script (a path for CommonJS, a file URL for
 * an ES module), and its edit table, decoded at first use. Invariant: a
 * registration costs two map entries and nothing else; a table is read from
 * the module's own text (the comment function the transform appended) only
 * when a stack trace or a toString needs it, and a table that does not
 * decode is remembered as absent, never guessed.
 */

import { fileURLToPath } from 'node:url';
import { FunctionToString, ReflectApply } from '../../shared/builtins.js';
import { decodeTable, type EditTable } from './table.js';

interface Module {
  readonly tag: string;
  /** The name V8 gives its script, as the module registered it. */
  readonly script: string;
  readonly tableFn: () => void;
  /** Whether its lines with inserted code are marked for Node's uncaught-exception line (transform.ts). */
  readonly marks: boolean;
  /** undefined: not read yet; null: unreadable. */
  table: EditTable | null | undefined;
}

const byTag = new Map<string, Module>();
const byScript = new Map<string, Module>();

/** Called by each instrumented module's prologue (through the runtime's D). */
export function registerModule(tag: string, script: string, tableFn: unknown, marks = false): void {
  if (typeof tableFn !== 'function') return;
  const m: Module = { tag, script, tableFn: tableFn as () => void, marks, table: undefined };
  byTag.set(tag, m);
  byScript.set(script, m);
}

function tableOf(m: Module): EditTable | null {
  if (m.table !== undefined) return m.table;
  try {
    const text = ReflectApply(FunctionToString, m.tableFn, []) as string;
    const from = text.indexOf('/*');
    const to = text.lastIndexOf('*/');
    m.table = from < 0 || to < from ? null : decodeTable(text.slice(from + 2, to));
  } catch {
    m.table = null;
  }
  return m.table;
}

/** The table of the module with this tag. */
export function tableOfTag(tag: string): EditTable | null {
  const m = byTag.get(tag);
  return m === undefined ? null : tableOf(m);
}

/**
 * The table of the script a coverage file names by `url` (a file URL, also
 * for CommonJS modules, which register their path), with the name of the
 * function that holds it (its prefix names the transform's helpers).
 */
export function coverageOfScript(url: string): { table: EditTable; tableName: string } | null {
  let m = moduleOfScript(url);
  if (m === undefined && url.startsWith('file:')) {
    try {
      m = byScript.get(fileURLToPath(url));
    } catch {
      return null;
    }
  }
  const table = m === undefined ? null : tableOf(m);
  return table === null ? null : { table, tableName: m!.tableFn.name };
}

/**
 * The module V8 names so (a file URL's query and fragment are ignored, as
 * ES modules register without them). A CommonJS module registers its
 * path, and Node names it by its URL where it compiles the source an
 * off-thread load hook gave for it (TypeScript it stripped, imported).
 */
function moduleOfScript(name: string): Module | undefined {
  let m = byScript.get(name);
  if (m === undefined && name.startsWith('file:')) {
    const cut = name.search(/[?#]/);
    if (cut > 0) m = byScript.get(name.slice(0, cut));
    if (m === undefined) {
      try {
        m = byScript.get(fileURLToPath(cut > 0 ? name.slice(0, cut) : name));
      } catch {
        // not a file URL Node would make
      }
    }
  }
  return m;
}

/** The table of the script V8 names so in stack traces (a URL's query and fragment are ignored). */
export function tableOfScript(name: string | null | undefined): EditTable | null {
  if (typeof name !== 'string' || byScript.size === 0) return null;
  const m = moduleOfScript(name);
  return m === undefined ? null : tableOf(m);
}

/** An instrumented module as the original view knows it: its tag, the name of its script, its table. */
export interface KnownModule {
  readonly tag: string;
  readonly script: string;
  readonly marks: boolean;
  readonly table: EditTable;
}

function known(m: Module | undefined): KnownModule | null {
  const table = m === undefined ? null : tableOf(m);
  return table === null ? null : { tag: m!.tag, script: m!.script, marks: m!.marks, table };
}

/** The module with this tag, if its table is readable. */
export function moduleOfTag(tag: string): KnownModule | null {
  return known(byTag.get(tag));
}

/** The module of the script V8 names so, if its table is readable. */
export function moduleOfScriptName(name: string | null | undefined): KnownModule | null {
  return typeof name !== 'string' || byScript.size === 0 ? null : known(moduleOfScript(name));
}
