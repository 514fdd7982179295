/**
 * The update engine: record accounting, the per-site decision, and the one
 * loop that writes call-target words.
 *
 * Owns: every write of FLAGS and TARGET. Invariants:
 * - checkRecord is pure: from a flags word and `enable` it returns the verb
 *   (IGNORE, MAKE_CALL, MODIFY_CALL, MAKE_NOP) and the word after the update,
 *   exactly as ftrace_check_record; testRecord and updateRecord are its
 *   dry-run and commit uses;
 * - targetNew reads the desired bits, targetCurrent the _EN bits and the
 *   word itself; a word that is not what the _EN bits say, or a store whose
 *   compare fails, is an inconsistency and stops the tracer (G7);
 * - the write order keeps guarantee G2: a site whose target changes from
 *   one specialised handler (one ops, or a trampoline) to another goes
 *   through the list function first (two stores), and callers publish an
 *   ops in LIST and COV before any site calls it through the list, and
 *   withdraw it from LIST only after no site calls it directly; a bystander
 *   ops that still covers a site is therefore called by every handler the
 *   site can reach during the change.
 *
 * Precedence of targets (ftrace_get_addr_new): DIRECT (count 1) > one ops
 * directly (TRAMP) > list function.
 */

import { warnOn } from '../shared/assert.js';
import {
  OPS_FL_ARGS, OPS_FL_DIRECT, OPS_FL_IPMODIFY, OPS_FL_STUB,
  REC_FL_ARGS, REC_FL_ARGS_EN, REC_FL_DIRECT, REC_FL_DIRECT_EN, REC_FL_DISABLED, REC_FL_ENABLED,
  REC_FL_IPMODIFY, REC_FL_MODIFIED, REC_FL_NOCLEAR, REC_FL_REF_MASK, REC_FL_TOUCHED, REC_FL_TRAMP,
  REC_FL_TRAMP_EN, TARGET_ARGS, TARGET_LIST, TARGET_NOP, decodeTarget, targetOfOps, targetOfTramp,
} from './flags.js';
import { H_KEY_GEN, H_NR_ENABLED, O_DIRECT, O_FLAGS } from './layout.js';
import { covers, observeStore, opsRow, readList } from './slots.js';
import type { Instance } from './instance.js';
import { AtomicsAdd, AtomicsCompareExchange } from '../shared/builtins.js';

export const UPDATE_IGNORE = 0;
export const UPDATE_MAKE_CALL = 1;
export const UPDATE_MODIFY_CALL = 2;
export const UPDATE_MAKE_NOP = 3;
export type UpdateVerb = typeof UPDATE_IGNORE | typeof UPDATE_MAKE_CALL | typeof UPDATE_MODIFY_CALL | typeof UPDATE_MAKE_NOP;

export const VERB_NAMES = ['IGNORE', 'MAKE_CALL', 'MODIFY_CALL', 'MAKE_NOP'] as const;

export interface Check {
  verb: UpdateVerb;
  /** The flags word after the update (equal to the input for IGNORE). */
  next: number;
}

/**
 * The per-site decision (ftrace_check_record). `enable` false asks for every
 * site to be nop whatever its count (tracing switched off globally).
 */
export function checkRecord(flags: number, enable: boolean): Check {
  if ((flags & REC_FL_DISABLED) !== 0 && (flags & REC_FL_ENABLED) === 0) return { verb: UPDATE_IGNORE, next: flags };
  const count = flags & REC_FL_REF_MASK;
  const want = enable && count > 0;
  const enabled = (flags & REC_FL_ENABLED) !== 0;
  if (want) {
    const argsMismatch = ((flags & REC_FL_ARGS) !== 0) !== ((flags & REC_FL_ARGS_EN) !== 0);
    const trampMismatch = ((flags & REC_FL_TRAMP) !== 0) !== ((flags & REC_FL_TRAMP_EN) !== 0);
    const directMismatch = count === 1
      ? ((flags & REC_FL_DIRECT) !== 0) !== ((flags & REC_FL_DIRECT_EN) !== 0)
      : (flags & REC_FL_DIRECT_EN) !== 0;
    if (enabled && !argsMismatch && !trampMismatch && !directMismatch) return { verb: UPDATE_IGNORE, next: flags };
    let next = flags | REC_FL_ENABLED | REC_FL_TOUCHED;
    next = (flags & REC_FL_ARGS) !== 0 ? next | REC_FL_ARGS_EN : next & ~REC_FL_ARGS_EN;
    next = (flags & REC_FL_TRAMP) !== 0 ? next | REC_FL_TRAMP_EN : next & ~REC_FL_TRAMP_EN;
    next = (flags & REC_FL_DIRECT) !== 0 && count === 1 ? next | REC_FL_DIRECT_EN : next & ~REC_FL_DIRECT_EN;
    if ((flags & (REC_FL_DIRECT | REC_FL_IPMODIFY)) !== 0) next |= REC_FL_MODIFIED;
    return { verb: enabled ? UPDATE_MODIFY_CALL : UPDATE_MAKE_CALL, next };
  }
  if (!enabled) return { verb: UPDATE_IGNORE, next: flags };
  const next = count === 0
    ? flags & REC_FL_NOCLEAR
    : flags & ~(REC_FL_ENABLED | REC_FL_ARGS_EN | REC_FL_TRAMP_EN | REC_FL_DIRECT_EN);
  return { verb: UPDATE_MAKE_NOP, next };
}

