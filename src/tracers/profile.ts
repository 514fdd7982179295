/**
 * The function profiler's callbacks (ftrace's function_profile_call and
 * profile_graph_return), with what `jsftrace profile` adds: per thread, per
 * site, hit count, total time, sum of squared times, self time and running
 * time, in a SharedArrayBuffer table any thread can render as
 * trace_stat/function<N> and `record` sends at the end.
 *
 * Owns: this thread's profiler table, its slot cache, and its shadow stack
 * of calls in flight. Invariants:
 * - only this thread writes its table (plain stores); readers in other
 *   threads see each row's words as they were at some point, possibly one
 *   call apart between the words of a row (no torn numbers on 64-bit hosts);
 * - a table belongs to one profiler generation; enabling the profiler starts
 *   a new one (ftrace resets the counts on every enable), and each thread
 *   makes a fresh table at its next call; a call that began in an older
 *   generation adds nothing to the new table;
 * - a hit is counted at entry; the time at the final exit (graph-time and
 *   sleep-time on: the time includes callees and time spent suspended);
 * - a call runs in parts: from entry or resumption to exit or suspension
 *   (an await, a yield); parts nest. Self time is a part's time less the
 *   parts that ran inside it (see `mark`). These are the definitions of
 *   tracers/output/profile.ts, which makes the same table from
 *   function_graph events;
 * - a call is known by its slot and the slot's use count (the data its
 *   callbacks carry), so a callback of a call that has ended, or began
 *   before a reset, finds its data stale and changes nothing. An exit that
 *   never came (frames a throw unwound without their exit) is closed when
 *   a call below it on the stack ends: those frames are dropped, uncounted.
 *
 * Layout: profile-layout.ts.
 */

import { makeClock, type ClockSource } from '../ring/index.js';
import {
  P_HITS, P_OPEN_RUNNING, P_REFUSED, P_RETURNED, P_SELF, P_TIME, P_TIME2, P_UNIT, P_WAITING, ROW_F64, TABLE_ROWS,
} from './profile-layout.js';
import { C_STATE, ctl, onLastEvents, profileGeneration, publishProfileTable, threadClock, traceClock } from './session.js';
import { AtomicsLoad, MathImul, MathMax } from '../shared/builtins.js';

/** Rows are 1-based: row 0 holds the refusal count. */
const MASK = TABLE_ROWS - 1;

let seen = -1;
let gen = -1;
let t: Float64Array = new Float64Array(ROW_F64);
let slotOf: Int32Array = new Int32Array(0);
let now: () => number = () => 0;

/** Calls in flight, by slot. */
const SLOTS = 65536;
/** First entry. */
const callStart = new Float64Array(SLOTS);
/** Latest resumption (read only once the call has parted). */
const partStart = new Float64Array(SLOTS);
/**
 * `done` when the current part began. `done` is the time of the parts that
 * ended, each counted once at the level it ran at: a part that ends sets it
 * to its own mark plus its own time, folding in the parts it contained. So
 * `done − mark` at a part's end is the time of its callees' parts.
 */
const mark = new Float64Array(SLOTS);
let done = 0;
/** The call's earlier parts (once it has parted). */
const ranTime = new Float64Array(SLOTS);
/** 1 once the call has suspended: most calls never do, and pay for none of it. */
const parted = new Uint8Array(SLOTS);
const inRow = new Int32Array(SLOTS);
/**
 * Bumped each time the slot is given back: data with an older count is
 * stale. The data is `use << 16 | slot` with the use count kept to 14 bits,
 * so that it stays a small integer (a larger number would be a heap number,
 * allocated at every call); a stale callback goes unnoticed only if its
 * slot was reused a multiple of 16,384 times since, which only a lost
 * exit or a reset makes possible at all.
 */
const uses = new Int32Array(SLOTS);
const USE_MASK = 0x3fff;
const free = new Int32Array(SLOTS);
let freeTop = 0;
/** Slots of the calls whose part is running, innermost last. */
const stack = new Int32Array(SLOTS);
let sp = 0;

function resetSlots(): void {
  for (let i = 0; i < SLOTS; i++) {
    free[i] = SLOTS - 1 - i;
    uses[i] = (uses[i]! + 1) & USE_MASK;
    parted[i] = 0;
  }
  freeTop = SLOTS;
  sp = 0;
}
resetSlots();

function refresh(): void {
  const s = AtomicsLoad(ctl, C_STATE);
  const g = profileGeneration();
  if (g !== gen) {
    const sab = new SharedArrayBuffer((TABLE_ROWS + 1) * ROW_F64 * 8);
    t = new Float64Array(sab);
    slotOf = new Int32Array(0);
    gen = g;
    resetSlots();
    const src: ClockSource = threadClock() ?? makeClock(traceClock());
    now = src.now;
    t[P_UNIT] = src.unit;
    publishProfileTable(g, sab);
  }
  seen = s;
}

