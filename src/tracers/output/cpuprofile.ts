/**
 * function_graph's calls as a `.cpuprofile`: the Profile of the DevTools
 * protocol (Profiler.Profile: nodes, samples, timeDeltas, startTime,
 * endTime, times in µs), which Chrome DevTools, VS Code and speedscope open.
 *
 * Owns: turning one thread's calls into that sampled shape. A trace is not
 * sampled, it knows every call; so each stretch of time between two
 * events becomes one sample of the stack running then (a node per distinct
 * stack, `(idle)` when no traced call runs), lasting until the next: a
 * consumer's self and total times are then the trace's, to the float
 * precision of µs written as decimals. Invariants: one pass over the
 * thread's events in time order; memory is the node tree (the distinct
 * stacks) and the samples (two numbers per event: the format holds them
 * in one array, so the text is written once they are all known).
 * Stack rules as the graph text's: an entry at depth d ends what was open
 * at d and deeper; a return at depth d ends d and deeper; an async call's
 * parts are samples of the stack where each part ran.
 */

import { EV_GRAPH_ENT, EV_GRAPH_RET } from '../session.js';
import type { Sink, ThreadEvents } from './common.js';

interface Node {
  id: number;
  name: string;
  children: Map<string, Node>;
}

/** `file:name` as DevTools' call frame: the function's name, and the file as its url. */
function callFrame(display: string, scripts: Map<string, number>): { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number } {
  if (display.startsWith('(')) return { functionName: display, scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 };
  const colon = display.indexOf(':');
  const file = colon < 0 ? '' : display.slice(0, colon);
  const fn = colon < 0 ? display : display.slice(colon + 1);
  let id = scripts.get(file);
  if (id === undefined) {
    id = scripts.size + 1;
    scripts.set(file, id);
  }
  return { functionName: fn, scriptId: String(id), url: file, lineNumber: -1, columnNumber: -1 };
}

/** One thread's calls as a .cpuprofile (JSON text) to `sink`. */
export function cpuProfileTo(thread: ThreadEvents, sink: Sink): void {
  const ENT = EV_GRAPH_ENT.id;
  const RET = EV_GRAPH_RET.id;
  let nextId = 1;
  const root: Node = { id: nextId++, name: '(root)', children: new Map() };
  const idle: Node = { id: nextId++, name: '(idle)', children: new Map() };
  root.children.set(idle.name, idle);
  const stack: Node[] = [];
  const samples: number[] = [];
  const deltas: number[] = [];
  let first = Number.NaN;
  let last = Number.NaN;
  // The stack after the last event, running from its time until the next event's.
  let pending: Node | null = null;
  let prev = Number.NaN;
  const emit = (node: Node, at: number): void => {
    samples.push(node.id);
    deltas.push((at - prev) / 1000);
    prev = at;
  };
  const site = thread.view.site;
  const src = thread.open();
  for (let it = src.next(); it !== null; it = src.next()) {
    if (it.lost > 0 || (it.type !== ENT && it.type !== RET)) continue;
    if (Number.isNaN(first)) first = prev = it.ts;
    // A state that lasted no time (several events at one timestamp) is no sample.
    if (pending !== null && it.ts > last) emit(pending, last);
    const d = Math.max(0, it.b);
    if (stack.length > d) stack.length = d;
    if (it.type === ENT) {
      // An entry deeper than the stack (its callers' entries were not read) hangs from the deepest known.
      const parent = stack.length > 0 ? stack[stack.length - 1]! : root;
      const name = site(it.a);
      let n = parent.children.get(name);
      if (n === undefined) {
        n = { id: nextId++, name, children: new Map() };
        parent.children.set(name, n);
      }
      stack.push(n);
    }
    pending = stack.length > 0 ? stack[stack.length - 1]! : idle;
    last = Math.max(Number.isNaN(last) ? it.ts : last, it.ts);
  }
  // The last state lasts no time: the sample before it runs to the end.
  const start = Number.isNaN(first) ? 0 : first / 1000;
  const end = Number.isNaN(last) ? 0 : last / 1000;
  const scripts = new Map<string, number>();
  sink.write('{"nodes":[');
  // Nodes in preorder, children by name; each with its children's ids.
  const work: Node[] = [root];
  let comma = '';
  for (let n = work.pop(); n !== undefined; n = work.pop()) {
    const kids = [...n.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const node = { id: n.id, callFrame: callFrame(n.name, scripts), hitCount: 0, children: kids.map((k) => k.id) };
    sink.write(comma + JSON.stringify(node));
    comma = ',';
    for (let k = kids.length - 1; k >= 0; k--) work.push(kids[k]!);
  }
  sink.write(`],"startTime":${start},"endTime":${end},"samples":[`);
  for (let i = 0; i < samples.length; i += 4096) sink.write((i > 0 ? ',' : '') + samples.slice(i, i + 4096).join(','));
  sink.write('],"timeDeltas":[');
  for (let i = 0; i < deltas.length; i += 4096) sink.write((i > 0 ? ',' : '') + deltas.slice(i, i + 4096).join(','));
  sink.write(']}\n');
}
