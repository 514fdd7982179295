/**
 * Ops and trampoline rows in shared memory, the registered list, and
 * coverage bitmaps.
 *
 * Owns: allocation of ops slots and trampoline ids, the LIST region and its
 * sequence count, and the COV bitmaps. Invariants (all writes under the
 * engine lock):
 * - LIST holds the slots of registered ops, newest first, and is rewritten
 *   only between two increments of H_LIST_SEQ (odd while writing);
 * - a slot's COV bit for record r is set iff the slot's filter pair covers
 *   r; each 32-bit word changes with one atomic operation, so a reader sees
 *   every record either covered or not, never a torn word;
 * - a slot or trampoline id is freed only after every thread has passed a
 *   quiescent point since its last use (threads.ts), and O_GEN changes on
 *   reuse so a thread can tell a stale local view.
 */

import { fail } from '../shared/errors.js';
import { arenaRead, arenaWrite } from './arena.js';
import {
  H_LIST_LEN, H_LIST_SEQ, H_NR_SITES, OPS_STRIDE, O_DIRECT, O_FLAGS, O_GEN, O_KIND, O_NAME_LEN, O_NAME_OFF,
  O_OWNER, O_SPEC_LEN, O_SPEC_OFF, O_STATE, O_FILTER_GEN, O_FILTER_LEN, O_FILTER_OFF, O_CB_ERRORS, O_ERR_LEN,
  O_ERR_OFF, O_DYING_SYNC, SLOT_DYING, SLOT_FREE, SLOT_RESERVED, TRAMP_STRIDE, T_DYING_SYNC, H_SYNC_GEN, T_STATE, T_KIND, T_OWNER, T_SPEC_OFF, T_SPEC_LEN,
  T_NAME_OFF, T_NAME_LEN, T_REFS,
} from './layout.js';
import type { Instance } from './instance.js';
import { AtomicsAdd, AtomicsAnd, AtomicsLoad, AtomicsOr, AtomicsStore, MathCeil, MathClz32 } from '../shared/builtins.js';

/**
 * Observer of every store a traced call can read: TARGET words (update.ts),
 * the registered list and coverage bits (here), and a direct ops' target
 * word (direct.ts). Called right after the store; tests use it to check
 * the protocols at every intermediate state. Null otherwise.
 */
let storeObserver: (() => void) | null = null;
export function setStoreObserver(fn: (() => void) | null): void {
  storeObserver = fn;
}
export function observeStore(): void {
  if (storeObserver !== null) storeObserver();
}

export function opsRow(inst: Instance, slot: number): number {
  return inst.L.ops + slot * OPS_STRIDE;
}

export function covBase(inst: Instance, slot: number): number {
  return inst.L.cov + slot * inst.L.covWords;
}

export function trampRow(inst: Instance, id: number): number {
  return inst.L.tramps + id * TRAMP_STRIDE;
}

export interface SlotInit {
  flags: number;
  owner: number;
  kind: number;
  spec: string;
  name: string;
  filter: string;
}

export function allocOpsSlot(inst: Instance, init: SlotInit): number {
  const { i32, L } = inst;
  for (let s = 0; s < L.maxOps; s++) {
    const r = opsRow(inst, s);
    if (i32[r + O_STATE] !== SLOT_FREE) continue;
    const spec = arenaWrite(inst, init.spec);
    const name = arenaWrite(inst, init.name);
    const filt = arenaWrite(inst, init.filter);
    i32[r + O_FLAGS] = init.flags;
    i32[r + O_DIRECT] = -1;
    i32[r + O_OWNER] = init.owner;
    i32[r + O_KIND] = init.kind;
    i32[r + O_SPEC_OFF] = spec.off; i32[r + O_SPEC_LEN] = spec.len;
    i32[r + O_NAME_OFF] = name.off; i32[r + O_NAME_LEN] = name.len;
    i32[r + O_FILTER_OFF] = filt.off; i32[r + O_FILTER_LEN] = filt.len;
    i32[r + O_FILTER_GEN]++;
    i32[r + O_CB_ERRORS] = 0;
    i32[r + O_ERR_OFF] = 0; i32[r + O_ERR_LEN] = 0;
    AtomicsAdd(i32, r + O_GEN, 1);
    AtomicsStore(i32, r + O_STATE, SLOT_RESERVED);
    return s;
  }
  fail('ENOSPC', `all ${L.maxOps} ops slots are in use (raise JSFTRACE_MAX_OPS)`);
}

export function freeOpsSlot(inst: Instance, slot: number): void {
  const { i32 } = inst;
  clearCov(inst, slot);
  AtomicsStore(i32, opsRow(inst, slot) + O_STATE, SLOT_FREE);
}

/** Retires a slot: threads drop their handler at the next sync round,
 * after which reapSlots frees it. */
export function markSlotDying(inst: Instance, slot: number): void {
  const r = opsRow(inst, slot);
  inst.i32[r + O_DYING_SYNC] = AtomicsLoad(inst.i32, H_SYNC_GEN);
  AtomicsStore(inst.i32, r + O_STATE, SLOT_DYING);
}

export function markTrampDying(inst: Instance, id: number): void {
  const r = trampRow(inst, id);
  inst.i32[r + T_DYING_SYNC] = AtomicsLoad(inst.i32, H_SYNC_GEN);
  AtomicsStore(inst.i32, r + T_STATE, TRAMP_DYING);
}

/**
 * Frees slots and trampolines that died before sync round `gen`, which
 * every live thread has acknowledged. Engine lock held.
 */
