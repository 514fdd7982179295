/**
 * Calls from function_graph events: pairs each thread's entries and exits
 * into a tree of calls with start and end times, for the outputs that draw
 * time (perfetto.ts, folded.ts, flamegraph.ts). Reads rings through
 * common.ts's `snapshotItems` (non-consuming, as `trace`), never by itself.
 *
 * Owns: nothing kept between calls; every decode starts from the ring.
 * Invariants:
 * - calls of one thread nest: a child's [start, end] lies within its
 *   parent's (a parent's end is raised to its last child's end if clock
 *   skew between the writes would put it earlier), and siblings are in
 *   order of start;
 * - an exit closes the open entry of the same function at the same depth
 *   (graph.ts gives each exit its entry's depth, also after throws); open
 *   entries deeper than an exit, or of another function at its depth, or as
 *   deep as a new entry, never got their
 *   exit into the buffer (tracing_on turned off, producer mode refusing,
 *   buffers lost) and are closed as `open` at the last time known inside
 *   them; so are entries still open when the buffer ends;
 * - an exit whose entry is not in the buffer (overwritten, tracing_thresh)
 *   is a call from `exit - duration` to `exit`; the calls just before it
 *   that are deeper and not yet placed become its children, so that
 *   returns-only traces (tracing_thresh) still give stacks. A level whose
 *   call was not written is then missing from those stacks;
 * - an async function or generator is one call per part that ran: a part
 *   ends `suspended` at an await or a yield, the next begins where it
 *   resumes (`resumed`); the last part ends at its return, though that
 *   return's duration (as the text shows it) is the whole call's.
 */

import { ENT_RESUMED, EV_GRAPH_ENT, EV_GRAPH_RET, RET_SUSPENDED, RET_THREW, RET_UNWOUND, type ThreadRing } from '../session.js';
import { ringStats } from '../../ring/index.js';
import { type Item, siteName, snapshotItems } from './common.js';

/**
 * How a call (or the part of an async call that ran) ended: normally, by
 * throwing, abandoned by the core (UNWOUND), suspended at an await or a
 * yield (the call goes on in a later part), or not in the buffer.
 */
export type CallExit = 'return' | 'threw' | 'unwound' | 'suspended' | 'open';

/** One call (or part of an async call): what the walker hands out as it closes. */
export interface ClosedCall {
  site: number;
  depth: number;
  /** Clock units of the ring (ns, or counts under `counter`). */
  start: number;
  end: number;
  exit: CallExit;
  /** False when only the exit was in the buffer (start = exit - duration). */
  entrySeen: boolean;
  /** A part of an async call or generator that began where it resumed. */
  resumed: boolean;
}

/** A call in the in-memory tree, with its name and its callees. */
export interface Call extends ClosedCall {
  name: string;
  children: Call[];
}

export interface ThreadCalls {
  threadId: number;
  /** The thread's comm (`node`, `worker` or its chosen name). */
  name: string;
  /** True when the ring's clock counts (`counter`): times are counts, not ns. */
  counts: boolean;
  /** Top-level calls in order of start. */
  roots: Call[];
  /**
   * Events the ring lost since it was made (overwritten, or refused in
   * producer mode): calls around them may lack their entry or exit.
   */
  lost: number;
}

