/**
 * Stack traces show original positions.
 *
 * Owns: how this thread's stack traces see the frames of instrumented
 * modules. Invariant: a frame of an instrumented module is shown with the
 * line and column it had in the original source (lines never move; columns
 * and offsets are mapped through the module's edit table, table.ts); any
 * other frame exactly as V8 shows it; and no jsftrace frame is added.
 *
 * V8 hands Node the frames as CallSite objects, whose methods are read-only,
 * and Node formats them in one of two ways:
 * - by default it joins them into `error.stack`, converting each to a string.
 *   The CallSite prototype gets a Symbol.toPrimitive (which string
 *   conversion asks for before toString) that gives the mapped text; the
 *   default itself (Node's ErrorPrepareStackTrace) is replaced by a stand-in
 *   that leaves out jsftrace's frames (its wrapper of process.emit, under
 *   every listener of the process's events) and first mends the message of
 *   an AssertionError being made (assert-message.ts): this path costs a
 *   look at each frame's file more than the mapping of our own frames;
 * - when the program set Error.prepareStackTrace (to something else than
 *   the default Node puts there), Node calls it with the
 *   frames. Error.prepareStackTrace becomes an accessor: the program reads
 *   and writes its own value as before, and only Node's read (recognised by
 *   V8 refusing to format a stack while it formats one: see
 *   `insideFormatting`) gets a function that hands the program's one views
 *   of the frames, whose methods answer with mapped positions.
 * Not reached: Node's own source-map formatting of a module with a map of
 * its own when the program enabled source maps (it reads V8's columns and
 * looks them up in the map, which source-map.ts rewrote for the
 * instrumented text), and what V8 prints by itself outside JavaScript (the
 * source line above an uncaught exception); see docs/instrumentation.md.
 */

import { ArrayIsArray, IntrinsicError, ObjectDefineProperty, ObjectGetOwnPropertyDescriptor, ObjectGetPrototypeOf, ObjectHasOwn, ReflectApply, settableStackLimit } from '../../shared/builtins.js';
import { isProxy } from 'node:util/types';
import { masquerade, standInFor } from './source-text.js';
import { tableOfScript } from './registry.js';
import { originalColumn, originalOffset, type EditTable } from './table.js';
import { isOwnCode } from '../../shared/own-code.js';
import { EXIT_SCRIPT } from '../../shared/exit-hooks.js';
import { constructingAssertion, mendAssertMessage } from './assert-message.js';

interface CallSite {
  getFileName(): string | null | undefined;
  getFunctionName(): string | null;
  getMethodName(): string | null;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
  getEnclosingLineNumber?(): number | null;
  getEnclosingColumnNumber?(): number | null;
  getPosition?(): number;
  getEvalOrigin(): string | undefined;
  toString(): string;
  [k: string]: unknown;
}

type Prepare = (error: Error, trace: CallSite[]) => unknown;

let installed = false;

/**
 * This thread's stack where it is called, as V8's CallSites, given to
 * `read`: taken with a formatter of ours in place for that one stack (so
 * that neither the program's nor the view below runs), then Error's
 * `prepareStackTrace` and `stackTraceLimit` put back as they were. null
 * when V8 gives no CallSites.
 */
export function ownCallSites<T>(limit: number, read: (sites: CallSite[]) => T): T | null {
  // Nothing of the program's is called or changed: V8 reads the limit from
  // the realm's Error, a data property; it is set (and put back) only when
  // too small, and a limit that is not a plain writable number (deleted,
  // an accessor, frozen) means no stack here.
  const E = IntrinsicError as unknown as { prepareStackTrace?: unknown; stackTraceLimit: number };
  const own = ObjectGetOwnPropertyDescriptor(E, 'stackTraceLimit');
  if (own === undefined || !('value' in own) || typeof own.value !== 'number') return null;
  const before = own.value;
  const enough = before >= limit;
  if (!enough && own.writable !== true) return null;
  // Where our accessor is Error's, it answers the read itself (redefining
  // the property twice per stack costs more than the stack); elsewhere a
  // formatter of ours is put in for this one stack.
  const prepare = ObjectGetOwnPropertyDescriptor(E, 'prepareStackTrace');
  const ours = ourGetter !== null && prepare?.get === ourGetter;
  if (!ours && prepare !== undefined && prepare.configurable !== true) return null;
  let s: unknown;
  try {
    if (!enough) E.stackTraceLimit = limit;
    if (ours) capturing = true;
    else ObjectDefineProperty(E, 'prepareStackTrace', { value: RAW, configurable: true, writable: true });
    s = new IntrinsicError().stack;
  } catch {
    return null;
  } finally {
    if (ours) capturing = false;
    else if (prepare !== undefined) ObjectDefineProperty(E, 'prepareStackTrace', prepare);
    else delete E.prepareStackTrace;
    if (!enough) E.stackTraceLimit = before;
  }
  return ArrayIsArray(s) ? read(s as CallSite[]) : null;
}