export function reapSlots(inst: Instance, gen: number): void {
  const { i32, L } = inst;
  for (let s = 0; s < L.maxOps; s++) {
    const r = opsRow(inst, s);
    if (i32[r + O_STATE] === SLOT_DYING && i32[r + O_DYING_SYNC]! < gen) freeOpsSlot(inst, s);
  }
  for (let t = 0; t < L.maxTramps; t++) {
    const r = trampRow(inst, t);
    if (i32[r + T_STATE] === TRAMP_DYING && i32[r + T_DYING_SYNC]! < gen) AtomicsStore(i32, r + T_STATE, TRAMP_FREE);
  }
}

export function setSlotFilter(inst: Instance, slot: number, filter: string): void {
  const { i32 } = inst;
  const r = opsRow(inst, slot);
  const f = arenaWrite(inst, filter);
  i32[r + O_FILTER_OFF] = f.off;
  i32[r + O_FILTER_LEN] = f.len;
  AtomicsAdd(i32, r + O_FILTER_GEN, 1);
}

export function slotText(inst: Instance, slot: number, which: 'name' | 'spec' | 'filter' | 'error'): string {
  const { i32 } = inst;
  const r = opsRow(inst, slot);
  const [o, l] = which === 'name' ? [O_NAME_OFF, O_NAME_LEN] : which === 'spec' ? [O_SPEC_OFF, O_SPEC_LEN]
    : which === 'filter' ? [O_FILTER_OFF, O_FILTER_LEN] : [O_ERR_OFF, O_ERR_LEN];
  return arenaRead(inst, i32[r + o]!, i32[r + l]!);
}

// ---- the registered list -------------------------------------------------

export function readList(inst: Instance): number[] {
  const { i32, L } = inst;
  for (;;) {
    const seq = AtomicsLoad(i32, H_LIST_SEQ);
    if ((seq & 1) !== 0) continue;
    const n = i32[H_LIST_LEN]!;
    const out: number[] = [];
    for (let k = 0; k < n; k++) out.push(i32[L.list + k]!);
    if (AtomicsLoad(i32, H_LIST_SEQ) === seq) return out;
  }
}

function writeList(inst: Instance, slots: readonly number[]): void {
  const { i32, L } = inst;
  AtomicsAdd(i32, H_LIST_SEQ, 1);
  for (let k = 0; k < slots.length; k++) AtomicsStore(i32, L.list + k, slots[k]!);
  AtomicsStore(i32, H_LIST_LEN, slots.length);
  AtomicsAdd(i32, H_LIST_SEQ, 1);
  observeStore();
}

/** Adds `slot` at the head (newest first), as add_ftrace_ops does. */
export function listAdd(inst: Instance, slot: number): void {
  writeList(inst, [slot, ...readList(inst).filter((s) => s !== slot)]);
}

export function listRemove(inst: Instance, slot: number): void {
  writeList(inst, readList(inst).filter((s) => s !== slot));
}

// ---- coverage bitmaps ----------------------------------------------------

export function covers(inst: Instance, slot: number, id: number): boolean {
  return (inst.i32[covBase(inst, slot) + (id >>> 5)]! & (1 << (id & 31))) !== 0;
}

export function setCov(inst: Instance, slot: number, id: number, on: boolean): void {
  const at = covBase(inst, slot) + (id >>> 5);
  const bit = 1 << (id & 31);
  if (on) AtomicsOr(inst.i32, at, bit);
  else AtomicsAnd(inst.i32, at, ~bit);
  observeStore();
}

export function clearCov(inst: Instance, slot: number): void {
  const { i32, L } = inst;
  const base = covBase(inst, slot);
  const words = MathCeil(AtomicsLoad(i32, H_NR_SITES) / 32);
  for (let w = 0; w < words && w < L.covWords; w++) if (i32[base + w] !== 0) AtomicsStore(i32, base + w, 0);
}

/** Calls `fn` for each record covered by `slot`, in id order. */
export function forEachCovered(inst: Instance, slot: number, fn: (id: number) => void): void {
  const { i32 } = inst;
  const base = covBase(inst, slot);
  const n = AtomicsLoad(i32, H_NR_SITES);
  const words = MathCeil(n / 32);
  for (let w = 0; w < words; w++) {
    let bits = i32[base + w]!;
    while (bits !== 0) {
      const b = 31 - MathClz32(bits & -bits);
      bits &= bits - 1;
      fn(w * 32 + b);
    }
  }
}

// ---- trampolines ---------------------------------------------------------

export const TRAMP_FREE = 0;
export const TRAMP_READY = 1;
export const TRAMP_DYING = 2;

export function allocTramp(inst: Instance, kind: number, owner: number, spec: string, name: string): number {
  const { i32, L } = inst;
  for (let t = 0; t < L.maxTramps; t++) {
    const r = trampRow(inst, t);
    if (i32[r + T_STATE] !== TRAMP_FREE) continue;
    const s = arenaWrite(inst, spec);
    const n = arenaWrite(inst, name);
    i32[r + T_KIND] = kind;
    i32[r + T_OWNER] = owner;
    i32[r + T_SPEC_OFF] = s.off; i32[r + T_SPEC_LEN] = s.len;
    i32[r + T_NAME_OFF] = n.off; i32[r + T_NAME_LEN] = n.len;
    i32[r + T_REFS] = 0;
    AtomicsStore(i32, r + T_STATE, TRAMP_READY);
    return t;
  }
  fail('ENOSPC', `all ${L.maxTramps} trampoline ids are in use`);
}

export function trampText(inst: Instance, id: number, which: 'name' | 'spec'): string {
  const { i32 } = inst;
  const r = trampRow(inst, id);
  return which === 'name' ? arenaRead(inst, i32[r + T_NAME_OFF]!, i32[r + T_NAME_LEN]!)
    : arenaRead(inst, i32[r + T_SPEC_OFF]!, i32[r + T_SPEC_LEN]!);
}
