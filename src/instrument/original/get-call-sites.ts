/**
 * `util.getCallSites` as the program would see it without jsftrace (Node
 * 22.9 and later).
 *
 * Owns: the stand-in for `util.getCallSites` in this thread. Invariant: the
 * frames it gives are the ones Node gives plain: a frame of an
 * instrumented module has the original text's column (lines are kept by
 * the transform), no frame of jsftrace's own code is among them (its
 * files, the exit hooks' script), and as many frames are given as were
 * asked for where the stack has them (fewer than 200, Node's largest
 * count: one of 200 is one frame short, this function's taking its
 * place); its name, length, own keys, text and
 * errors are Node's function's.
 *
 * Node takes the frames from V8, whose columns are the instrumented
 * text's. A frame Node has mapped through a source map (the option
 * `sourceMap`, or `--enable-source-maps`) is of the map's original source,
 * through the map Node keeps for the instrumented text, and has no
 * `scriptId`: it is left as it is.
 */

import module from 'node:module';
import util from 'node:util';
import { ArrayIsArray, ObjectHasOwn, ReflectApply } from '../../shared/builtins.js';
import { ownFrameFile } from './call-sites.js';
import { tableOfScript } from './registry.js';
import { isStandIn, standInFor } from './source-text.js';
import { originalColumn } from './table.js';

type Fn = (this: unknown, ...args: unknown[]) => unknown;
interface Site { scriptName?: unknown; lineNumber?: unknown; columnNumber?: unknown; column?: unknown }

/** Node's default count of frames, and its largest. */
const DEFAULT_COUNT = 10;
const MAX_COUNT = 200;

/**
 * The arguments to hand Node for one frame more than the program asked for
 * (the stand-in's own, left out), or the program's own where they are not
 * a count Node takes (Node then throws as it would plain) or already the
 * largest.
 */
function oneMore(args: unknown[]): { call: unknown[]; asked: number | null } {
  const [count, options] = args;
  if (count === undefined) return { call: [DEFAULT_COUNT + 1, ...args.slice(1)], asked: DEFAULT_COUNT };
  if (typeof count === 'object' && count !== null && !ArrayIsArray(count) && options === undefined && args.length <= 2) {
    // Node checks the options in its own place for options given first:
    // handed on second, a refused one would be refused from another line.
    const sourceMap = (count as { sourceMap?: unknown }).sourceMap;
    if (sourceMap !== undefined && typeof sourceMap !== 'boolean') return { call: args, asked: null };
    return { call: [DEFAULT_COUNT + 1, count], asked: DEFAULT_COUNT };
  }
  if (typeof count === 'number' && Number.isInteger(count) && count >= 1 && count < MAX_COUNT) {
    return { call: [count + 1, ...args.slice(1)], asked: count };
  }
  return { call: args, asked: null };
}

/** A frame as V8 gave it, its column mapped where its script is instrumented. */
function mapped(site: Site): void {
  if (!ObjectHasOwn(site, 'scriptId')) return;
  const { scriptName, lineNumber, columnNumber } = site;
  if (typeof lineNumber !== 'number' || typeof columnNumber !== 'number') return;
  const t = typeof scriptName === 'string' ? tableOfScript(scriptName) : null;
  if (t === null) return;
  const column = originalColumn(t, lineNumber, columnNumber - 1) + 1;
  site.columnNumber = column;
  if (ObjectHasOwn(site, 'column')) site.column = column;
}

/**
 * Puts the stand-in in place of `util.getCallSites` (once per thread),
 * where Node has it; `bindings`: also in the named export ES modules
 * import, at a start, before the main module (as follow-loaders.ts does):
 * synced at an attach, the program's ES modules would also get what it
 * changed in Node's modules since.
 */
export function installGetCallSitesView(bindings: boolean): void {
  const holder = util as unknown as { getCallSites?: Fn };
  const original = holder.getCallSites;
  if (typeof original !== 'function' || isStandIn(original)) return;
  const standIn = standInFor(function getCallSites(this: unknown, ...args: unknown[]): unknown {
    const { call, asked } = oneMore(args);
    // Node's errors for arguments it refuses pass as they are: the stack
    // formatter leaves this function's frame out (call-sites.ts).
    const sites = ReflectApply(original, this, call);
    if (!ArrayIsArray(sites)) return sites;
    const out: unknown[] = [];
    for (const s of sites as unknown[]) {
      if (typeof s !== 'object' || s === null) {
        out.push(s);
        continue;
      }
      const site = s as Site;
      if (ownFrameFile(site.scriptName)) continue;
      mapped(site);
      out.push(site);
    }
    if (asked !== null && out.length > asked) out.length = asked;
    return out;
  }, original);
  holder.getCallSites = standIn;
  // An ES module's `import { getCallSites } from 'node:util'` reads the
  // binding, which follows the exports object only when synced.
  if (bindings) module.syncBuiltinESMExports();
}
