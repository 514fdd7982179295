/**
 * Registering, unregistering and refiltering ops; defining sites; the global
 * on/off switch.
 *
 * Owns: the order of every ops transition (ftrace_startup, ftrace_shutdown,
 * ftrace_hash_move_and_update_ops, ftrace_module_enable). Invariants:
 * - validation happens before the first write: an error changes nothing;
 * - an ops is published (COV, then LIST, then its local handler) before any
 *   record is re-accounted, and withdrawn from LIST before records are
 *   re-accounted on removal, so the engine's write order gives G2;
 * - an operation resolves only when every live thread has seen its result
 *   (synchronizeThreads): after unregisterFtraceFunction resolves, the
 *   callback is not called again, as the kernel promises. When that wait
 *   fails (ETIMEDOUT: a thread stuck in a synchronous loop), the ops is
 *   withdrawn but its removal is pending; calling unregister again waits for
 *   it, and registering it again is EBUSY until then;
 * - an ops keeps its callback errors across unregistration (opsErrors).
 */

import { fail } from '../shared/errors.js';
import { FilterPair, TokenList, parsePatterns } from './filter.js';
import {
  OPS_FL_ADDING, OPS_FL_DELETED, OPS_FL_DIRECT, OPS_FL_ENABLED, OPS_FL_IPMODIFY, OPS_FL_MODIFYING,
  OPS_FL_PERMANENT, OPS_FL_REMOVING, OPS_FL_STUB, REC_FL_REF_MASK,
} from './flags.js';
import {
  H_CALLS_OFF, H_NR_SITES, HANDLER_FUNCTION, HANDLER_MODULE, O_CB_ERRORS, O_FILTER_GEN, O_FLAGS,
  O_GEN,
} from './layout.js';
import { lockEngine, unlockEngine } from './lock.js';
import { assertAlive, isDead } from './kill.js';
import { FtraceOps, type PendingRemoval } from './ops.js';
import { defineBlockLocked, record, recordCount, validateMeta, type SiteMeta } from './records.js';
import {
  allocOpsSlot, forEachCovered, listAdd, listRemove, markSlotDying, opsRow, readList, reapSlots, setCov,
  setSlotFilter, slotText,
} from './slots.js';
import { accountRecords, applyRecords, findConflict } from './update.js';
import { applyStaticKey, staticKeyBehind, installLocalOps, loadEverywhere, synchronizeThreads, threadAlive } from './threads.js';
import { threadView } from './thread.js';
import { AtomicsLoad, AtomicsStore } from '../shared/builtins.js';

const tv = threadView();
const inst = tv.inst;
const i32 = inst.i32;

const probe = { alive: threadAlive };

/** Runs `fn` holding the engine lock. */
export function locked<T>(fn: () => T): T {
  lockEngine(inst, tv.rowNo, probe);
  try {
    return fn();
  } finally {
    unlockEngine(inst);
  }
}

function callsEnabled(): boolean {
  return AtomicsLoad(i32, H_CALLS_OFF) === 0;
}

/**
 * Keeps each site key on exactly while some site of it calls something
 * (applyRecords counts them). This thread applies the keys at once; other
 * threads at the next synchronisation, which every registration awaits.
 * Returns whether a key changed.
 */
function updateStaticKey(): boolean {
  if (!staticKeyBehind()) return false;
  applyStaticKey();
  return true;
}

/** Waits for every thread, then frees what died before the round. */
export async function settle(): Promise<void> {
  // Reap with the round this call waited for: a later round, started by
  // another operation, may not be acknowledged yet.
  const gen = await synchronizeThreads();
  locked(() => reapSlots(inst, gen));
}

/** Record ids covered by `pair` among the records defined now. */
export function coveredIds(pair: FilterPair): number[] {
  const out: number[] = [];
  const n = recordCount(inst);
  for (let id = 0; id < n; id++) {
    const r = record(inst, id);
    if (pair.covers(id, r.name, r.package)) out.push(id);
  }
  return out;
}

function checkOps(ops: unknown, what: string): asserts ops is FtraceOps {
  if (!(ops instanceof FtraceOps)) fail('EINVAL', `${what}: not an ops made by createOps()`);
}

function busyCheck(ops: FtraceOps, what: string): void {
  if ((ops.flags & (OPS_FL_ADDING | OPS_FL_REMOVING | OPS_FL_MODIFYING)) !== 0) {
    fail('EBUSY', `${what}: ops ${ops.name} is being changed by another call`);
  }
}

