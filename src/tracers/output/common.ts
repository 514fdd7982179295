/**
 * What every text output of the tracers shares: reading a thread's ring into
 * plain items (consuming or not), merging threads by timestamp, site names,
 * and ftrace's number formats (timestamps, graph durations).
 *
 * Owns: the consuming readers kept between trace_pipe reads (one per thread
 * and buffer generation), so lost-event notices and partial pages carry over
 * from one read to the next. Invariant: readers never write to a ring except
 * through the ring's own reader API.
 */

import { displayName, instance } from '../../core/index.js';
import {
  attachReader, CLOCK_COUNTER, iterateRing, ringStats, READ_EVENT, READ_LOST, type EventCursor, type PipeReader, type Ring,
} from '../../ring/index.js';
import { EV_ASYNC, EV_GC, EV_GRAPH_ARGS, EV_GRAPH_RETVAL, EV_LOOP_DELAY, EV_MARKER, EV_STACK, type ThreadRing } from '../session.js';

/** One decoded event, or a notice that `lost` events are missing before the next. */
export interface Item {
  ts: number;
  type: number;
  flags: number;
  a: number;
  b: number;
  /** Payload words 3 and 4 as one u64 (graph durations). */
  c: number;
  /** > 0 for a lost-events notice. */
  lost: number;
  /** The text of a marker, a stack trace, funcgraph args / retval, or an async_hook's type. */
  text?: string;
  /** Payload words 5 and 6 as one u64 (a gc's duration, a loop_delay's max). */
  d?: number;
}

const MARKER = EV_MARKER.id;
const MARKER_BUF = EV_MARKER.fields[2]!;
const STACK = EV_STACK.id;
const STACK_BUF = EV_STACK.fields[2]!;
const ARGS = EV_GRAPH_ARGS.id;
const ARGS_BUF = EV_GRAPH_ARGS.fields[3]!;
const RETVAL = EV_GRAPH_RETVAL.id;
const RETVAL_BUF = EV_GRAPH_RETVAL.fields[3]!;
const GC = EV_GC.id;
const LOOP = EV_LOOP_DELAY.id;
const ASYNC = EV_ASYNC.id;
const ASYNC_TYPE = EV_ASYNC.fields[5]!;

/** A thread's events, one at a time (a live ring's, or a trace file stream's). */
export interface ItemSource {
  next(): Item | null;
}

/** Items already read. */
export function arraySource(items: readonly Item[]): ItemSource {
  let i = 0;
  return { next: () => items[i++] ?? null };
}

/** A thread as the outputs see it: its ids, its comm, whether its clock counts, and its site names. */
export interface ThreadView {
  pid: number;
  threadId: number;
  name: string;
  /** The clock counts (`counter`): timestamps are counts, not ns. */
  counts: boolean;
  site(id: number): string;
  /** How a lost-events line names the thread: `Thread:<id>`, or `Thread:<pid>/<id>` when processes are shown apart. */
  where: string;
}

/** A thread to render: how outputs see it, and its events (opened once per pass). */
export interface ThreadEvents {
  view: ThreadView;
  open(): ItemSource;
}

/** A live ring as outputs see a thread. */
export function ringView(r: ThreadRing): ThreadView {
  return { pid: process.pid, threadId: r.threadId, name: r.name, counts: r.ring.clockId === CLOCK_COUNTER, site: siteName, where: `Thread:${r.threadId}` };
}

/**
 * A live ring's events read as they are rendered (the iterator walks the
 * ring a page at a time): what `trace` in pieces (stream.ts) renders, in
 * the memory of a page, where ringEvents holds every event at once.
 */
export function liveRingEvents(r: ThreadRing): ThreadEvents {
  return {
    view: ringView(r),
    open() {
      const it = iterateRing(r.ring);
      return {
        next() {
          const st = it.next();
          if (st === READ_EVENT) return itemOf(it.event);
          if (st === READ_LOST) return { ts: Number.NaN, type: 0, flags: 0, a: 0, b: 0, c: 0, lost: it.lost };
          return null;
        },
      };
    },
  };
}

/** A live ring's events now (non-consuming, as `trace`), as a thread to render. */
export function ringEvents(r: ThreadRing): ThreadEvents {
  const items = snapshotItems(r.ring);
  return { view: ringView(r), open: () => arraySource(items) };
}

/** Where an output's text goes, in pieces (a string, or a file written as it goes). */
export interface Sink {
  write(text: string): void;
}

