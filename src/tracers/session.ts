/**
 * The tracing session: one per process, shared by every thread (ftrace's
 * top-level trace_array).
 *
 * Owns: the meaning of the session's control words (their layout is drawn
 * in session-layout.ts: tracing_on, the configuration epoch, the buffer
 * generation, trace_clock, buffer_size_kb, overwrite mode, the
 * tracer-specific knobs), the event type registry, each thread's ring and
 * writer, and the table that lets any thread find every thread's ring. Invariants:
 * - tracer callbacks pay one load and one compare of `C_STATE` per event
 *   (`state !== seen`): everything about configuration (tracing_on, which
 *   ring, which clock, depth limits) is chosen in the slow path when that
 *   word changes, never tested per event;
 * - `C_STATE` = epoch << 1 | on; any change of configuration bumps the
 *   epoch, so a thread re-reads it at its next event;
 * - a thread's ring belongs to one buffer generation (`C_BUFGEN`); clearing
 *   the buffers (current_tracer switch, trace_clock, buffer_size_kb, an
 *   `echo > trace`) starts a new generation, and each thread makes a fresh
 *   ring at its next event. Readers show only rings of the current
 *   generation, so a thread that never writes again shows nothing, as a
 *   cleared CPU buffer would. A writer can only be reset by its own thread,
 *   which is why clearing is a generation and not a reset of every ring.
 *
 * - nothing a thread wrote is lost unseen when it ends: a worker publishes
 *   at its `exit` event; one stopped from outside (terminate(), a process
 *   exit) is sealed by the thread that created it, which publishes its
 *   complete events (ring/seal.ts); before a snapshot (extract, record),
 *   threads with unpublished events are asked to publish, and at process
 *   exit what a thread still running did not publish in time is counted as
 *   unsaved in its ring.
 *
 * How rings are found: a SharedArrayBuffer cannot be stored inside another,
 * so a thread that makes a ring records (thread, generation) in the row
 * table of the control buffer and posts the ring's buffer on a
 * BroadcastChannel. Readers wait (asynchronously, bounded) until every row of
 * the current generation has arrived. A thread that opens the session late
 * asks the others to announce again.
 */

// From node:timers, not the globals: a program's fake timers (sinon, jest) must not drive jsftrace's.
import { setInterval } from 'node:timers';
import { isMainThread, threadId } from 'node:worker_threads';
import { noteOwnTurn, ownResource } from './own-async.js';
import { onWorkerExit } from '../core/index.js';
import { fail } from '../shared/errors.js';
import {
  attachWriter, CLOCK_NAMES, clockListText, countUnsaved, createRing, openEventRegistry, openRing, sealRing, unpublishedEvents,
  type ClockSource, type EventFormat, type EventRegistry, type Ring, type RingMode, type RingWriter,
} from '../ring/index.js';
import {
  C_BUFGEN, C_CLOCK, C_CONTEXT, C_DOORBELL, C_EVENTS, C_FLUSHES, C_MAGIC, C_MODE, C_WAIT_MS, C_NOPID, C_OPTIONS, C_PID, C_PROF_GEN,
  C_ROWS, C_SIZE_KB, C_STATE,
  MAGIC, MAX_ROWS, PID_MAX, ROW_WORDS, R_BUFGEN, R_PROFGEN, R_SIZE_KB, R_TID, openOrCreateSession,
} from './session-layout.js';
import { atExit } from '../shared/exit-hooks.js';
import { AtomicsAdd, AtomicsAnd, AtomicsCompareExchange, AtomicsLoad, AtomicsNotify, AtomicsOr, AtomicsStore, AtomicsWait, DateNow, SetTimeout } from '../shared/builtins.js';
import { requireOwnCjs } from '../shared/own-cjs.js';
import type { DataChannels } from '../shared/data-channel.cjs';
export {
  C_STATE, C_TRACER, C_MAX_DEPTH, C_THRESH_US, C_PROF_GEN, C_GRAPH_FILTER, MAX_ROWS, C_CONTEXT, PID_MAX, C_OPTIONS, C_DRAIN_SLEEPING,
  C_PROBES, PROBE_MAX, PROBE_WORDS, OPT_PRINT_PARENT, OPT_IRQ_INFO, OPT_CONTEXT_INFO, OPT_MARKERS,
  OPT_FUNC_STACK_TRACE, OPT_GRAPH_CPU, OPT_GRAPH_OVERHEAD, OPT_GRAPH_PROC, OPT_GRAPH_DURATION, OPT_GRAPH_ABSTIME,
  OPT_GRAPH_TAIL, OPT_GRAPH_RETVAL, OPT_GRAPH_RETVAL_HEX, OPT_GRAPH_ARGS, OPT_OTLP, OPT_FUNC_CALLER, OPT_DEFAULTS, TRACER_NOP, TRACER_FUNCTION,
  TRACER_GRAPH, C_DOORBELL, C_EVENTS, C_FN_FLAGS, EVENT_GC, EVENT_LOOP_DELAY, EVENT_ASYNC, FN_NEAREST,
} from './session-layout.js';

