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

import {
  ENT_RESUMED, EV_GRAPH_ARGS, EV_GRAPH_ENT, EV_GRAPH_RESUME_OF, EV_GRAPH_RET, EV_GRAPH_RETVAL, EV_GRAPH_THROW, EV_MARKER,
  EV_OTEL_PARENT, EV_STACK, options, OPT_CONTEXT_INFO,
  OPT_GRAPH_ABSTIME, OPT_GRAPH_CPU, OPT_GRAPH_DURATION, OPT_GRAPH_OVERHEAD, OPT_GRAPH_PROC, OPT_GRAPH_TAIL, RET_SUSPENDED,
  RET_THREW, RET_UNWOUND, type ThreadRing,
} from '../session.js';
import {
  Ahead, arraySource, consumeItems, durationMark, graphDuration, type Item, type ItemSource, type Line, type LineSource,
  linesOfSource, mergeLines, mergeTo, ringEvents, ringView, type Sink, stackLines, type ThreadEvents, type ThreadView, timestamp,
  toText,
} from './common.js';
import { lostLine } from './function.js';

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
}

function freshState(gen: number): GraphState {
  return { gen, enter: new Int32Array(RETFUNC_DEPTH).fill(NO_FUNC) };
}

function note(flags: number): string {
  if ((flags & RET_UNWOUND) !== 0) return 'unwound';
  if ((flags & RET_THREW) !== 0) return 'threw';
  return (flags & RET_SUSPENDED) !== 0 ? 'suspended' : '';
}

/**
 * Deeper calls are indented as this deep: a depth is a 32-bit field, and a
 * damaged or hostile trace must not turn one event into gigabytes of spaces.
 */
const MAX_INDENT_DEPTH = 1024;

function indent(depth: number): string {
  return ' '.repeat(Math.min(Math.max(0, depth), MAX_INDENT_DEPTH) * 2);
}

/** ftrace's print_graph_proc: `comm-pid` (comm cut to 7) centred in 7 columns, then ` | `. */
function procColumn(t: ThreadView): string {
  const text = `${t.name.slice(0, 7)}-${t.pid}`;
  const spaces = Math.max(0, 7 - text.length);
  return `${' '.repeat(spaces >> 1)}${text}${' '.repeat(spaces - (spaces >> 1))} | `;
}

const OTLP_SIDE = new Set([EV_OTEL_PARENT.id, EV_GRAPH_RESUME_OF.id, EV_GRAPH_THROW.id]);

/** The items without the side events of options/otlp (a notice of lost events stays). */
function withoutOtlpSide(items: ItemSource): ItemSource {
  return {
    next() {
      for (let it = items.next(); it !== null; it = items.next()) if (it.lost > 0 || !OTLP_SIDE.has(it.type)) return it;
      return null;
    },
  };
}