/** Dry run: what the engine would do with this site. */
export function testRecord(inst: Instance, id: number, enable: boolean): UpdateVerb {
  return checkRecord(inst.i32[inst.L.flags + id]!, enable).verb;
}

// ---- accounting (__ftrace_hash_rec_update) -------------------------------

/** The registered ops covering `id`, newest first, optionally skipping one. */
function coveringOps(inst: Instance, list: readonly number[], id: number, skip: number): number[] {
  const out: number[] = [];
  for (const s of list) if (s !== skip && covers(inst, s, id)) out.push(s);
  return out;
}

/**
 * Recomputes the desired bits of `id` from the registered ops that cover it
 * (`list`, which already includes an ops being added and no longer one
 * being removed). Returns the new flags word without writing it.
 */
export function desiredFlags(inst: Instance, list: readonly number[], id: number, old: number): number {
  const cov = coveringOps(inst, list, id, -1);
  const count = cov.length;
  let f = (old & ~(REC_FL_REF_MASK | REC_FL_ARGS | REC_FL_TRAMP | REC_FL_DIRECT | REC_FL_IPMODIFY)) | count;
  let argsWanted = false;
  let direct = false;
  let ipmodify = false;
  for (const s of cov) {
    const fl = inst.i32[opsRow(inst, s) + O_FLAGS]!;
    if ((fl & (OPS_FL_ARGS | OPS_FL_DIRECT)) !== 0) argsWanted = true;
    if ((fl & OPS_FL_DIRECT) !== 0) direct = true;
    if ((fl & OPS_FL_IPMODIFY) !== 0) ipmodify = true;
  }
  if (argsWanted) f |= REC_FL_ARGS;
  if (direct) f |= REC_FL_DIRECT;
  if (ipmodify) f |= REC_FL_IPMODIFY;
  if (count === 1) {
    const fl = inst.i32[opsRow(inst, cov[0]!) + O_FLAGS]!;
    if ((fl & (OPS_FL_STUB | OPS_FL_DIRECT)) === 0) f |= REC_FL_TRAMP;
  }
  return f;
}

// ---- targets ---------------------------------------------------------------

/** The word the site should hold for these (desired) flags. */
export function targetNew(inst: Instance, list: readonly number[], id: number, flags: number): number {
  const count = flags & REC_FL_REF_MASK;
  if (count === 0) return TARGET_NOP;
  const args = (flags & REC_FL_ARGS) !== 0 ? TARGET_ARGS : 0;
  if (count === 1 && (flags & REC_FL_DIRECT) !== 0) {
    const s = coveringOps(inst, list, id, -1)[0]!;
    const t = inst.i32[opsRow(inst, s) + O_DIRECT]!;
    return targetOfTramp(inst.L.maxOps, t) | TARGET_ARGS;
  }
  if (count === 1 && (flags & REC_FL_TRAMP) !== 0) return targetOfOps(coveringOps(inst, list, id, -1)[0]!) | args;
  return TARGET_LIST | args;
}

/** Checks the stored word against the _EN bits; returns it, or -1 if they disagree. */
export function targetCurrent(inst: Instance, id: number, flags: number): number {
  const word = inst.i32[inst.L.target + id]!;
  const d = decodeTarget(inst.L.maxOps, word);
  if ((flags & REC_FL_ENABLED) === 0) return d.kind === 'nop' ? word : -1;
  if (((flags & REC_FL_ARGS_EN) !== 0) !== d.args && d.kind !== 'tramp') return -1;
  if ((flags & REC_FL_DIRECT_EN) !== 0) return d.kind === 'tramp' ? word : -1;
  if ((flags & REC_FL_TRAMP_EN) !== 0) return d.kind === 'ops' ? word : -1;
  return d.kind === 'list' ? word : -1;
}

function isSpecialised(word: number): boolean {
  return (word & ~TARGET_ARGS) > TARGET_LIST;
}


function store(inst: Instance, id: number, expect: number, word: number): boolean {
  const at = inst.L.target + id;
  const prev = AtomicsCompareExchange(inst.i32, at, expect, word);
  if (prev !== expect) {
    warnOn(true, `site ${id}: target word was ${prev}, expected ${expect} (store of ${word})`);
    return false;
  }
  observeStore();
  return true;
}