/** A registration of an ops whose earlier removal is not confirmed yet is EBUSY. */
export function checkNotPending(ops: FtraceOps, what: string): void {
  if (ops.pendingRemoval !== null) {
    fail('EBUSY', `${what}: ops ${ops.name} was unregistered, but some thread has not confirmed it yet `
      + '(the unregister call failed with ETIMEDOUT); call the unregister function again to wait for it');
  }
}

/** The errors counted in an ops row now. */
function rowErrors(slot: number): { count: number; first: string | null } {
  const count = AtomicsLoad(i32, opsRow(inst, slot) + O_CB_ERRORS);
  return { count, first: count === 0 ? null : slotText(inst, slot, 'error') };
}

function addErrors(a: { count: number; first: string | null }, b: { count: number; first: string | null }): { count: number; first: string | null } {
  return { count: a.count + b.count, first: a.first ?? b.first };
}

/** The errors of a withdrawn slot: the row's while it is still this removal's, else those seen at withdrawal. */
function pendingErrors(p: PendingRemoval): { count: number; first: string | null } {
  return i32[opsRow(inst, p.slot) + O_GEN] === p.gen ? rowErrors(p.slot) : p.errors;
}

/**
 * Marks `ops` (just withdrawn from `slot`, engine lock held by the caller
 * or not needed) as pending removal, then waits for it: see finishRemoval.
 */
export function beginRemoval(ops: FtraceOps, slot: number): Promise<void> {
  ops.pendingRemoval = { slot, gen: i32[opsRow(inst, slot) + O_GEN]!, errors: rowErrors(slot), wait: null };
  return finishRemoval(ops);
}

/**
 * Waits until every live thread has passed a quiescent point after the
 * ops was withdrawn, then keeps its errors and frees its slot. On ETIMEDOUT
 * the removal stays pending: a later call waits again (concurrent callers
 * share one wait).
 */
export function finishRemoval(ops: FtraceOps): Promise<void> {
  const p = ops.pendingRemoval!;
  p.wait ??= (async () => {
    try {
      const gen = await synchronizeThreads();
      if (ops.pendingRemoval !== p) return;
      ops.pastErrors = addErrors(ops.pastErrors, pendingErrors(p));
      ops.pendingRemoval = null;
      locked(() => reapSlots(inst, gen));
    } finally {
      p.wait = null;
    }
  })();
  return p.wait;
}

export function rowFlags(slot: number): number {
  return i32[opsRow(inst, slot) + O_FLAGS]!;
}

export function setRowFlags(ops: FtraceOps, flags: number): void {
  ops.flags = flags;
  if (ops.slot >= 0) AtomicsStore(i32, opsRow(inst, ops.slot) + O_FLAGS, flags);
}

/**
 * Publishes `ops` on the records its filter covers now. Engine lock held;
 * the slot's state is RESERVED and its flags written. Returns the records.
 */
export function publishLocked(ops: FtraceOps, ids: readonly number[]): void {
  const slot = ops.slot;
  for (const id of ids) setCov(inst, slot, id, true);
  if ((ops.flags & (OPS_FL_STUB | OPS_FL_DIRECT)) === 0) {
    // A module ops was loaded into every thread with a stand-in object;
    // in this thread its callbacks receive the caller's own ops.
    installLocalOps(slot, ops, ops.func, ops.retfunc);
  }
  listAdd(inst, slot);
  accountRecords(inst, ids);
  applyRecords(inst, ids, callsEnabled());
  updateStaticKey();
}

/**
 * Reserves a slot for `ops`, loading a module callback in every thread when
 * it has one. On error the slot is released and nothing else changed.
 */
export async function reserveSlot(ops: FtraceOps, extraFlags: number): Promise<void> {
  const slot = locked(() => allocOpsSlot(inst, {
    flags: ops.flags | extraFlags,
    owner: tv.rowNo,
    kind: ops.spec === null ? HANDLER_FUNCTION : HANDLER_MODULE,
    spec: ops.spec === null ? '' : JSON.stringify(ops.spec),
    name: ops.name,
    filter: ops.filters.serialize(),
  }));
  ops.slot = slot;
  if (ops.spec !== null) {
    try {
      await loadEverywhere();
      const local = tv.ops[slot];
      if (local !== undefined) {
        ops.func = local.func;
        ops.retfunc = local.retfunc;
        ops.suspendfunc = local.ops.suspendfunc;
        ops.resumefunc = local.ops.resumefunc;
      }
    } catch (e) {
      locked(() => markSlotDying(inst, slot));
      ops.slot = -1;
      throw e;
    }
  }
}

