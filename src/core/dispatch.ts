/**
 * The data path: what a site calls once its target word is not nop.
 *
 * Owns: the handlers of this thread's table H (the list function, one entry
 * function per ops called directly, `missing`; a direct trampoline's are
 * tramp-handlers.ts's, and an ops' exit, suspend and resume parts
 * ops-handlers.ts's), the frame stack and `leave`/`unwind`, recursion
 * protection, and the catching of what entry callbacks throw (counted and
 * reported by callback-faults.ts; the list read by list-view.ts).
 * Invariants:
 * - a handler returns a token: 0 when the call needs no exit, else the
 *   index of the first frame it pushed with a generation in the high bits;
 *   `leave(token)` runs the exits of exactly the frames of that token,
 *   newest first, and discards frames above them that a throw left behind
 *   (their exits see `UNWOUND`). A token whose frames are gone (swept, or
 *   unwound by an ancestor) is recognised by its generation and ignored, so
 *   a late exit never touches frames that reuse its index;
 * - a callback that throws never reaches the traced program (G5), whatever
 *   it throws: it is caught here and handed to callback-faults.ts (counted
 *   per ops and per thread, the first message kept, a warning and error_log
 *   once per ops and thread), and the call goes on;
 * - while any ops callback runs in this thread (entry, exit, suspend,
 *   resume), traced calls it makes reach no ops, on the list function's path
 *   and on an ops' own entry alike, whatever the ops' flags: they are
 *   counted in TH_RECURSION (the kernel's list-function recursion check,
 *   applied to both paths; see docs/design.md, "Recursion");
 * - TH_DEPTH is non-zero exactly while this thread runs a callback (or the
 *   list function), so a synchronisation that finds it zero knows the thread
 *   holds no stale handler (the RCU-tasks quiescent state of the kernel);
 * - nothing here allocates on the direct-trampoline path or the path of an
 *   ops without exit part, and nothing branches on configuration per call:
 *   each handler is built for its ops' flags when the ops is loaded.
 */

import * as layout from './layout.js';
import * as flags from './flags.js';
import { opsError, trampError } from './callback-faults.js';
import { foreignOps, foreignTramp, readList } from './list-view.js';
import { threadView, type EnterFn, type ExitHandler, type LocalOps, type SiteFn, type ThreadView } from './thread.js';
import { queueJob } from '../shared/builtins.js';

// Module-local copies of the constants the data path uses: V8 folds a
// module's own constants but reloads an imported binding at every use
// (measured on the ring writer: 120 against 150 M events/s).
const { H_LIST_SEQ, O_DIRECT, TH_DEPTH, TH_MISSED, TH_RECURSION } = layout;
const { OPS_FL_DIRECT, OPS_FL_STUB, OPS_FL_ARGS, TARGET_OPS_BASE } = flags;

/** Given to exits of frames abandoned by a throw the site did not see. */
export const UNWOUND: unique symbol = Symbol('jsftrace.unwound');

const tv: ThreadView = threadView();
const i32 = tv.i32;
const H = tv.H;
const S = tv.S;
const L = tv.inst.L;

// ---- outlining --------------------------------------------------------------

/**
 * Never true. What a site calls on every traced call (`leave` and the
 * handlers of the list function and of ops) starts with
 * `if (OUTLINE) [, , ...] = BALLAST;`: twenty elisions of a destructuring
 * that never runs, about 600 bytes of bytecode, which makes the function
 * longer than TurboFan inlines (--max-inlined-bytecode-size, 460 bytes on
 * Node 20). So each is compiled once and called, instead of being inlined,
 * with the tracer callback and the ring write it inlines, into every
 * optimised traced function: on the TypeScript check that inlining doubled
 * the optimising compiler's work and cost more than the calls it saved
 * (docs/design.md, "Sites call their handlers"). test/unit/outline.test.ts
 * checks that V8 does not inline them. Direct trampolines stay inlinable:
 * they are meant for a few hot functions, where inlining pays.
 */
// A `let`, so that neither tsc nor V8's bytecode generator drops the branch.
let OUTLINE = false;
const BALLAST: unknown[] = [];

