/**
 * In-thread module hooks, where the running Node has `module.registerHooks`
 * (22.15 and 23.5 on; stable from 24.13 and 25.1).
 *
 * Owns: the synchronous `resolve` and `load` hooks. Invariant: the load
 * hook transforms ES module sources only; CommonJS stays with cjs.ts
 * (Module.prototype._compile), which sees the code after any
 * require-extension transpiler (tsx, ts-node, babel/register) whichever
 * registered first, while a load hook would see the file before them, or
 * not at all when a transpiler reads the file itself.
 *
 * As with the off-thread hooks (loader-state.ts), another, outermost set
 * joins after each `module.registerHooks` call of the program's
 * (follow-loaders.ts), and when the program's entry point is resolved (not
 * a `--require` preload, which Node also resolves with no parent), so that
 * loaders registered after jsftrace (`--import tsx` after us) run inside
 * ours. In-thread hooks can leave the chain, so there is never more than
 * one set of ours: the one a new set replaces deregisters. Where ES
 * modules go through our loader thread instead (install.ts), the sets of
 * this file join only outside the program's own in-thread hooks; what
 * such a set is handed back already transformed by the loader thread, it
 * passes on (load.ts: the marker).
 */

import { readFileSync } from 'node:fs';
import module from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeHandlesExtension } from '../../shared/own-load.js';
import { markDecided } from './cjs.js';
import { ownCallSites, ownFramesLeftOut } from '../original/call-sites.js';
import { joinAsOuter, requestOuter, transforms } from './loader-state.js';
import { instrumentLoadResult, type LoadResult } from './load-result.js';
import { withoutOwnFrames } from './own-frames.js';

interface ResolveContext { parentURL?: string }
type NextResolveSync = (specifier: string, context?: ResolveContext) => { url: string };
type NextLoadSync = (url: string, context?: unknown) => LoadResult;
interface SyncHooks {
  resolve?: (specifier: string, context: ResolveContext, nextResolve: NextResolveSync) => { url: string };
  load?: (url: string, context: unknown, nextLoad: NextLoadSync) => LoadResult;
}
type RegisterHooks = (hooks: SyncHooks) => { deregister(): void };

/** `module.registerHooks` when this Node has it. */
export function syncHooksApi(): RegisterHooks | null {
  const f = (module as unknown as { registerHooks?: unknown }).registerHooks;
  return typeof f === 'function' ? (f as RegisterHooks).bind(module) : null;
}

/**
 * Whether Node is loading the `--require` preloads, which it resolves as it
 * resolves the entry point: with no parent. Asked only of such resolves.
 */
function preloading(): boolean {
  return ownCallSites(50, (sites) => sites.some((c) => c.getFunctionName() === 'loadPreloadModules')) === true;
}

/**
 * Whether the request is a `require()` of a CommonJS module that Node runs
 * without its CommonJS loader (one whose source a loader supplied), which
 * Node answers by compiling the file it reads. Asked only of CommonJS
 * results without source.
 */
function requiredByImportedCjs(): boolean {
  return ownCallSites(50, (sites) => sites.some((c) => c.getFunctionName() === 'loadAndTranslateForRequireInImportedCJS')) === true;
}

/**
 * Whether Node's CommonJS loader asks (a `require()`), by the conditions it
 * resolves with: `require` and not `import` (a program may add `require`
 * to every resolve, `-C require`; adding both leaves a required module
 * taken for an imported one, which only changes how Node 22 would name a
 * required TypeScript module in stack traces: type-stripping.ts).
 */
function required(context: unknown): boolean {
  const conditions = (context as { conditions?: unknown } | null)?.conditions;
  return Array.isArray(conditions) && conditions.includes('require') && !conditions.includes('import');
}

/**
 * One set of our hooks; its rank is set once it is in the chain (0: the
 * first set, the only one that watches resolves, for the entry point).
 */
