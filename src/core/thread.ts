/**
 * This thread's view of the instance: its thread row, its handler table and
 * its frame stack.
 *
 * Owns: the per-thread state the data path touches. A JavaScript function
 * cannot cross threads, so while records, ops rows and target words are
 * shared, each thread keeps its own table H of entry functions indexed by
 * call-target word (flags.ts): H plays the part of kernel text, the target
 * word the part of the call instruction. Invariants:
 * - H[t] is either the real handler for t in this thread or `missing`,
 *   which counts the call in TH_MISSED and returns 0; S[t] calls the same
 *   handler as H[t] (for an odd t, once the site has handed over the
 *   arguments);
 * - frames 1..top are the traced calls this thread has entered and not yet
 *   left; a group of frames pushed by one entry shares its owner token (the
 *   index of its first frame), and a call leaves exactly the handlers it
 *   entered (G3) because each frame holds its handler object, not an index.
 */

import { instance, type Instance } from './instance.js';
import { THREAD_STRIDE } from './layout.js';
import { TARGET_OPS_BASE } from './flags.js';
import type { FtraceOps, OpsFunc, OpsRetFunc } from './ops.js';

/** What a handler's exit part needs; ops and trampolines both provide it. */
export interface ExitHandler {
  leave(site: number, value: unknown, threw: boolean, data: unknown): unknown;
  /** The call suspends (await, yield); returns the data to keep. */
  pause(site: number, data: unknown): unknown;
  /** The call resumes; returns the data to keep. */
  unpause(site: number, data: unknown): unknown;
}

/** The local side of one ops slot. */
export interface LocalOps extends ExitHandler {
  readonly slot: number;
  /** O_GEN of the slot when this view was built. */
  readonly gen: number;
  readonly ops: FtraceOps;
  readonly func: OpsFunc | undefined;
  readonly retfunc: OpsRetFunc | undefined;
  readonly flags: number;
  /** i32 index of the slot's coverage bitmap. */
  readonly cov: number;
  /** i32 index of the slot's row. */
  readonly row: number;
  /** Whether this thread already warned about a throwing callback. */
  warned: boolean;
  /** Whether a call through this ops keeps a frame with this handler
   * (it has an exit, suspend or resume callback). */
  readonly framed: boolean;
}

/** The local side of one trampoline. */
export interface LocalTramp extends ExitHandler {
  readonly id: number;
  readonly name: string;
  readonly entry: (site: number, thisArg: unknown, args: ArrayLike<unknown> | null) => unknown;
  readonly exit: ((site: number, result: unknown, threw: boolean, data: unknown) => unknown) | undefined;
  readonly suspend: ((site: number, data: unknown) => unknown) | undefined;
  readonly resume: ((site: number, data: unknown) => unknown) | undefined;
  warned: boolean;
}

export type EnterFn = (site: number, thisArg: unknown, args?: ArrayLike<unknown> | null) => number;
/** What an instrumented site calls: H's handler, or for a word that wants the arguments one that asks for them (dispatch.ts). */
export type SiteFn = (site: number, thisArg: unknown) => number;

export interface ThreadView {
  readonly inst: Instance;
  readonly i32: Int32Array;
  /** i32 index of this thread's row (set when the thread joins). */
  row: number;
  /** Row number (row index / THREAD_STRIDE from the table base). */
  rowNo: number;
  readonly H: EnterFn[];
  /** The table instrumented sites call through, indexed like H (dispatch.ts, "the site protocol"). */
  readonly S: SiteFn[];
  /** Length of H: every possible target word. */
  readonly hSize: number;
  readonly ops: (LocalOps | undefined)[];
  readonly tramps: (LocalTramp | undefined)[];
  /** First handler index of trampolines. */
  readonly trampBase: number;
}

let view: ThreadView | undefined;

export function threadView(): ThreadView {
  if (view !== undefined) return view;
  const inst = instance();
  const trampBase = TARGET_OPS_BASE + 2 * inst.L.maxOps;
  view = {
    inst,
    i32: inst.i32,
    row: -1,
    rowNo: -1,
    H: [],
    S: [],
    hSize: trampBase + 2 * inst.L.maxTramps,
    ops: new Array<LocalOps | undefined>(inst.L.maxOps),
    tramps: new Array<LocalTramp | undefined>(inst.L.maxTramps),
    trampBase,
  };
  return view;
}

export function setThreadRow(v: ThreadView, rowNo: number): void {
  v.rowNo = rowNo;
  v.row = v.inst.L.threads + rowNo * THREAD_STRIDE;
}
