/**
 * Node's own TypeScript (`node app.ts`, type stripping: Node 22.18 and
 * later, 23.6 and later), made the JavaScript Node would compile, so that
 * the transform can give its functions their sites.
 *
 * Owns: the stripping of a module Node would strip itself, and this
 * thread's `module.stripTypeScriptTypes`, which jsftrace calls to do it.
 * Invariants:
 * - the text is exactly what Node compiles: its own stripper in strip mode
 *   (types become spaces, so every position is the file's), followed by the
 *   `//# sourceURL=` comment Node appends, naming the module as the path
 *   Node took names it (the module's URL, but the file's path for a module
 *   required on Node 22), which is how its stack traces name it;
 * - whatever Node would do otherwise is left to Node, as it came: type
 *   transformation on (`--experimental-transform-types`), a file under
 *   `node_modules` (which Node refuses), source the stripper refuses (Node
 *   then refuses it with its own error);
 * - the program sees the ExperimentalWarning that `stripTypeScriptTypes`
 *   gives once per thread at its first call as it would without jsftrace:
 *   jsftrace's calls hold it back, and the function the program then
 *   finds in `node:module` gives it at the program's own first call.
 */

import module from 'node:module';
import { pathToFileURL } from 'node:url';
import { FunctionToString, ObjectGetOwnPropertySymbols, oneFrameMore, ReflectApply } from '../../shared/builtins.js';
import { isStandIn, standInFor } from '../original/source-text.js';
import { addOriginalReading } from '../original/original-readings.js';
import { withoutOwnFrames } from './own-frames.js';

type Strip = (code: string, options?: { mode?: string; sourceUrl?: string }) => string;

const holder = module as unknown as { stripTypeScriptTypes?: Strip; prototype: { _compile?: unknown } };
/** Node's stripper, taken before the stand-in replaces it. */
const nodeStrip: Strip | null = typeof holder.stripTypeScriptTypes === 'function' && !isStandIn(holder.stripTypeScriptTypes)
  ? holder.stripTypeScriptTypes : null;

/** The warning jsftrace's first call took from the program, until the program's first call gives it. */
let heldWarning: unknown[] | null = null;

/**
 * Whether Node's `_compile` names a TypeScript module by its URL (Node 24
 * and later) rather than by its path (Node 22): the text of its
 * TypeScript branch says which; where that is not to be seen (a wrapper of
 * the program's), the Node line decides.
 */
const compileNamesByUrl: boolean = (() => {
  const compile = holder.prototype._compile;
  const text = typeof compile === 'function' ? String(ReflectApply(FunctionToString, compile, [])) : '';
  if (text.includes('stripTypeScriptModuleTypes(')) return /stripTypeScriptModuleTypes\([^)]*this\[kURL\]/.test(text);
  return Number(process.versions.node.split('.')[0]) >= 24;
})();

/** Node's stripper on `code`, with the warning it gives held back. */
function stripQuietly(code: string): string {
  const emitWarning = process.emitWarning;
  let held = false;
  process.emitWarning = function (this: unknown, ...args: unknown[]): void {
    if (args[1] === 'ExperimentalWarning' && typeof args[0] === 'string' && args[0].startsWith('stripTypeScriptTypes ')) {
      heldWarning ??= args;
      held = true;
      return;
    }
    ReflectApply(emitWarning, this, args);
  } as typeof process.emitWarning;
  try {
    return nodeStrip!(code, { mode: 'strip' });
  } finally {
    process.emitWarning = emitWarning;
    if (held) giveWarningAtProgramsCall();
  }
}

// The text a TypeScript module was instrumented as, for the source line
// above an uncaught exception: stripped, named by its path or its URL.
addOriginalReading((raw, path) => {
  if (nodeStrip === null || !/\.[cm]?ts$/.test(path)) return [];
  let js: string;
  try {
    js = stripQuietly(raw);
  } catch {
    return [];
  }
  return [`${js}\n\n//# sourceURL=${path}`, `${js}\n\n//# sourceURL=${pathToFileURL(path).href}`];
});

/** How Node tells a path under node_modules, whose TypeScript it refuses to strip. */
const UNDER_NODE_MODULES = /^(?:.*)[\\/]node_modules[\\/]/;

/** How the module reaches Node's stripper: its URL, its file, and whether `require()` compiles it. */
export interface TypeScriptModule {
  readonly url: string;
  readonly filename: string;
  /** Required (Node's `_compile` strips it), not imported (the ES module loader does). */
  readonly required: boolean;
}

/**
 * The JavaScript Node would compile for this TypeScript module, or null
 * where Node would not strip it so (see above).
 */
export function stripLikeNode(code: string, m: TypeScriptModule): string | null {
  if (nodeStrip === null || (process.features as { typescript?: unknown }).typescript !== 'strip') return null;
  if (UNDER_NODE_MODULES.test(m.filename)) return null;
  let js: string;
  try {
    js = stripQuietly(code);
  } catch {
    return null;
  }
  const name = m.required && !compileNamesByUrl ? m.filename : m.url;
  return `${js}\n\n//# sourceURL=${name}`;
}

/** The URL Node's `_compile` names a required TypeScript module by (its `kURL` slot, or the file's URL). */
export function compiledModuleUrl(mod: object, filename: string): string {
  for (const s of ObjectGetOwnPropertySymbols(mod)) {
    if (s.description === 'kURL') {
      const v = (mod as Record<symbol, unknown>)[s];
      if (typeof v === 'string') return v;
    }
  }
  return pathToFileURL(filename).href;
}

/**
 * Puts a stand-in in place of `module.stripTypeScriptTypes` once jsftrace's
 * call has held its warning back (a program that loads no TypeScript
 * keeps Node's function): its first call gives the warning, as Node's
 * would have, and puts Node's function back. Until then it is Node's
 * function with Node's name, length and text, and an error it throws
 * (arguments Node refuses, syntax it cannot strip) carries no frame of
 * jsftrace's and as many of the program's as without it.
 */
function giveWarningAtProgramsCall(): void {
  const original = nodeStrip;
  if (original === null || holder.stripTypeScriptTypes !== original) return;
  const standIn = standInFor(function (this: unknown, ...args: unknown[]): unknown {
    if (heldWarning !== null) {
      const [warning, type, code] = heldWarning;
      heldWarning = null;
      if (holder.stripTypeScriptTypes === standIn) {
        holder.stripTypeScriptTypes = original;
        module.syncBuiltinESMExports();
      }
      // As Node's: given before the arguments are checked.
      ReflectApply(process.emitWarning, process, [warning, type, code, standIn]);
    }
    const restore = oneFrameMore();
    try {
      return ReflectApply(original, this, args);
    } catch (e) {
      throw withoutOwnFrames(e);
    } finally {
      restore();
    }
  }, original);
  holder.stripTypeScriptTypes = standIn as Strip;
  module.syncBuiltinESMExports();
}
