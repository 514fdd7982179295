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
 *   (an await, a yield). The shadow stack holds the calls whose part is
 *   running; a part's time goes to its call's running time, and to the
 *   call below it on the stack as time spent in a callee: self time is a
 *   part's time less its callees' parts. These are the definitions of
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
  P_HITS, P_REFUSED, P_RETURNED, P_RETURNED_RUNNING, P_RUNNING, P_SELF, P_TIME, P_TIME2, P_UNIT, ROW_F64, TABLE_ROWS,
} from './profile-layout.js';
import { C_STATE, ctl, profileGeneration, publishProfileTable, threadClock, traceClock } from './session.js';

/** Rows are 1-based: row 0 holds the refusal count. */
const MASK = TABLE_ROWS - 1;

let seen = -1;
let gen = -1;
let t: Float64Array = new Float64Array(ROW_F64);
let slotOf: Int32Array = new Int32Array(0);
let now: () => number = () => 0;

/** Calls in flight, by slot. */
const SLOTS = 65536;
const callStart = new Float64Array(SLOTS);
const partStart = new Float64Array(SLOTS);
/** Time in callees' parts during the current part. */
const childTime = new Float64Array(SLOTS);
/** The call's parts so far. */
const ranTime = new Float64Array(SLOTS);
const inRow = new Int32Array(SLOTS);
/** Bumped each time the slot is given back: data with an older count is stale. */
const uses = new Int32Array(SLOTS);
const free = new Int32Array(SLOTS);
let freeTop = 0;
/** Slots of the calls whose part is running, innermost last; onStack[slot] says whether it is there. */
const stack = new Int32Array(SLOTS);
const onStack = new Uint8Array(SLOTS);
let sp = 0;

function resetSlots(): void {
  for (let i = 0; i < SLOTS; i++) {
    free[i] = SLOTS - 1 - i;
    uses[i] = (uses[i]! + 1) & 0x7fffffff;
    onStack[i] = 0;
  }
  freeTop = SLOTS;
  sp = 0;
}
resetSlots();

function refresh(): void {
  const s = Atomics.load(ctl, C_STATE);
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
    const grown = new Int32Array(Math.max(site + 1, slotOf.length * 2, 1024));
    grown.set(slotOf);
    slotOf = grown;
  }
  let h = Math.imul(site, 0x9e3779b1) >>> 18 & MASK;
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
  const slot = data % SLOTS;
  return uses[slot] === (data - slot) / SLOTS ? slot : -1;
}

function release(slot: number): void {
  uses[slot] = (uses[slot]! + 1) & 0x7fffffff;
  free[freeTop++] = slot;
}

/**
 * Ends the running part of `slot` at `x`: its time goes to the call and,
 * as callee time, to the call below it. False when the call has no part
 * running (it is suspended).
 */
function endPart(slot: number, x: number): boolean {
  if (onStack[slot] === 0) return false;
  let k = sp - 1;
  while (stack[k] !== slot) k--;
  // Frames above it lost their exits: they end here, uncounted.
  for (let j = k + 1; j < sp; j++) {
    onStack[stack[j]!] = 0;
    release(stack[j]!);
  }
  onStack[slot] = 0;
  sp = k;
  const d = x - partStart[slot]!;
  const r = inRow[slot]! * ROW_F64;
  t[r + P_SELF]! += d - childTime[slot]!;
  t[r + P_RUNNING]! += d;
  ranTime[slot]! += d;
  if (k > 0) childTime[stack[k - 1]!]! += d;
  return true;
}

export function profileEntry(site: number): number {
  if (ctl[C_STATE] !== seen) refresh();
  const r = rowFor(site);
  if (r === 0 || freeTop === 0) {
    t[P_REFUSED]!++;
    return -1;
  }
  t[r * ROW_F64 + P_HITS]!++;
  const slot = free[--freeTop]!;
  inRow[slot] = r;
  childTime[slot] = 0;
  ranTime[slot] = 0;
  onStack[slot] = 1;
  stack[sp++] = slot;
  const x = now();
  callStart[slot] = x;
  partStart[slot] = x;
  return uses[slot]! * SLOTS + slot;
}

export function profileReturn(_site: number, _ops: unknown, _result: unknown, _threw: boolean, data: unknown): void {
  const slot = callOf(data);
  if (slot < 0) return;
  const x = now();
  endPart(slot, x);
  const total = x - callStart[slot]!;
  const r = inRow[slot]! * ROW_F64;
  t[r + P_TIME]! += total;
  t[r + P_TIME2]! += total * total;
  t[r + P_RETURNED]!++;
  t[r + P_RETURNED_RUNNING]! += ranTime[slot]!;
  release(slot);
}

/** The call suspends (await, yield): its part ends. */
export function profileSuspend(_site: number, _ops: unknown, data: unknown): unknown {
  const slot = callOf(data);
  if (slot >= 0) endPart(slot, now());
  return data;
}

/** The call resumes: a new part begins, on top of whatever runs it. */
export function profileResume(_site: number, _ops: unknown, data: unknown): unknown {
  const slot = callOf(data);
  if (slot < 0 || onStack[slot] === 1) return data;
  childTime[slot] = 0;
  onStack[slot] = 1;
  stack[sp++] = slot;
  partStart[slot] = now();
  return data;
}

/** The profiler ops' callbacks, loaded by every thread. */
export const profileOps = { func: profileEntry, retfunc: profileReturn, suspend: profileSuspend, resume: profileResume };
