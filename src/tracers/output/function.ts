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

import { CLOCK_COUNTER, ringStats } from '../../ring/index.js';
import { EV_FUNCTION, EV_MARKER, EV_STACK, options, OPT_CONTEXT_INFO, OPT_IRQ_INFO, OPT_PRINT_PARENT, type ThreadRing } from '../session.js';
import {
  consumeItems, type Item, type Line, mergeLines, placeLost, siteName, snapshotItems, stackLines, timestamp,
} from './common.js';
import type { BatchRenderer } from './stream.js';

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

/**
 * `# tracer: <name>` and the entries line. ftrace's entries-written is
 * entries + overrun (events consumed by trace_pipe are in neither), so the
 * difference is what overwrite lost; events written but never published
 * (their thread stopped mid-event, or the process exited first: unsaved)
 * are written too. #P is the number of threads with a ring.
 */
export function functionHeader(tracer: string, rings: readonly ThreadRing[]): string {
  // Without context-info ftrace prints no entries line and no legend (trace_default_header).
  if ((options() & OPT_CONTEXT_INFO) === 0) return `# tracer: ${tracer}\n#\n`;
  let entries = 0;
  let overrun = 0;
  for (const r of rings) {
    const s = ringStats(r.ring);
    entries += s.entries;
    overrun += s.overrun + s.unsaved;
  }
  // Without irq-info ftrace prints the short legend (print_func_help_header).
  const legend = (options() & OPT_IRQ_INFO) !== 0 ? LEGEND
    : '#           TASK-PID   THREAD     TIMESTAMP  FUNCTION\n#              | |         |         |         |';
  return `# tracer: ${tracer}\n#\n# entries-in-buffer/entries-written: ${entries}/${entries + overrun}   #P:${rings.length}\n#\n${legend}\n`;
}

/**
 * The context columns: `comm-pid [thread] ..... secs.usecs: `; without
 * irq-info no flag columns; without context-info nothing (ftrace's
 * trace_print_context / trace_print_lat_context choices).
 */
export function context(r: ThreadRing, ts: number, opts = options()): string {
  if ((opts & OPT_CONTEXT_INFO) === 0) return '';
  return contextPrefix(r, opts) + timestamp(ts, r.ring.clockId === CLOCK_COUNTER) + ': ';
}

/** The part of the context columns that is the same on every line of a ring. */
function contextPrefix(r: ThreadRing, opts: number): string {
  // trace_print_context: "[%03d] ", the five flags with irq-info, then " %5lu.%06lu".
  const flags = (opts & OPT_IRQ_INFO) !== 0 ? '.....' : '';
  return `${r.name.padStart(16)}-${String(r.threadId).padEnd(7)} [${String(r.threadId).padStart(3, '0')}] ${flags}`;
}

/** ftrace's `CPU:<n> [LOST <m> EVENTS]`, with the thread. */
export function lostLine(r: ThreadRing, n: number): string {
  return `Thread:${r.threadId} [LOST ${n} EVENTS]\n`;
}

/** The lines of items[0 .. stop) (the items after it only place lost notices in time). */
function linesOf(r: ThreadRing, items: Item[], stop = items.length): Line[] {
  placeLost(items);
  const type = EV_FUNCTION.id;
  const opts = options();
  const parents = (opts & OPT_PRINT_PARENT) !== 0;
  // The columns before the timestamp are the same on every line: made once.
  const prefix = (opts & OPT_CONTEXT_INFO) === 0 ? null : contextPrefix(r, opts);
  const counts = r.ring.clockId === CLOCK_COUNTER;
  const context = (_r: ThreadRing, ts: number): string => (prefix === null ? '' : `${prefix}${timestamp(ts, counts)}: `);
  const out: Line[] = [];
  for (let i = 0; i < stop; i++) {
    const it = items[i]!;
    if (it.lost > 0) {
      out.push({ ts: it.ts, thread: r.threadId, text: lostLine(r, it.lost) });
      continue;
    }
    if (it.type === EV_MARKER.id) {
      out.push({ ts: it.ts, thread: r.threadId, text: `${context(r, it.ts)}tracing_mark_write: ${it.text!}\n` });
      continue;
    }
    if (it.type === EV_STACK.id) {
      out.push({ ts: it.ts, thread: r.threadId, text: `${context(r, it.ts)}<stack trace>\n${stackLines(it.text!)}` });
      continue;
    }
    if (it.type !== type) continue;
    const parent = !parents ? '' : ` <-${it.b < 0 ? '(root)' : siteName(it.b)}`;
    out.push({ ts: it.ts, thread: r.threadId, text: `${context(r, it.ts)}${siteName(it.a)}${parent}\n` });
  }
  return out;
}

/** The function tracer's lines a batch at a time (output/stream.ts). */
export const functionBatches: BatchRenderer<null> = {
  state: () => null,
  lines: (r, items, _st, stop) => ({ lines: linesOf(r, items, stop), next: stop }),
};

/** The `trace` file for the function (or nop) tracer. */
export function functionTrace(tracer: string, rings: readonly ThreadRing[]): string {
  return functionHeader(tracer, rings) + mergeLines(rings.map((r) => linesOf(r, snapshotItems(r.ring))));
}

/** What `trace_pipe` yields now: the unread lines (at most `max` events a thread), consumed. */
export function functionPipe(rings: readonly ThreadRing[], max = Infinity): string {
  return mergeLines(rings.map((r) => linesOf(r, consumeItems(r, max))));
}
