/**
 * The runtime that instrumented code calls, installed in each thread before
 * any instrumented module runs.
 *
 * Owns: what the site shape (transform.ts, shared/site-abi.ts) reaches:
 * the static key (a global object of site keys; threads.ts keeps it) and
 * the runtime object, the key object's field RUNTIME_FIELD: D
 * defines a module's sites, W is the call-target words, E calls a site's
 * handler by its word, A completes an entry that wants the arguments, L/P/U
 * are exits (leave, mark a return's exit pending, unwind with the thrown
 * value the key's holder keeps, or passed second by a live patch), Y/Z
 * take a pending exit with a short return's value, Q leaves with a value
 * that calls nothing (the token last), N/T/X leave with null, true, false,
 * C/K report catches, S/R suspend and resume (see suspensionParts), F
 * reads the frame depth, V/I are the helpers long returns and `for await`
 * loops call, O makes the disposable that exits a call from the scope
 * of a `using` declaration. The shapes that use them are neutral to V8's name
 * inference (name-inference.ts). Each module also declares its own V and
 * I (transform.ts), for a call before its prologue runs; the prologue
 * replaces them by these. And the original view of the program
 * (original/): source text and stack positions as without us.
 * Invariants: installed once per thread and never replaced (V8 then treats
 * the key as a constant), and idempotent; nothing a program can enumerate
 * or reach by name but the key, which is not enumerable.
 */

import {
  caught, caughtAt, completeEntry, defineSitesTrusted, exitPending, frameDepth, isSuspended, leave, leaveWith, pendExit, resume, siteKeyObject, suspend,
  threadView, unwind,
} from '../core/index.js';
import type { SiteMeta } from '../core/index.js';
import { HELD_FIELD, RUNTIME_FIELD, siteKeyOf } from '../shared/site-abi.js';
import { installCallSiteView } from './original/call-sites.js';
import { installCoverageRewrite } from './original/coverage-files.js';
import { installFindSourceMapView } from './original/find-source-map.js';
import { installGetCallSitesView } from './original/get-call-sites.js';
import { registerModule } from './original/registry.js';
import { installSourceTextView } from './original/source-text.js';
import { installUncaughtLine } from './original/uncaught-line.js';
import {
  ArrayIsArray, FunctionToString, IntrinsicError, IntrinsicUint16Array, JSONParse, ReflectApply, SymbolHasInstance,
} from '../shared/builtins.js';

let defineFailed = false;

/**
 * The base of a module whose sites could not be defined: a site's index
 * (`PB + k`, an int32 once the entry ORs it into its local) is then
 * negative, and the word table reads undefined there.
 */
const NO_SITES = -0x40000000;

/**
 * Defines the sites of one module: `names` and `positions` ("line:col")
 * hold one entry per function, separated by newlines and commas; `tag`,
 * `script` and `table` let the original view find the module (registry.ts);
 * `marks`: 1 where the transform marked the lines it inserted code on, for
 * the line above an uncaught exception (original/uncaught-line.ts).
 * A module's prologue must not throw (G4): when its sites cannot be defined
 * (the site table or the string arena is full), the module runs with every
 * site nop (its base is NO_SITES, so each word index is out of the table),
 * with one warning per thread.
 */
function defineModule(key: string, file: string, pkg: string, sitesFn: unknown, tag: string, script: string,
  table: unknown, marks?: unknown): number {
  registerModule(tag, script, table, marks === 1);
  try {
    const [names, positions] = sitesOf(sitesFn);
    return defineModuleSites(key, file, pkg, names, positions, tag);
  } catch (e) {
    if (!defineFailed) {
      defineFailed = true;
      process.emitWarning(`${file}: its functions get no sites (${(e as Error).message}); the module runs untraced`, { code: 'JSFTRACE_SITES' });
    }
    return NO_SITES;
  }
}

