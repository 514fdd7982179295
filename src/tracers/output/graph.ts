/**
 * The `trace` and `trace_pipe` text of the function_graph tracer, in
 * ftrace's function_graph format (default options: funcgraph-cpu,
 * -overhead, -duration on; -proc, -abstime, -tail off).
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
 *   call that threw, `} /* func threw *\/` and `func(); /* threw *\/`.
 * The CPU column shows the thread id, width the digits of the largest.
 */

import { EV_GRAPH_ENT, EV_GRAPH_RET, RET_THREW, RET_UNWOUND, type ThreadRing } from '../session.js';
import {
  consumeItems, durationMark, graphDuration, type Item, type Line, mergeLines, placeLost, siteName, snapshotItems,
} from './common.js';
import { lostLine } from './function.js';

/** ftrace's FTRACE_RETFUNC_DEPTH: how deep `}` is matched to its entry. */
const RETFUNC_DEPTH = 50;
const NO_FUNC = -1;

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
  return (flags & RET_UNWOUND) !== 0 ? 'unwound' : (flags & RET_THREW) !== 0 ? 'threw' : '';
}

function indent(depth: number): string {
  return ' '.repeat(Math.max(0, depth) * 2);
}

function linesOf(r: ThreadRing, items: Item[], st: GraphState, width: number): Line[] {
  placeLost(items);
  const ENT = EV_GRAPH_ENT.id;
  const RET = EV_GRAPH_RET.id;
  const cpu = ` ${String(r.threadId).padStart(width)}) `;
  const out: Line[] = [];
  const dur = (ns: number): string => `${durationMark(ns)} ${graphDuration(ns)}|  `;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    if (it.lost > 0) {
      out.push({ ts: it.ts, thread: r.threadId, text: lostLine(r, it.lost) });
      continue;
    }
    const name = siteName(it.a);
    const depth = it.b;
    if (it.type === ENT) {
      const nx = items[i + 1];
      if (nx !== undefined && nx.lost === 0 && nx.type === RET && nx.a === it.a && nx.b === depth) {
        const n = note(nx.flags);
        out.push({ ts: it.ts, thread: r.threadId, text: `${cpu}${dur(nx.c)}${indent(depth)}${name}();${n === '' ? '' : ` /* ${n} */`}\n` });
        if (depth >= 0 && depth < RETFUNC_DEPTH) st.enter[depth] = NO_FUNC;
        i++;
        continue;
      }
      if (depth >= 0 && depth < RETFUNC_DEPTH) st.enter[depth] = it.a;
      out.push({ ts: it.ts, thread: r.threadId, text: `${cpu}              |  ${indent(depth)}${name}() {\n` });
    } else if (it.type === RET) {
      let match = true;
      if (depth >= 0 && depth < RETFUNC_DEPTH) {
        match = st.enter[depth] === it.a;
        st.enter[depth] = NO_FUNC;
      }
      const n = note(it.flags);
      const tail = n !== '' ? ` /* ${name} ${n} */` : match ? '' : ` /* ${name} */`;
      out.push({ ts: it.ts, thread: r.threadId, text: `${cpu}${dur(it.c)}${indent(depth)}}${tail}\n` });
    }
  }
  return out;
}

function cpuWidth(rings: readonly ThreadRing[]): number {
  let max = 0;
  for (const r of rings) max = Math.max(max, r.threadId);
  return String(max).length;
}

/** The `trace` file for function_graph. */
export function graphTrace(rings: readonly ThreadRing[]): string {
  const w = cpuWidth(rings);
  return GRAPH_HEADER + mergeLines(rings.map((r) => linesOf(r, snapshotItems(r.ring), freshState(r.gen), w)));
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
    return linesOf(r, consumeItems(r), st, w);
  }));
}