/** While firstFrameOf reads a stack: the frames formatted, as V8 gave them. */
let watching: CallSite[] | null = null;

/**
 * The first frame with a position (a line) of an error's stack as V8 took
 * it, in V8's terms (the instrumented text's line and column, 1-based),
 * seen while `read` has the stack formatted now: null when it was
 * formatted already (the frames are gone then), has no such frame, or the
 * view is not installed. Formatting it now formats it as Node's own read
 * would, once.
 */
export function firstFrameOf(read: () => void): { file: string | null | undefined; line: number; column: number } | null {
  if (!installed || watching !== null) return null;
  const seen: CallSite[] = [];
  watching = seen;
  try {
    read();
  } catch {
    return null;
  } finally {
    watching = null;
  }
  for (const cs of seen) {
    const line = cs.getLineNumber();
    if (line === null || line === undefined) continue;
    return { file: cs.getFileName(), line, column: cs.getColumnNumber() ?? 1 };
  }
  return null;
}

/** Whether Node's default formatter is jsftrace's stand-in, which leaves jsftrace's frames out of every stack. */
let standingIn = false;

/** Whether a frame of this script is jsftrace's: its files, the exit hooks' script. */
export function ownFrameFile(file: unknown): boolean {
  return file === EXIT_SCRIPT || (typeof file === 'string' && isOwnCode(file));
}

/**
 * Whether an error that passes through a frame of jsftrace's needs no
 * handling to hide it: the stand-in of Node's default formatter (and the
 * views given to a program's own) leave such frames out wherever the stack
 * is formatted, as long as Error.prepareStackTrace is still jsftrace's
 * accessor and V8 formats a stack when it is first read (Node 22 and later).
 */
export function ownFramesLeftOut(): boolean {
  if (!standingIn || ourGetter === null) return false;
  return ObjectGetOwnPropertyDescriptor(IntrinsicError, 'prepareStackTrace')?.get === ourGetter;
}

/** A formatter that gives V8's CallSites as they are. */
const RAW = (_e: unknown, sites: unknown): unknown => sites;

/** The getter of installPrepareAccessor's accessor, once installed (the program may replace it since). */
let ourGetter: (() => unknown) | null = null;
/** Set by ownCallSites for the one stack it takes: the accessor then gives V8's CallSites as they are. */
let capturing = false;

/** V8's CallSite prototype in this thread, from a stack taken for the purpose. */
function callSitePrototype(): CallSite | null {
  return ownCallSites(1, (s) => (s.length > 0 ? Object.getPrototypeOf(s[0]) as CallSite : null));
}

/** `(file:line:col)` occurrences (eval origins) whose file is instrumented, mapped. */
function mapEvalOrigin(text: string): string {
  return text.replace(/\(([^()]*?):(\d+):(\d+)\)/g, (all, file: string, line: string, col: string) => {
    const t = tableOfScript(file);
    if (t === null) return all;
    return `(${file}:${line}:${originalColumn(t, Number(line), Number(col) - 1) + 1})`;
  });
}

