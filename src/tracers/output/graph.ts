/**
 * The `trace` and `trace_pipe` text of the function_graph tracer, in
 * ftrace's function_graph format, with the funcgraph options read at each
 * rendering: -cpu, -overhead, -duration (on by default), -proc, -abstime,
 * -tail (off), and the values that funcgraph-args and funcgraph-retval
 * recorded (`func(1, "a") {`, `} /* func = 42 *\/`, `func(); /* = 42 *\/`).
 *
 * Owns: the per-thread output state (which function entered at each depth,
 * ftrace's enter_funcs) kept between trace_pipe reads. Invariants:
 * - an entry directly followed, in its thread, by the return of the same
 *   function at the same depth prints as a leaf `func();` with that return's
 *   duration; any other entry prints `func() {` and its return `}`;
 * - a `}` whose entry was not seen (overwritten, consumed earlier, filtered
 *   by tracing_thresh) says which function it closes: `} /* func *\/`;
 * - a return with RET_UNWOUND (a frame a throw abandoned) prints
 *   `} /* func unwound *\/`, a leaf `func(); /* unwound *\/`; a return of a
 *   call that threw, `} /* func threw *\/` and `func(); /* threw *\/`;
 * - an async function or generator that suspends (await, yield) closes the
 *   part that ran with `} /* func suspended *\/` (its duration is that
 *   part's); where it resumes, its entry says `func() { /* resumed *\/`, and
 *   its final `}` carries the whole duration since the first entry;
 * - a trace_marker prints as a comment `/* text *\/` at the depth of the
 *   call that wrote it (ftrace's print event in the graph).
 * The CPU column shows the thread id, width the digits of the largest.
 * The side events of options/otlp (for the span exporter) are skipped, so
 * the text is the same with that option on or off.
 */

import { CLOCK_COUNTER } from '../../ring/index.js';
import {
  ENT_RESUMED, EV_GRAPH_ARGS, EV_GRAPH_ENT, EV_GRAPH_RESUME_OF, EV_GRAPH_RET, EV_GRAPH_RETVAL, EV_GRAPH_THROW, EV_MARKER,
  EV_OTEL_PARENT, EV_STACK, options, OPT_CONTEXT_INFO,
  OPT_GRAPH_ABSTIME, OPT_GRAPH_CPU, OPT_GRAPH_DURATION, OPT_GRAPH_OVERHEAD, OPT_GRAPH_PROC, OPT_GRAPH_TAIL, RET_SUSPENDED,
  RET_THREW, RET_UNWOUND, type ThreadRing,
} from '../session.js';
import {
  consumeItems, durationMark, graphDuration, type Item, type Line, mergeLines, placeLost, siteName, snapshotItems,
  stackLines, timestamp,
} from './common.js';
import { lostLine } from './function.js';
import type { BatchRenderer } from './stream.js';

/** ftrace's FTRACE_RETFUNC_DEPTH: how deep `}` is matched to its entry. */
const RETFUNC_DEPTH = 50;
const NO_FUNC = -1;

/**
 * ftrace's header for the graph options (print_graph_headers_flags): a
 * column title and a bar line per enabled column.
 */
export function graphHeader(opts = options()): string {
  const ctx = (opts & OPT_CONTEXT_INFO) !== 0;
  // print_graph_headers_flags prints nothing without context-info.
  if (!ctx) return '# tracer: function_graph\n#\n';
  let a = '#';
  let b = '#';
  if (ctx && (opts & OPT_GRAPH_ABSTIME) !== 0) { a += '     TIME       '; b += '      |         '; }
  if (ctx && (opts & OPT_GRAPH_CPU) !== 0) { a += ' CPU'; b += ' |  '; }
  if (ctx && (opts & OPT_GRAPH_PROC) !== 0) { a += '  TASK/PID       '; b += '   |    |      '; }
  if (ctx && (opts & OPT_GRAPH_DURATION) !== 0) { a += '  DURATION   '; b += '   |   |      '; }
  return `# tracer: function_graph\n#\n${a}               FUNCTION CALLS\n${b}               |   |   |   |\n`;
}

/** The header with the default options. */
export const GRAPH_HEADER = '# tracer: function_graph\n#\n'
  + '# CPU  DURATION                  FUNCTION CALLS\n'
  + '# |     |   |                     |   |   |   |\n';