/** Decodes a thread's graph events (all of them when `items` is not given). */
export function threadCalls(r: ThreadRing, items: readonly Item[] = snapshotItems(r.ring)): ThreadCalls {
  const ENT = EV_GRAPH_ENT.id;
  const RET = EV_GRAPH_RET.id;
  const roots: Call[] = [];
  const stack: Call[] = [];
  let last = Number.NEGATIVE_INFINITY;

  const siblings = (): Call[] => (stack.length > 0 ? stack[stack.length - 1]!.children : roots);
  const close = (c: Call): void => {
    const kids = c.children;
    if (kids.length > 0) c.end = Math.max(c.end, kids[kids.length - 1]!.end);
    siblings().push(c);
  };
  // An entry left open: its exit never reached the buffer.
  const abandon = (): void => {
    const c = stack.pop()!;
    c.end = Math.max(c.start, last);
    close(c);
  };

  for (const it of items) {
    // Matching by (function, depth) survives a gap: nothing to reset there.
    if (it.lost > 0) continue;
    if (it.type === ENT) {
      while (stack.length > 0 && stack[stack.length - 1]!.depth >= it.b) abandon();
      stack.push({
        site: it.a, name: siteName(it.a), depth: it.b, start: it.ts, end: it.ts, exit: 'open', entrySeen: true,
        resumed: (it.flags & ENT_RESUMED) !== 0, children: [],
      });
      last = Math.max(last, it.ts);
    } else if (it.type === RET) {
      // Open entries deeper than this exit, or of another function at its
      // depth, are over: their exits did not reach the buffer.
      for (let top = stack[stack.length - 1]; top !== undefined && (top.depth > it.b || (top.depth === it.b && top.site !== it.a));
        top = stack[stack.length - 1]) abandon();
      const suspended = (it.flags & RET_SUSPENDED) !== 0;
      const exit: CallExit = (it.flags & RET_UNWOUND) !== 0 ? 'unwound' : (it.flags & RET_THREW) !== 0 ? 'threw'
        : suspended ? 'suspended' : 'return';
      const top = stack[stack.length - 1];
      if (top !== undefined && top.depth === it.b && top.site === it.a) {
        stack.pop();
        // The last return of a call that resumed carries the whole call's
        // duration (the text shows it); this part ends at the return itself.
        top.end = top.resumed && !suspended ? Math.max(top.start, it.ts) : top.start + it.c;
        top.exit = exit;
        close(top);
      } else {
        // No entry: adopt the deeper calls placed since the last call at this depth or above.
        const sib = siblings();
        let k = sib.length;
        while (k > 0 && sib[k - 1]!.depth > it.b) k--;
        const start = Math.min(it.ts - it.c, k < sib.length ? sib[k]!.start : Number.POSITIVE_INFINITY);
        const c: Call = {
          site: it.a, name: siteName(it.a), depth: it.b, start, end: it.ts, exit, entrySeen: false, resumed: false, children: sib.splice(k),
        };
        close(c);
      }
      last = Math.max(last, it.ts);
    }
  }
  while (stack.length > 0) abandon();
  const st = ringStats(r.ring);
  return { threadId: r.threadId, name: r.name, counts: r.ring.clockName === 'counter', roots, lost: st.overrun + st.dropped };
}

/** A call's time not spent in its children (never negative). */
export function selfTime(c: Call): number {
  let t = c.end - c.start;
  for (const k of c.children) t -= k.end - k.start;
  return Math.max(0, t);
}

/** Visits calls depth-first, parents before children, with the names of the frames above. */
export function walkCalls(roots: readonly Call[], visit: (c: Call, path: readonly string[]) => void): void {
  const path: string[] = [];
  const go = (cs: readonly Call[]): void => {
    for (const c of cs) {
      path.push(c.name);
      visit(c, path);
      go(c.children);
      path.pop();
    }
  };
  go(roots);
}

/** A node of folded stacks: a frame under its parent, with the self time of the calls at that stack. */
export interface FoldNode {
  name: string;
  self: number;
  kids: Map<string, FoldNode>;
}

export function foldNode(name: string): FoldNode {
  return { name, self: 0, kids: new Map() };
}

/** The child `name` of `parent`, made if needed. */
export function foldChild(parent: FoldNode, name: string): FoldNode {
  let k = parent.kids.get(name);
  if (k === undefined) {
    k = foldNode(name);
    parent.kids.set(name, k);
  }
  return k;
}

