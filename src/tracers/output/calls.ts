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

export interface Call {
  site: number;
  name: string;
  depth: number;
  /** Clock units of the ring (ns, or counts under `counter`). */
  start: number;
  end: number;
  exit: CallExit;
  /** False when only the exit was in the buffer (start = exit - duration). */
  entrySeen: boolean;
  /** A part of an async call or generator that began where it resumed. */
  resumed: boolean;
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