export function installCallSiteView(): void {
  if (installed) return;
  const proto = callSitePrototype();
  if (proto === null) return;
  installed = true;
  const { getFileName, getLineNumber, getColumnNumber, getEnclosingLineNumber, getEnclosingColumnNumber, getPosition, getEvalOrigin } = proto;
  const getScriptNameOrSourceURL = proto['getScriptNameOrSourceURL'] as ((this: CallSite) => unknown) | undefined;
  const isEval = proto['isEval'] as (this: CallSite) => boolean;
  const toText = proto.toString;
  const call = <T>(fn: ((this: CallSite) => T) | undefined, cs: CallSite): T => ReflectApply(fn!, cs, []) as T;
  const tableOf = (cs: CallSite): EditTable | null => tableOfScript(call(getFileName, cs));

  const mappedColumn = (cs: CallSite, t: EditTable): number | null => {
    const col = call(getColumnNumber, cs);
    return col === null ? col : originalColumn(t, call(getLineNumber, cs) as number, col - 1) + 1;
  };
  /** The frame as text, as V8 writes it, with original positions. */
  const text = (cs: CallSite, written?: string): string => {
    let s = written ?? call(toText, cs);
    const t = tableOf(cs);
    if (t !== null) {
      // V8 writes the name a `//# sourceURL=` comment gives the script
      // (Node appends one to the TypeScript it strips), else its name.
      const named = getScriptNameOrSourceURL === undefined ? undefined : call(getScriptNameOrSourceURL, cs);
      const file = typeof named === 'string' && named !== '' ? named : call(getFileName, cs);
      const line = call(getLineNumber, cs);
      const col = call(getColumnNumber, cs);
      if (line !== null && col !== null) {
        const at = `${file}:${line}:${col}`;
        const i = s.lastIndexOf(at);
        if (i >= 0) s = `${s.slice(0, i)}${file}:${line}:${mappedColumn(cs, t)}${s.slice(i + at.length)}`;
      }
    }
    return s.includes('eval at ') ? mapEvalOrigin(s) : s;
  };

  // The default formatting: string conversion of each frame.
  // An object that only inherits from the prototype (a program's stand-in
  // for a frame) converts as it would without this method: V8's toString
  // refuses it, and the language's own conversion is what plain runs.
  Object.defineProperty(proto, Symbol.toPrimitive, {
    value: function toPrimitive(this: CallSite, hint: string): unknown {
      let s: string;
      try {
        s = call(toText, this);
      } catch {
        return ordinaryToPrimitive(this, hint);
      }
      watching?.push(this);
      return text(this, s);
    }, writable: false, enumerable: false, configurable: true,
  });

  // Views handed to a program's Error.prepareStackTrace: every method of
  // the frame, positions mapped.
  const REAL = Symbol('callSite');
  type View = { [REAL]: CallSite };
  const viewProto = Object.create(proto) as Record<string | symbol, unknown>;
  // A view's frame; anything else that inherits from the views' prototype
  // is itself the receiver, which V8's methods refuse as they would plain.
  const realOf = (v: View): CallSite => (ObjectHasOwn(v, REAL) ? v[REAL] : v as unknown as CallSite);
  // Defined, not assigned: the prototype's methods are read-only.
  // With the attributes of V8's own (read-only: assigning one on an object
  // that inherits from a frame fails as it does plain).
  const define = (name: string, fn: unknown): void => {
    const d = ObjectGetOwnPropertyDescriptor(proto, name);
    Object.defineProperty(viewProto, name, { value: fn, writable: d?.writable ?? false, enumerable: d?.enumerable ?? false, configurable: true });
  };
  for (const name of Object.getOwnPropertyNames(proto)) {
    const fn = proto[name];
    if (name === 'constructor' || typeof fn !== 'function') continue;
    define(name, { [name](this: View) { return ReflectApply(fn, realOf(this), []) as unknown; } }[name]);
  }
  const mapped = {
    getColumnNumber(this: View): number | null {
      const cs = realOf(this);
      const col = call(getColumnNumber, cs);
      const t = tableOf(cs);
      return t === null || col === null ? col : originalColumn(t, call(getLineNumber, cs) as number, col - 1) + 1;
    },
    getEnclosingColumnNumber(this: View): number | null {
      const cs = realOf(this);
      const col = call(getEnclosingColumnNumber, cs);
      const t = tableOf(cs);
      return t === null || col === null ? col : originalColumn(t, call(getEnclosingLineNumber, cs) as number, col - 1) + 1;
    },
    getPosition(this: View): number {
      const cs = realOf(this);
      const pos = call(getPosition, cs);
      const t = tableOf(cs);
      return t === null ? pos : originalOffset(t, pos);
    },
    getEvalOrigin(this: View): string | undefined {
      const o = call(getEvalOrigin, realOf(this));
      return typeof o === 'string' && o !== '' ? mapEvalOrigin(o) : o;
    },
    toString(this: View): string { return text(realOf(this)); },
  };
  for (const [name, fn] of Object.entries(mapped)) if (typeof proto[name] === 'function') define(name, fn);
  Object.defineProperty(viewProto, Symbol.toPrimitive, {
    value: function toPrimitive(this: View, hint: string): unknown {
      return ObjectHasOwn(this, REAL) ? text(this[REAL]) : ordinaryToPrimitive(this, hint);
    }, writable: false, enumerable: false, configurable: true,
  });
  for (const name of Object.getOwnPropertyNames(viewProto)) {
    const real = proto[name];
    if (typeof real === 'function') masquerade(viewProto[name] as object, real);
  }
  const views = (trace: CallSite[]): CallSite[] => {
    if (watching !== null && watching.length === 0) watching.push(...trace);
    let out: CallSite[] | null = null;
    for (let i = 0; i < trace.length; i++) {
      const cs = trace[i]!;
      const file = call(getFileName, cs);
      if (tableOfScript(file) === null && !call(isEval, cs)) {
        // A frame of jsftrace's (its module hooks, where a request failed;
        // the wrapper of process.emit, under every listener of the
        // process's events) is not the program's to see (hooks/own-frames.ts
        // and the default's stand-in below take them out of the default text).
        if (ownFrameFile(file)) out ??= trace.slice(0, i);
        else out?.push(cs);
        continue;
      }
      out ??= trace.slice(0, i);
      const v = Object.create(viewProto) as { [REAL]: CallSite };
      v[REAL] = cs;
      out.push(v as unknown as CallSite);
    }
    return out ?? trace;
  };
  // V8's own CallSite, told without running anything of the program's:
  // its prototype, and a method of V8's that answers (an object that only
  // inherits from the prototype makes it throw). The file, or NOT_A_SITE.
  const fileOfSite = (x: unknown): unknown => {
    if (typeof x !== 'object' || x === null || isProxy(x) || ObjectGetPrototypeOf(x) !== proto) return NOT_A_SITE;
    try {
      return ReflectApply(getFileName, x, []);
    } catch {
      return NOT_A_SITE;
    }
  };
  // An AssertionError being made formats its stack at once: its message
  // is mended first, so that the stack's first line carries the mended one.
  const mend = (error: unknown, trace: unknown): void => {
    if (!constructingAssertion(error)) return;
    const cs = ownElement(trace, 0);
    const file = fileOfSite(cs);
    if (file === NOT_A_SITE) return;
    try {
      mendAssertMessage(error, file, call(getLineNumber, cs as CallSite), call(getColumnNumber, cs as CallSite));
    } catch {
      // the message stays Node's
    }
  };
  // The array V8 made, handed on by Node's formatting: every element a frame.
  const fileOfV8Site = (cs: CallSite): unknown => call(getFileName, cs);
  installPrepareAccessor(views, (trace, fromV8) => withoutOwnFrames(trace, fileOfSite, fileOfV8Site, fromV8), mend);
}