function hooks(self: { rank: number }): SyncHooks {
  const set: SyncHooks = {
    load(url, context, nextLoad) {
      // Decided before the request goes on: a set that joins meanwhile (a
      // loader of the program's registering hooks inside its own) is not
      // in this request's chain, so this set must still do it.
      const mine = transforms(self.rank);
      const result = passOn(() => nextLoad(url, context));
      if (!mine) return result;
      if (result.format === 'commonjs' && (result.source === null || result.source === undefined) && url.startsWith('file:') && requiredByImportedCjs()) {
        // Node 22 hands a module required by CommonJS whose source another
        // loader supplied a result without source, then reads and compiles
        // the file itself, without _compile: give it the file's source, so
        // that what it compiles is what the hook transformed. Only there:
        // a CommonJS module imported with no source is loaded by Node's
        // CommonJS loader, whose own request reaches this hook again, while
        // a source given here would have Node run it without that loader
        // on the releases shared/in-thread-hooks.cts lists (no
        // require.cache, require.extensions or module.parent, and its
        // requires through the ES module loader).
        return instrumentLoadResult(url, { ...result, source: readFileSync(fileURLToPath(url), 'utf8') }, compiledByNode);
      }
      // Node 22 and later require a .js of a package with no "type" with no
      // format (its _compile detects the syntax): done here all the same, so
      // that no frame of cjs.ts sits under it.
      const out = instrumentLoadResult(url, result, compiledByNode, 'detected', required(context));
      if (out.format === 'commonjs' || out.format === undefined || out.format === null) noteDecided(url, out);
      return out;
    },
  };
  if (self.rank !== 0) return set;
  set.resolve = (specifier, context, nextResolve) => {
    const result = passOn(() => nextResolve(specifier, context));
    // The chain of this resolve was fixed when it started; the new hooks
    // apply from the next request on, which is the entry point's load. A
    // `--require` preload after ours is resolved with no parent too, and
    // loaders still to come (`--import tsx`) must end inside the new set.
    if (context.parentURL === undefined && !preloading() && requestOuter()) joinOutermost();
    return result;
  };
  return set;
}

/**
 * The next step's answer, and its error as Node threw it: where the
 * formatter leaves jsftrace's frames out (original/call-sites.ts), the
 * error is not caught, so that V8 places it where Node threw it (the line
 * Node prints above an uncaught one: a module that cannot be found names
 * Node's `throw err`, not jsftrace's file); elsewhere it is caught and
 * given a stack without jsftrace's frames (own-frames.ts).
 */
function passOn<T>(next: () => T): T {
  if (ownFramesLeftOut()) return next();
  try {
    return next();
  } catch (e) {
    throw withoutOwnFrames(e);
  }
}

const cjs = module as unknown as { _cache: Record<string, object | undefined> };

/**
 * Whether Node compiles this CommonJS module from the source our hook
 * returns. A module being required is in the cache already, and the hook
 * runs inside its extension handler: it must have no _compile of its own,
 * which require-extension transpilers (babel/register, ts-node, pirates)
 * set to compile their output instead (see load-result.ts). A CommonJS
 * module imported from an ES module is not in the cache yet: Node runs the
 * hook once, in the ES module loader, and hands that source to the
 * extension handler of the file, which must then be Node's own (tsx's reads
 * the file again and compiles its own output through _compile).
 */
function compiledByNode(filename: string): boolean {
  const m = cjs._cache[filename];
  if (m !== undefined) return !Object.hasOwn(m, '_compile');
  return nodeHandlesExtension(extname(filename));
}

/** A CommonJS file whose source this hook decided on: cjs.ts need not see it again. */
function noteDecided(url: string, result: LoadResult): void {
  if (result.source === null || result.source === undefined || !url.startsWith('file:')) return;
  const filename = fileURLToPath(url);
  if (compiledByNode(filename)) markDecided(filename);
}

let registerOurs: RegisterHooks | null = null;
let ourSet: { deregister(): void } | null = null;

/**
 * Puts a set of our hooks outside every set registered so far, in place of
 * the one there was (the first set, with its watch for the entry point,
 * included: once another has joined, the watch has nothing left to do).
 * The new set joins before the old one leaves, so that no request passes
 * between them untransformed; a request under way keeps the chain it
 * started with. One set of ours at a time, and no resolve hook after the
 * start: a module that cannot be found is reported with no frame of ours.
 */
export function joinOutermost(): void {
  if (registerOurs === null) return;
  const previous = ourSet;
  const self = { rank: -1 };
  ourSet = registerOurs(hooks(self));
  self.rank = joinAsOuter();
  previous?.deregister();
}

/**
 * Readies joinOutermost without registering anything: where ES modules go
 * through a loader thread, a set of ours joins only outside the program's
 * own in-thread hooks. False when Node lacks the API.
 */
export function prepareSyncHooks(): boolean {
  registerOurs = syncHooksApi();
  return registerOurs !== null;
}

/** Registers the hooks in this thread; false when Node lacks the API. */
export function installSyncHooks(): boolean {
  const registerHooks = syncHooksApi();
  if (registerHooks === null) return false;
  registerOurs = registerHooks;
  ourSet = registerHooks(hooks({ rank: 0 }));
  return true;
}