/** Row index (1-based) of `site`, claimed if new; 0 when the table is full. */
function rowFor(site: number): number {
  if (site < slotOf.length) {
    const r = slotOf[site]!;
    if (r !== 0) return r;
  } else {
    const grown = new Int32Array(MathMax(site + 1, slotOf.length * 2, 1024));
    grown.set(slotOf);
    slotOf = grown;
  }
  let h = MathImul(site, 0x9e3779b1) >>> 18 & MASK;
  for (let k = 0; k < TABLE_ROWS; k++, h = (h + 1) & MASK) {
    const r = h + 1;
    const key = t[r * ROW_F64]!;
    if (key === 0) {
      t[r * ROW_F64] = site + 1;
      slotOf[site] = r;
      return r;
    }
    if (key === site + 1) {
      slotOf[site] = r;
      return r;
    }
  }
  return 0;
}

/** The slot `data` names, or -1 when it is stale (or no call). */
function callOf(data: unknown): number {
  if (typeof data !== 'number' || data < 0) return -1;
  const slot = data & (SLOTS - 1);
  return uses[slot] === data >>> 16 ? slot : -1;
}

function release(slot: number): void {
  uses[slot] = (uses[slot]! + 1) & USE_MASK;
  parted[slot] = 0;
  free[freeTop++] = slot;
}

/**
 * Every slot is taken: the calls suspended now (generators never finished,
 * promises never settled) are given up. They stay in the table as calls
 * that did not return, their parts as open running; a later callback of
 * theirs is stale. Calls whose part is running keep their slots.
 */
function reclaim(): void {
  const running = new Uint8Array(SLOTS);
  for (let k = 0; k < sp; k++) running[stack[k]!] = 1;
  for (let slot = 0; slot < SLOTS; slot++) if (parted[slot] === 1 && running[slot] === 0) release(slot);
}

/**
 * Takes `slot` off the stack; false when it is not there (it is suspended).
 * Frames above it lost their exits: they end here, uncounted.
 */
function pop(slot: number): boolean {
  let k = sp - 1;
  if (k >= 0 && stack[k] === slot) {
    sp = k;
    return true;
  }
  while (k >= 0 && stack[k] !== slot) k--;
  if (k < 0) return false;
  for (let j = k + 1; j < sp; j++) release(stack[j]!);
  sp = k;
  return true;
}

/** Ends the running part of `slot` at `x`: its self time; the part's time. */
function endPart(slot: number, x: number, r: number): number {
  const d = x - (parted[slot] === 0 ? callStart[slot]! : partStart[slot]!);
  const m = mark[slot]!;
  t[r + P_SELF]! += d - (done - m);
  done = m + d;
  return d;
}

/** Ends the running part of `slot` (off the stack) at `x` as a suspension: the call's parts so far are open running until it returns. */
function suspendPart(slot: number, x: number): void {
  const r = inRow[slot]! * ROW_F64;
  const d = endPart(slot, x, r);
  ranTime[slot] = (parted[slot] === 0 ? 0 : ranTime[slot]!) + d;
  parted[slot] = 1;
  t[r + P_OPEN_RUNNING]! += d;
}

export function profileEntry(site: number): number {
  if (ctl[C_STATE] !== seen) refresh();
  const r = rowFor(site);
  if (freeTop === 0) reclaim();
  if (r === 0 || freeTop === 0) {
    t[P_REFUSED]!++;
    return -1;
  }
  t[r * ROW_F64 + P_HITS]!++;
  const slot = free[--freeTop]!;
  inRow[slot] = r;
  mark[slot] = done;
  stack[sp++] = slot;
  callStart[slot] = now();
  return (uses[slot]! << 16) | slot;
}

export function profileReturn(_site: number, _ops: unknown, _result: unknown, _threw: boolean, data: unknown): void {
  const slot = callOf(data);
  if (slot < 0) return;
  const x = now();
  const r = inRow[slot]! * ROW_F64;
  const d = pop(slot) ? endPart(slot, x, r) : 0;
  const total = x - callStart[slot]!;
  t[r + P_TIME]! += total;
  t[r + P_TIME2]! += total * total;
  t[r + P_RETURNED]!++;
  if (parted[slot] !== 0) {
    t[r + P_WAITING]! += total - ranTime[slot]! - d;
    t[r + P_OPEN_RUNNING]! -= ranTime[slot]!;
  }
  release(slot);
}

/** The call suspends (await, yield): its part ends. */
export function profileSuspend(_site: number, _ops: unknown, data: unknown): unknown {
  const slot = callOf(data);
  if (slot >= 0 && pop(slot)) suspendPart(slot, now());
  return data;
}

/** The call resumes: a new part begins, on top of whatever runs it. */
export function profileResume(_site: number, _ops: unknown, data: unknown): unknown {
  const slot = callOf(data);
  if (slot < 0) return data;
  mark[slot] = done;
  stack[sp++] = slot;
  partStart[slot] = now();
  return data;
}

/**
 * At the thread's end (a recording's last events, a worker's exit): the
 * parts still running end now and count as open running, as if their calls
 * suspended, since they never return in the trace (a program that calls
 * process.exit() from inside its functions). A return that still comes
 * after this finds them suspended, and counts them as returned calls.
 */
function closeOpenParts(): void {
  if (sp === 0 || gen !== profileGeneration()) return;
  const x = now();
  while (sp > 0) suspendPart(stack[--sp]!, x);
}
onLastEvents(closeOpenParts);

/** The profiler ops' callbacks, loaded by every thread. */
export const profileOps = { func: profileEntry, retfunc: profileReturn, suspend: profileSuspend, resume: profileResume };