export interface ApplyStats {
  made: number;
  modified: number;
  nopped: number;
}

/**
 * Counts a site whose target left nop (+1) or came back to it (-1) under its
 * site key; returns whether the key turned on or off (KEYON reached or left
 * 0). Engine lock held.
 */
function countKey(inst: Instance, id: number, d: 1 | -1): boolean {
  const at = inst.L.keyOn + inst.i32[inst.L.skey + id]!;
  const was = inst.i32[at]!;
  inst.i32[at] = was + d;
  return d === 1 ? was === 0 : was === 1;
}

/**
 * Brings each record in `ids` from its actual state to its desired one
 * (ftrace_replace_code). `ids` must be in increasing order and the engine
 * lock held. Returns false when an inconsistency stopped the tracer. A site
 * key that turns on or off bumps H_KEY_GEN: each thread then applies the
 * keys to its key object (threads.ts), this one when its caller updates
 * them, the others at the synchronisation that follows. A key goes on after
 * its sites' words were written and off after they are all nop again.
 */
export function applyRecords(inst: Instance, ids: Iterable<number>, enable: boolean, stats?: ApplyStats): boolean {
  const { i32, L } = inst;
  const list = readList(inst);
  let delta = 0;
  let keys = false;
  try {
    for (const id of ids) {
      const at = L.flags + id;
      const flags = i32[at]!;
      const { verb, next } = checkRecord(flags, enable);
      const cur = targetCurrent(inst, id, flags);
      if (cur < 0) {
        warnOn(true, `site ${id}: target word ${i32[L.target + id]} does not match flags 0x${(flags >>> 0).toString(16)}`);
        return false;
      }
      const want = verb === UPDATE_MAKE_NOP ? TARGET_NOP
        : verb === UPDATE_IGNORE ? ((flags & REC_FL_ENABLED) !== 0 ? targetNew(inst, list, id, flags) : cur)
        : targetNew(inst, list, id, next);
      if (verb === UPDATE_IGNORE && want === cur) continue;
      i32[at] = next;
      switch (verb) {
        case UPDATE_MAKE_CALL:
          if (!store(inst, id, cur, want)) return false;
          delta++;
          if (countKey(inst, id, 1)) keys = true;
          if (stats) stats.made++;
          break;
        case UPDATE_IGNORE: // same flags, another target (one ops replaced another)
        case UPDATE_MODIFY_CALL:
          if (isSpecialised(cur) && isSpecialised(want) && cur !== want) {
            // Through the list function, which is right for both old and new.
            const viaList = TARGET_LIST | (cur & TARGET_ARGS) | (want & TARGET_ARGS);
            if (!store(inst, id, cur, viaList) || !store(inst, id, viaList, want)) return false;
          } else if (cur !== want && !store(inst, id, cur, want)) return false;
          if (stats) stats.modified++;
          break;
        case UPDATE_MAKE_NOP:
          if (!store(inst, id, cur, TARGET_NOP)) return false;
          delta--;
          if (countKey(inst, id, -1)) keys = true;
          if (stats) stats.nopped++;
          break;
      }
    }
    return true;
  } finally {
    // Also when an inconsistency stops the walk: the words stored so far count.
    if (delta !== 0) AtomicsAdd(i32, H_NR_ENABLED, delta);
    if (keys) AtomicsAdd(i32, H_KEY_GEN, 1);
  }
}

/**
 * Recomputes the desired bits of each record in `ids` from the registered
 * list and writes them: the accounting half of an update. Conflicts
 * (IPMODIFY, DIRECT) are refused by the caller before anything is written.
 */
export function accountRecords(inst: Instance, ids: readonly number[]): void {
  const { i32, L } = inst;
  const list = readList(inst);
  for (let k = 0; k < ids.length; k++) {
    const at = L.flags + ids[k]!;
    i32[at] = desiredFlags(inst, list, ids[k]!, i32[at]!);
  }
}

/**
 * Whether adding an ops with `opsFlags` to the records `ids` would give one
 * of them two IPMODIFY ops, two direct ops, or both kinds; returns the first
 * offending record, or -1. Reads only the records' current desired bits.
 */
export function findConflict(inst: Instance, ids: readonly number[], opsFlags: number): number {
  const { i32, L } = inst;
  const mine = opsFlags & (OPS_FL_IPMODIFY | OPS_FL_DIRECT);
  if (mine === 0) return -1;
  for (const id of ids) {
    const f = i32[L.flags + id]!;
    if ((f & (REC_FL_IPMODIFY | REC_FL_DIRECT)) !== 0) return id;
  }
  return -1;
}
