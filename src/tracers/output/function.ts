/**
 * The `trace` and `trace_pipe` text of the function tracer (and of `nop`,
 * which has the same header and no lines), in ftrace's default format.
 *
 * Owns: the header and line layout. Invariant: each line is exactly
 * ftrace's `%16s-%-7d [%03d] ..... %5lu.%06lu: func <-parent`, with the
 * thread's name and id where ftrace puts the task's comm and pid, and the
 * thread id again where ftrace puts the CPU (a thread is our CPU: it owns
 * one ring). The five flag columns are always `.`: JavaScript has no irqs,
 * preemption counts or migration. A trace_marker prints as ftrace's
 * `tracing_mark_write: text`.
 */

import { ringStats } from '../../ring/index.js';
import { EV_FUNCTION, EV_MARKER, EV_STACK, options, OPT_CONTEXT_INFO, OPT_IRQ_INFO, OPT_PRINT_PARENT, type ThreadRing } from '../session.js';
import {
  Ahead, arraySource, consumeItems, linesOfSource, mergeLines, mergeTo, ringEvents, ringView, stackLines, timestamp, toText,
  type ItemSource, type LineSource, type Sink, type ThreadEvents, type ThreadView,
} from './common.js';

/** The legend block, with ftrace's geometry; columns relabelled for threads. */
const LEGEND = [
  '#                                _-----=> irqs-off/BH-disabled (always .)',
  '#                               / _----=> need-resched (always .)',
  '#                              | / _---=> hardirq/softirq (always .)',
  '#                              || / _--=> preempt-depth (always .)',
  '#                              ||| / _-=> migrate-disable (always .)',
  '#                              |||| /     delay',
  '#           TASK-PID   THREAD  |||||  TIMESTAMP  FUNCTION',
  '#              | |       |     |||||     |         |',
].join('\n');

/** What the header counts: events held, events written (held + lost), threads. */
export interface Totals {
  entries: number;
  written: number;
  threads: number;
}

export function ringTotals(rings: readonly ThreadRing[]): Totals {
  let entries = 0;
  let overrun = 0;
  for (const r of rings) {
    const s = ringStats(r.ring);
    entries += s.entries;
    overrun += s.overrun;
  }
  return { entries, written: entries + overrun, threads: rings.length };
}

/**
 * `# tracer: <name>` and the entries line. ftrace's entries-written is
 * entries + overrun (events consumed by trace_pipe are in neither), so the
 * difference is what overwrite lost. #P is the number of threads with a ring.
 */
export function functionHeader(tracer: string, t: Totals): string {
  // Without context-info ftrace prints no entries line and no legend (trace_default_header).
  if ((options() & OPT_CONTEXT_INFO) === 0) return `# tracer: ${tracer}\n#\n`;
  // Without irq-info ftrace prints the short legend (print_func_help_header).
  const legend = (options() & OPT_IRQ_INFO) !== 0 ? LEGEND
    : '#           TASK-PID   THREAD     TIMESTAMP  FUNCTION\n#              | |         |         |         |';
  return `# tracer: ${tracer}\n#\n# entries-in-buffer/entries-written: ${t.entries}/${t.written}   #P:${t.threads}\n#\n${legend}\n`;
}

/**
 * The part of the context columns that is the same on every line of a
 * thread: `comm-pid [thread] .....` (trace_print_context: "[%03d] ", the
 * five flags with irq-info); the pid is the process's, the thread id
 * stands where ftrace puts the CPU.
 */
function contextPrefix(t: ThreadView, opts: number): string {
  const flags = (opts & OPT_IRQ_INFO) !== 0 ? '.....' : '';
  return `${t.name.padStart(16)}-${String(t.pid).padEnd(7)} [${String(t.threadId).padStart(3, '0')}] ${flags}`;
}

/** ftrace's `CPU:<n> [LOST <m> EVENTS]`, with the thread. */
export function lostLine(t: ThreadView, n: number): string {
  return `${t.where} [LOST ${n} EVENTS]\n`;
}

/** A thread's lines of the function tracer's text, one at a time. */
function functionSource(t: ThreadView, items: ItemSource, opts = options()): LineSource {
  const src = new Ahead(items);
  const type = EV_FUNCTION.id;
  const parents = (opts & OPT_PRINT_PARENT) !== 0;
  // The columns before the timestamp are the same on every line: made once.
  const prefix = (opts & OPT_CONTEXT_INFO) === 0 ? null : contextPrefix(t, opts);
  const context = (ts: number): string => (prefix === null ? '' : `${prefix}${timestamp(ts, t.counts)}: `);
  const thread = t.threadId;
  return {
    next() {
      for (let it = src.take(); it !== null; it = src.take()) {
        if (it.lost > 0) return { ts: src.lostTs(), thread, text: lostLine(t, it.lost) };
        if (it.type === EV_MARKER.id) return { ts: it.ts, thread, text: `${context(it.ts)}tracing_mark_write: ${it.text!}\n` };
        if (it.type === EV_STACK.id) return { ts: it.ts, thread, text: `${context(it.ts)}<stack trace>\n${stackLines(it.text!)}` };
        if (it.type !== type) continue;
        const parent = !parents ? '' : ` <-${it.b < 0 ? '(root)' : t.site(it.b)}`;
        return { ts: it.ts, thread, text: `${context(it.ts)}${t.site(it.a)}${parent}\n` };
      }
      return null;
    },
  };
}

/** The function (or nop) tracer's text of `threads`, merged by time, to `sink`. */
export function functionTraceTo(tracer: string, threads: readonly ThreadEvents[], totals: Totals, sink: Sink): void {
  sink.write(functionHeader(tracer, totals));
  mergeTo(threads.map((t) => functionSource(t.view, t.open())), sink);
}

/** The `trace` file for the function (or nop) tracer. */
export function functionTrace(tracer: string, rings: readonly ThreadRing[]): string {
  return toText((sink) => functionTraceTo(tracer, rings.map(ringEvents), ringTotals(rings), sink));
}

/** What `trace_pipe` yields now: the unread lines, consumed. */
export function functionPipe(rings: readonly ThreadRing[]): string {
  return mergeLines(rings.map((r) => linesOfSource(functionSource(ringView(r), arraySource(consumeItems(r))))));
}
