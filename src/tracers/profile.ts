/**
 * The function profiler's callbacks (ftrace's function_profile_call and
 * profile_graph_return): per thread, per site, hit count, total time and
 * sum of squared times, in a SharedArrayBuffer table any thread can render
 * as trace_stat/function<N>.
 *
 * Owns: this thread's profiler table and its slot cache. Invariants:
 * - only this thread writes its table (plain stores); readers in other
 *   threads see each row's words as they were at some point, possibly one
 *   call apart between the words of a row (no torn numbers on 64-bit hosts);
 * - a table belongs to one profiler generation; enabling the profiler starts
 *   a new one (ftrace resets the counts on every enable), and each thread
 *   makes a fresh table at its next call;
 * - a hit is counted at entry; the time at exit (graph-time and sleep-time on:
 *   the time includes callees and time spent suspended).
 *
 * Layout: TABLE_ROWS rows of 4 float64 words {site + 1, hits, time, time²},
 * open addressing on the site id; word 0 of row 0 is reserved for the count
 * of calls refused because the table was full.
 */

import { makeClock, type ClockSource } from '../ring/index.js';
import { C_STATE, ctl, profileGeneration, publishProfileTable, threadClock, traceClock } from './session.js';

export const TABLE_ROWS = 16384;
export const ROW_F64 = 4;
/** Rows are 1-based: row 0 holds the refusal count. */
const MASK = TABLE_ROWS - 1;

let seen = -1;
let gen = -1;
let t: Float64Array = new Float64Array(ROW_F64);
let slotOf: Int32Array = new Int32Array(0);
let now: () => number = () => 0;

function refresh(): boolean {
  const s = Atomics.load(ctl, C_STATE);
  const g = profileGeneration();
  if (g !== gen) {
    const sab = new SharedArrayBuffer((TABLE_ROWS + 1) * ROW_F64 * 8);
    t = new Float64Array(sab);
    slotOf = new Int32Array(0);
    gen = g;
    const src: ClockSource = threadClock() ?? makeClock(traceClock());
    now = src.now;
    publishProfileTable(g, sab);
  }
  seen = s;
  return true;
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

/**
 * Calls in flight: start time, row and table generation of each; the entry
 * returns the slot. A generation rather than the table itself, so that a
 * call stores no reference (no write barrier, nothing to clear).
 */
const SLOTS = 65536;
const inTime = new Float64Array(SLOTS);
const inRow = new Int32Array(SLOTS);
const inGen = new Int32Array(SLOTS);
const free = new Int32Array(SLOTS);
let freeTop = SLOTS;
for (let i = 0; i < SLOTS; i++) free[i] = SLOTS - 1 - i;

export function profileEntry(site: number): number {
  if (ctl[C_STATE] !== seen) refresh();
  const r = rowFor(site);
  if (r === 0 || freeTop === 0) {
    t[0]!++;
    return -1;
  }
  t[r * ROW_F64 + 1]!++;
  const slot = free[--freeTop]!;
  inRow[slot] = r;
  inGen[slot] = gen;
  inTime[slot] = now();
  return slot;
}

export function profileReturn(_site: number, _ops: unknown, _result: unknown, _threw: boolean, data: unknown): void {
  if (typeof data !== 'number' || data < 0) return;
  const x = now() - inTime[data]!;
  free[freeTop++] = data;
  // A call that began in an older table had its hit counted there, in a
  // table no one shows any more: its time goes nowhere.
  if (inGen[data] !== gen) return;
  const r = inRow[data]! * ROW_F64;
  t[r + 2]! += x;
  t[r + 3]! += x * x;
}

/** The profiler ops' callbacks, loaded by every thread. */
export const profileOps = { func: profileEntry, retfunc: profileReturn };
