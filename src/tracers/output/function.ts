/**
 * The `trace` and `trace_pipe` text of the function tracer (and of `nop`,
 * which has the same header and no lines), in ftrace's default format.
 *
 * Owns: the header and line layout. Invariant: each line is exactly
 * ftrace's `%16s-%-7d [%03d] ..... %5lu.%06lu: func <-parent`, with the
 * thread's name where ftrace puts the task's comm, the process id (main
 * thread) or thread id (worker) as its pid, and the thread id where ftrace
 * puts the CPU (a thread is our CPU: it owns one ring). The five flag columns are always `.`: JavaScript has no irqs,
 * preemption counts or migration. A call with no traced caller prints no
 * ` <-parent` part, as trace_fn_trace leaves it out when parent_ip is 0. A
 * trace_marker prints as ftrace's `tracing_mark_write: text`.
 */

import { ringStats } from '../../ring/index.js';
import { EV_FUNCTION, EV_MARKER, EV_STACK, FN_NEAREST, options, OPT_CONTEXT_INFO, OPT_IRQ_INFO, OPT_PRINT_PARENT, type ThreadRing } from '../session.js';
import {
  Ahead, arraySource, consumeItems, linesOfSource, mergeLines, mergeTo, ringEvents, ringView, stackLines, timestamp, toText,
  type ItemSource, type LineSource, type Sink, type ThreadEvents, type ThreadView,
} from './common.js';
import { isRuntimeEvent, runtimeEventText } from './runtime.js';

/**
 * The legend block, line for line the kernel's (print_func_help_header_irq).
 * The thread id stands under `CPU#`: a thread is our CPU (it owns one
 * ring); the five flag columns are always `.` (no irqs, preemption counts
 * or migration in JavaScript).
 */
const LEGEND = [
  '#                                _-----=> irqs-off/BH-disabled',
  '#                               / _----=> need-resched',
  '#                              | / _---=> hardirq/softirq',
  '#                              || / _--=> preempt-depth',
  '#                              ||| / _-=> migrate-disable',
  '#                              |||| /     delay',
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
  '#              | |         |   |||||     |         |',
].join('\n');

/** The kernel's header without irq-info (print_func_help_header). */
const SHORT_LEGEND = '#           TASK-PID     CPU#     TIMESTAMP  FUNCTION\n#              | |         |         |         |';

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
    // Events written but never published (their thread stopped, or the
    // process ended first) were written too: counted, as lost.
    overrun += s.overrun + s.unsaved;
  }
  return { entries, written: entries + overrun, threads: rings.length };
}

/**
 * `# tracer: <name>` and the entries line. ftrace's entries-written is
 * entries + overrun (events consumed by trace_pipe are in neither), so the
 * difference is what overwrite lost. #P is the number of threads with a
 * ring, at least 1: the kernel's is the number of online CPUs, never 0, and
 * a process always runs its main thread, which gets a ring at its first
 * event.
 */
export function functionHeader(tracer: string, t: Totals): string {
  // Without context-info ftrace prints no entries line and no legend (trace_default_header).
  if ((options() & OPT_CONTEXT_INFO) === 0) return `# tracer: ${tracer}\n#\n`;
  // Without irq-info ftrace prints the short legend (print_func_help_header).
  const legend = (options() & OPT_IRQ_INFO) !== 0 ? LEGEND : SHORT_LEGEND;
  return `# tracer: ${tracer}\n#\n# entries-in-buffer/entries-written: ${t.entries}/${t.written}   #P:${Math.max(1, t.threads)}\n#\n${legend}\n`;
}

/**
 * The number after a thread's comm (TASK-PID): as on Linux, where a
 * process's main thread has the process's id and every other thread its
 * own, the pid for the main thread and the thread id for a worker (a
 * worker's system tid is not readable from JavaScript).
 */
export function taskPid(t: ThreadView): number {
  return t.threadId === 0 ? t.pid : t.threadId;
}

/**
 * The part of the context columns that is the same on every line of a
 * thread: `comm-pid [thread] .....` (trace_print_context: "[%03d] ", the
 * five flags with irq-info); the thread id stands where ftrace puts the CPU.
 */
function contextPrefix(t: ThreadView, opts: number): string {
  const flags = (opts & OPT_IRQ_INFO) !== 0 ? '.....' : '';
  return `${t.name.padStart(16)}-${String(taskPid(t)).padEnd(7)} [${String(t.threadId).padStart(3, '0')}] ${flags}`;
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
        if (isRuntimeEvent(it.type)) return { ts: it.ts, thread, text: `${context(it.ts)}${runtimeEventText(it, t.counts)}\n` };
        if (it.type !== type) continue;
        // A parent that is only the nearest traced caller (a filter, no func-caller) says so.
        const nearest = (it.flags & FN_NEAREST) !== 0;
        // No caller (parent_ip 0 in the kernel's terms): the ` <-` part is left out, as trace_fn_trace does.
        const parent = !parents || it.b < 0 ? '' : ` <-${t.site(it.b)}${nearest ? ' (nearest traced)' : ''}`;
        return { ts: it.ts, thread, text: `${context(it.ts)}${t.site(it.a)}${parent}\n` };
      }
      return null;
    },
  };
}

/** Each thread's lines of the function (or nop) tracer's text, to merge by time. */
export function functionSources(threads: readonly ThreadEvents[]): LineSource[] {
  return threads.map((t) => functionSource(t.view, t.open()));
}

/** The function (or nop) tracer's text of `threads`, merged by time, to `sink`. */
export function functionTraceTo(tracer: string, threads: readonly ThreadEvents[], totals: Totals, sink: Sink): void {
  sink.write(functionHeader(tracer, totals));
  mergeTo(functionSources(threads), sink);
}

/** The `trace` file for the function (or nop) tracer. */
export function functionTrace(tracer: string, rings: readonly ThreadRing[]): string {
  return toText((sink) => functionTraceTo(tracer, rings.map(ringEvents), ringTotals(rings), sink));
}

/** What `trace_pipe` yields now: the unread lines (at most `max` events a thread), consumed. */
export function functionPipe(rings: readonly ThreadRing[], max = Infinity): string {
  return mergeLines(rings.map((r) => linesOfSource(functionSource(ringView(r), arraySource(consumeItems(r, max))))));
}