/** Adds `frag` (a node and its subtree) under `parent`, merging with a child of the same name. */
export function graft(parent: FoldNode, frag: FoldNode): void {
  // With an explicit stack: a recursion thousands of calls deep folds into a subtree as deep.
  const work: [FoldNode, FoldNode][] = [[parent, frag]];
  for (let w = work.pop(); w !== undefined; w = work.pop()) {
    const [into, f] = w;
    const have = into.kids.get(f.name);
    if (have === undefined) {
      into.kids.set(f.name, f);
      continue;
    }
    have.self += f.self;
    for (const k of f.kids.values()) work.push([have, k]);
  }
}

function byName(a: FoldNode, b: FoldNode): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Visits a tree of frames depth first, parents before children, siblings
 * in name order (code units), with the path of names; iterative, so any
 * depth is walked. `visit` returns false to skip a node's children.
 */
export function walkFold(root: FoldNode, visit: (n: FoldNode, path: readonly string[]) => boolean | void): void {
  const path: string[] = [];
  const work: (FoldNode | null)[] = [...[...root.kids.values()].sort(byName).reverse()];
  for (let n = work.pop(); n !== undefined; n = work.pop()) {
    if (n === null) {
      path.pop();
      continue;
    }
    path.push(n.name);
    if (visit(n, path) === false) {
      path.pop();
      continue;
    }
    work.push(null);
    if (n.kids.size > 0) work.push(...[...n.kids.values()].sort(byName).reverse());
  }
}

/** Closed calls deeper than their parent's children, kept together until an exit without entry adopts them. */
interface Group {
  depth: number;
  start: number;
  end: number;
  /** Their durations, summed. */
  time: number;
  nodes: FoldNode[];
}

interface Frame {
  site: number;
  depth: number;
  start: number;
  resumed: boolean;
  /** Latest end of a closed child, and the children's durations summed. */
  childEnd: number;
  childTime: number;
  node: FoldNode | null;
  /** Deeper than its parent's children (an entry after a gap): its calls may be adopted later. */
  detached: boolean;
  /** Its node is already in its parent's (an entry's node is found under the parent's at once). */
  attached: boolean;
  groups: Group[];
}

/**
 * Calls from one thread's function_graph events in one pass, in memory
 * bounded by the call depth (and, when folding, by the distinct stacks):
 * the same calls as threadCalls, with the same rules for missing entries
 * and exits, but handed out as they close (children before their parents)
 * instead of kept as a tree. Calls that an exit without entry will adopt
 * are kept as groups, one per depth, whose folded subtrees are joined.
 */
export class CallWalker {
  /** Called at each entry seen (in time order). */
  onEnter: ((site: number, ts: number, depth: number, resumed: boolean) => void) | null = null;
  /** Called as each call closes. */
  onCall: ((c: ClosedCall) => void) | null = null;
  private readonly stack: Frame[] = [];
  private readonly root: Frame;
  private last = Number.NEGATIVE_INFINITY;
  private readonly names: ((site: number) => string) | null;

