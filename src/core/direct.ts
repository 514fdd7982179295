/**
 * Direct trampolines: register, modify (the seed), unregister.
 *
 * Owns: trampoline ids and the direct ops' current-target word O_DIRECT.
 * Invariants:
 * - at most one direct ops covers a site (EBUSY otherwise), and never one
 *   together with an IPMODIFY ops;
 * - modifyFtraceDirect follows the seed: a stub ops on the same sites sends
 *   every one of them through the list function and its direct helper, one
 *   atomic store of O_DIRECT switches all of them at once, and removing the
 *   stub points each site straight at the new trampoline. Every call runs
 *   exactly one of the two trampolines; no call that reads its site after
 *   the store runs the old one (G1). The whole sequence holds the engine
 *   lock and waits for nothing, because stores to shared memory are seen by
 *   every thread in order and nothing is freed;
 * - a trampoline given as a module specifier is imported by every thread
 *   before any site may call it, and is kept (deduplicated by specifier) so
 *   that switching back and forth never waits for threads again; one given as
 *   a function value runs in this thread only and is released when no
 *   direct ops uses it.
 */

import { fail } from '../shared/errors.js';
import {
  HANDLER_FUNCTION, HANDLER_MODULE, O_DIRECT, T_KIND, T_OWNER, T_REFS, T_STATE,
} from './layout.js';
import { OPS_FL_ADDING, OPS_FL_DIRECT, OPS_FL_ENABLED, OPS_FL_MODIFYING, OPS_FL_STUB } from './flags.js';
import { assertAlive } from './kill.js';
import { FtraceOps, normaliseSpec, type HandlerSpec } from './ops.js';
import { record } from './records.js';
import {
  allocOpsSlot, allocTramp, covBase, forEachCovered, freeOpsSlot, listAdd, listRemove, markSlotDying, markTrampDying,
  observeStore, opsRow, trampRow, trampText, TRAMP_READY,
} from './slots.js';
import { accountRecords, applyRecords, findConflict } from './update.js';
import { asTrampoline, installLocalTramp, loadEverywhere } from './threads.js';
import {
  beginRemoval, checkNotPending, coveredIds, finishRemoval, ftraceEnabled, locked, publishLocked, reserveSlot, rowFlags, setRowFlags, settle,
  withdrawLocked,
} from './lifecycle.js';
import { threadView } from './thread.js';
import { AtomicsStore } from '../shared/builtins.js';

export type TrampolineEntry = (site: number, thisArg: unknown, args: ArrayLike<unknown> | null) => unknown;
export type TrampolineExit = (site: number, result: unknown, threw: boolean, data: unknown) => unknown;

/** A trampoline: its entry function, or an entry and an exit part. */
export interface TrampolineObject {
  entry: TrampolineEntry;
  /** Called when the call returns or throws; receives what entry returned. */
  exit?: TrampolineExit;
  /** Called when a traced async function or generator suspends or resumes;
   * a value other than undefined replaces the call's data. */
  suspend?: (site: number, data: unknown) => unknown;
  resume?: (site: number, data: unknown) => unknown;
  name?: string;
}

export type Trampoline = TrampolineEntry | TrampolineObject | HandlerSpec;

const tv = threadView();
const inst = tv.inst;
const i32 = inst.i32;

/** Function-valued trampolines of this thread, by identity. */
const localIds = new Map<object, number>();

function isSpec(t: Trampoline): t is HandlerSpec {
  return typeof t === 'object' && t !== null && typeof (t as HandlerSpec).module === 'string';
}

function findModuleTramp(spec: string): number {
  for (let t = 0; t < inst.L.maxTramps; t++) {
    const r = trampRow(inst, t);
    if (i32[r + T_STATE] === TRAMP_READY && i32[r + T_KIND] === HANDLER_MODULE && trampText(inst, t, 'spec') === spec) return t;
  }
  return -1;
}

