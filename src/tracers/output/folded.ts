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
 * and the tests). Invariants: each stack appears once, in tree order (a
 * stack before those that extend it, siblings in name order: what a
 * depth-first walk of the merged stacks gives, so the text is written line
 * by line from the tree, never held whole; tools that need another order,
 * flamegraph.pl among them, sort themselves); stacks of weight 0 are left out (they draw
 * nothing); a frame name never contains `;` (it becomes `,`) nor a line
 * break (a space), which the format cannot carry.
 */

import { currentRings, EV_FUNCTION, EV_GRAPH_ENT, EV_GRAPH_RET, type ThreadRing } from '../session.js';
import { CallWalker, foldChild, foldNode, type FoldNode, type ThreadCalls, selfTime, walkCalls, walkFold } from './calls.js';
import { arraySource, ringView, snapshotItems, type ItemSource, type Sink, type ThreadView } from './common.js';

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

  /** The stacks, in tree order (see foldedTo). */
  profile(): FoldedProfile {
    return { unit: this.unit(), stacks: stacksOf(this.root) };
  }

  /** The folded text, one line at a time to `sink`: memory is the tree's, not the text's. */
  writeTo(sink: Sink): void {
    foldedTo(this.root, sink);
  }
}

/**
 * The stacks of a tree of frames in tree order: a stack before the stacks
 * that extend it, siblings in name order (code units). Stacks of weight 0
 * are left out.
 */
export function stacksOf(root: FoldNode): FoldedStack[] {
  const out: FoldedStack[] = [];
  walkFold(root, (n, path) => {
    const w = Math.round(n.self);
    if (w > 0) out.push({ frames: [...path], weight: w });
  });
  return out;
}

/** The folded text of a tree of frames, line by line, in stacksOf's order. */
export function foldedTo(root: FoldNode, sink: Sink): void {
  walkFold(root, (n, path) => {
    const w = Math.round(n.self);
    if (w > 0) sink.write(`${path.join(';')} ${w}\n`);
  });
}

/** A tree of frames from stacks and their weights (equal stacks summed). */
function treeOf(stacks: Iterable<[string[], number]>): FoldNode {
  const root = foldNode('');
  for (const [frames, w] of stacks) {
    let n = root;
    for (const f of frames) n = foldChild(n, f);
    n.self += w;
  }
  return root;
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
  return { unit: counts ? 'counts' : 'ns', stacks: stacksOf(treeOf([...sums].map(([k, w]): [string[], number] => [k.split(';'), w]))) };
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
  return { unit, stacks: stacksOf(treeOf([...sums].map(([k, w]): [string[], number] => [k.split(';'), w]))) };
}
