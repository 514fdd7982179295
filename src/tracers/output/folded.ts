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
import { CallWalker, foldChild, foldNode, type FoldNode, type ThreadCalls, selfTime, walkCalls } from './calls.js';
import { arraySource, ringView, snapshotItems, type ItemSource, type ThreadView } from './common.js';

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

function byStack(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Folds threads one at a time into one tree of frames, whose size is the
 * number of distinct stacks, not of events: function_graph events by self
 * time (CallWalker), function events by calls (caller;callee).
 */
export class Folder {
  readonly root = foldNode('');
  private graph = false;
  private counts = false;
  private readonly threads: boolean;

  constructor(opts: FoldOptions = {}) {
    this.threads = opts.threads === true;
  }

  /** Folds one thread's events; `site` names a site in frames. */
  add(t: ThreadView, items: ItemSource): void {
    const head = this.threads ? foldChild(this.root, frameName(`${t.name}-${t.threadId}`)) : this.root;
    const names = new Map<number, string>();
    const name = (id: number): string => {
      let n = names.get(id);
      if (n === undefined) {
        n = frameName(t.site(id));
        names.set(id, n);
      }
      return n;
    };
    const walker = new CallWalker({ root: head, name });
    const FN = EV_FUNCTION.id;
    const ENT = EV_GRAPH_ENT.id;
    const RET = EV_GRAPH_RET.id;
    for (let it = items.next(); it !== null; it = items.next()) {
      if (it.lost > 0) continue;
      if (it.type === ENT || it.type === RET) {
        this.graph = true;
        this.counts ||= t.counts;
        walker.push(it);
      } else if (it.type === FN) {
        // parent_ip is -1 when the caller was not traced.
        const n = it.b < 0 ? foldChild(head, name(it.a)) : foldChild(foldChild(head, name(it.b)), name(it.a));
        n.self += 1;
      }
    }
    walker.end();
  }

  /** What the weights count: a buffer has one tracer's events; graph events, if any, give the unit. */
  unit(): FoldedUnit {
    return this.graph ? (this.counts ? 'counts' : 'ns') : 'calls';
  }

  /** The stacks, sorted. */
  profile(): FoldedProfile {
    const out: [string, number][] = [];
    const path: string[] = [];
    const walk = (n: FoldNode): void => {
      for (const k of n.kids.values()) {
        path.push(k.name);
        const w = Math.round(k.self);
        if (w > 0) out.push([path.join(';'), w]);
        walk(k);
        path.pop();
      }
    };
    walk(this.root);
    out.sort((a, b) => byStack(a[0], b[0]));
    return { unit: this.unit(), stacks: out.map(([k, weight]) => ({ frames: k.split(';'), weight })) };
  }
}

/** Folds decoded function_graph threads by self time (the in-memory tree's way; tests compare the two). */
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
  const stacks: FoldedStack[] = [];
  for (const key of [...sums.keys()].sort(byStack)) {
    const weight = Math.round(sums.get(key)!);
    if (weight > 0) stacks.push({ frames: key.split(';'), weight });
  }
  return { unit: counts ? 'counts' : 'ns', stacks };
}

/**
 * Folds what the rings hold: function_graph events by self time, or
 * function events by calls (caller;callee).
 */
export function foldStacks(rings: readonly ThreadRing[], opts: FoldOptions = {}): FoldedProfile {
  const f = new Folder(opts);
  for (const r of rings) f.add(ringView(r), arraySource(snapshotItems(r.ring)));
  return f.profile();
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
  const stacks: FoldedStack[] = [];
  for (const key of [...sums.keys()].sort(byStack)) {
    const weight = Math.round(sums.get(key)!);
    if (weight > 0) stacks.push({ frames: key.split(';'), weight });
  }
  return { unit, stacks };
}