/** The id of `t`, allocating (and loading everywhere) when new. */
async function trampolineId(t: Trampoline, what: string): Promise<number> {
  if (isSpec(t)) {
    const n = normaliseSpec(t, what);
    const spec = JSON.stringify(n);
    const found = locked(() => findModuleTramp(spec));
    if (found >= 0) return found;
    const id = locked(() => findModuleTramp(spec) >= 0 ? findModuleTramp(spec)
      : allocTramp(inst, HANDLER_MODULE, tv.rowNo, spec, `${n.name}@${n.url}`));
    try {
      await loadEverywhere();
    } catch (e) {
      locked(() => { if (i32[trampRow(inst, id) + T_REFS] === 0) markTrampDying(inst, id); });
      throw e;
    }
    return id;
  }
  let tramp: ReturnType<typeof asTrampoline>;
  try {
    tramp = asTrampoline(t);
  } catch (e) {
    fail('EINVAL', `${what}: ${(e as Error).message}`);
  }
  const key = t as object;
  const have = localIds.get(key);
  if (have !== undefined) {
    const r = trampRow(inst, have);
    if (i32[r + T_STATE] === TRAMP_READY && i32[r + T_OWNER] === tv.rowNo && tv.tramps[have] !== undefined) return have;
    localIds.delete(key);
  }
  const name = typeof t === 'function' ? (t.name || 'anonymous') : ((t as TrampolineObject).name ?? (tramp.entry.name || 'anonymous'));
  const id = locked(() => allocTramp(inst, HANDLER_FUNCTION, tv.rowNo, '', name));
  installLocalTramp(id, name, tramp);
  localIds.set(key, id);
  return id;
}

/**
 * Makes `t` callable in every thread ahead of time, so that a later
 * registration or switch to it waits for no thread.
 */
export async function prepareTrampoline(t: Trampoline): Promise<void> {
  assertAlive(inst);
  await trampolineId(t, 'prepareTrampoline');
}

function checkDirect(ops: unknown, what: string): asserts ops is FtraceOps {
  if (!(ops instanceof FtraceOps)) fail('EINVAL', `${what}: not an ops made by createOps()`);
}

function releaseTramp(id: number): boolean {
  const r = trampRow(inst, id);
  const refs = --i32[r + T_REFS];
  if (refs === 0 && i32[r + T_KIND] === HANDLER_FUNCTION) {
    markTrampDying(inst, id);
    return true;
  }
  return false;
}

/** The trampoline id a registered direct ops calls now. */
export function directTarget(ops: FtraceOps): number {
  return ops.slot >= 0 ? i32[opsRow(inst, ops.slot) + O_DIRECT]! : -1;
}

export async function registerFtraceDirect(ops: FtraceOps, t: Trampoline): Promise<void> {
  checkDirect(ops, 'registerFtraceDirect');
  assertAlive(inst);
  if (ops.func !== undefined || ops.retfunc !== undefined || ops.spec !== null) {
    fail('EINVAL', `registerFtraceDirect: ops ${ops.name} has a func; a direct ops has only its trampoline`);
  }
  if ((ops.flags & OPS_FL_ENABLED) !== 0) fail('EINVAL', `registerFtraceDirect: ops ${ops.name} is already registered`);
  if ((ops.flags & (OPS_FL_ADDING | OPS_FL_MODIFYING)) !== 0) fail('EBUSY', `ops ${ops.name} is being changed by another call`);
  checkNotPending(ops, 'registerFtraceDirect');
  if (ops.filters.allFunctions) fail('EINVAL', `registerFtraceDirect: ops ${ops.name} has an empty filter (a direct ops may not cover all functions)`);
  ops.flags |= OPS_FL_ADDING;
  let tid = -1;
  try {
    tid = await trampolineId(t, 'registerFtraceDirect');
    ops.flags |= OPS_FL_DIRECT;
    await reserveSlot(ops, OPS_FL_ADDING);
    locked(() => {
      assertAlive(inst);
      const ids = coveredIds(ops.filters);
      const bad = findConflict(inst, ids, ops.flags);
      if (bad >= 0) {
        markSlotDying(inst, ops.slot);
        ops.slot = -1;
        fail('EBUSY', `${record(inst, bad).name} already has a direct or IPMODIFY ops`);
      }
      AtomicsStore(i32, opsRow(inst, ops.slot) + O_DIRECT, tid);
      i32[trampRow(inst, tid) + T_REFS]++;
      setRowFlags(ops, ops.flags | OPS_FL_ENABLED);
      publishLocked(ops, ids);
      setRowFlags(ops, ops.flags & ~OPS_FL_ADDING);
    });
  } catch (e) {
    if ((ops.attributes & OPS_FL_DIRECT) === 0) ops.flags &= ~OPS_FL_DIRECT;
    // A function trampoline that this failed call made and nothing uses.
    if (tid >= 0) locked(() => { if (i32[trampRow(inst, tid) + T_REFS] === 0 && i32[trampRow(inst, tid) + T_KIND] === HANDLER_FUNCTION) markTrampDying(inst, tid); });
    if (tid >= 0 && !isSpec(t)) localIds.delete(t as object);
    throw e;
  } finally {
    ops.flags &= ~OPS_FL_ADDING;
  }
  await settle();
}