const CHANNEL = 'jsftrace:tracers:rings';

const env = openOrCreateSession();
/** The control words; tracer callbacks load `ctl[C_STATE]` per event. */
export const ctl = new Int32Array(env.ctl);
if (AtomicsLoad(ctl, C_MAGIC) !== MAGIC) fail('EINVAL', 'tracer session buffer has a wrong magic');
const events: EventRegistry = openEventRegistry(env.events);

// ---- event types --------------------------------------------------------

/**
 * TRACE_FN: {ip, parent_ip}; parent -1 when there is no caller with a
 * frame. common_flags FN_NEAREST: the parent is the nearest traced caller,
 * which may not be the direct one (a filter is set and options/func-caller
 * is off).
 */
export const EV_FUNCTION: EventFormat = events.register('function', [
  { name: 'ip', kind: 'u32' }, { name: 'parent_ip', kind: 's32' },
], '"%ps <-%ps", REC->ip, REC->parent_ip');
/** TRACE_GRAPH_ENT: {func, depth}; common_flags bit 0: an async function or
 * generator resumes (its first entry has no flag). */
export const EV_GRAPH_ENT: EventFormat = events.register('funcgraph_entry', [
  { name: 'func', kind: 'u32' }, { name: 'depth', kind: 's32' },
], '"--> %ps (%d)", REC->func, REC->depth');
/**
 * TRACE_GRAPH_RET: {func, depth, duration}; common_flags bit 0: the call
 * threw, bit 1: the frame was abandoned by a throw (UNWOUND), bit 2: the
 * call suspended (await, yield) and `duration` is the part that just ran.
 * The return that completes a call which suspended carries the whole
 * duration since its first entry.
 */
export const EV_GRAPH_RET: EventFormat = events.register('funcgraph_exit', [
  { name: 'func', kind: 'u32' }, { name: 'depth', kind: 's32' }, { name: 'duration', kind: 'u64' },
], '"<-- %ps (%d) dur=%llu", REC->func, REC->depth, REC->duration');
/** TRACE_PRINT of trace_marker: the program's own annotation, as ftrace's `print` event. */
export const EV_MARKER: EventFormat = events.register('print', [
  { name: 'buf', kind: 'string' },
], '"%s", __get_str(buf)');
/** A stack trace (func_stack_trace, the stacktrace command): frames, newest first, one per line. */
export const EV_STACK: EventFormat = events.register('kernel_stack', [
  { name: 'frames', kind: 'string' },
], '"<stack trace>\\n%s", __get_str(frames)');
/** funcgraph-args: the arguments of the call whose entry follows. */
export const EV_GRAPH_ARGS: EventFormat = events.register('funcgraph_args', [
  { name: 'func', kind: 'u32' }, { name: 'args', kind: 'string' },
], '"%ps(%s)", REC->func, __get_str(args)');
/** funcgraph-retval: the value of the call whose return precedes. */
export const EV_GRAPH_RETVAL: EventFormat = events.register('funcgraph_retval', [
  { name: 'func', kind: 'u32' }, { name: 'retval', kind: 'string' },
], '"%ps = %s", REC->func, __get_str(retval)');
/**
 * options/otlp: the OpenTelemetry span active when a function_graph call
 * with no traced caller began, written just before its entry (the trace
 * text skips it). The ids as in W3C trace context, big-endian in u32s;
 * trace_flags the W3C flags (bit 0: sampled). common_flags: OTEL_SPAN, a
 * span was active (else the ids are zero); OTEL_API, the program has the
 * OpenTelemetry API.
 */
export const EV_OTEL_PARENT: EventFormat = events.register('otel_parent', [
  { name: 'trace_id_0', kind: 'u32' }, { name: 'trace_id_1', kind: 'u32' }, { name: 'trace_id_2', kind: 'u32' },
  { name: 'trace_id_3', kind: 'u32' }, { name: 'span_id_0', kind: 'u32' }, { name: 'span_id_1', kind: 'u32' },
  { name: 'trace_flags', kind: 'u32' },
]);
export const OTEL_SPAN = 1;
export const OTEL_API = 2;
/**
 * options/otlp: the resumed entry that follows continues the call whose
 * first entry has serial number `entry` in this ring (an async function or
 * generator's parts are otherwise not told apart).
 */