export async function registerFtraceFunction(ops: FtraceOps): Promise<void> {
  checkOps(ops, 'registerFtraceFunction');
  assertAlive(inst);
  if ((ops.flags & OPS_FL_DELETED) !== 0) fail('EINVAL', `ops ${ops.name} was deleted and cannot be registered again`);
  if ((ops.flags & OPS_FL_ENABLED) !== 0) fail('EBUSY', `ops ${ops.name} is already registered`);
  busyCheck(ops, 'registerFtraceFunction');
  checkNotPending(ops, 'registerFtraceFunction');
  if ((ops.flags & OPS_FL_DIRECT) !== 0) fail('EINVAL', `ops ${ops.name} is a direct ops: use registerFtraceDirect`);
  if (ops.func === undefined && ops.spec === null && (ops.flags & OPS_FL_STUB) === 0) {
    fail('EINVAL', `ops ${ops.name} has no func (a direct ops is registered with registerFtraceDirect)`);
  }
  if ((ops.flags & OPS_FL_PERMANENT) !== 0 && !callsEnabled()) fail('EBUSY', 'a PERMANENT ops cannot be registered while calls are switched off');
  if ((ops.flags & OPS_FL_IPMODIFY) !== 0) {
    if (ops.filters.allFunctions) fail('EINVAL', `IPMODIFY ops ${ops.name} needs a filter (it may not cover all functions)`);
    if (ops.filters.notrace.tokens.length > 0) fail('EINVAL', `IPMODIFY ops ${ops.name} may not have a notrace filter`);
  }
  ops.flags |= OPS_FL_ADDING;
  try {
    await reserveSlot(ops, OPS_FL_ADDING);
    locked(() => {
      assertAlive(inst);
      const ids = coveredIds(ops.filters);
      const bad = findConflict(inst, ids, ops.flags);
      if (bad >= 0) {
        markSlotDying(inst, ops.slot);
        ops.slot = -1;
        fail('EBUSY', `${record(inst, bad).name} already has an IPMODIFY or direct ops`);
      }
      setRowFlags(ops, ops.flags | OPS_FL_ENABLED);
      publishLocked(ops, ids);
      setRowFlags(ops, ops.flags & ~OPS_FL_ADDING);
    });
  } finally {
    ops.flags &= ~OPS_FL_ADDING;
  }
  await settle();
}

/** Withdraws `ops` from every record (engine lock held). */
export function withdrawLocked(ops: FtraceOps): void {
  const slot = ops.slot;
  setRowFlags(ops, (ops.flags | OPS_FL_REMOVING) & ~OPS_FL_ENABLED);
  listRemove(inst, slot);
  const ids: number[] = [];
  forEachCovered(inst, slot, (id) => ids.push(id));
  accountRecords(inst, ids);
  applyRecords(inst, ids, callsEnabled());
  updateStaticKey();
  markSlotDying(inst, slot);
  setRowFlags(ops, ops.flags & ~OPS_FL_REMOVING);
  ops.slot = -1;
}

export async function unregisterFtraceFunction(ops: FtraceOps): Promise<void> {
  checkOps(ops, 'unregisterFtraceFunction');
  // A removal that timed out earlier: this call waits for it.
  if (ops.pendingRemoval !== null) return finishRemoval(ops);
  if ((ops.flags & OPS_FL_ENABLED) === 0 || ops.slot < 0) fail('EINVAL', `ops ${ops.name} is not registered`);
  if ((ops.flags & OPS_FL_DIRECT) !== 0) fail('EINVAL', `ops ${ops.name} is a direct ops: use unregisterFtraceDirect`);
  busyCheck(ops, 'unregisterFtraceFunction');
  const slot = ops.slot;
  if (!isDead(inst)) locked(() => withdrawLocked(ops));
  else {
    ops.flags &= ~OPS_FL_ENABLED;
    ops.slot = -1;
  }
  return beginRemoval(ops, slot);
}

export interface SetFilterOptions {
  /** Start from an empty set (as `>`); false adds to it (as `>>`). Default true. */
  reset?: boolean;
  /**
   * Keep patterns that select no function yet (for functions of modules
   * still to load: a filter set before the program starts). Default false:
   * such a pattern is EINVAL, as in ftrace.
   */
  allowUnmatched?: boolean;
}

