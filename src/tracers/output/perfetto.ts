/**
 * The function_graph trace as Chrome trace-event JSON (the "JSON Object
 * Format" that Perfetto UI, chrome://tracing and speedscope open):
 * `{"traceEvents":[...],"displayTimeUnit":"ns"}` with a `process_name` and a
 * `thread_name` metadata event (`ph: "M"`) and one complete event
 * (`ph: "X"`) per call.
 *
 * Owns: only the rendering; calls come from calls.ts. Invariants:
 * - the same rings and options give the same bytes (no wall clock, no
 *   object key order left to chance): one event per line, metadata first,
 *   then each thread in thread id order, its calls parents first;
 * - `ts` and `dur` are microseconds written as exact decimals of whole
 *   nanoseconds (no binary float noise such as 1.0000000001);
 * - a call that did not return normally says so in `args` (`threw`,
 *   `unwound`, or `open`: no exit in the buffer, drawn up to the last time
 *   known inside it), since the viewer would otherwise show it as a plain
 *   call.
 */

import { currentRings, type ThreadRing } from '../session.js';
import { type Call, type ThreadCalls, threadCalls, walkCalls } from './calls.js';

export interface PerfettoOptions {
  /** The `pid` of every event; default: this process's. */
  pid?: number;
  /** The process_name metadata; default `node`. */
  processName?: string;
}

/** Whole nanoseconds as microseconds, exactly: 1500 → `1.5`, 2 → `0.002`. */
export function micros(ns: number): string {
  const n = Math.round(ns);
  const neg = n < 0;
  const a = Math.abs(n);
  const whole = Math.floor(a / 1000);
  const frac = String(a % 1000).padStart(3, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac === '' ? '' : `.${frac}`}`;
}

const NOTES: Readonly<Record<Exclude<Call['exit'], 'return'>, string>> = {
  threw: 'the call threw',
  unwound: 'abandoned by the core (UNWOUND): a throw or an await left it; ends when it was swept',
  suspended: 'the part that ran until an await or a yield; the call goes on where it resumes',
  open: 'no exit in the buffer: ends at the last time known inside it',
};

function callEvent(c: Call, pid: number, tid: number): string {
  let args = '';
  if (c.exit !== 'return' || !c.entrySeen) {
    const a: Record<string, string> = {};
    if (c.exit !== 'return') a['exit'] = c.exit;
    if (c.exit !== 'return') a['note'] = NOTES[c.exit];
    if (!c.entrySeen) a['entry'] = 'not in the buffer: starts at exit - duration';
    args = `,"args":${JSON.stringify(a)}`;
  }
  return `{"name":${JSON.stringify(c.name)},"cat":"function","ph":"X","ts":${micros(c.start)},"dur":${micros(c.end - c.start)},"pid":${pid},"tid":${tid}${args}}`;
}

/** Renders decoded threads (see `perfettoJson` for rings). */
export function perfettoFromCalls(threads: readonly ThreadCalls[], opts: PerfettoOptions = {}): string {
  const pid = opts.pid ?? process.pid;
  const ev: string[] = [
    `{"name":"process_name","ph":"M","pid":${pid},"tid":0,"args":{"name":${JSON.stringify(opts.processName ?? 'node')}}}`,
  ];
  const sorted = [...threads].sort((a, b) => a.threadId - b.threadId);
  for (const t of sorted) {
    ev.push(`{"name":"thread_name","ph":"M","pid":${pid},"tid":${t.threadId},"args":{"name":${JSON.stringify(`${t.name}-${t.threadId}`)}}}`);
  }
  for (const t of sorted) walkCalls(t.roots, (c) => ev.push(callEvent(c, pid, t.threadId)));
  return `{"traceEvents":[\n${ev.join(',\n')}\n],"displayTimeUnit":"ns"}\n`;
}

/** The function_graph events of these rings as trace-event JSON. */
export function perfettoJson(rings: readonly ThreadRing[], opts: PerfettoOptions = {}): string {
  return perfettoFromCalls(rings.map((r) => threadCalls(r)), opts);
}

/** Every thread's current buffer as trace-event JSON (non-consuming, as `trace`). */
export async function readPerfettoJson(opts: PerfettoOptions = {}): Promise<string> {
  return perfettoJson(await currentRings(), opts);
}