export const EV_GRAPH_RESUME_OF: EventFormat = events.register('funcgraph_resume_of', [
  { name: 'entry', kind: 'u64' },
]);
/** options/otlp: the call at `depth` whose return follows threw a value of `type` with `message`. */
export const EV_GRAPH_THROW: EventFormat = events.register('funcgraph_throw', [
  { name: 'depth', kind: 's32' }, { name: 'type', kind: 'string' }, { name: 'message', kind: 'string' },
]);
/**
 * A garbage collection (perf_hooks' `gc` entry), written when the runtime
 * reports it, after it ended: kind (NODE_PERFORMANCE_GC_*), V8's flags,
 * when it started on this ring's clock, and how long it took in ns.
 */
export const EV_GC: EventFormat = events.register('gc', [
  { name: 'kind', kind: 'u32' }, { name: 'flags', kind: 's32' }, { name: 'start', kind: 'u64' }, { name: 'duration', kind: 'u64' },
], '"kind=%u flags=%d start=%llu duration=%llu", REC->kind, REC->flags, REC->start, REC->duration');
/** An event-loop delay sample: over the last period, how many delays the monitor took, their mean and largest (ns). */
export const EV_LOOP_DELAY: EventFormat = events.register('loop_delay', [
  { name: 'count', kind: 'u32' }, { name: 'period_ms', kind: 'u32' }, { name: 'mean', kind: 'u64' }, { name: 'max', kind: 'u64' },
], '"count=%u period_ms=%u mean=%llu max=%llu", REC->count, REC->period_ms, REC->mean, REC->max');
/** An async_hooks hop: op (ASYNC_INIT, ASYNC_BEFORE, ASYNC_AFTER), the resource's trigger and id, and its type at init. */
export const EV_ASYNC: EventFormat = events.register('async_hook', [
  { name: 'op', kind: 'u32' }, { name: 'trigger', kind: 's32' }, { name: 'id', kind: 'u64' }, { name: 'type', kind: 'string' },
], '"op=%u trigger=%d id=%llu type=%s", REC->op, REC->trigger, REC->id, __get_str(type)');
export const ASYNC_INIT = 1;
export const ASYNC_BEFORE = 2;
export const ASYNC_AFTER = 3;

export const RET_THREW = 1;
export const RET_UNWOUND = 2;
export const RET_SUSPENDED = 4;
export const ENT_RESUMED = 1;

export function eventRegistry(): EventRegistry {
  return events;
}

// ---- configuration (any thread) -----------------------------------------

function bumpEpoch(): void {
  for (;;) {
    const s = AtomicsLoad(ctl, C_STATE);
    if (AtomicsCompareExchange(ctl, C_STATE, s, (((s >>> 1) + 1) << 1) | (s & 1)) === s) return;
  }
}

function readIds(at: number): number[] {
  const n = AtomicsLoad(ctl, at);
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(ctl[at + 1 + k]!);
  return out;
}

function writeIds(at: number, ids: readonly number[]): void {
  for (let k = 0; k < ids.length; k++) ctl[at + 1 + k] = ids[k]!;
  AtomicsStore(ctl, at, ids.length);
}

function checkIds(ids: readonly number[], what: string): void {
  if (!Array.isArray(ids)) fail('EINVAL', `${what}: expected an array of thread ids`);
  if (ids.length > PID_MAX) fail('ENOSPC', `${what}: at most ${PID_MAX} thread ids`);
  // Kept in int32 words: an id beyond them is refused, never wrapped.
  for (const id of ids) if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) fail('EINVAL', `${what}: ${String(id)} is not a thread id`);
}

/**
 * set_ftrace_pid / set_ftrace_notrace_pid for threads (`threadId`s): with a
 * non-empty trace list only those threads are traced; a thread in the
 * notrace list is never traced (notrace wins). `append` is `>>`.
 */
export function setTracePids(ids: readonly number[], opts: { notrace?: boolean; append?: boolean } = {}): void {
  const what = opts.notrace === true ? 'set_ftrace_notrace_pid' : 'set_ftrace_pid';
  const at = opts.notrace === true ? C_NOPID : C_PID;
  if (!Array.isArray(ids)) fail('EINVAL', `${what}: expected an array of thread ids`);
  // Kept sorted: ftrace reads its pid lists back in order.
  const next = (opts.append === true ? [...new Set([...readIds(at), ...ids])] : [...new Set(ids)]).sort((a, b) => a - b);
  checkIds(next, what);
  writeIds(at, next);
  bumpEpoch();
}

export function tracePids(notrace = false): number[] {
  return readIds(notrace ? C_NOPID : C_PID);
}

/** Whether this thread's events are kept under the pid lists (read at refresh). */
export function threadTraced(): boolean {
  const only = readIds(C_PID);
  if (readIds(C_NOPID).includes(threadId)) return false;
  return only.length === 0 || only.includes(threadId);
}