export function itemOf(e: EventCursor): Item {
  const t = e.type;
  if (t === MARKER || t === STACK) {
    return { ts: e.ts, type: t, flags: e.flags, a: 0, b: 0, c: 0, lost: 0, text: e.string(t === MARKER ? MARKER_BUF : STACK_BUF) };
  }
  if (t === GC || t === LOOP) {
    return { ts: e.ts, type: t, flags: e.flags, a: e.u32(1), b: e.i32(2), c: e.u64(3), d: e.u64(5), lost: 0 };
  }
  if (t === ASYNC) {
    return { ts: e.ts, type: t, flags: e.flags, a: e.u32(1), b: e.i32(2), c: e.u64(3), lost: 0, text: e.string(ASYNC_TYPE) };
  }
  if (t === ARGS || t === RETVAL) {
    return { ts: e.ts, type: t, flags: e.flags, a: e.u32(1), b: 0, c: 0, lost: 0, text: e.string(t === ARGS ? ARGS_BUF : RETVAL_BUF) };
  }
  return {
    ts: e.ts, type: e.type, flags: e.flags, a: e.words > 1 ? e.u32(1) : 0, b: e.words > 2 ? e.i32(2) : 0,
    c: e.words > 4 ? e.u64(3) : 0, lost: 0,
  };
}

/** Reads until the ring is empty, or `limit` events have been read. */
function drain(next: () => number, event: EventCursor, lost: () => number, limit = Infinity): Item[] {
  const out: Item[] = [];
  let n = 0;
  while (n < limit) {
    const st = next();
    if (st === READ_EVENT) {
      out.push(itemOf(event));
      n++;
    } else if (st === READ_LOST) out.push({ ts: Number.NaN, type: 0, flags: 0, a: 0, b: 0, c: 0, lost: lost() });
    else return out;
  }
  return out;
}

/** `trace`: every event in the ring now, consuming nothing. */
export function snapshotItems(ring: Ring): Item[] {
  const it = iterateRing(ring);
  return drain(() => it.next(), it.event, () => it.lost);
}

interface PipeState {
  gen: number;
  reader: PipeReader;
  /** Events refused in producer mode, as far as they were reported. */
  dropped: number;
}
const pipes = new Map<number, PipeState>();

/**
 * `trace_pipe`: consumes what the ring holds now (at most as many events as
 * it holds when the read starts, and at most `max`; the rest is for the next
 * read). Events refused in producer
 * mode have no place in the ring; they are reported after the events read,
 * when the counter shows new ones (the ring does not record where they were).
 */
export function consumeItems(r: ThreadRing, max = Infinity): Item[] {
  let p = pipes.get(r.threadId);
  if (p === undefined || p.gen !== r.gen) {
    p = { gen: r.gen, reader: attachReader(r.ring), dropped: 0 };
    pipes.set(r.threadId, p);
  }
  const rd = p.reader;
  // At most what the ring holds now: a writer in another thread that writes
  // faster than text is made would otherwise keep this read going forever.
  // What the ring holds, plus what the reader took from it last time and has
  // not handed out (a page image's worth at most): not counted in entries.
  const held = ringStats(r.ring).entries + r.ring.geometry.dataWords;
  const out = drain(() => rd.next(), rd.event, () => rd.lost, Math.min(max, held));
  const dropped = ringStats(r.ring).dropped;
  if (dropped > p.dropped) {
    out.push({ ts: Number.NaN, type: 0, flags: 0, a: 0, b: 0, c: 0, lost: dropped - p.dropped });
    p.dropped = dropped;
  }
  return out;
}

/** Lost notices take the time of the event after them (or before, at the end), so merging keeps them in place. */
export function placeLost(items: Item[]): void {
  let next = Number.NaN;
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i]!;
    if (it.lost > 0) it.ts = next;
    else next = it.ts;
  }
  let prev = 0;
  for (const it of items) {
    if (Number.isNaN(it.ts)) it.ts = prev;
    prev = it.ts;
  }
}

/** A line of output with the time and thread it sorts by. */
export interface Line {
  ts: number;
  thread: number;
  text: string;
}

/** Merges per-thread lines by timestamp; ties keep thread order, then each thread's order. */
export function mergeLines(perThread: Line[][]): string {
  return toText((sink) => mergeTo(perThread.map((ls) => {
    let i = 0;
    return { next: () => ls[i++] ?? null };
  }), sink));
}

const names = new Map<number, string>();
/** Where names come from: this process's records, or a trace file's table. */
let nameSource: ((id: number) => string | undefined) | null = null;

/**
 * Renders with another name table (a trace file's) while `fn` runs; the
 * outputs are synchronous, so no other rendering can interleave.
 */
export function withNames<T>(table: readonly string[], fn: () => T): T {
  const saved = nameSource;
  nameSource = (id) => table[id];
  names.clear();
  try {
    return fn();
  } finally {
    nameSource = saved;
    names.clear();
  }
}

/** A site's name as traces print it: `name`, or `name [package]` as in available_filter_functions (and a trace file's names). */
export function siteName(id: number): string {
  let n = names.get(id);
  if (n === undefined) {
    try {
      n = nameSource !== null ? nameSource(id) : displayName(instance(), id);
    } catch {
      n = undefined;
    }
    n ??= `site#${id}`;
    names.set(id, n);
  }
  return n;
}