// ---- frame stack ----------------------------------------------------------

// Indices live in a token's low 16 bits, so the highest index is 0xffff.
const MAX_FRAMES = (1 << 16) - 1;
let cap = 1024;
/** fSite[0] is -1, the parent of a call with no traced caller. */
let fSite = new Int32Array(cap + 1).fill(-1, 0, 1);
/** The token of the group each frame belongs to. */
let fTok = new Int32Array(cap + 1);
/** Per index, the generation of the last token made there (15 bits). */
let fGen = new Int32Array(cap + 1);
let fHandler: (ExitHandler | null)[] = new Array(cap + 1).fill(null);
let fData: unknown[] = new Array(cap + 1).fill(undefined);
/** Frames 1..top are live; 0 is never used so that 0 can mean "no token". */
let top = 0;
let overruns = 0;

function grow(): boolean {
  if (cap >= MAX_FRAMES) {
    overruns++;
    return false;
  }
  const n = cap * 2;
  const s = new Int32Array(n + 1); s.set(fSite); fSite = s;
  const o = new Int32Array(n + 1); o.set(fTok); fTok = o;
  const g = new Int32Array(n + 1); g.set(fGen); fGen = g;
  // By index, not push(): the program's Array.prototype is not ours to call.
  for (let i = cap + 1; i <= n; i++) { fHandler[i] = null; fData[i] = undefined; }
  cap = n;
  return true;
}

/**
 * Frames still on the stack when a microtask runs are stale: microtasks run
 * only once the JavaScript stack is empty, suspended calls have taken their
 * frames off, so whatever is left was abandoned by a throw that no traced
 * caller or catch clause reported (caught at top level, or uncaught). The
 * first push onto an empty stack queues one sweep.
 */
let sweepQueued = false;
function sweep(): void {
  sweepQueued = false;
  if (top > 0) runExits(1, 0, UNWOUND, true);
}

const INDEX_MASK = 0xffff;

/**
 * Pushes a frame of the group `owner` (0: start a new group); returns the
 * group's token, or 0 when the stack is full.
 */
export function push(site: number, owner: number, h: ExitHandler | null, data: unknown): number {
  if (top === 0 && !sweepQueued) {
    sweepQueued = true;
    queueJob(sweep);
  }
  if (top >= cap && !grow()) return 0;
  const i = ++top;
  let tok = owner;
  if (tok === 0) {
    const g = (fGen[i]! + 1) & 0x7fff;
    fGen[i] = g;
    tok = i | (g << 16);
  }
  fSite[i] = site;
  fTok[i] = tok;
  fHandler[i] = h;
  fData[i] = data;
  return tok;
}

/**
 * push(site, 0, null, undefined): a new group of one frame without exit
 * part, which only gives calls made from this one their parent. Its data
 * is never read (no handler), so it is not written.
 */
function pushPlain(site: number): number {
  if (top === 0 && !sweepQueued) {
    sweepQueued = true;
    queueJob(sweep);
  }
  if (top >= cap && !grow()) return 0;
  const i = ++top;
  const tok = i | (((fGen[i]! + 1) & 0x7fff) << 16);
  fGen[i] = tok >>> 16;
  fSite[i] = site;
  fTok[i] = tok;
  // A throw out of an exit callback's own traced callees can leave a frame
  // above the stack with its handler set; a plain frame must not inherit it.
  fHandler[i] = null;
  return tok;
}

/** The index of the first frame of `tok`, or 0 when its frames are gone. */
function indexOf(tok: number): number {
  const i = tok & INDEX_MASK;
  return i >= 1 && i <= top && fTok[i] === tok ? i : 0;
}

/** The site of the innermost traced call of this thread, or -1. */
export function currentSite(): number {
  return fSite[top]!;
}

export function frameDepth(): number {
  return top;
}

/**
 * A catch clause outside any function (module top level) caught a throw:
 * frames above `depth`, the depth when the module began, were abandoned.
 */
export function caughtAt(depth: number): void {
  if (depth >= 0 && depth < top) runExits(depth + 1, 0, UNWOUND, true);
}