/** The async-context filter: when on, tracers keep only calls made inside traceContext(). */
export function setContextFilter(on: boolean): void {
  AtomicsStore(ctl, C_CONTEXT, on ? 1 : 0);
  bumpEpoch();
}

export function contextFilter(): boolean {
  return AtomicsLoad(ctl, C_CONTEXT) !== 0;
}

/** The runtime events turned on (EVENT_* bits). */
export function runtimeEvents(): number {
  return AtomicsLoad(ctl, C_EVENTS);
}

/** Sets the runtime event bits; the threads' runtime module applies them (tracers/events/). */
export function setRuntimeEventBits(bits: number): void {
  AtomicsStore(ctl, C_EVENTS, bits);
  bumpEpoch();
}

const lastEventHooks: (() => void)[] = [];

/**
 * Work that writes this thread's last events before its trace is taken at
 * the end (runtime events the runtime has not delivered yet): run by
 * `lastEvents()`, which a recording's end calls before its last flush.
 */
export function onLastEvents(fn: () => void): void {
  lastEventHooks.push(fn);
}

/** Runs the last-events work (each hook isolated), then publishes this thread's events. */
export function lastEvents(): void {
  for (const h of lastEventHooks) {
    try {
      h();
    } catch {
      // the trace is finished all the same
    }
  }
  flushThread();
}

/** Tells every thread to re-read the configuration at its next event. */
export function configChanged(): void {
  bumpEpoch();
}

/** The option bits a rendering uses instead of the session's (a trace file's own). */
let optionsOverride: number | null = null;

export function options(): number {
  return optionsOverride ?? AtomicsLoad(ctl, C_OPTIONS);
}

/** Runs `fn` (a synchronous rendering) with `mask` as the option bits. */
export function withOptions<T>(mask: number, fn: () => T): T {
  const saved = optionsOverride;
  optionsOverride = mask;
  try {
    return fn();
  } finally {
    optionsOverride = saved;
  }
}

/** Sets or clears option bits; readers (and tracer refreshes) see them at their next look. */
export function setOptionBits(bits: number, on: boolean): void {
  if (on) AtomicsOr(ctl, C_OPTIONS, bits);
  else AtomicsAnd(ctl, C_OPTIONS, ~bits);
  bumpEpoch();
}

export function tracingOn(): boolean {
  return (AtomicsLoad(ctl, C_STATE) & 1) !== 0;
}

/** tracing_on: 0 stops writes into the buffers; callbacks still run. */
export function setTracingOn(on: boolean): void {
  for (;;) {
    const s = AtomicsLoad(ctl, C_STATE);
    if (AtomicsCompareExchange(ctl, C_STATE, s, (s & ~1) | (on ? 1 : 0)) === s) return;
  }
}

/** Discards every thread's events (`echo > trace`): a new buffer generation. */
export function clearBuffers(): void {
  AtomicsAdd(ctl, C_BUFGEN, 1);
  bumpEpoch();
}

export function traceClock(): string {
  return CLOCK_NAMES[AtomicsLoad(ctl, C_CLOCK)]!;
}

/** The trace_clock file. */
export function readTraceClock(): string {
  return clockListText(traceClock());
}

/** trace_clock: as ftrace, changing it clears the buffers. */
export function setTraceClock(name: string): void {
  const n = name.trim();
  const id = (CLOCK_NAMES as readonly string[]).indexOf(n);
  if (id < 0) fail('EINVAL', `trace_clock: unknown clock "${n}" (have: ${CLOCK_NAMES.join(' ')})`);
  AtomicsStore(ctl, C_CLOCK, id);
  clearBuffers();
}

export function bufferSizeKb(): number {
  return AtomicsLoad(ctl, C_SIZE_KB);
}

/**
 * buffer_size_kb. Unlike ftrace, which keeps what fits, the buffers are
 * cleared: each thread makes its new ring at its next event, and only the
 * owner of a ring can move its events.
 */
export function setBufferSizeKb(kb: number): void {
  if (!Number.isInteger(kb) || kb < 1) fail('EINVAL', `buffer_size_kb ${kb}: a positive integer`);
  createRing({ sizeKb: kb }); // refuses a size the ring cannot have, before anything changes
  AtomicsStore(ctl, C_SIZE_KB, kb);
  // As ftrace's buffer_size_kb, every thread gets the same size again.
  for (let r = 0; r < MAX_ROWS; r++) AtomicsStore(ctl, rowIndex(r, R_SIZE_KB), 0);
  clearBuffers();
}

