/**
 * The `trace` file in pieces, so that reading a large buffer costs the
 * traced program bounded time per turn of its event loop and bounded
 * memory: each thread's ring is read a batch of events at a time (the
 * iterator walks it page by page), each batch is rendered by the tracer's
 * output, and the threads' lines are merged by timestamp as they come.
 *
 * Owns: the batching and the merge. Invariants:
 * - the text is the one-string rendering's (`functionTrace`, `graphTrace`):
 *   the same lines in the same order. A batch holds back its last two
 *   items, which an output may look at (function_graph's leaf and retval,
 *   the time of a lost notice), until the ring has no more; an output's
 *   state (graph depths, pending args) carries from batch to batch;
 * - between two pieces the generator waits for the event loop
 *   (setImmediate), and a piece is at most one batch per thread rendered
 *   and about CHUNK_CHARS of text: a reader that stops taking pieces (the
 *   client went away) stops the work.
 */

import { iterateRing, READ_EVENT, READ_LOST, type TraceIterator } from '../../ring/index.js';
import type { ThreadRing } from '../session.js';
import { itemOf, type Item, type Line } from './common.js';

/** Events taken from one ring per batch. */
const BATCH = 2048;
/** About this many characters per piece. */
const CHUNK_CHARS = 64 * 1024;
/** Items a batch keeps back for the next one to look at. */
const LOOKAHEAD = 2;

/** How an output renders a batch: lines of items[0 .. stop), and the first item not used. */
export interface BatchRenderer<S> {
  state(r: ThreadRing): S;
  lines(r: ThreadRing, items: Item[], st: S, stop: number): { lines: Line[]; next: number };
}

interface Source<S> {
  r: ThreadRing;
  k: number;
  it: TraceIterator;
  items: Item[];
  done: boolean;
  lines: Line[];
  at: number;
  st: S;
}

/** Up to `n` items from the iterator; fewer means it has no more. */
function take(it: TraceIterator, n: number, into: Item[]): number {
  let got = 0;
  while (got < n) {
    const st = it.next();
    if (st === READ_EVENT) into.push(itemOf(it.event));
    else if (st === READ_LOST) into.push({ ts: Number.NaN, type: 0, flags: 0, a: 0, b: 0, c: 0, lost: it.lost });
    else return got;
    got++;
  }
  return got;
}

/** Gives the source lines to merge, unless it has none left; false when it is finished. */
function refill<S>(s: Source<S>, renderer: BatchRenderer<S>): boolean {
  while (s.at >= s.lines.length) {
    if (s.done && s.items.length === 0) return false;
    if (!s.done && take(s.it, BATCH, s.items) < BATCH) s.done = true;
    const stop = s.done ? s.items.length : Math.max(0, s.items.length - LOOKAHEAD);
    const { lines, next } = renderer.lines(s.r, s.items, s.st, stop);
    s.items = s.items.slice(Math.min(next, s.items.length));
    s.lines = lines;
    s.at = 0;
  }
  return true;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * `header`, then the merged lines of `rings`, in pieces. Ties in time keep
 * the rings' order, then each ring's own.
 */
export async function* traceText<S>(header: string, rings: readonly ThreadRing[], renderer: BatchRenderer<S>): AsyncGenerator<string> {
  const sources: Source<S>[] = rings.map((r, k) => ({
    r, k, it: iterateRing(r.ring), items: [], done: false, lines: [], at: 0, st: renderer.state(r),
  }));
  let live = sources.filter((s) => refill(s, renderer));
  let piece = header;
  while (live.length > 0) {
    let best = live[0]!;
    for (let i = 1; i < live.length; i++) {
      const s = live[i]!;
      if (s.lines[s.at]!.ts < best.lines[best.at]!.ts) best = s;
    }
    piece += best.lines[best.at++]!.text;
    if (!refill(best, renderer)) live = live.filter((s) => s !== best);
    if (piece.length >= CHUNK_CHARS) {
      yield piece;
      piece = '';
      await turn();
    }
  }
  if (piece !== '') yield piece;
}