export function frameOverruns(): number {
  return overruns;
}

/**
 * Pops frames down to index `from`, running their exits: frames of `owner`
 * get the call's outcome, any other frame (abandoned by a throw) UNWOUND.
 */
function runExits(from: number, owner: number, value: unknown, threw: boolean): unknown {
  const row = tv.row;
  i32[row + TH_DEPTH]++;
  const wasIn = inList;
  inList = true;
  for (let i = top; i >= from; i--) {
    const h = fHandler[i];
    if (h !== null && h !== undefined) {
      if (owner !== 0 && fTok[i] === owner) {
        const r = h.leave(fSite[i]!, value, threw, fData[i]);
        if (!threw) value = r;
      } else {
        h.leave(fSite[i]!, UNWOUND, true, fData[i]);
      }
      fHandler[i] = null;
      fData[i] = undefined;
    }
  }
  top = from - 1;
  inList = wasIn;
  i32[row + TH_DEPTH]--;
  return value;
}

/**
 * The normal exit of a traced call: runs its exits (and those of frames a
 * throw abandoned above it) and returns the result, which an IPMODIFY ops
 * may have replaced.
 */
export function leave(token: number, value: unknown): unknown {
  if (OUTLINE) [, , , , , , , , , , , , , , , , , , , ] = BALLAST;
  const i = token & INDEX_MASK;
  // The common case: the call's group is the top frame alone (one handler,
  // no frame abandoned above it).
  if (i === top && i !== 0 && fTok[i] === token) {
    const h = fHandler[i];
    if (h === null || h === undefined) {
      top = i - 1;
      return value;
    }
    return leaveOne(i, h, value);
  }
  if (indexOf(token) === 0) return value; // already unwound by an ancestor or swept
  return runExits(i, token, value, false);
}

/**
 * leave(token, value) with its arguments the other way round, for a site's
 * exit with a value that calls nothing (transform.ts, quietExit): with the
 * token, a local, last, V8 holds the callee and the value, where
 * `leave(token, value)` holds a third register for the token's place in the
 * argument list, and the frame of a function whose own calls need two grows
 * by one (a recursion through it goes less deep).
 */
export function leaveWith(value: unknown, token: number): unknown {
  return leave(token, value);
}

/** runExits(i, fTok[i], value, false) for the top frame `i` alone. */
function leaveOne(i: number, h: ExitHandler, value: unknown): unknown {
  const row = tv.row;
  i32[row + TH_DEPTH]++;
  const wasIn = inList;
  inList = true;
  const r = h.leave(fSite[i]!, value, false, fData[i]);
  fHandler[i] = null;
  fData[i] = undefined;
  top = i - 1;
  inList = wasIn;
  i32[row + TH_DEPTH]--;
  return r;
}

/** The exceptional exit: runs the exits with the thrown value, returns it. */
export function unwind(token: number, error: unknown): unknown {
  const i = indexOf(token);
  if (i !== 0) runExits(i, token, error, true);
  return error;
}

/**
 * A catch clause in the call that owns `token` caught a throw: the frames
 * above the call's own ones were left by callees the throw went through,
 * so they are discarded and their exits see UNWOUND.
 */
export function caught(token: number): void {
  const first = indexOf(token);
  if (first === 0) return;
  let i = top;
  while (i > first && fTok[i] !== token) i--;
  if (i < top) runExits(i + 1, 0, UNWOUND, true);
}

/** A call's frames while it is suspended at an await or a yield. */
export interface Suspended {
  readonly site: number[];
  readonly handler: (ExitHandler | null)[];
  readonly data: unknown[];
}

/**
 * Suspended frames as resume() gets them back. As a number they are 0: a
 * site forgets them with `&= 0`, a compound assignment, since a plain one
 * would give names to the program's anonymous functions
 * (instrument/name-inference.ts).
 */
class SuspendedFrames implements Suspended {
  readonly site: number[];
  readonly handler: (ExitHandler | null)[];
  readonly data: unknown[];
  constructor(n: number) {
    this.site = new Array(n);
    this.handler = new Array(n);
    this.data = new Array(n);
  }

