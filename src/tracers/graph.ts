/**
 * The `function_graph` tracer's callbacks (ftrace's trace_graph_entry and
 * trace_graph_return) and the markers behind set_graph_function and
 * set_graph_notrace.
 *
 * Owns: this thread's graph state: the current depth, the table of calls in
 * flight (entry time and depth per slot), and the marker counters. Invariants:
 * - every entry that returns a slot gets exactly one exit (the core calls
 *   retfunc once per frame, with UNWOUND for frames a throw abandoned), which
 *   frees the slot and puts the depth back to the call's own; so depth stays
 *   right after throws. Calls refused at entry (filtered, too deep, tracing
 *   off) return -1 and their exit does nothing;
 * - configuration (max_graph_depth, tracing_thresh, whether set_graph_function
 *   is set, tracing_on, the ring and clock) is read in `refresh`, when the
 *   session state word changes, never per call.
 *
 * The markers are separate ops registered after the graph ops: the list
 * function calls the newest ops first, so a marker's entry runs before the
 * graph entry of the same call, and its exit after the graph exit.
 *
 * Async functions and generators: when a call suspends, its part that ran
 * ends with a return flagged SUSPENDED (duration of that part) and its depth
 * and markers are given back; when it resumes, an entry flagged RESUMED
 * opens it again at the depth where it now runs; its final return carries
 * the whole duration since the first entry.
 *
 * options/otlp: the calls also become OpenTelemetry spans (otlp/). The
 * export worker rebuilds each call from these events, so with the option on
 * every entry and return is written, also under tracing_thresh (which then
 * chooses the spans, in the worker); and three side events, each just before
 * the event it belongs to (otlp/parent.ts): the OpenTelemetry span active at
 * the entry of a call with no traced caller, which call a resumed entry
 * continues (the serial number of its first entry), what a call threw.
 */

import { UNWOUND } from '../core/index.js';
import type { RingWriter } from '../ring/index.js';
import {
  C_GRAPH_FILTER, C_MAX_DEPTH, C_OPTIONS, C_STATE, C_THRESH_US, contextFilter, ctl, ENT_RESUMED, EV_GRAPH_ENT, EV_GRAPH_RET,
  OPT_OTLP, RET_SUSPENDED, RET_THREW, RET_UNWOUND, threadTraced, threadWriter,
} from './session.js';
import { inTracedContext } from './context.js';
import { readParent, writeParent, writeResumeOf, writeThrow } from './otlp/parent.js';
import { AtomicsLoad, MathFloor } from '../shared/builtins.js';

const ENT = EV_GRAPH_ENT.id;
const RET = EV_GRAPH_RET.id;
const SLOTS = 65536;
const TWO32 = 0x100000000;

let seen = -1;
let w: RingWriter | null = null;
let now: () => number = () => 0;
let maxDepth = 0;
/** Returns and suspensions shorter than this are not written (tracing_thresh, unless otlp). */
let threshNs = 0;
/** Entries are written (not under tracing_thresh, unless otlp). */
let entries = true;
let otlp = false;
let filterOn = false;

let depth = 0;
const slotTime = new Float64Array(SLOTS);
/** Start of the part of the call running now (differs after a resume). */
const slotPart = new Float64Array(SLOTS);
/** otlp: serial number of the call's first entry event, -1 when it was not written. */
const slotSerial = new Float64Array(SLOTS);
const slotDepth = new Int32Array(SLOTS);
const free = new Int32Array(SLOTS);
let freeTop = SLOTS;
for (let i = 0; i < SLOTS; i++) free[i] = SLOTS - 1 - i;
/** Calls not traced because every slot was in flight (ftrace's overrun). */
let overrun = 0;

/** Nesting of set_graph_function functions, and of set_graph_notrace ones. */
let inGraph = 0;
let notrace = 0;

/** MODE_OFF: trace nothing (tracing_on 0, or this thread filtered out);
 * MODE_ALL: every call; MODE_CONTEXT: only calls inside traceContext(). */
const MODE_OFF = 0;
const MODE_ALL = 1;
const MODE_CONTEXT = 2;
let mode = MODE_OFF;

/** Re-reads the configuration; false when nothing is to be written. */
function refresh(): boolean {
  const s = AtomicsLoad(ctl, C_STATE);
  seen = s;
  mode = MODE_OFF;
  if ((s & 1) === 0 || !threadTraced()) return false;
  w = threadWriter();
  if (w === null) {
    seen = -1; // no ring yet: try again at the next call
    return false;
  }
  now = w.clock.now;
  maxDepth = AtomicsLoad(ctl, C_MAX_DEPTH);
  otlp = (AtomicsLoad(ctl, C_OPTIONS) & OPT_OTLP) !== 0;
  threshNs = otlp ? 0 : AtomicsLoad(ctl, C_THRESH_US) * 1000;
  entries = threshNs === 0;
  filterOn = AtomicsLoad(ctl, C_GRAPH_FILTER) !== 0;
  mode = contextFilter() ? MODE_CONTEXT : MODE_ALL;
  return true;
}

