/**
 * Flag words of records and ops, and the encoding of call-target words.
 *
 * Owns: every bit of REC_FL_*, OPS_FL_* and the handler-index space. The
 * invariant of the record word is ftrace's: an X bit is what the registered
 * ops want for the site, its X_EN partner is what the site does now, and only
 * the update engine (update.ts) turns the first into the second.
 *
 * Record flags word (Int32, in FLAGS[id]):
 *
 *   bit  27       26      25       24        23      22         21    20       19    18     17       16        15..0
 *      ENABLED  EXITS  DISABLED  IPMODIFY  DIRECT  DIRECT_EN  TRAMP  TRAMP_EN  ARGS  ARGS_EN TOUCHED MODIFIED  ref count
 *
 * | flag       | meaning                                                       |
 * |------------|---------------------------------------------------------------|
 * | ref count  | number of registered ops whose filter covers the site          |
 * | ENABLED    | the site calls something (TARGET is not NOP)                   |
 * | ARGS/_EN   | some covering ops wants the arguments (ftrace's REGS pair)     |
 * | TRAMP/_EN  | exactly one ops covers the site and it is called directly,     |
 * |            | with no list walk (ftrace's TRAMP / CALL_OPS)                  |
 * | DIRECT/_EN | a direct ops covers the site / the site calls its trampoline   |
 * | IPMODIFY   | an IPMODIFY ops (may replace the result) owns the site         |
 * | DISABLED   | the site is not ready or is retired; the engine skips it       |
 * | TOUCHED    | the site has had a callback since the instance started         |
 * | MODIFIED   | the site has had a DIRECT or IPMODIFY ops (never cleared)      |
 * | EXITS      | (reserved) some covering ops has an exit part                  |
 *
 * Call-target word (Int32, in TARGET[id]): an index into every thread's
 * handler table. Even indices call the handler without the arguments, odd
 * ones (index | TARGET_ARGS) ask the site to pass them.
 *
 *   0, 1                 NOP: the site calls nothing
 *   2, 3                 LIST: the list function
 *   4 + 2*slot (+1)      one ops called directly (slot < maxOps)
 *   4 + 2*maxOps + 2*t   direct trampoline t (always even: trampolines get
 *                        the arguments anyway)
 */

export const REC_FL_REF_MASK = 0xffff;
export const REC_FL_MODIFIED = 1 << 16;
export const REC_FL_TOUCHED = 1 << 17;
export const REC_FL_ARGS_EN = 1 << 18;
export const REC_FL_ARGS = 1 << 19;
export const REC_FL_TRAMP_EN = 1 << 20;
export const REC_FL_TRAMP = 1 << 21;
export const REC_FL_DIRECT_EN = 1 << 22;
export const REC_FL_DIRECT = 1 << 23;
export const REC_FL_IPMODIFY = 1 << 24;
export const REC_FL_DISABLED = 1 << 25;
export const REC_FL_ENABLED = 1 << 27;

/** Flags that survive the ref count going to zero (ftrace's NOCLEAR). */
export const REC_FL_NOCLEAR = REC_FL_DISABLED | REC_FL_TOUCHED | REC_FL_MODIFIED;

/**
 * Ops flags. Attribute flags are set by the user before registering and never
 * change afterwards; state flags belong to the core.
 *
 * | flag       | kind      | meaning                                              |
 * |------------|-----------|------------------------------------------------------|
 * | RECURSION  | attribute | accepted; every ops' callbacks are guarded against   |
 * |            |           | re-entry on both paths (dispatch.ts)                 |
 * | ARGS       | attribute | the callback receives the call's arguments           |
 * | IPMODIFY   | attribute | the exit part may replace the call's result; at most |
 * |            |           | one per site; no notrace, no empty filter            |
 * | STUB       | attribute | counts on records but is never called (the seed's    |
 * |            |           | placeholder)                                         |
 * | DIRECT     | attribute | a direct ops: its sites call a trampoline            |
 * | PERMANENT  | attribute | refuses `ftraceSetEnabled(false)` while registered    |
 * | ENABLED    | state     | registered                                           |
 * | ADDING     | state     | being registered                                     |
 * | REMOVING   | state     | being unregistered                                   |
 * | MODIFYING  | state     | filter or trampoline being changed                   |
 * | DELETED    | state     | destroyed; may not be registered again               |
 */
export const OPS_FL_ENABLED = 1 << 0;
export const OPS_FL_RECURSION = 1 << 4;
export const OPS_FL_STUB = 1 << 5;
export const OPS_FL_DELETED = 1 << 7;
export const OPS_FL_ADDING = 1 << 8;
export const OPS_FL_REMOVING = 1 << 9;
export const OPS_FL_MODIFYING = 1 << 10;
export const OPS_FL_IPMODIFY = 1 << 12;
export const OPS_FL_PERMANENT = 1 << 16;
export const OPS_FL_DIRECT = 1 << 17;
export const OPS_FL_ARGS = 1 << 18;

export const OPS_FL_ATTRIBUTES =
  OPS_FL_RECURSION | OPS_FL_STUB | OPS_FL_IPMODIFY | OPS_FL_PERMANENT | OPS_FL_DIRECT | OPS_FL_ARGS;
export const OPS_FL_STATE = OPS_FL_ENABLED | OPS_FL_ADDING | OPS_FL_REMOVING | OPS_FL_MODIFYING | OPS_FL_DELETED;

/** Names as enabled_functions and error messages print them. */
export const OPS_FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [OPS_FL_ENABLED, 'ENABLED'],
  [OPS_FL_RECURSION, 'RECURSION'],
  [OPS_FL_STUB, 'STUB'],
  [OPS_FL_DELETED, 'DELETED'],
  [OPS_FL_ADDING, 'ADDING'],
  [OPS_FL_REMOVING, 'REMOVING'],
  [OPS_FL_MODIFYING, 'MODIFYING'],
  [OPS_FL_IPMODIFY, 'IPMODIFY'],
  [OPS_FL_PERMANENT, 'PERMANENT'],
  [OPS_FL_DIRECT, 'DIRECT'],
  [OPS_FL_ARGS, 'ARGS'],
];

// Call-target encoding.
export const TARGET_NOP = 0;
export const TARGET_LIST = 2;
export const TARGET_ARGS = 1;
export const TARGET_OPS_BASE = 4;

export function targetOfOps(slot: number): number {
  return TARGET_OPS_BASE + 2 * slot;
}

export function targetOfTramp(maxOps: number, tramp: number): number {
  return TARGET_OPS_BASE + 2 * maxOps + 2 * tramp;
}

export type TargetKind = 'nop' | 'list' | 'ops' | 'tramp';

export interface DecodedTarget {
  kind: TargetKind;
  /** Ops slot or trampoline id; -1 for nop and list. */
  index: number;
  args: boolean;
}

export function decodeTarget(maxOps: number, t: number): DecodedTarget {
  const args = (t & TARGET_ARGS) !== 0;
  const h = t & ~TARGET_ARGS;
  if (h === TARGET_NOP) return { kind: 'nop', index: -1, args };
  if (h === TARGET_LIST) return { kind: 'list', index: -1, args };
  const opsEnd = TARGET_OPS_BASE + 2 * maxOps;
  if (h < opsEnd) return { kind: 'ops', index: (h - TARGET_OPS_BASE) >> 1, args };
  return { kind: 'tramp', index: (h - opsEnd) >> 1, args };
}

export function recCount(flags: number): number {
  return flags & REC_FL_REF_MASK;
}