async function setTokens(ops: FtraceOps, which: 'filter' | 'notrace', patterns: string | readonly string[], opts: SetFilterOptions | undefined): Promise<void> {
  const what = which === 'filter' ? 'ftraceSetFilter' : 'ftraceSetNotrace';
  checkOps(ops, what);
  assertAlive(inst);
  busyCheck(ops, what);
  const reset = opts?.reset ?? true;
  const tokens = parsePatterns(inst, patterns, opts?.allowUnmatched === true);
  const old = ops.filters;
  const list = new TokenList([...(reset ? [] : old[which].tokens), ...tokens]);
  const next = which === 'filter' ? new FilterPair(list, old.notrace) : new FilterPair(old.filter, list);
  if ((ops.flags & OPS_FL_IPMODIFY) !== 0) {
    // As the kernel: notrace is refused outright; an empty filter only
    // matters once registered (it would cover every function).
    if (next.notrace.tokens.length > 0) fail('EINVAL', `IPMODIFY ops ${ops.name} may not have a notrace filter`);
    if (next.allFunctions && (ops.flags & OPS_FL_ENABLED) !== 0) fail('EINVAL', `IPMODIFY ops ${ops.name} needs a filter`);
  }
  if ((ops.flags & OPS_FL_DIRECT) !== 0 && (ops.flags & OPS_FL_ENABLED) !== 0) {
    fail('EBUSY', `direct ops ${ops.name} is registered: unregister it before changing its filter`);
  }
  if ((ops.flags & OPS_FL_ENABLED) === 0 || ops.slot < 0) {
    ops.filters = next;
    return;
  }
  ops.flags |= OPS_FL_MODIFYING;
  try {
    locked(() => {
      assertAlive(inst);
      const slot = ops.slot;
      const newIds = new Set(coveredIds(next));
      const added: number[] = [];
      const removed: number[] = [];
      forEachCovered(inst, slot, (id) => { if (!newIds.has(id)) removed.push(id); else newIds.delete(id); });
      for (const id of newIds) added.push(id);
      const bad = findConflict(inst, added, ops.flags);
      if (bad >= 0) fail('EBUSY', `${record(inst, bad).name} already has an IPMODIFY or direct ops`);
      setRowFlags(ops, ops.flags | OPS_FL_MODIFYING);
      setSlotFilter(inst, slot, next.serialize());
      for (const id of added) setCov(inst, slot, id, true);
      for (const id of removed) setCov(inst, slot, id, false);
      const changed = [...added, ...removed].sort((a, b) => a - b);
      accountRecords(inst, changed);
      applyRecords(inst, changed, callsEnabled());
      updateStaticKey();
      ops.filters = next;
      setRowFlags(ops, ops.flags & ~OPS_FL_MODIFYING);
    });
  } finally {
    ops.flags &= ~OPS_FL_MODIFYING;
  }
  await settle();
}

/** ftrace_set_filter: which functions `ops` covers (empty: all). */
export function ftraceSetFilter(ops: FtraceOps, patterns: string | readonly string[], opts?: SetFilterOptions): Promise<void> {
  return setTokens(ops, 'filter', patterns, opts);
}

/** ftrace_set_notrace: functions `ops` never covers (notrace wins). */
export function ftraceSetNotrace(ops: FtraceOps, patterns: string | readonly string[], opts?: SetFilterOptions): Promise<void> {
  return setTokens(ops, 'notrace', patterns, opts);
}

// ---- defining sites (ftrace_module_enable) --------------------------------

interface CompiledSlot {
  filterGen: number;
  pair: FilterPair;
}
const compiled: (CompiledSlot | undefined)[] = [];

function slotPair(slot: number): FilterPair {
  const gen = i32[opsRow(inst, slot) + O_FILTER_GEN]!;
  const c = compiled[slot];
  if (c !== undefined && c.filterGen === gen) return c.pair;
  const pair = FilterPair.deserialize(slotText(inst, slot, 'filter'));
  compiled[slot] = { filterGen: gen, pair };
  return pair;
}

/**
 * Defines a block of sites under `key`, or finds the block another thread
 * defined with the same key. New records are covered at once by every
 * registered ops whose patterns match them. Returns the first record id;
 * the block's ids are consecutive.
 */