/** Whether a write may happen now (after the configuration was looked at). */
function writing(): boolean {
  if (ctl[C_STATE] !== seen) refresh();
  return mode !== MODE_OFF;
}

export function graphEntry(site: number): number {
  if (!writing()) return -1;
  if (mode === MODE_CONTEXT && !inTracedContext()) return -1;
  if (notrace !== 0 || (filterOn && inGraph === 0)) return -1;
  const d = depth;
  if (maxDepth !== 0 && d >= maxDepth) return -1;
  if (freeTop === 0) {
    overrun++;
    return -1;
  }
  const slot = free[--freeTop]!;
  slotDepth[slot] = d;
  depth = d + 1;
  if (otlp) return otlpEntry(site, slot, d);
  // One clock reading gives the event its timestamp and the call its start.
  const t = now();
  // With tracing_thresh only returns are written (ftrace's thresh entry).
  if (entries) w!.write2At(t, ENT, site, d);
  slotTime[slot] = slotPart[slot] = t;
  return slot;
}

/** graphEntry's writes under options/otlp: the parent span of a root call, and the entry's serial number. */
function otlpEntry(site: number, slot: number, d: number): number {
  // Read before the clock: the lookup is the tracer's cost, not the call's.
  if (d === 0) readParent();
  const wr = w!;
  const t = now();
  if (d === 0) writeParent(wr, t);
  const serial = wr.nextSerial;
  wr.write2At(t, ENT, site, d);
  // A refused entry (producer mode, full) has no serial: the call's resumes cannot name it.
  slotSerial[slot] = wr.nextSerial === serial ? -1 : serial;
  slotTime[slot] = slotPart[slot] = t;
  return slot;
}

function graphSuspend(site: number, _ops: unknown, data: unknown): unknown {
  if (typeof data !== 'number' || data < 0) return data;
  const clk = now;
  const t = clk();
  depth = slotDepth[data]!;
  if (!writing()) return data;
  let dur = t - slotPart[data]!;
  if (dur < 0) dur = 0;
  if (dur >= threshNs) {
    const hi = MathFloor(dur / TWO32);
    // The reading is the event's timestamp unless writing() changed the clock.
    w!.write4At(now === clk ? t : now(), RET | (RET_SUSPENDED << 16), site, depth, dur - hi * TWO32, hi);
  }
  return data;
}

function graphResume(site: number, _ops: unknown, data: unknown): unknown {
  if (typeof data !== 'number' || data < 0) return data;
  const d = depth;
  slotDepth[data] = d;
  depth = d + 1;
  if (!writing()) return data;
  const t = now();
  if (otlp && slotSerial[data]! >= 0) writeResumeOf(w!, t, slotSerial[data]!);
  if (entries) w!.write2At(t, ENT | (ENT_RESUMED << 16), site, d);
  slotPart[data] = t;
  return data;
}

export function graphReturn(site: number, _ops: unknown, result: unknown, threw: boolean, data: unknown): void {
  if (typeof data !== 'number' || data < 0) return;
  const clk = now;
  const t = clk();
  const d = slotDepth[data]!;
  let dur = t - slotTime[data]!;
  free[freeTop++] = data;
  depth = d;
  if (!writing()) return;
  if (dur < 0) dur = 0; // the clock changed while the call ran
  if (dur < threshNs) return;
  const fl = result === UNWOUND ? RET_UNWOUND : threw ? RET_THREW : 0;
  // No `%`: on a double it is a call into the runtime.
  const hi = MathFloor(dur / TWO32);
  // The reading is the event's timestamp unless writing() changed the clock.
  const te = now === clk ? t : now();
  if (otlp && fl === RET_THREW) writeThrow(w!, te, d, result);
  w!.write4At(te, RET | (fl << 16), site, d, dur - hi * TWO32, hi);
}

/** The function_graph ops' callbacks, as the core loads them in every thread. */
export const graphOps = { func: graphEntry, retfunc: graphReturn, suspend: graphSuspend, resume: graphResume };

function filterEnter(): number {
  inGraph++;
  return 1;
}
function filterLeave(): void {
  inGraph--;
}
/** set_graph_function: inside such a call, the graph tracer traces. */
export const graphFilterOps = {
  func: filterEnter, retfunc: filterLeave,
  // A suspended call is no longer running: what runs meanwhile is not inside it.
  suspend: (): void => { inGraph--; }, resume: (): void => { inGraph++; },
};

function notraceEnter(): number {
  notrace++;
  return 1;
}
function notraceLeave(): void {
  notrace--;
}
/** set_graph_notrace: from such a call until it returns, nothing is traced. */
export const graphNotraceOps = {
  func: notraceEnter, retfunc: notraceLeave,
  suspend: (): void => { notrace--; }, resume: (): void => { notrace++; },
};

/** Calls this thread did not trace because too many were in flight. */
export function graphOverrun(): number {
  return overrun;
}