interface GraphState {
  gen: number;
  enter: Int32Array;
  /** The depth a comment is indented to: that of the call running. */
  cur: number;
  /** funcgraph-args waiting for the entry they belong to. */
  args: Item | null;
}

function freshState(gen: number): GraphState {
  return { gen, enter: new Int32Array(RETFUNC_DEPTH).fill(NO_FUNC), cur: 0, args: null };
}

function note(flags: number): string {
  if ((flags & RET_UNWOUND) !== 0) return 'unwound';
  if ((flags & RET_THREW) !== 0) return 'threw';
  return (flags & RET_SUSPENDED) !== 0 ? 'suspended' : '';
}

function indent(depth: number): string {
  return ' '.repeat(Math.max(0, depth) * 2);
}

/** ftrace's print_graph_proc: `comm-pid` (comm cut to 7) centred in 7 columns, then ` | `. */
function procColumn(r: ThreadRing): string {
  const text = `${r.name.slice(0, 7)}-${r.threadId}`;
  const spaces = Math.max(0, 7 - text.length);
  return `${' '.repeat(spaces >> 1)}${text}${' '.repeat(spaces - (spaces >> 1))} | `;
}

const OTLP_SIDE = new Set([EV_OTEL_PARENT.id, EV_GRAPH_RESUME_OF.id, EV_GRAPH_THROW.id]);

/** The items the graph shows (not the side events the OTLP output reads). */
function shown(items: Item[]): Item[] {
  return items.filter((it) => it.lost > 0 || !OTLP_SIDE.has(it.type));
}

/**
 * The lines of items[0 .. stop) (items the graph shows: see `shown`): an
 * entry or return looks at the one or two items after it (its return, its
 * retval), which may lie beyond `stop` and are then used up too. Returns
 * the lines and the first item not used.
 */
function linesOf(r: ThreadRing, items: Item[], st: GraphState, width: number, stop = items.length): { lines: Line[]; next: number } {
  placeLost(items);
  const ENT = EV_GRAPH_ENT.id;
  const RET = EV_GRAPH_RET.id;
  const opts = options();
  const ctx = (opts & OPT_CONTEXT_INFO) !== 0;
  const counts = r.ring.clockId === CLOCK_COUNTER;
  const cpu = ctx && (opts & OPT_GRAPH_CPU) !== 0 ? ` ${String(r.threadId).padStart(width)}) ` : '';
  const proc = ctx && (opts & OPT_GRAPH_PROC) !== 0 ? procColumn(r) : '';
  const abs = ctx && (opts & OPT_GRAPH_ABSTIME) !== 0;
  const showDur = ctx && (opts & OPT_GRAPH_DURATION) !== 0;
  const overhead = (opts & OPT_GRAPH_OVERHEAD) !== 0;
  const tailAlways = (opts & OPT_GRAPH_TAIL) !== 0;
  const prefix = (ts: number): string => `${abs ? `${timestamp(ts, counts).slice(1)} |  ` : ''}${cpu}${proc}`;
  const dur = (ns: number): string => (showDur ? `${overhead ? durationMark(ns) : ' '} ${graphDuration(ns)}|  ` : '');
  const noDur = showDur ? '              |  ' : '';
  const out: Line[] = [];
  const push = (ts: number, text: string): void => {
    out.push({ ts, thread: r.threadId, text });
  };
  /** The value after the return at i (funcgraph-retval), consumed; or null. */
  const retvalAfter = (i: number, func: number): string | null => {
    const nx = items[i + 1];
    return nx !== undefined && nx.lost === 0 && nx.type === EV_GRAPH_RETVAL.id && nx.a === func ? nx.text! : null;
  };
  let cur = st.cur;
  let args = st.args;
  let i = 0;
  for (; i < stop; i++) {
    const it = items[i]!;
    if (it.lost > 0) {
      push(it.ts, lostLine(r, it.lost));
      continue;
    }
    if (it.type === EV_GRAPH_ARGS.id) {
      args = it;
      continue;
    }
    const myArgs = args !== null && it.type === ENT && args.a === it.a ? args.text! : '';
    args = null;
    if (it.type === EV_MARKER.id) {
      push(it.ts, `${prefix(it.ts)}${noDur}${indent(cur)}/* ${it.text!} */\n`);
      continue;
    }
    if (it.type === EV_STACK.id) {
      push(it.ts, `${prefix(it.ts)}${noDur}${indent(cur)}/* <stack trace> */\n${stackLines(it.text!)}`);
      continue;
    }
    if (it.type !== ENT && it.type !== RET) continue;
    const name = siteName(it.a);
    const depth = it.b;
    if (it.type === ENT) {
      const nx = items[i + 1];
      if (nx !== undefined && nx.lost === 0 && nx.type === RET && nx.a === it.a && nx.b === depth) {
        const rv = retvalAfter(i + 1, it.a);
        const parts = [(it.flags & ENT_RESUMED) !== 0 ? 'resumed' : ''];
        const n = note(nx.flags);
        if (rv !== null) parts.push(rv.startsWith('threw ') ? rv : n === '' ? `= ${rv}` : `${n}, = ${rv}`);
        else parts.push(n);
        const c = parts.filter((x) => x !== '').join(', ');
        push(it.ts, `${prefix(it.ts)}${dur(nx.c)}${indent(depth)}${name}(${myArgs});${c === '' ? '' : ` /* ${c} */`}\n`);
        if (depth >= 0 && depth < RETFUNC_DEPTH) st.enter[depth] = NO_FUNC;
        cur = depth;
        i += rv !== null ? 2 : 1;
        continue;
      }
      if (depth >= 0 && depth < RETFUNC_DEPTH) st.enter[depth] = it.a;
      const resumed = (it.flags & ENT_RESUMED) !== 0 ? ' /* resumed */' : '';
      push(it.ts, `${prefix(it.ts)}${noDur}${indent(depth)}${name}(${myArgs}) {${resumed}\n`);
      cur = depth + 1;
    } else {
      let match = true;
      if (depth >= 0 && depth < RETFUNC_DEPTH) {
        match = st.enter[depth] === it.a;
        st.enter[depth] = NO_FUNC;
      }
      const rv = retvalAfter(i, it.a);
      if (rv !== null) i++;
      const n = note(it.flags);
      let tail = '';
      if (rv !== null) tail = ` /* ${name} ${rv.startsWith('threw ') ? rv : n === '' ? `= ${rv}` : `${n}, = ${rv}`} */`;
      else if (n !== '') tail = ` /* ${name} ${n} */`;
      else if (!match || tailAlways) tail = ` /* ${name} */`;
      push(it.ts, `${prefix(it.ts)}${dur(it.c)}${indent(depth)}}${tail}\n`);
      cur = depth;
    }
  }
  st.cur = cur;
  st.args = args;
  return { lines: out, next: i };
}

