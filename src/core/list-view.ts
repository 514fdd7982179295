/**
 * This thread's view of the registered ops list and of whose handlers are
 * whose: what the list function (dispatch.ts) reads when the list changed,
 * and what tells a missed call from one that belongs to another thread.
 *
 * Owns: reading the shared list under its sequence count, and the stand-in
 * for an ops this thread has no local view of. Invariants:
 * - a list is read whole under one even sequence count (the writer holds
 *   it odd while it rewrites), so the list function never sees half of an
 *   update;
 * - a stand-in carries the ops' flags from the shared row, so a stub or a
 *   direct ops is recognised in a thread that has no view of it, and it
 *   has no callback: a call that reaches it is counted missed, not run.
 */

import * as layout from './layout.js';
import { threadView, type LocalOps, type ThreadView } from './thread.js';
import { AtomicsLoad } from '../shared/builtins.js';

const { H_LIST_SEQ, H_LIST_LEN, O_FLAGS, O_KIND, O_OWNER, OPS_STRIDE, HANDLER_FUNCTION, TRAMP_STRIDE, T_KIND, T_OWNER } = layout;

const tv: ThreadView = threadView();
const i32 = tv.i32;
const L = tv.inst.L;
const scratch: number[] = [];

/** The registered list and the sequence count it was read under. */
export function readList(): { seq: number; list: readonly LocalOps[] } {
  let seq: number;
  let n: number;
  for (;;) {
    seq = AtomicsLoad(i32, H_LIST_SEQ);
    if ((seq & 1) !== 0) continue;
    n = i32[H_LIST_LEN]!;
    scratch.length = n;
    for (let k = 0; k < n; k++) scratch[k] = i32[L.list + k]!;
    if (AtomicsLoad(i32, H_LIST_SEQ) === seq) break;
  }
  const list: LocalOps[] = [];
  for (let k = 0; k < n; k++) {
    const o = tv.ops[scratch[k]!];
    // An ops this thread has no view of yet (a module ops still loading:
    // counted as missed) or will never run (a function of another thread).
    list.push(o ?? standIn(scratch[k]!));
  }
  return { seq, list };
}

function keepData(_site: number, data: unknown): unknown {
  return data;
}

function standIn(slot: number): LocalOps {
  return {
    slot, gen: -1, ops: undefined as never, func: undefined, retfunc: undefined,
    flags: i32[L.ops + slot * OPS_STRIDE + O_FLAGS]!,
    cov: L.cov + slot * L.covWords, row: L.ops + slot * OPS_STRIDE, warned: false, framed: false,
    leave: (_s, v) => v, pause: keepData, unpause: keepData,
  };
}

/**
 * Whether an ops slot (or trampoline) that this thread has no handler for
 * is a function value of another thread: such a callback runs only in the
 * thread that made it, by design, so a call here misses nothing.
 */
export function foreignOps(slot: number): boolean {
  const r = L.ops + slot * OPS_STRIDE;
  return i32[r + O_KIND] === HANDLER_FUNCTION && i32[r + O_OWNER] !== tv.rowNo;
}

export function foreignTramp(id: number): boolean {
  const r = L.tramps + id * TRAMP_STRIDE;
  return i32[r + T_KIND] === HANDLER_FUNCTION && i32[r + T_OWNER] !== tv.rowNo;
}