  valueOf(): number {
    return 0;
  }

  /** A brand only: `#suspended in x` asks no trap of a Proxy the program returned. */
  #suspended(): void {}

  static is(x: unknown): x is SuspendedFrames {
    return typeof x === 'object' && x !== null && #suspended in x;
  }
}

/**
 * Whether `x` is a call's suspended frames, as a site's token local holds
 * them (suspend()) rather than a running call's token, or a value the
 * program returned through that local (transform.ts, keptExit).
 */
export function isSuspended(x: unknown): x is Suspended {
  return SuspendedFrames.is(x);
}

/**
 * The call that owns `token` suspends (await, yield): its frames leave the
 * stack, so that code running meanwhile sees its real parent, and come back
 * with resume(). Frames above them, left by callees a throw went through,
 * are discarded first. Returns null when there is nothing to keep.
 */
export function suspend(token: number): Suspended | null {
  const first = indexOf(token);
  if (first === 0) return null;
  let end = first;
  while (end < top && fTok[end + 1] === token) end++;
  if (end < top) runExits(end + 1, 0, UNWOUND, true);
  // Each handler hears of the suspension, newest first, with recursion
  // blocked as during exits.
  const row = tv.row;
  i32[row + TH_DEPTH]++;
  const wasIn = inList;
  inList = true;
  for (let f = end; f >= first; f--) {
    const h = fHandler[f];
    if (h !== null && h !== undefined) fData[f] = h.pause(fSite[f]!, fData[f]);
  }
  inList = wasIn;
  i32[row + TH_DEPTH]--;
  const n = end - first + 1;
  const saved = new SuspendedFrames(n);
  for (let i = 0; i < n; i++) {
    const f = first + i;
    saved.site[i] = fSite[f]!;
    saved.handler[i] = fHandler[f] ?? null;
    saved.data[i] = fData[f];
    fHandler[f] = null;
    fData[f] = undefined;
  }
  top = first - 1;
  return saved;
}

/** The suspended call resumes: its frames return on top; the new token. */
export function resume(saved: Suspended | null): number {
  if (saved === null) return 0;
  let token = 0;
  for (let i = 0; i < saved.site.length; i++) {
    const f = push(saved.site[i]!, token, saved.handler[i]!, saved.data[i]);
    if (token === 0) token = f;
  }
  if (token === 0) return 0;
  // Oldest first, as the entries ran.
  const row = tv.row;
  i32[row + TH_DEPTH]++;
  const wasIn = inList;
  inList = true;
  const first = token & INDEX_MASK;
  for (let f = first; f <= top; f++) {
    const h = fHandler[f];
    if (h !== null && h !== undefined) fData[f] = h.unpause(fSite[f]!, fData[f]);
  }
  inList = wasIn;
  i32[row + TH_DEPTH]--;
  return token;
}

// ---- the site protocol ------------------------------------------------------

/*
 * What instrumented code calls (transform.ts). A site calls S[word](site,
 * this): with two arguments the call keeps the caller's frame small (a cold
 * recursion goes nearly as deep as without us). A word that wants the
 * arguments (odd) reaches a handler that keeps the site and `this` and
 * answers -1; the site then calls completeEntry(...its parameters), which
 * makes the real entry. Nothing runs between the two calls, so one place
 * per thread holds what the first left.
 *
 * A short return value is written twice, once for a traced call: there the
 * site marks its call's exit pending (pendExit), evaluates the value, then
 * exits the pending call with it (exitPending), with no local for it.
 * Pending calls nest as the returns that evaluate them do.
 */

let askedEnter: EnterFn | null = null;
let askedSite = 0;
let askedThis: unknown;

function askingForArguments(enter: EnterFn): SiteFn {
  return function askArguments(site: number, thisArg: unknown): number {
    askedEnter = enter;
    askedSite = site;
    askedThis = thisArg;
    return -1;
  };
}

/** The second half of an entry whose handler asked for the arguments. */
export function completeEntry(...args: unknown[]): number {
  const enter = askedEnter;
  if (enter === null) return 0;
  const self = askedThis;
  askedEnter = null;
  askedThis = undefined;
  return enter(askedSite, self, args);
}