/** The language's OrdinaryToPrimitive: what converts an object that has no Symbol.toPrimitive of its own. */
function ordinaryToPrimitive(o: object, hint: string): unknown {
  for (const name of hint === 'string' ? ['toString', 'valueOf'] : ['valueOf', 'toString']) {
    const f = (o as Record<string, unknown>)[name];
    if (typeof f !== 'function') continue;
    const r: unknown = ReflectApply(f, o, []);
    if ((typeof r !== 'object' || r === null) && typeof r !== 'function') return r;
  }
  throw new TypeError('Cannot convert object to primitive value');
}

const NOT_A_SITE = Symbol('not a CallSite');
const NO_ELEMENT = Symbol('no element');

/**
 * Element `i` of an array V8 could have made, read without running
 * anything of the program's: NO_ELEMENT for a Proxy, something that is not
 * an array, a hole or an accessor (a program may hand the default any
 * array, and its getters must run as often as without us).
 */
function ownElement(trace: unknown, i: number): unknown {
  if (typeof trace !== 'object' || trace === null || isProxy(trace) || !ArrayIsArray(trace)) return NO_ELEMENT;
  const d = ObjectGetOwnPropertyDescriptor(trace, i);
  return d !== undefined && 'value' in d ? d.value : NO_ELEMENT;
}

/**
 * The frames without jsftrace's: its wrapper of `process.emit`
 * (shared/exit-hooks.ts), under every listener of the process's events,
 * and its own files' (the stand-in below, where Node's default throws;
 * jsftrace's `_compile` under a transpiler's). The same array when it has
 * none, or when it is not one V8 could have made (ownElement): it is then
 * handed on untouched, read by nothing but Node's default. A frame of ours
 * took one place under the stack trace limit: a stack that reached the
 * limit keeps one frame fewer at its far end.
 */