/** A thread's lines of the function_graph text, one at a time (`st` carries over between trace_pipe reads). */
function graphSource(t: ThreadView, items: ItemSource, st: GraphState, width: number): LineSource {
  const src = new Ahead(withoutOtlpSide(items));
  const ENT = EV_GRAPH_ENT.id;
  const RET = EV_GRAPH_RET.id;
  const opts = options();
  const ctx = (opts & OPT_CONTEXT_INFO) !== 0;
  const counts = t.counts;
  const cpu = ctx && (opts & OPT_GRAPH_CPU) !== 0 ? ` ${String(t.threadId).padStart(width)}) ` : '';
  const proc = ctx && (opts & OPT_GRAPH_PROC) !== 0 ? procColumn(t) : '';
  const abs = ctx && (opts & OPT_GRAPH_ABSTIME) !== 0;
  const showDur = ctx && (opts & OPT_GRAPH_DURATION) !== 0;
  const overhead = (opts & OPT_GRAPH_OVERHEAD) !== 0;
  const tailAlways = (opts & OPT_GRAPH_TAIL) !== 0;
  const prefix = (ts: number): string => `${abs ? `${timestamp(ts, counts).slice(1)} |  ` : ''}${cpu}${proc}`;
  const dur = (ns: number): string => (showDur ? `${overhead ? durationMark(ns) : ' '} ${graphDuration(ns)}|  ` : '');
  const noDur = showDur ? '              |  ' : '';
  const thread = t.threadId;
  const line = (ts: number, text: string): Line => ({ ts, thread, text });
  /** The value after the return at peek(k) (funcgraph-retval), or null. */
  const retvalAt = (k: number, func: number): string | null => {
    const nx = src.peek(k);
    return nx !== null && nx.lost === 0 && nx.type === EV_GRAPH_RETVAL.id && nx.a === func ? nx.text! : null;
  };
  // The depth a comment is indented to: that of the call running.
  let cur = 0;
  let args: Item | null = null;
  return {
    next() {
      for (let it = src.take(); it !== null; it = src.take()) {
        if (it.lost > 0) return line(src.lostTs(), lostLine(t, it.lost));
        if (it.type === EV_GRAPH_ARGS.id) {
          args = it;
          continue;
        }
        const myArgs = args !== null && it.type === ENT && args.a === it.a ? args.text! : '';
        args = null;
        if (it.type === EV_MARKER.id) return line(it.ts, `${prefix(it.ts)}${noDur}${indent(cur)}/* ${it.text!} */\n`);
        if (it.type === EV_STACK.id) return line(it.ts, `${prefix(it.ts)}${noDur}${indent(cur)}/* <stack trace> */\n${stackLines(it.text!)}`);
        if (it.type !== ENT && it.type !== RET) continue;
        const name = t.site(it.a);
        const depth = it.b;
        if (it.type === ENT) {
          const nx = src.peek(0);
          if (nx !== null && nx.lost === 0 && nx.type === RET && nx.a === it.a && nx.b === depth) {
            const rv = retvalAt(1, it.a);
            src.take();
            if (rv !== null) src.take();
            const parts = [(it.flags & ENT_RESUMED) !== 0 ? 'resumed' : ''];
            const n = note(nx.flags);
            if (rv !== null) parts.push(rv.startsWith('threw ') ? rv : n === '' ? `= ${rv}` : `${n}, = ${rv}`);
            else parts.push(n);
            const c = parts.filter((x) => x !== '').join(', ');
            if (depth >= 0 && depth < RETFUNC_DEPTH) st.enter[depth] = NO_FUNC;
            cur = depth;
            return line(it.ts, `${prefix(it.ts)}${dur(nx.c)}${indent(depth)}${name}(${myArgs});${c === '' ? '' : ` /* ${c} */`}\n`);
          }
          if (depth >= 0 && depth < RETFUNC_DEPTH) st.enter[depth] = it.a;
          const resumed = (it.flags & ENT_RESUMED) !== 0 ? ' /* resumed */' : '';
          cur = depth + 1;
          return line(it.ts, `${prefix(it.ts)}${noDur}${indent(depth)}${name}(${myArgs}) {${resumed}\n`);
        }
        let match = true;
        if (depth >= 0 && depth < RETFUNC_DEPTH) {
          match = st.enter[depth] === it.a;
          st.enter[depth] = NO_FUNC;
        }
        const rv = retvalAt(0, it.a);
        if (rv !== null) src.take();
        const n = note(it.flags);
        let tail = '';
        if (rv !== null) tail = ` /* ${name} ${rv.startsWith('threw ') ? rv : n === '' ? `= ${rv}` : `${n}, = ${rv}`} */`;
        else if (n !== '') tail = ` /* ${name} ${n} */`;
        else if (!match || tailAlways) tail = ` /* ${name} */`;
        cur = depth;
        return line(it.ts, `${prefix(it.ts)}${dur(it.c)}${indent(depth)}}${tail}\n`);
      }
      return null;
    },
  };
}

/** The width of the CPU column: the digits of the largest thread id. */
export function cpuWidth(threads: readonly { threadId: number }[]): number {
  let max = 0;
  for (const r of threads) max = Math.max(max, r.threadId);
  return String(max).length;
}

/** The function_graph text of `threads`, merged by time, to `sink`. */
export function graphTraceTo(threads: readonly ThreadEvents[], sink: Sink): void {
  const w = cpuWidth(threads.map((t) => t.view));
  sink.write(graphHeader());
  mergeTo(threads.map((t) => graphSource(t.view, t.open(), freshState(0), w)), sink);
}

/** The `trace` file for function_graph. */
export function graphTrace(rings: readonly ThreadRing[]): string {
  return toText((sink) => graphTraceTo(rings.map(ringEvents), sink));
}

const pipeStates = new Map<number, GraphState>();

/** What `trace_pipe` yields now for function_graph, consumed. */
export function graphPipe(rings: readonly ThreadRing[]): string {
  const w = cpuWidth(rings);
  return mergeLines(rings.map((r) => {
    let st = pipeStates.get(r.threadId);
    if (st === undefined || st.gen !== r.gen) {
      st = freshState(r.gen);
      pipeStates.set(r.threadId, st);
    }
    return linesOfSource(graphSource(ringView(r), arraySource(consumeItems(r)), st, w));
  }));
}