/** The size of a thread's buffer (per_thread/N/buffer_size_kb): buffer_size_kb's for a thread without a row. */
export function threadBufferSizeKb(threadId: number): number {
  const r = findRow(threadId);
  const own = r < 0 ? 0 : AtomicsLoad(ctl, rowIndex(r, R_SIZE_KB));
  return own > 0 ? own : AtomicsLoad(ctl, C_SIZE_KB);
}

/**
 * per_thread/N/buffer_size_kb: one thread's size. The thread makes its new
 * ring at its next event; as with buffer_size_kb, the buffers are cleared
 * (a new generation), since only the owner of a ring can move its events.
 */
export function setThreadBufferSizeKb(threadId: number, kb: number): void {
  if (!Number.isInteger(kb) || kb < 1) fail('EINVAL', `buffer_size_kb ${kb}: a positive integer`);
  createRing({ sizeKb: kb });
  // A live thread that has not traced yet gets its row now; it finds it at its first event.
  const r = claimRowFor(threadId);
  AtomicsStore(ctl, rowIndex(r, R_SIZE_KB), kb);
  clearBuffers();
}

/** Whether every thread's size is buffer_size_kb's (otherwise it reads `X`, as ftrace's). */
export function sizesUniform(): boolean {
  const all = AtomicsLoad(ctl, C_SIZE_KB);
  for (let r = 0; r < MAX_ROWS; r++) {
    const own = AtomicsLoad(ctl, rowIndex(r, R_SIZE_KB));
    if (AtomicsLoad(ctl, rowIndex(r, R_TID)) !== 0 && own > 0 && own !== all) return false;
  }
  return true;
}

/** The row of `threadId`, or -1. */
function findRow(threadId: number): number {
  for (let r = 0; r < MAX_ROWS; r++) if (AtomicsLoad(ctl, rowIndex(r, R_TID)) === threadId + 1) return r;
  return -1;
}

/** The row of `threadId`, claimed if it has none (ENOSPC when the table is full). */
function claimRowFor(threadId: number): number {
  for (;;) {
    const have = findRow(threadId);
    if (have >= 0) return have;
    let free = -1;
    for (let r = 0; r < MAX_ROWS && free < 0; r++) if (AtomicsLoad(ctl, rowIndex(r, R_TID)) === 0) free = r;
    if (free < 0) return fail('ENOSPC', `per_thread/${threadId}: all ${MAX_ROWS} tracing rows are in use`);
    if (AtomicsCompareExchange(ctl, rowIndex(free, R_TID), 0, threadId + 1) === 0) return free;
  }
}

/** Threads that have a row (have traced or been asked about), by id. */
export function knownThreadIds(): number[] {
  const out: number[] = [];
  for (let r = 0; r < MAX_ROWS; r++) {
    const t = AtomicsLoad(ctl, rowIndex(r, R_TID));
    if (t !== 0) out.push(t - 1);
  }
  return out.sort((a, b) => a - b);
}

const MODES: readonly RingMode[] = ['overwrite', 'producer', 'wait'];

/** The `overwrite` option: true flight recorder, false producer (nooverwrite). */
export function setOverwrite(on: boolean): void {
  setRingMode(on ? 'overwrite' : 'producer');
}

/**
 * Every ring's mode, now and for rings to come: overwrite, producer, or
 * wait (producer whose writers wait at most `waitMs` for the drain of a
 * streaming record before refusing an event).
 */
export function setRingMode(mode: RingMode, waitMs?: number): void {
  if (waitMs !== undefined) AtomicsStore(ctl, C_WAIT_MS, waitMs);
  AtomicsStore(ctl, C_MODE, MODES.indexOf(mode));
  for (const r of knownRings()) r.ring.setMode(mode, AtomicsLoad(ctl, C_WAIT_MS));
  bumpEpoch();
}

export function ringMode(): RingMode {
  return MODES[AtomicsLoad(ctl, C_MODE)] ?? 'overwrite';
}

export function overwrite(): boolean {
  return AtomicsLoad(ctl, C_MODE) === 0;
}

export function bufferGeneration(): number {
  return AtomicsLoad(ctl, C_BUFGEN);
}

export function profileGeneration(): number {
  return AtomicsLoad(ctl, C_PROF_GEN);
}

// ---- this thread's ring --------------------------------------------------

/**
 * What the comm column shows for this thread: `node` for the main thread,
 * `worker` for a worker (Node 20 gives a worker no name it can read), unless
 * the thread chose one with setThreadName.
 */
let threadName = isMainThread ? 'node' : 'worker';

export function getThreadName(): string {
  return threadName;
}

/**
 * Names this thread in traces (ftrace's comm: at most 15 characters, no
 * whitespace). Applies to rings made from now on (the next buffer generation).
 */