/**
 * ftrace's trace_print_time: ` %5lu.%06lu` from nanoseconds, or ` %12llu`
 * for a clock that counts (counter), whose values are not time.
 */
export function timestamp(v: number, counts: boolean): string {
  if (counts) return ` ${String(v).padStart(12)}`;
  const secs = Math.floor(v / 1e9);
  const usecs = Math.floor((v - secs * 1e9) / 1e3);
  return ` ${String(secs).padStart(5)}.${String(usecs).padStart(6, '0')}`;
}

/**
 * ftrace's trace_print_graph_duration: microseconds, then as many digits of
 * the nanosecond remainder as keep the number within 7 digits, ` us `, then
 * spaces up to a width of 8 before ` us `.
 */
export function graphDuration(ns: number): string {
  const n = Math.max(0, Math.floor(ns));
  const usecs = String(Math.floor(n / 1000));
  const rem = String(n % 1000).padStart(3, '0');
  let s = usecs;
  let len = usecs.length;
  if (len < 7) {
    const keep = Math.min(4, 7 - len); // snprintf size min(5, 8 - len) keeps one less
    const frac = rem.slice(0, Math.min(keep, 3));
    s += `.${frac}`;
    len += frac.length + 1;
  }
  s += ' us ';
  for (let i = len; i < 8; i++) s += ' ';
  return s;
}

/** ftrace's trace_find_mark: the overhead sign before a duration. */
export function durationMark(ns: number): string {
  if (ns > 1e9) return '$';
  if (ns > 1e8) return '@';
  if (ns > 1e7) return '*';
  if (ns > 1e6) return '#';
  if (ns > 1e5) return '!';
  if (ns > 1e4) return '+';
  return ' ';
}

/** ftrace's `<stack trace>` block: one ` => frame` line per frame. */
export function stackLines(frames: string): string {
  return frames === '' ? '' : frames.split('\n').map((f) => ` => ${f}\n`).join('');
}

/** Collects an output's text in a string. */
export function toText(render: (sink: Sink) => void): string {
  let out = '';
  render({ write: (t) => { out += t; } });
  return out;
}

/** An item source that can look ahead (the graph output pairs an entry with the return after it). */
export class Ahead {
  private readonly buf: Item[] = [];
  private readonly src: ItemSource;
  /** Timestamp of the last event taken (a lost notice at the end takes it). */
  lastTs = 0;

  constructor(src: ItemSource) {
    this.src = src;
  }

  peek(k = 0): Item | null {
    while (this.buf.length <= k) {
      const it = this.src.next();
      if (it === null) return null;
      this.buf.push(it);
    }
    return this.buf[k]!;
  }

  take(): Item | null {
    const it = this.buf.length > 0 ? this.buf.shift()! : this.src.next();
    if (it !== null && it.lost === 0) this.lastTs = it.ts;
    return it;
  }

  /** Where a lost notice just taken belongs: the time of the next event, or of the last one at the end. */
  lostTs(): number {
    for (let k = 0; ; k++) {
      const n = this.peek(k);
      if (n === null) return this.lastTs;
      if (n.lost === 0) return n.ts;
    }
  }
}

/** A thread's lines, one at a time. */
export interface LineSource {
  next(): Line | null;
}

/**
 * Writes the lines of several threads merged by timestamp (ties: thread
 * order, then each thread's order), holding one line per thread.
 */
export function mergeTo(sources: readonly LineSource[], sink: Sink): void {
  const heads: (Line | null)[] = sources.map((s) => s.next());
  // A binary heap of source indexes by (ts, index).
  const heap: number[] = [];
  const less = (a: number, b: number): boolean => {
    const x = heads[a]!;
    const y = heads[b]!;
    return x.ts < y.ts || (x.ts === y.ts && a < b);
  };
  const up = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) return;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  heads.forEach((h, i) => {
    if (h !== null) {
      heap.push(i);
      up(heap.length - 1);
    }
  });
  while (heap.length > 0) {
    const i = heap[0]!;
    sink.write(heads[i]!.text);
    heads[i] = sources[i]!.next();
    if (heads[i] === null) {
      heap[0] = heap[heap.length - 1]!;
      heap.pop();
    }
    if (heap.length > 0) down(0);
  }
}

/** All the lines of one source (a trace_pipe read). */
export function linesOfSource(src: LineSource): Line[] {
  const out: Line[] = [];
  for (let l = src.next(); l !== null; l = src.next()) out.push(l);
  return out;
}

/**
 * How a drawn frame (flame graph, timeline) names a site: the function
 * first, then its file in parentheses, so that a narrow frame shows the
 * function. Site names are `<file>:<function>`, a package tag after; a name
 * without a file is drawn as it is. Written so that the flame graph's page
 * embeds this very text (flamegraph.ts): one rule for both pictures.
 */
export function functionFirst(name: string): string {
  const at = name.indexOf(':');
  if (at <= 0 || at === name.length - 1) return name;
  return name.slice(at + 1) + ' (' + name.slice(0, at) + ')';
}