function cpuWidth(rings: readonly ThreadRing[]): number {
  let max = 0;
  for (const r of rings) max = Math.max(max, r.threadId);
  return String(max).length;
}

/** The `trace` file for function_graph. */
export function graphTrace(rings: readonly ThreadRing[]): string {
  const w = cpuWidth(rings);
  return graphHeader() + mergeLines(rings.map((r) => linesOf(r, shown(snapshotItems(r.ring)), freshState(r.gen), w).lines));
}

/** function_graph's lines a batch at a time (output/stream.ts), for `rings`. */
export function graphBatches(rings: readonly ThreadRing[]): BatchRenderer<GraphState> {
  const w = cpuWidth(rings);
  return {
    state: (r) => freshState(r.gen),
    lines: (r, items, st, stop) => {
      // Rendered without the side events; `next` is mapped back to the batch.
      const at: number[] = [];
      for (let i = 0; i < items.length; i++) if (items[i]!.lost > 0 || !OTLP_SIDE.has(items[i]!.type)) at.push(i);
      let upTo = 0;
      while (upTo < at.length && at[upTo]! < stop) upTo++;
      const { lines, next } = linesOf(r, at.map((i) => items[i]!), st, w, upTo);
      return { lines, next: next < at.length ? at[next]! : items.length };
    },
  };
}

const pipeStates = new Map<number, GraphState>();

/** What `trace_pipe` yields now for function_graph (at most `max` events a thread), consumed. */
export function graphPipe(rings: readonly ThreadRing[], max = Infinity): string {
  const w = cpuWidth(rings);
  return mergeLines(rings.map((r) => {
    let st = pipeStates.get(r.threadId);
    if (st === undefined || st.gen !== r.gen) {
      st = freshState(r.gen);
      pipeStates.set(r.threadId, st);
    }
    return linesOf(r, shown(consumeItems(r, max)), st, w).lines;
  }));
}
