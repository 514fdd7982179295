/**
 * The runtime's own events in one thread, written into its ring beside
 * its functions' events: garbage collections (perf_hooks' `gc` entries),
 * event-loop delay samples (the time between turns of a 10 ms timer) and
 * async_hooks hops (init, before, after). Loaded in every thread once
 * runtime events are first turned on (events/index.ts has the core load it
 * everywhere, also in threads started later), it follows the session's
 * event bits: each source runs exactly while its bit is on.
 *
 * Owns: this thread's observer, delay timer and hook.
 * Invariants:
 * - the program sees nothing of them: a PerformanceObserver and an async
 *   hook are no process listeners, the delay timer is
 *   unreferenced (it keeps nothing alive and is not among
 *   process.getActiveResourcesInfo()), and every callback is isolated;
 * - events are written under the same rules as the tracers' (tracing_on,
 *   the pid lists): `C_STATE` looked at per event, the writer chosen when
 *   it changes;
 * - what the runtime has not delivered when the thread ends (a collection
 *   reported after the last callback) is written at its end: before a
 *   recording's last flush (session's lastEvents) and at the thread's exit.
 */

import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { createHook, type AsyncHook } from 'node:async_hooks';
// From node:timers, not the globals: a program's fake timers (sinon, jest) must not drive jsftrace's.
import { clearInterval, setInterval } from 'node:timers';
import { isMainThread, workerData } from 'node:worker_threads';
import { writeField, writeStringField, type RingWriter } from '../../ring/index.js';
import { AtomicsLoad, MathCeil, MathFloor, MathMax, MathRound, PerformanceNow } from '../../shared/builtins.js';
import { atExit } from '../../shared/exit-hooks.js';
import { requireOwnCjs } from '../../shared/own-cjs.js';
import type { DataChannels } from '../../shared/data-channel.cjs';
import {
  ASYNC_AFTER, ASYNC_BEFORE, ASYNC_INIT, C_STATE, ctl, EV_ASYNC, EV_GC, EV_LOOP_DELAY, EVENT_ASYNC, EVENT_GC, EVENT_LOOP_DELAY,
  flushThread, onLastEvents, runtimeEvents, threadTraced, threadWriter,
} from '../session.js';
import { isOwn, makingOwn, noteOwnId, noteOwnTurn, ownResource } from '../own-async.js';

/** The channel on which a change of the event bits reaches every thread. */
export const EVENTS_CHANNEL = 'jsftrace:tracers:events';
/** How often the event-loop delay is sampled, and the delay timer's period. */
export const LOOP_PERIOD_MS = 100;
const LOOP_RESOLUTION_MS = 10;

let seen = -1;
let w: RingWriter | null = null;

/** The writer for the next event, or null when nothing is to be written now. */
function writer(): RingWriter | null {
  const s = AtomicsLoad(ctl, C_STATE);
  if (s !== seen) {
    seen = s;
    w = (s & 1) !== 0 && threadTraced() ? threadWriter() : null;
    if (w === null) seen = -1;
  }
  return w;
}

const words = new Array<number>(6).fill(0);

function u64(at: number, v: number): void {
  const x = MathMax(0, MathRound(v));
  const hi = MathFloor(x / 0x100000000);
  words[at] = x - hi * 0x100000000;
  words[at + 1] = hi;
}

// ---- garbage collections --------------------------------------------------

let gc: PerformanceObserver | null = null;

function writeGc(entries: readonly PerformanceEntry[]): void {
  const wr = writer();
  if (wr === null || entries.length === 0) return;
  for (const e of entries) {
    const detail = (e as PerformanceEntry & { detail?: { kind?: number; flags?: number } }).detail;
    // The ring's clock now, less the time since the collection began: its start on that clock.
    const t = wr.clock.now();
    const ago = (PerformanceNow() - e.startTime) * 1e6;
    words[0] = detail?.kind ?? 0;
    words[1] = detail?.flags ?? 0;
    u64(2, t - ago);
    u64(4, e.duration * 1e6);
    wr.writeWords(EV_GC.id, words, 0, 6);
  }
}

function startGc(): void {
  gc = new PerformanceObserver((list) => {
    try {
      writeGc(list.getEntries());
    } catch {
      // a tracer never breaks the program
    }
  });
  gc.observe({ entryTypes: ['gc'] });
}

function stopGc(final: boolean): void {
  if (gc === null) return;
  if (final) writeGc(gc.takeRecords());
  gc.disconnect();
  gc = null;
}

// ---- event-loop delay -----------------------------------------------------
//
// Measured here rather than with perf_hooks.monitorEventLoopDelay: that
// histogram forgets, when reset, the time of its last turn, so a delay that
// ends between its reset and its next turn (the sampling timer and the
// monitor both due after the same long block) is never recorded. Here the
// turn that sees the delay is the one that writes the sample: a block of
// any length is in the sample that follows it.

let loopTimer: ReturnType<typeof setInterval> | null = null;
/**
 * The last turn (-1 before the first, which only starts the count: the time
 * before it is jsftrace's start and the main module's, as monitorEventLoopDelay
 * does not count it either), the period's start (performance.now(), ms), and
 * the period's delays so far (ms).
 */
