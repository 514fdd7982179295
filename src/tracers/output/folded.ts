/**
 * Folded stacks (the input format of flame graph tools): one line per
 * distinct stack, `frame;frame;frame weight`, frames outermost first.
 *
 * - From function_graph events, the weight is self time: the time of the
 *   calls with that stack not spent in their traced children, in ns (counts
 *   under the `counter` clock), rounded to integers.
 * - From function events, only calls and their caller are known, not whole
 *   stacks nor time: each line is `caller;callee` (or `callee` when the
 *   caller was not traced) weighted by the number of such calls. Read it as
 *   a call graph one level deep, not as time.
 *
 * Owns: the folding and its text (and parsing it back, for the flame graph
 * and the tests). Invariants: lines are sorted by stack (code unit order)
 * and each stack appears once; stacks of weight 0 are left out (they draw
 * nothing); a frame name never contains `;` (it becomes `,`) nor a line
 * break (a space), which the format cannot carry.
 */

import { currentRings, EV_FUNCTION, EV_GRAPH_ENT, EV_GRAPH_RET, type ThreadRing } from '../session.js';
import { type ThreadCalls, selfTime, threadCalls, walkCalls } from './calls.js';
import { siteName, snapshotItems } from './common.js';

/** What the weights count: nanoseconds of self time, clock counts (`counter`), or calls. */
export type FoldedUnit = 'ns' | 'counts' | 'calls';

export interface FoldedStack {
  frames: string[];
  weight: number;
}

export interface FoldedProfile {
  unit: FoldedUnit;
  /** Sorted by stack, one entry per stack, weights > 0. */
  stacks: FoldedStack[];
}

export interface FoldOptions {
  /** Start every stack with a frame naming the thread (`comm-tid`), as stackcollapse-perf's --pid does. */
  threads?: boolean;
}

/** A frame name the format can carry. */
export function frameName(name: string): string {
  return name.replace(/;/g, ',').replace(/[\r\n]+/g, ' ');
}

function finish(unit: FoldedUnit, sums: Map<string, number>): FoldedProfile {
  const stacks: FoldedStack[] = [];
  for (const key of [...sums.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const weight = Math.round(sums.get(key)!);
    if (weight > 0) stacks.push({ frames: key.split(';'), weight });
  }
  return { unit, stacks };
}

/** Folds decoded function_graph threads by self time. */
export function foldCalls(threads: readonly ThreadCalls[], opts: FoldOptions = {}): FoldedProfile {
  const sums = new Map<string, number>();
  let counts = false;
  for (const t of threads) {
    counts ||= t.counts;
    const head = opts.threads === true ? [frameName(`${t.name}-${t.threadId}`)] : [];
    walkCalls(t.roots, (c, path) => {
      const key = [...head, ...path.map(frameName)].join(';');
      sums.set(key, (sums.get(key) ?? 0) + selfTime(c));
    });
  }
  return finish(counts ? 'counts' : 'ns', sums);
}

/**
 * Folds what the rings hold: function_graph events by self time, or
 * function events by calls (caller;callee). A buffer has one tracer's
 * events; if graph events are present, they are used.
 */
export function foldStacks(rings: readonly ThreadRing[], opts: FoldOptions = {}): FoldedProfile {
  const perRing = rings.map((r) => ({ r, items: snapshotItems(r.ring) }));
  const graph = perRing.some(({ items }) => items.some((i) => i.lost === 0 && (i.type === EV_GRAPH_ENT.id || i.type === EV_GRAPH_RET.id)));
  if (graph) return foldCalls(perRing.map(({ r, items }) => threadCalls(r, items)), opts);
  const sums = new Map<string, number>();
  for (const { r, items } of perRing) {
    const head = opts.threads === true ? [frameName(`${r.name}-${r.threadId}`)] : [];
    for (const it of items) {
      if (it.lost > 0 || it.type !== EV_FUNCTION.id) continue;
      // parent_ip is -1 when the caller was not traced.
      const parent = it.b;
      const frames = parent < 0 ? [siteName(it.a)] : [siteName(parent), siteName(it.a)];
      const key = [...head, ...frames.map(frameName)].join(';');
      sums.set(key, (sums.get(key) ?? 0) + 1);
    }
  }
  return finish('calls', sums);
}

/** Every thread's current buffer, folded (non-consuming, as `trace`). */
export async function readFolded(opts: FoldOptions = {}): Promise<FoldedProfile> {
  return foldStacks(await currentRings(), opts);
}

/** The folded text: `a;b;c 123\n` per stack. */
export function foldedText(p: FoldedProfile): string {
  return p.stacks.map((s) => `${s.frames.join(';')} ${s.weight}\n`).join('');
}

/**
 * Reads folded text back (any tool's): the weight is the last space
 * separated field; equal stacks are summed; lines without a weight are
 * skipped. The unit is not in the format: the caller says it.
 */
export function parseFolded(text: string, unit: FoldedUnit = 'ns'): FoldedProfile {
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(.*\S)\s+(\d+(?:\.\d+)?)\s*$/.exec(line);
    if (m === null) continue;
    sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return finish(unit, sums);
}