/**
 * Tokens of calls whose exit is pending, innermost last: the first
 * `pendingTop` entries (kept by index: a call's exit must not call the
 * program's Array.prototype.push or pop, which a program may replace).
 */
const pending: number[] = [];
let pendingTop = 0;

/**
 * A short return of the call that owns `token` starts: frames above the
 * call's own, and pending exits of calls above it, were left by callees a
 * throw went through (the call itself is running), so they are discarded.
 */
export function pendExit(token: number): void {
  const first = indexOf(token);
  // A running call's token is never stale: frames are discarded only above
  // a running call, or all at once when the stack is empty. Were it stale,
  // nothing would be pushed, and the exit that follows (exitPending) would
  // take the innermost pending call below it, which is still evaluating the
  // value that called this one.
  if (first === 0) return;
  while (pendingTop > 0 && (pending[pendingTop - 1]! & INDEX_MASK) >= first) pendingTop--;
  let end = first;
  while (end < top && fTok[end + 1] === token) end++;
  if (end < top) runExits(end + 1, 0, UNWOUND, true);
  pending[pendingTop++] = token;
}

/** The value of the innermost pending return is ready: the call exits with it. */
export function exitPending(value: unknown): unknown {
  while (pendingTop > 0) {
    const token = pending[--pendingTop]!;
    if (indexOf(token) !== 0) return leave(token, value);
  }
  return value;
}

// ---- the list function ----------------------------------------------------

/** Re-entry guard shared by the list function and every exit. */
let inList = false;
let listSeq = -1;
let list: readonly LocalOps[] = [];

function listEnter(site: number, thisArg: unknown, args: ArrayLike<unknown> | null = null): number {
  if (OUTLINE) [, , , , , , , , , , , , , , , , , , , ] = BALLAST;
  const row = tv.row;
  if (inList) {
    i32[row + TH_RECURSION]++;
    return 0;
  }
  inList = true;
  i32[row + TH_DEPTH]++;
  if (i32[H_LIST_SEQ] !== listSeq) {
    const read = readList();
    list = read.list;
    listSeq = read.seq;
  }
  const parent = fSite[top]!;
  const word = site >>> 5;
  const bit = 1 << (site & 31);
  let token = 0;
  const l = list;
  for (let k = 0; k < l.length; k++) {
    const o = l[k]!;
    if ((i32[o.cov + word]! & bit) === 0) continue;
    const fl = o.flags;
    if ((fl & OPS_FL_STUB) !== 0) continue;
    if ((fl & OPS_FL_DIRECT) !== 0) {
      // The direct helper: one load of the ops' current-target word picks
      // the trampoline, so a call runs exactly one of old and new (G1).
      const tid = i32[o.row + O_DIRECT]!;
      const t = tv.tramps[tid];
      if (t === undefined) {
        if (!foreignTramp(tid)) i32[row + TH_MISSED]++;
        continue;
      }
      let data: unknown;
      try {
        data = t.entry(site, thisArg, args ?? null);
      } catch (e) {
        trampError(t, e);
      }
      if (t.exit !== undefined || t.suspend !== undefined || t.resume !== undefined) {
        const f = push(site, token, t, data);
        if (token === 0) token = f;
      }
      continue;
    }
    const fn = o.func;
    if (fn === undefined) {
      if (!foreignOps(o.slot)) i32[row + TH_MISSED]++;
      continue;
    }
    // Retired while this call was entering (a synchronisation may have
    // found this thread quiescent just before TH_DEPTH rose).
    if (tv.ops[o.slot] !== o) continue;
    let data: unknown;
    try {
      data = fn(site, parent, o.ops, (fl & OPS_FL_ARGS) !== 0 ? args : null, thisArg);
    } catch (e) {
      opsError(o, e);
    }
    if (o.framed) {
      const f = push(site, token, o, data);
      if (token === 0) token = f;
    }
  }
  // A plain frame keeps the parent chain for calls made from this one.
  if (token === 0) token = pushPlain(site);
  i32[row + TH_DEPTH]--;
  inList = false;
  return token;
}