export function setThreadName(name: string): void {
  if (typeof name !== 'string' || name === '' || name.length > 15 || /\s/.test(name)) {
    fail('EINVAL', `thread name ${JSON.stringify(name)}: 1 to 15 characters, no whitespace`);
  }
  threadName = name;
}

let row = -1;
let writer: RingWriter | null = null;
let writerGen = -1;
let testClock: ClockSource | null = null;
let flushTimer: ReturnType<typeof setInterval> | null = null;

function rowIndex(r: number, w: number): number {
  return C_ROWS + r * ROW_WORDS + w;
}

/** This thread's row in the table (claimed once, or by another thread for it: per_thread/N/buffer_size_kb); -1 when the table is full. */
export function threadRow(): number {
  if (row >= 0) return row;
  const have = findRow(threadId);
  if (have >= 0) {
    row = have;
    return row;
  }
  for (let r = 0; r < MAX_ROWS; r++) {
    if (AtomicsCompareExchange(ctl, rowIndex(r, R_TID), 0, threadId + 1) === 0) {
      row = r;
      return r;
    }
  }
  if (!rowsFullWarned) {
    rowsFullWarned = true;
    process.emitWarning(`all ${MAX_ROWS} tracing rows are in use by live threads: thread ${threadId} is not traced`, { code: 'JSFTRACE_ROWS' });
  }
  return -1;
}
let rowsFullWarned = false;

/**
 * A clock for this thread's next rings and profiler tables instead of the
 * trace_clock (tests, replays). Takes effect at the next buffer generation.
 */
export function setThreadClock(src: ClockSource | null): void {
  testClock = src;
}

export function threadClock(): ClockSource | null {
  return testClock;
}

/**
 * The slow path of every tracer callback: the writer of this thread's ring
 * for the current generation, made (and announced) if needed; null when the
 * thread has no row left.
 */
export function threadWriter(): RingWriter | null {
  const gen = AtomicsLoad(ctl, C_BUFGEN);
  if (writer !== null && writerGen === gen) return writer;
  const r = threadRow();
  if (r < 0) return null;
  if (writer !== null) writer.detach();
  const clockName = CLOCK_NAMES[AtomicsLoad(ctl, C_CLOCK)]!;
  const own = AtomicsLoad(ctl, rowIndex(r, R_SIZE_KB));
  const mode = AtomicsLoad(ctl, C_MODE);
  const waitMs = AtomicsLoad(ctl, C_WAIT_MS);
  const ring = createRing({
    sizeKb: own > 0 ? own : AtomicsLoad(ctl, C_SIZE_KB), mode: MODES[mode] ?? 'overwrite', waitMs, clock: clockName,
  });
  writer = attachWriter(ring, { clock: testClock ?? clockName, wake: { words: ctl, index: C_DOORBELL } });
  writerGen = gen;
  local.set(threadId, { threadId, name: threadName, gen, ring });
  AtomicsStore(ctl, rowIndex(r, R_BUFGEN), gen);
  announceRing();
  // setOverwrite changes the rings it knows; one made meanwhile, before its
  // announcement arrived, takes the new mode here.
  const now = AtomicsLoad(ctl, C_MODE);
  if (now !== mode) ring.setMode(MODES[now] ?? 'overwrite', AtomicsLoad(ctl, C_WAIT_MS));
  if (flushTimer === null) {
    // Events are published every quarter page; an idle thread would keep
    // its last ones from readers without this.
    flushTimer = ownResource(() => setInterval(flushOwn, 50));
    flushTimer.unref();
  }
  return writer;
}

function flushOwn(): void {
  noteOwnTurn();
  flushThread();
}

/** Publishes this thread's unpublished events (ftrace readers see committed events only). */
export function flushThread(): void {
  if (writer !== null) writer.flush();
}

// ---- finding every thread's ring -----------------------------------------

export interface ThreadRing {
  threadId: number;
  name: string;
  gen: number;
  ring: Ring;
}

export interface ThreadTable {
  threadId: number;
  name: string;
  gen: number;
  sab: SharedArrayBuffer;
}

/** Rings (and profiler tables) of every thread as far as this thread has heard. */
const local = new Map<number, ThreadRing>();
const profTables = new Map<number, ThreadTable>();
let ownProfile: ThreadTable | null = null;

interface Announcement {
  kind: 'ring' | 'profile' | 'hello' | 'flush';
  threadId: number;
  name: string;
  gen: number;
  sab?: SharedArrayBuffer;
}

