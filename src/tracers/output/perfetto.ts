/**
 * The function_graph trace as Chrome trace-event JSON (the "JSON Object
 * Format" that Perfetto UI, chrome://tracing and speedscope open;
 * `report --format perfetto-json`): `{"traceEvents":[...],
 * "displayTimeUnit":"ns"}` with a `process_name` per process and a
 * `thread_name` per thread (`ph: "M"`), and one complete event (`ph: "X"`)
 * per call, written as the call closes (one pass, memory bounded by the
 * call depth).
 *
 * Owns: only the rendering; calls come from calls.ts. Invariants:
 * - the same events and options give the same bytes (no wall clock, no
 *   object key order left to chance): one event per line, metadata first,
 *   then each thread in the order given, its calls as they end (children
 *   before their parents);
 * - `ts` and `dur` are microseconds written as exact decimals of whole
 *   nanoseconds (no binary float noise such as 1.0000000001);
 * - a call that did not return normally says so in `args` (`threw`,
 *   `unwound`, or `open`: no exit in the buffer, drawn up to the last time
 *   known inside it), since the viewer would otherwise show it as a plain
 *   call.
 */

import { currentRings } from '../session.js';
import { CallWalker, type CallExit, type ClosedCall } from './calls.js';
import { ringEvents, toText, type Sink, type ThreadEvents } from './common.js';
import type { ThreadRing } from '../session.js';

export interface PerfettoOptions {
  /** process_name of each pid (default `node`). */
  processNames?: ReadonlyMap<number, string>;
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

export const EXIT_NOTES: Readonly<Record<Exclude<CallExit, 'return'>, string>> = {
  threw: 'the call threw',
  unwound: 'abandoned by the core (UNWOUND): a throw or an await left it; ends when it was swept',
  suspended: 'the part that ran until an await or a yield; the call goes on where it resumes',
  open: 'no exit in the buffer: ends at the last time known inside it',
};

function callArgs(c: ClosedCall): string {
  let args = '';
  if (c.exit !== 'return' || !c.entrySeen) {
    const a: Record<string, string> = {};
    if (c.exit !== 'return') a['exit'] = c.exit;
    if (c.exit !== 'return') a['note'] = EXIT_NOTES[c.exit];
    if (!c.entrySeen) a['entry'] = 'not in the buffer: starts at exit - duration';
    args = `,"args":${JSON.stringify(a)}`;
  }
  return args;
}

/** A call's event; `head` is its name's part, `{"name":"...",`, made once per site. */
function callEvent(c: ClosedCall, head: string, pid: number, tid: number): string {
  return `${head}"cat":"function","ph":"X","ts":${micros(c.start)},"dur":${micros(c.end - c.start)},"pid":${pid},"tid":${tid}${callArgs(c)}}`;
}

/** Writes the threads' calls as trace-event JSON to `sink`. */
export function perfettoJsonTo(threads: readonly ThreadEvents[], sink: Sink, opts: PerfettoOptions = {}): void {
  const meta: string[] = [];
  const pids = [...new Set(threads.map((t) => t.view.pid))];
  for (const pid of pids) meta.push(`{"name":"process_name","ph":"M","pid":${pid},"tid":0,"args":{"name":${JSON.stringify(opts.processNames?.get(pid) ?? 'node')}}}`);
  for (const t of threads) {
    meta.push(`{"name":"thread_name","ph":"M","pid":${t.view.pid},"tid":${t.view.threadId},"args":{"name":${JSON.stringify(`${t.view.name}-${t.view.threadId}`)}}}`);
  }
  sink.write(`{"traceEvents":[\n${meta.join(',\n')}`);
  for (const t of threads) {
    const v = t.view;
    const w = new CallWalker();
    const heads = new Map<number, string>();
    const head = (site: number): string => {
      let h = heads.get(site);
      if (h === undefined) {
        h = `{"name":${JSON.stringify(v.site(site))},`;
        heads.set(site, h);
      }
      return h;
    };
    w.onCall = (c) => sink.write(`,\n${callEvent(c, head(c.site), v.pid, v.threadId)}`);
    const items = t.open();
    for (let it = items.next(); it !== null; it = items.next()) w.push(it);
    w.end();
  }
  sink.write('\n],"displayTimeUnit":"ns"}\n');
}

/** The function_graph events of these rings as trace-event JSON. */
export function perfettoJson(rings: readonly ThreadRing[], opts: PerfettoOptions = {}): string {
  const threads = [...rings].sort((a, b) => a.threadId - b.threadId).map(ringEvents);
  return toText((sink) => perfettoJsonTo(threads, sink, opts));
}

/** Every thread's current buffer as trace-event JSON (non-consuming, as `trace`). */
export async function readPerfettoJson(opts: PerfettoOptions = {}): Promise<string> {
  return perfettoJson(await currentRings(), opts);
}