// ---- handler builders -----------------------------------------------------

/** An entry of a directly called ops that ran nothing: a re-entry from a callback is counted. */
function refused(): number {
  if (inList) i32[tv.row + TH_RECURSION]++;
  return 0;
}

/**
 * Entry function for a site whose single ops is called directly: one of
 * two, chosen by whether its calls keep a frame with an exit part; a call
 * that keeps none still pushes a plain frame, which gives the calls made
 * from it their parent.
 *
 * Each first refuses a call made from inside a callback (the guard the list
 * function keeps, so that an ops behaves the same on both paths: the
 * kernel's list function drops a recursive entry, and a callback that calls
 * the function it traces must not recurse until the stack overflows), then
 * checks that the ops is still this thread's (it may have been retired by a
 * synchronisation that ran at an interrupt check before the handler's body,
 * so before TH_DEPTH rose), and only then raises TH_DEPTH: between the check
 * and the increment there is no call and no loop, so no interrupt check
 * where a synchronisation could run. Checking first keeps the refusal off
 * the straight path (measured: 8 ns per call less than raising TH_DEPTH,
 * checking, and lowering it again on refusal).
 */
export function makeOpsEnter(o: LocalOps): EnterFn {
  const fn = o.func;
  if (fn === undefined) return missing;
  const ops = o.ops;
  const slot = o.slot;
  const wantArgs = (o.flags & OPS_FL_ARGS) !== 0;
  if (o.framed) {
    return function opsEnterExit(site, thisArg, args) {
      if (OUTLINE) [, , , , , , , , , , , , , , , , , , , ] = BALLAST;
      if (inList || tv.ops[slot] !== o) return refused();
      const row = tv.row;
      i32[row + TH_DEPTH]++;
      inList = true;
      let data: unknown;
      try {
        data = fn(site, fSite[top]!, ops, wantArgs ? args ?? null : null, thisArg);
      } catch (e) {
        opsError(o, e);
      }
      inList = false;
      i32[row + TH_DEPTH]--;
      return push(site, 0, o, data);
    };
  }
  return function opsEnter(site, thisArg, args) {
    if (OUTLINE) [, , , , , , , , , , , , , , , , , , , ] = BALLAST;
    if (inList || tv.ops[slot] !== o) return refused();
    const row = tv.row;
    i32[row + TH_DEPTH]++;
    inList = true;
    try {
      fn(site, fSite[top]!, ops, wantArgs ? args ?? null : null, thisArg);
    } catch (e) {
      opsError(o, e);
    }
    inList = false;
    i32[row + TH_DEPTH]--;
    return pushPlain(site);
  };
}

/**
 * H[t] while this thread has no handler for t: nothing runs; the call is
 * counted as missed unless the site's target is a function-valued ops or
 * trampoline of another thread, which never runs here.
 */
export function missing(site: number): number {
  const t = i32[L.target + site]! >> 1;
  const k = t - (TARGET_OPS_BASE >> 1);
  const foreign = k >= 0 && (k < L.maxOps ? foreignOps(k) : k - L.maxOps < L.maxTramps && foreignTramp(k - L.maxOps));
  if (!foreign) i32[tv.row + TH_MISSED]++;
  return 0;
}

/** Installs the fixed handlers; called once per thread. */
export function initHandlers(size: number): void {
  // Pushed one by one so that V8 keeps the arrays packed (no hole checks).
  H.length = 0;
  S.length = 0;
  for (let t = 0; t < size; t++) {
    H.push(missing);
    S.push(missing);
  }
  setHandler(2, listEnter);
}

/** Makes `enter` the handler of target `t` and of `t | 1` (the same call, with the arguments), in H and S. */
export function setHandler(t: number, enter: EnterFn): void {
  H[t] = enter;
  H[t | 1] = enter;
  S[t] = enter;
  S[t | 1] = enter === missing ? missing : askingForArguments(enter);
}

/** Forces the list function to re-read the registered list on next use. */
export function invalidateList(): void {
  listSeq = -1;
}

export type { EnterFn };