const { openDataChannel } = requireOwnCjs<DataChannels>('./data-channel.cjs');
const channel = openDataChannel(CHANNEL, (data: unknown): void => {
  const a = data as Announcement;
  if (a.kind === 'hello') {
    announceRing();
    if (ownProfile !== null) announceProfile(ownProfile);
    return;
  }
  if (a.kind === 'flush') {
    // A snapshot is being taken: publish, and say so.
    flushThread();
    AtomicsAdd(ctl, C_FLUSHES, 1);
    AtomicsNotify(ctl, C_FLUSHES);
    return;
  }
  if (a.sab === undefined) return;
  if (a.kind === 'ring') {
    // A thread announces its ring again whenever another opens the session,
    // and each message brings a new SharedArrayBuffer object for the same
    // memory: a ring already known keeps its one ThreadRing, so a reader
    // that follows rings by identity (the OTLP export) never starts one
    // again from its first event.
    const have = local.get(a.threadId);
    const known = have !== undefined && have.gen === a.gen;
    const r = known ? have : { threadId: a.threadId, name: a.name, gen: a.gen, ring: openRing(a.sab) };
    if (have === undefined || have.gen < a.gen) local.set(a.threadId, r);
    // Announced after its thread had stopped: sealed before anyone reads it.
    if (stopped.has(a.threadId)) sealStopped(a.threadId);
    for (const w of ringWatchers) w(r);
  } else {
    const have = profTables.get(a.threadId);
    if (have === undefined || have.gen <= a.gen) profTables.set(a.threadId, { threadId: a.threadId, name: a.name, gen: a.gen, sab: a.sab });
  }
});
channel.unref();
// A thread that opens the session after others made rings asks for them.
channel.postMessage({ kind: 'hello', threadId, name: threadName, gen: 0 } satisfies Announcement);

const ringWatchers: ((r: ThreadRing) => void)[] = [];

/**
 * Calls `fn` with every ring announced from now on, of any generation
 * (each thread announces again when a thread opens the session, so a
 * watcher that opens it hears of the rings made before): the drain of a
 * streaming record reads them all, old generations to their end.
 */
export function watchRings(fn: (r: ThreadRing) => void): void {
  ringWatchers.push(fn);
}

function announceRing(): void {
  const mine = writer !== null ? local.get(threadId) : undefined;
  if (mine === undefined) return;
  channel.postMessage({ kind: 'ring', threadId, name: mine.name, gen: mine.gen, sab: mine.ring.sab } satisfies Announcement);
}

function announceProfile(t: ThreadTable): void {
  channel.postMessage({ kind: 'profile', threadId, name: threadName, gen: t.gen, sab: t.sab } satisfies Announcement);
}

/** Records this thread's profiler table so that every thread can render it. */
export function publishProfileTable(gen: number, sab: SharedArrayBuffer): void {
  const r = threadRow();
  if (r < 0) return;
  ownProfile = { threadId, name: threadName, gen, sab };
  profTables.set(threadId, ownProfile);
  AtomicsStore(ctl, rowIndex(r, R_PROFGEN), gen);
  announceProfile(ownProfile);
}

function knownRings(): ThreadRing[] {
  return [...local.values()];
}

/** (threadId, gen) of every row whose column `w` is set. */
function rowsWith(w: number): { threadId: number; gen: number }[] {
  const out: { threadId: number; gen: number }[] = [];
  for (let r = 0; r < MAX_ROWS; r++) {
    const tid = AtomicsLoad(ctl, rowIndex(r, R_TID));
    if (tid === 0) continue;
    const gen = AtomicsLoad(ctl, rowIndex(r, w));
    if (gen >= 0) out.push({ threadId: tid - 1, gen });
  }
  return out;
}

async function waitFor(have: () => boolean, ms: number): Promise<void> {
  const end = DateNow() + ms;
  while (!have() && DateNow() < end) await new Promise((r) => SetTimeout(r, 1));
}

/**
 * Every thread's ring of the current generation, in thread id order. Waits
 * (at most `ms`) for announcements still in flight; a ring whose
 * announcement never arrives is left out.
 */
export async function currentRings(ms = 2000): Promise<ThreadRing[]> {
  flushThread();
  const gen = bufferGeneration();
  const want = rowsWith(R_BUFGEN).filter((x) => x.gen === gen);
  const ready = (): boolean => want.every((x) => (local.get(x.threadId)?.gen ?? -1) >= gen);
  if (!ready()) await waitFor(ready, ms);
  // Rings of older generations are never shown again: let them go.
  for (const [id, r] of local) if (r.gen < gen) local.delete(id);
  return [...local.values()].filter((r) => r.gen === gen).sort((a, b) => a.threadId - b.threadId);
}

/** How long a snapshot waits for threads to publish what they wrote (an idle thread answers at once). */
const FLUSH_WAIT_MS = 100;

/** Other threads' rings with events written and not published yet (a racy count, a hint). */
function unpublished(rings: readonly ThreadRing[]): ThreadRing[] {
  return rings.filter((r) => r.threadId !== threadId && unpublishedEvents(r.ring) > 0);
}