/**
 * The names and positions of a module's functions, from the comment of the
 * function that holds them (transform.ts): `["names", "positions"]`, with
 * `*` `/` written `*\/`.
 */
function sitesOf(fn: unknown): [string, string] {
  const text = ReflectApply(FunctionToString, fn, []) as string;
  const from = text.indexOf('/*');
  const to = text.lastIndexOf('*/');
  const parsed: unknown = from < 0 || to < from ? null : JSONParse(text.slice(from + 2, to));
  if (!ArrayIsArray(parsed) || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') throw new IntrinsicError('no site table');
  return [parsed[0], parsed[1]];
}

function defineModuleSites(key: string, file: string, pkg: string, names: string, positions: string, tag: string): number {
  // A module with no function (its prologue serves its top-level catch clauses).
  if (names === '') return -1;
  const ns = names.split('\n');
  const ps = positions.split(',');
  const metas: SiteMeta[] = new Array(ns.length);
  // The keys the transform wrote into the sites (the same function of the tag).
  // The built-in of the start: this runs inside the program's module load, after whatever it replaced.
  const keys = new IntrinsicUint16Array(ns.length);
  const own = pkg === '';
  for (let k = 0; k < ns.length; k++) keys[k] = siteKeyOf(tag, own, k);
  for (let k = 0; k < ns.length; k++) {
    const p = ps[k] ?? '0:0';
    const colon = p.indexOf(':');
    metas[k] = { name: `${file}:${ns[k]}`, file, line: Number(p.slice(0, colon)), column: Number(p.slice(colon + 1)), package: pkg };
  }
  return defineSitesTrusted(key, metas, keys);
}

/**
 * A short return value of a traced call, written `(X) instanceof Y, Z()`:
 * Y's hasInstance takes the pending exit with X (the value as the exit
 * leaves it) and keeps it, Z hands it back. An exit call `PX(X)` would hold
 * its callee in a frame register while X is evaluated (a cold recursion then
 * goes less deep); an assignment of X would name functions. Nothing runs
 * between the two but the exit itself, which finishes before the value is
 * kept, so one place per thread holds it.
 */
let kept: unknown;
const exitWithHolder = Object.freeze(Object.defineProperty(Object.create(null) as object, SymbolHasInstance, {
  value: function exitWith(value: unknown): boolean {
    kept = exitPending(value);
    return false;
  },
}));

function exitValue(): unknown {
  const v = kept;
  kept = undefined;
  return v;
}

/**
 * The two helpers every module declares (transform.ts), shared once the
 * module's prologue has run: a module's own are compiled on their first
 * call, and a recursion that first returns through one at its deepest
 * frame would compile it there, with the parser's stack on top (the
 * recursion overflowed 4% sooner). These are compiled at install (V8 may
 * still drop the bytecode of a function unused for a long time, as it may
 * any of the program's).
 */
function passValue(v: unknown): unknown {
  return v;
}

function returnThrough(v: unknown, t: number): unknown {
  return t ? leave(t, v) : v;
}

/**
 * The exits of `return null`, `return true` and `return false`: the site
 * passes only its token, which V8 reads in place, and returns the literal
 * itself (transform.ts, quietExit).
 */
function leaveNull(t: number): unknown {
  return leave(t, null);
}

function leaveTrue(t: number): unknown {
  return leave(t, true);
}

function leaveFalse(t: number): unknown {
  return leave(t, false);
}

// Taken at load: a program may replace Symbol's properties later.
const SymbolDispose = (Symbol as { dispose?: symbol }).dispose;

/**
 * The disposable a traced call declares first in the scope of a `using`
 * declaration (transform.ts, disposeLast): disposed after the program's,
 * it runs the call's deferred exit. Made only on a Node that has `using`.
 */
function exitAtDisposal(exit: () => unknown): object {
  return { [SymbolDispose!]: exit };
}

/**
 * The suspension part of the site protocol (transform.ts, suspension): a
 * site's token local holds its call's token while it runs and its frames
 * (core/dispatch.ts, suspend) while it is suspended; each part passes on
 * what it does not act on. An await or yield keeps its value in the key's
 * holder (shared/site-abi.ts) across the suspend or the resume, whose
 * handlers may run the program's code, and so other awaits: the value is
 * taken out around them and put back.
 */
function suspensionParts(keys: object): { S: (t: unknown) => unknown; R: (t: unknown) => unknown; U: (t: unknown, passed?: unknown) => 0 } {
  const keep = (keys as Record<symbol, (x: unknown) => boolean>)[SymbolHasInstance]!;
  const held = keys as Record<typeof HELD_FIELD, unknown>;
  const take = (): unknown => held[HELD_FIELD];
  /** PS: the call suspends; already suspended (a `continue` out of a `for await`) or untraced, it stays so. */
  function suspendCall(t: unknown): unknown {
    if (typeof t !== 'number') return t;
    const v = take();
    const saved = suspend(t);
    ReflectApply(keep, keys, [v]);
    return saved;
  }
  /** PR: the suspended call resumes; a running call's token passes. */
  function resumeCall(t: unknown): unknown {
    if (!isSuspended(t)) return t;
    const v = take();
    const token = resume(t);
    ReflectApply(keep, keys, [v]);
    return token;
  }
  /**
   * PU: a throw leaves the call (the wrapper's catch clause, which kept the
   * thrown value): resumed first if suspended. 0, what the site's local
   * then holds: its frames are gone.
   */
  function unwindCall(t: unknown, passed?: unknown): 0 {
    // A live patch passes the value (transform.ts, TransformInput.live).
    const thrown = arguments.length > 1 ? passed : take();
    const token = isSuspended(t) ? resume(t) : t;
    if (typeof token === 'number' && token !== 0) unwind(token, thrown);
    return 0;
  }
  return { S: suspendCall, R: resumeCall, U: unwindCall };
}

/**
 * `attached`: joined by an attach to a process already running, whose ES
 * modules' bindings of Node's modules are left as they are (a stand-in in
 * a module's exports is then seen through `require` and the namespace).
 */
export function installRuntime(attached = false): void {
  const keys = siteKeyObject();
  if (Object.getOwnPropertyDescriptor(keys, RUNTIME_FIELD) !== undefined) return;
  const parts = suspensionParts(keys);
  const tv = threadView();
  const words = new Int32Array(tv.inst.sab, tv.inst.L.target * 4, tv.inst.L.maxSites);
  // The dispatcher a site calls once it has read a word that is not nop
  // (transform.ts): reading the word again here, not indexing the handler
  // table at the site, keeps the site's frame one register smaller. S is
  // filled once per thread and its entries replaced in place. A word turned
  // nop since the site read it makes the call untraced, as one that began
  // after the switch.
  const S = tv.S;
  function enterSite(site: number, self: unknown): number {
    const w = words[site];
    return w ? S[w]!(site, self) : 0;
  }
  const rt = Object.freeze({
    D: defineModule, W: words, E: enterSite, A: completeEntry, L: leave, P: pendExit, U: parts.U, C: caught,
    S: parts.S, R: parts.R, K: caughtAt, F: frameDepth, Y: exitWithHolder, Z: exitValue, Q: leaveWith,
    V: passValue, I: returnThrough, N: leaveNull, T: leaveTrue, X: leaveFalse, O: exitAtDisposal,
  });
  passValue(0);
  returnThrough(0, 0);
  enterSite(-1, undefined);
  Object.defineProperty(keys, RUNTIME_FIELD, { value: rt, writable: false, enumerable: false, configurable: false });
  installSourceTextView();
  installCallSiteView();
  installUncaughtLine(keys);
  installFindSourceMapView();
  installGetCallSitesView(!attached);
  installCoverageRewrite();
}