function withoutOwnFrames(trace: CallSite[], fileOfSite: (x: unknown) => unknown, fileOfV8Site: (x: CallSite) => unknown, fromV8: boolean): CallSite[] {
  if (!fromV8 && (typeof trace !== 'object' || trace === null || isProxy(trace) || !ArrayIsArray(trace))) return trace;
  const n = trace.length;
  let out: CallSite[] | null = null;
  for (let i = 0; i < n; i++) {
    const cs = fromV8 ? trace[i] : ownElement(trace, i);
    if (cs === NO_ELEMENT) return trace;
    const file = fromV8 ? fileOfV8Site(cs as CallSite) : fileOfSite(cs);
    const ours = ownFrameFile(file);
    if (ours && out === null) {
      out = [];
      for (let j = 0; j < i; j++) out[j] = trace[j]!;
    } else if (!ours && out !== null) out[out.length] = cs as CallSite;
  }
  return out ?? trace;
}

/**
 * Error.prepareStackTrace as an accessor: the program's value in and out,
 * Node's read answered with a function that gives the program's function
 * the views, or (where the program cleared it) with the default's
 * stand-in, which Node would have used in its place.
 */
function installPrepareAccessor(
  views: (trace: CallSite[]) => CallSite[], plain: (trace: CallSite[], fromV8: boolean) => CallSite[], mend: (error: unknown, trace: unknown) => void,
): void {
  const own = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace');
  // Frozen (--frozen-intrinsics): Node's own formatter stays, which needs no views.
  if (own === undefined ? !Object.isExtensible(Error) : own.configurable !== true) return;
  let value: unknown = own === undefined ? undefined : 'value' in own ? own.value : undefined;
  // Node's own default (ErrorPrepareStackTrace, on every line from 20): Node
  // formats with it by itself, through the frames' string conversion, so it
  // needs no views and no probe. It is replaced by a stand-in that hands it
  // the frames without jsftrace's wrapper of process.emit: the program
  // cannot tell them apart (it never saw Node's before jsftrace started,
  // and the stand-in's text, name and length are Node's), and Node calls
  // whichever Error.prepareStackTrace holds.
  if (typeof value === 'function') {
    const builtin = value as Prepare;
    value = standInFor(function ErrorPrepareStackTrace(this: unknown, error: Error, trace: CallSite[]): unknown {
      mend(error, trace);
      // Node calls it as Error's method, with the array V8 made; a program
      // that calls it may hand it anything.
      return ReflectApply(builtin, this, [error, plain(trace, this === IntrinsicError && ArrayIsArray(trace))]);
    }, builtin);
    standingIn = true;
  }
  const nodeDefault = value;
  const wrapped = new WeakMap<object, Prepare>();
  let probing = false;
  /**
   * Whether V8 is formatting a stack now: it formats no other stack while
   * it does (the nested one gets V8's own text, without Node's callback), so
   * an empty stack taken here comes back as a string only then.
   */
  const insideFormatting = (): boolean => {
    // A limit the program made read-only, an accessor or deleted is left
    // as it is (the probe then takes what frames it takes).
    const limit = settableStackLimit();
    const o: { stack?: unknown } = {};
    probing = true;
    try {
      if (limit !== null) IntrinsicError.stackTraceLimit = 0;
      IntrinsicError.captureStackTrace(o);
      return typeof o.stack === 'string';
    } finally {
      probing = false;
      if (limit !== null) IntrinsicError.stackTraceLimit = limit;
    }
  };
  const viewing = (fn: Prepare): Prepare => {
    let w = wrapped.get(fn);
    if (w === undefined) {
      w = function prepareStackTrace(this: unknown, error: Error, trace: CallSite[]): unknown {
        mend(error, trace);
        return ReflectApply(fn, this, [error, views(trace)]);
      };
      wrapped.set(fn, w);
    }
    return w;
  };
  const get = function (): unknown {
    if (probing || capturing) return RAW;
    if (value === nodeDefault) return value;
    // A program that cleared it: Node formats with its default then, which
    // the stand-in is (a probe per read, as rare as such programs).
    if (typeof value !== 'function') return typeof nodeDefault === 'function' && insideFormatting() ? nodeDefault : value;
    return insideFormatting() ? viewing(value as Prepare) : value;
  };
  Object.defineProperty(Error, 'prepareStackTrace', {
    configurable: true,
    enumerable: own?.enumerable ?? false,
    get,
    set(v: unknown) {
      value = v;
    },
  });
  ourGetter = get;
}