export interface ModifyStats {
  /** Sites switched. */
  sites: number;
}

/**
 * Switches a registered direct ops to trampoline `t` without any site ever
 * calling nothing (the seed's protocol; see the file comment).
 */
export async function modifyFtraceDirect(ops: FtraceOps, t: Trampoline): Promise<ModifyStats> {
  checkDirect(ops, 'modifyFtraceDirect');
  assertAlive(inst);
  if ((ops.flags & OPS_FL_DIRECT) === 0 || (ops.flags & OPS_FL_ENABLED) === 0) {
    fail('EINVAL', `modifyFtraceDirect: ops ${ops.name} is not a registered direct ops`);
  }
  if ((ops.flags & (OPS_FL_ADDING | OPS_FL_MODIFYING)) !== 0) fail('EBUSY', `ops ${ops.name} is being changed by another call`);
  ops.flags |= OPS_FL_MODIFYING;
  let released = false;
  let sites = 0;
  try {
    const tid = await trampolineId(t, 'modifyFtraceDirect');
    locked(() => {
      assertAlive(inst);
      const row = opsRow(inst, ops.slot);
      const old = i32[row + O_DIRECT]!;
      if (old === tid) return;
      // 1. The stub: same sites, never called; every site now has two ops,
      //    so it calls the list function and its direct helper.
      const stub = allocOpsSlot(inst, {
        flags: OPS_FL_STUB | OPS_FL_ENABLED, owner: tv.rowNo, kind: HANDLER_FUNCTION, spec: '',
        name: `${ops.name}:stub`, filter: '',
      });
      const from = covBase(inst, ops.slot);
      const to = covBase(inst, stub);
      for (let w = 0; w < inst.L.covWords; w++) {
        const v = i32[from + w]!;
        if (v !== 0) AtomicsStore(i32, to + w, v);
      }
      observeStore();
      const ids: number[] = [];
      forEachCovered(inst, ops.slot, (id) => ids.push(id));
      sites = ids.length;
      listAdd(inst, stub);
      accountRecords(inst, ids);
      if (!applyRecords(inst, ids, ftraceEnabled())) return;
      // 2. The switch point: one store.
      AtomicsStore(i32, row + O_DIRECT, tid);
      observeStore();
      i32[trampRow(inst, tid) + T_REFS]++;
      released = releaseTramp(old);
      // 3. Remove the stub: each site calls the new trampoline directly.
      listRemove(inst, stub);
      accountRecords(inst, ids);
      applyRecords(inst, ids, ftraceEnabled());
      // The stub never had a handler in any thread, so its slot is free now.
      freeOpsSlot(inst, stub);
    });
  } finally {
    ops.flags &= ~OPS_FL_MODIFYING;
  }
  if (released) await settle();
  return { sites };
}

export async function unregisterFtraceDirect(ops: FtraceOps, t: Trampoline): Promise<void> {
  checkDirect(ops, 'unregisterFtraceDirect');
  // A removal that timed out earlier: this call waits for it.
  if (ops.pendingRemoval !== null) return finishRemoval(ops);
  if ((ops.flags & OPS_FL_DIRECT) === 0 || (ops.flags & OPS_FL_ENABLED) === 0 || ops.slot < 0) {
    fail('EINVAL', `unregisterFtraceDirect: ops ${ops.name} is not a registered direct ops`);
  }
  if ((ops.flags & (OPS_FL_ADDING | OPS_FL_MODIFYING)) !== 0) fail('EBUSY', `ops ${ops.name} is being changed by another call`);
  const cur = directTarget(ops);
  const given = isSpec(t) ? findModuleTramp(JSON.stringify(normaliseSpec(t, 'unregisterFtraceDirect')))
    : (localIds.get(t as object) ?? -1);
  if (given !== cur) fail('EINVAL', `unregisterFtraceDirect: ops ${ops.name} does not call that trampoline (it calls ${trampText(inst, cur, 'name')})`);
  const slot = ops.slot;
  locked(() => {
    withdrawLocked(ops);
    releaseTramp(cur);
  });
  // DIRECT came with registration unless the ops was created with it.
  if ((ops.attributes & OPS_FL_DIRECT) === 0) ops.flags &= ~OPS_FL_DIRECT;
  return beginRemoval(ops, slot);
}

/** Whether a registered ops row is a direct ops (for views). */
export function isDirectSlot(slot: number): boolean {
  return (rowFlags(slot) & OPS_FL_DIRECT) !== 0;
}