export function defineSites(key: string, metas: readonly SiteMeta[]): number {
  if (typeof key !== 'string' || key === '') fail('EINVAL', 'defineSites: key must be a non-empty string');
  if (!Array.isArray(metas) || metas.length === 0) fail('EINVAL', 'defineSites: metas must be a non-empty array');
  metas.forEach((m, k) => validateMeta(m, `defineSites(${key})[${k}]`));
  return defineSitesTrusted(key, metas);
}

/**
 * defineSites without validating each record: for the load-time runtime,
 * whose names the transform has already made valid (module load is hot).
 * `siteKeys`: the site key each site reads (shared/site-abi.ts).
 */
export function defineSitesTrusted(key: string, metas: readonly SiteMeta[], siteKeys?: ArrayLike<number>): number {
  return locked(() => {
    const { base, created } = defineBlockLocked(inst, key, metas, siteKeys);
    // Defined by another thread already (the same module loaded in two):
    // its sites may be on, and this thread's key object must say so before
    // the module's first call. The message that would tell it reaches a
    // thread only from its event loop, which a worker serving tasks
    // between Atomics.wait calls (piscina) may never return to.
    if (!created) {
      if (!isDead(inst)) updateStaticKey();
      return base;
    }
    if (isDead(inst)) return base;
    const ids: number[] = [];
    for (let k = 0; k < metas.length; k++) ids.push(base + k);
    const list = readList(inst);
    let touched = false;
    // Oldest first, so that the first IPMODIFY or direct ops to claim a
    // record keeps it, as an earlier registration would have.
    for (let li = list.length - 1; li >= 0; li--) {
      const slot = list[li]!;
      const pair = slotPair(slot);
      const fl = rowFlags(slot);
      for (let k = 0; k < metas.length; k++) {
        // The metadata just written, not read back from the arena (a module's
        // load pays this for each of its functions while any ops is registered).
        const id = base + k;
        if (!pair.covers(id, metas[k]!.name, metas[k]!.package ?? '')) continue;
        if ((fl & (OPS_FL_IPMODIFY | OPS_FL_DIRECT)) !== 0 && findConflict(inst, [id], fl) >= 0) continue;
        setCov(inst, slot, id, true);
        touched = true;
        accountRecords(inst, [id]);
      }
    }
    if (touched) {
      applyRecords(inst, ids, callsEnabled());
      // The first enabled sites may come from a module loaded after the
      // registration: other threads learn the key without being waited for
      // (nor the program kept alive by the wait).
      if (updateStaticKey()) synchronizeThreads(true).catch(() => undefined);
    }
    return base;
  });
}

export function defineSite(meta: SiteMeta, key?: string): number {
  validateMeta(meta, 'defineSite');
  return defineSites(key ?? ['site', meta.package ?? '', meta.file ?? '', meta.line ?? 0, meta.column ?? 0, meta.name].join('\u0000'), [meta]);
}

// ---- the global switch (ftrace_enabled) -----------------------------------

export function ftraceEnabled(): boolean {
  return callsEnabled();
}

/**
 * Switches every site off (every site nop, registrations kept) or back on,
 * as the kernel's ftrace_enabled sysctl. Refused while a PERMANENT ops is
 * registered.
 */
export async function ftraceSetEnabled(on: boolean): Promise<void> {
  assertAlive(inst);
  locked(() => {
    if (!on) {
      for (const s of readList(inst)) {
        if ((rowFlags(s) & OPS_FL_PERMANENT) !== 0) fail('EBUSY', `PERMANENT ops ${slotText(inst, s, 'name')} is registered`);
      }
    }
    AtomicsStore(i32, H_CALLS_OFF, on ? 0 : 1);
    const n = AtomicsLoad(i32, H_NR_SITES);
    const ids: number[] = [];
    for (let id = 0; id < n; id++) if ((i32[inst.L.flags + id]! & REC_FL_REF_MASK) !== 0) ids.push(id);
    applyRecords(inst, ids, on);
    updateStaticKey();
  });
  await settle();
}

/**
 * Callback errors of an ops, counted across threads (G5), over all its
 * registrations: kept when it is unregistered.
 */
export function opsErrors(ops: FtraceOps): { count: number; first: string | null } {
  checkOps(ops, 'opsErrors');
  if (ops.slot >= 0) return addErrors(ops.pastErrors, rowErrors(ops.slot));
  if (ops.pendingRemoval !== null) return addErrors(ops.pastErrors, pendingErrors(ops.pendingRemoval));
  return ops.pastErrors;
}
