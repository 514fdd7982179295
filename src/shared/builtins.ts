/**
 * Built-ins captured once, for code that runs inside traced calls.
 *
 * Owns: the few built-ins the data path uses. Invariant: data-path modules
 * (core, ring, tracers) take these from here, never from the globals at
 * call time, and call no method of the program's prototypes on their own
 * arrays, so that a program that patches `Reflect`, `Math`, `Atomics`,
 * `Function.prototype` or `Array.prototype` (or SES's lockdown, which turns
 * some of them into accessors) cannot change or re-enter our dispatch, nor
 * see its calls.
 * The same for the clocks and timers jsftrace's own work uses in the
 * program's threads: a test's fake timers replace `setTimeout`,
 * `setImmediate`, `Date.now` and `performance.now` (and may freeze them),
 * which must change neither the trace's timestamps nor jsftrace's waits.
 */

import { requireOwnCjs } from './own-cjs.js';
import type { StartClocks } from './start-clocks.cjs';

export const ReflectApply = Reflect.apply;
export const ReflectConstruct = Reflect.construct;
export const ObjectDefineProperty = Object.defineProperty;
export const ObjectGetOwnPropertyDescriptors = Object.getOwnPropertyDescriptors;
export const ObjectGetPrototypeOf = Object.getPrototypeOf;
export const ObjectSetPrototypeOf = Object.setPrototypeOf;
export const AtomicsLoad = Atomics.load;
export const AtomicsStore = Atomics.store;
export const AtomicsAdd = Atomics.add;
export const AtomicsCompareExchange = Atomics.compareExchange;
export const AtomicsWait = Atomics.wait;
export const AtomicsNotify = Atomics.notify;
export const AtomicsSub = Atomics.sub;
export const AtomicsAnd = Atomics.and;
export const AtomicsOr = Atomics.or;
export const AtomicsExchange = Atomics.exchange;
/** Function.prototype.toString as Node started with it (the runtime replaces the global one). */
export const FunctionToString = Function.prototype.toString;
export const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
export const ObjectGetOwnPropertySymbols = Object.getOwnPropertySymbols;
export const ObjectHasOwn = Object.hasOwn;
/**
 * Symbol.hasInstance, found without the global `Symbol`, which a program
 * may have replaced before an attach loads jsftrace: the symbol-keyed
 * property of Function.prototype.
 */
export const SymbolHasInstance: symbol = Object.getOwnPropertySymbols(Object.getPrototypeOf(() => 0) as object)
  .find((s) => s.description === 'Symbol.hasInstance')!;
export const FunctionBind = Function.prototype.bind;
/** The realm's Error as Node started: V8 reads `stackTraceLimit` from it, whatever `globalThis.Error` is now. */
export const IntrinsicError = Error;

/**
 * The realm's `Error.stackTraceLimit` when it is a plain writable number,
 * which jsftrace may set for a moment and put back; else null (read-only
 * under --frozen-intrinsics, deleted, an accessor: left as it is).
 */
export function settableStackLimit(): number | null {
  const d = Object.getOwnPropertyDescriptor(IntrinsicError, 'stackTraceLimit');
  return d !== undefined && 'value' in d && d.writable === true && typeof d.value === 'number' ? d.value : null;
}

const noop = (): void => {};

/**
 * Raises the stack trace limit by one around a call made from one frame of
 * ours that stack traces leave out (a wrapper of `process.emit`, a call of
 * Node's whose errors lose our frames): the stacks taken under it then
 * keep as many frames of the program's as without us. Returns what puts
 * the limit back, unless the program set another meanwhile; a limit that
 * is not a plain writable number stays as it is.
 */
export function oneFrameMore(): () => void {
  const limit = settableStackLimit();
  // At 0 no frame is taken, ours or another.
  if (limit === null || limit <= 0) return noop;
  IntrinsicError.stackTraceLimit = limit + 1;
  return () => {
    if (IntrinsicError.stackTraceLimit === limit + 1) IntrinsicError.stackTraceLimit = limit;
  };
}
export const JSONParse = JSON.parse;
export const JSONStringify = JSON.stringify;
export const ArrayIsArray = Array.isArray;
export const MathMax = Math.max;
export const MathMin = Math.min;
export const MathFloor = Math.floor;
export const MathCeil = Math.ceil;
export const MathRound = Math.round;
export const MathAbs = Math.abs;
export const MathImul = Math.imul;
export const MathClz32 = Math.clz32;
export const BufferByteLength = Buffer.byteLength;
export const BufferFrom = Buffer.from;
/** Buffer.prototype.toString as Node started with it (called with ReflectApply). */
export const BufferToString = Buffer.prototype.toString;
export const IntrinsicUint16Array = Uint16Array;
export const IntrinsicRegExp = RegExp;

// The thread's first module of jsftrace's captured these (start-clocks.cts).
const clocks = requireOwnCjs<StartClocks>('./start-clocks.cjs');
/** The Performance object of the start (a fake-timer library may replace the global). */
export const PerformanceOfStart = clocks.perf;
/** performance.now of the start, bound to its object. */
export const PerformanceNow = clocks.perfNow;
export const DateNow = clocks.dateNow;
export const SetTimeout = clocks.setTimeout;
export const ClearTimeout = clocks.clearTimeout;
export const SetImmediate = clocks.setImmediate;
export const QueueMicrotask = clocks.queueMicrotask;

const IntrinsicPromise = Promise;
const PromiseThen = IntrinsicPromise.prototype.then;
/** Settled at the start; its own `constructor` keeps then() from reading the program's Promise.prototype. */
const settled = IntrinsicPromise.resolve();
ObjectDefineProperty(settled, 'constructor', { value: IntrinsicPromise });

/**
 * Queues `job` as a microtask of V8's own (a reaction of a promise settled
 * at the start), where the program's microtasks are queued: not through
 * Node's queueMicrotask, which makes each job an async resource of type
 * `Microtask` that the program's async hooks are told of, and runs Node's
 * async-context bookkeeping around it (through Array.prototype.pop, which a
 * program may replace: a traced replacement queued a job of ours again at
 * each, without end). A job must not throw.
 */
export function queueJob(job: () => void): void {
  ReflectApply(PromiseThen, settled, [job]);
}