/**
 * Every thread's ring of the current generation, after asking the threads
 * that have unpublished events to publish them (at most FLUSH_WAIT_MS):
 * what a snapshot (extract) takes.
 */
export async function settledRings(): Promise<ThreadRing[]> {
  const rings = await currentRings();
  let pending = unpublished(rings);
  if (pending.length === 0) return rings;
  channel.postMessage({ kind: 'flush', threadId, name: threadName, gen: 0 } satisfies Announcement);
  const end = DateNow() + FLUSH_WAIT_MS;
  while (pending.length > 0 && DateNow() < end) {
    await new Promise((r) => SetTimeout(r, 1));
    pending = unpublished(pending);
  }
  return rings;
}

/**
 * The rings of the current generation that this thread knows now, without
 * waiting (at process exit, when nothing more can arrive).
 */
export function ringsNow(): ThreadRing[] {
  flushThread();
  const gen = bufferGeneration();
  return [...local.values()].filter((r) => r.gen === gen).sort((a, b) => a.threadId - b.threadId);
}

/**
 * At process exit (the event loop has stopped), before the last read of the
 * rings: this thread publishes, the others that have unpublished events are
 * asked to, and waited for at most FLUSH_WAIT_MS in Atomics.wait (each
 * thread that publishes notifies). What a thread still running has not
 * published then is lost with the process: it is counted as unsaved in its
 * ring.
 */
export function settleAtExit(): void {
  const rings = ringsNow();
  let pending = unpublished(rings);
  if (pending.length === 0) return;
  channel.postMessage({ kind: 'flush', threadId, name: threadName, gen: 0 } satisfies Announcement);
  const end = DateNow() + FLUSH_WAIT_MS;
  for (;;) {
    const seen = AtomicsLoad(ctl, C_FLUSHES);
    pending = unpublished(pending);
    const left = end - DateNow();
    if (pending.length === 0 || left <= 0) break;
    AtomicsWait(ctl, C_FLUSHES, seen, left);
  }
  for (const r of pending) countUnsaved(r.ring);
}

/** The profiler tables this thread knows now, without waiting. */
export function profileTablesNow(): ThreadTable[] {
  return [...profTables.values()].sort((a, b) => a.threadId - b.threadId);
}

/**
 * The latest profiler table of every thread that ever profiled, in thread
 * id order; a table of an older generation stands for a reset one (the
 * thread makes its new table at its next call).
 */
export async function currentProfileTables(ms = 2000): Promise<ThreadTable[]> {
  const want = rowsWith(R_PROFGEN);
  const ready = (): boolean => want.every((x) => (profTables.get(x.threadId)?.gen ?? -1) >= x.gen);
  if (!ready()) await waitFor(ready, ms);
  return [...profTables.values()].sort((a, b) => a.threadId - b.threadId);
}

/** Starts a new profiler generation: every thread makes a fresh table at its next call. */
export function resetProfile(): void {
  AtomicsAdd(ctl, C_PROF_GEN, 1);
  bumpEpoch();
}

/** Gives row `r` back for threads to come. */
function freeRow(r: number): void {
  for (const w of [R_BUFGEN, R_PROFGEN]) AtomicsStore(ctl, rowIndex(r, w), -1);
  AtomicsStore(ctl, rowIndex(r, R_SIZE_KB), 0);
  AtomicsStore(ctl, rowIndex(r, R_TID), 0);
}

// A worker's last events (lastEvents: its hooks' too) are published when it ends, and its row is given
// back for threads to come (its ring stays readable until the buffers are
// cleared: the readers keep it).
if (!isMainThread) {
  atExit(() => {
    lastEvents();
    // Its row, also one another thread claimed for it (per_thread/N/buffer_size_kb).
    if (row < 0) row = findRow(threadId);
    if (row >= 0) freeRow(row);
  });
}

/** Workers this thread saw stop whose ring it has not sealed yet (not announced yet). */
const stopped = new Set<number>();

function sealStopped(id: number): void {
  const r = local.get(id);
  if (r === undefined) return;
  stopped.delete(id);
  try {
    sealRing(r.ring, id + 1);
  } catch {
    // A ring that cannot be read (corrupted) keeps what it had published.
  }
}

// A worker stopped from outside (terminate(), or anything that ends its
// thread before its exit handler has run) published nothing of its last
// quarter page and kept its row: its parent seals the ring and frees the row.
onWorkerExit((id) => {
  stopped.add(id);
  for (let r = 0; r < MAX_ROWS; r++) if (AtomicsLoad(ctl, rowIndex(r, R_TID)) === id + 1) freeRow(r);
  sealStopped(id);
});