let lastTurn = -1;
let periodStart = 0;
let delays = 0;
let delaySum = 0;
let delayMax = 0;

function sampleLoop(now: number): void {
  if (delays !== 0) {
    const wr = writer();
    if (wr !== null) {
      words[0] = delays;
      words[1] = LOOP_PERIOD_MS;
      u64(2, MathRound((delaySum / delays) * 1e6));
      u64(4, MathRound(delayMax * 1e6));
      wr.writeWords(EV_LOOP_DELAY.id, words, 0, 6);
    }
  }
  periodStart = now;
  delays = delaySum = delayMax = 0;
}

function loopTurn(): void {
  const now = PerformanceNow();
  if (lastTurn < 0) {
    // Known as own from its init when the async hook was on then; else from here.
    noteOwnTurn();
    lastTurn = periodStart = now;
    return;
  }
  const d = now - lastTurn;
  lastTurn = now;
  delays++;
  delaySum += d;
  if (d > delayMax) delayMax = d;
  if (now - periodStart >= LOOP_PERIOD_MS) sampleLoop(now);
}

function startLoop(): void {
  lastTurn = -1;
  delays = delaySum = delayMax = 0;
  loopTimer = ownResource(() => setInterval(() => {
    try {
      loopTurn();
    } catch {
      // isolated
    }
  }, LOOP_RESOLUTION_MS));
  loopTimer.unref();
}

function stopLoop(final: boolean): void {
  if (loopTimer === null) return;
  if (final) sampleLoop(PerformanceNow());
  clearInterval(loopTimer);
  loopTimer = null;
}

// ---- async hooks ------------------------------------------------------------

let hook: AsyncHook | null = null;
const enc = new TextEncoder();

function writeAsync(op: number, id: number, trigger: number, type: string): void {
  const wr = writer();
  if (wr === null) return;
  const bytes = type === '' ? new Uint8Array(0) : enc.encode(type.slice(0, 64));
  const p = wr.reserve(EV_ASYNC.id, EV_ASYNC.words - 1 + MathCeil(bytes.length / 4));
  if (p < 0) return;
  const f = EV_ASYNC.fields;
  writeField(wr.words, p - 1, f[2]!, op);
  writeField(wr.words, p - 1, f[3]!, trigger);
  writeField(wr.words, p - 1, f[4]!, id);
  writeStringField(wr.words, p - 1, f[5]!, EV_ASYNC.words * 4, bytes);
}

// The hops of jsftrace's own timers (the delay timer's, a hundred a
// second; the flush timer's) are not the program's: they are left out
// (own-async.ts). The delay timer is known from its first turn if the hook
// was not on when it was made, the flush timer from every turn: at most a
// first before and after of either is written.
function startAsync(): void {
  hook = createHook({
    init(id, type, trigger) {
      // Made by jsftrace, or from a callback of one of its resources (a
      // control connection accepted by its server, a promise of its own
      // timer's turn): its own too.
      if (makingOwn() || isOwn(trigger)) noteOwnId(id);
      else writeAsync(ASYNC_INIT, id, trigger, type);
    },
    before(id) {
      if (!isOwn(id)) writeAsync(ASYNC_BEFORE, id, 0, '');
    },
    after(id) {
      if (!isOwn(id)) writeAsync(ASYNC_AFTER, id, 0, '');
    },
  });
  hook.enable();
}

function stopAsync(): void {
  hook?.disable();
  hook = null;
}

// ---- following the bits -------------------------------------------------------

let on = 0;

/** Starts and stops this thread's sources to match the session's bits. */
/**
 * jsftrace's own threads (a streaming recording's drain) run no program
 * code: their collections and hops are not the program's, and they write
 * no events of their own.
 */
const ownThread = !isMainThread && (workerData as { jsftraceOwnThread?: unknown } | null)?.jsftraceOwnThread === true;

export function applyRuntimeEvents(final = false): void {
  const want = final || ownThread ? 0 : runtimeEvents();
  const change = on ^ want;
  if ((change & EVENT_GC) !== 0) {
    if ((want & EVENT_GC) !== 0) startGc();
    else stopGc(final);
  }
  if ((change & EVENT_LOOP_DELAY) !== 0) {
    if ((want & EVENT_LOOP_DELAY) !== 0) startLoop();
    else stopLoop(final);
  }
  if ((change & EVENT_ASYNC) !== 0) {
    if ((want & EVENT_ASYNC) !== 0) startAsync();
    else stopAsync();
  }
  on = want;
}

/** At the end: what the runtime has not delivered yet is written, then published. */
function finish(): void {
  try {
    applyRuntimeEvents(true);
  } finally {
    flushThread();
  }
}

const channel = requireOwnCjs<DataChannels>('./data-channel.cjs').openDataChannel(EVENTS_CHANNEL, () => applyRuntimeEvents());
channel.unref();
onLastEvents(finish);
atExit(finish);
applyRuntimeEvents();

/** What the core loads in every thread (a module trampoline that is never called): loading it is the point. */
export const runtimeEventsModule = { entry: (): number => 0, name: 'runtime_events' };