  /** With `fold` (a root node and the frame name of a site), self times are added to the stacks under it. */
  constructor(fold: { root: FoldNode; name: (site: number) => string } | null = null) {
    this.names = fold?.name ?? null;
    this.root = {
      site: -1, depth: -1, start: 0, resumed: false, childEnd: Number.NEGATIVE_INFINITY, childTime: 0, node: fold?.root ?? null,
      detached: false, attached: true, groups: [],
    };
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1] ?? this.root;
  }

  push(it: Item): void {
    if (it.lost > 0) return; // matching by (function, depth) survives a gap
    if (it.type === EV_GRAPH_ENT.id) this.enter(it);
    else if (it.type === EV_GRAPH_RET.id) this.exit(it);
  }

  private enter(it: Item): void {
    while (this.stack.length > 0 && this.top().depth >= it.b) this.abandon();
    const parent = this.top();
    const detached = it.b > parent.depth + 1;
    let node: FoldNode | null = null;
    if (this.names !== null) node = detached || parent.node === null ? foldNode(this.names(it.a)) : foldChild(parent.node, this.names(it.a));
    const resumed = (it.flags & ENT_RESUMED) !== 0;
    this.stack.push({
      site: it.a, depth: it.b, start: it.ts, resumed, childEnd: Number.NEGATIVE_INFINITY, childTime: 0, node, detached,
      attached: !detached, groups: [],
    });
    this.last = Math.max(this.last, it.ts);
    this.onEnter?.(it.a, it.ts, it.b, resumed);
  }

  private exit(it: Item): void {
    for (let t = this.stack[this.stack.length - 1]; t !== undefined && (t.depth > it.b || (t.depth === it.b && t.site !== it.a));
      t = this.stack[this.stack.length - 1]) this.abandon();
    const suspended = (it.flags & RET_SUSPENDED) !== 0;
    const exit: CallExit = (it.flags & RET_UNWOUND) !== 0 ? 'unwound' : (it.flags & RET_THREW) !== 0 ? 'threw'
      : suspended ? 'suspended' : 'return';
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined && top.depth === it.b && top.site === it.a) {
      this.stack.pop();
      // The last return of a call that resumed carries the whole call's duration; this part ends at the return.
      this.close(top, top.resumed && !suspended ? Math.max(top.start, it.ts) : top.start + it.c, exit, true);
    } else {
      // No entry: adopt the deeper calls closed since the last call at this depth or above.
      const parent = this.top();
      let start = it.ts - it.c;
      let childTime = 0;
      let childEnd = Number.NEGATIVE_INFINITY;
      const node = this.names === null ? null : foldNode(this.names(it.a));
      while (parent.groups.length > 0 && parent.groups[parent.groups.length - 1]!.depth > it.b) {
        const g = parent.groups.pop()!;
        start = Math.min(start, g.start);
        childEnd = Math.max(childEnd, g.end);
        childTime += g.time;
        parent.childTime -= g.time;
        if (node !== null) for (const n of g.nodes) graft(node, n);
      }
      this.close({
        site: it.a, depth: it.b, start, resumed: false, childEnd, childTime, node, detached: it.b > parent.depth + 1, attached: false, groups: [],
      }, it.ts, exit, false);
    }
    this.last = Math.max(this.last, it.ts);
  }

  /** An entry left open: its exit never reached the buffer. */
  private abandon(): void {
    const f = this.stack.pop()!;
    this.close(f, Math.max(f.start, this.last), 'open', true);
  }

  private finalize(f: Frame): void {
    if (f.node !== null) for (const g of f.groups) for (const n of g.nodes) graft(f.node, n);
    f.groups.length = 0;
  }

  private close(f: Frame, endAt: number, exit: CallExit, entrySeen: boolean): void {
    const end = Math.max(endAt, f.childEnd);
    this.finalize(f);
    if (f.node !== null) f.node.self += Math.max(0, end - f.start - f.childTime);
    this.onCall?.({ site: f.site, depth: f.depth, start: f.start, end, exit, entrySeen, resumed: f.resumed });
    const parent = this.top();
    parent.childEnd = Math.max(parent.childEnd, end);
    parent.childTime += end - f.start;
    if (f.detached) {
      const g: Group = { depth: f.depth, start: f.start, end, time: end - f.start, nodes: f.node === null ? [] : [f.node] };
      // Groups as deep or deeper than this one can only be adopted with it: one group.
      while (parent.groups.length > 0 && parent.groups[parent.groups.length - 1]!.depth >= g.depth) {
        const h = parent.groups.pop()!;
        g.start = Math.min(g.start, h.start);
        g.end = Math.max(g.end, h.end);
        g.time += h.time;
        g.nodes = [...h.nodes, ...g.nodes];
      }
      parent.groups.push(g);
      return;
    }
    // A call at its parent's children's depth: no later exit can adopt the groups before it.
    this.finalize(parent);
    if (!f.attached && f.node !== null && parent.node !== null) graft(parent.node, f.node);
  }

  /** Closes what is still open (the buffer ended inside it). */
  end(): void {
    while (this.stack.length > 0) this.abandon();
    this.finalize(this.root);
  }
}
