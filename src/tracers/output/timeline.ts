/**
 * A timeline picture (SVG) of function_graph calls: one band per thread,
 * calls as bars on a shared time axis, one row per call depth, labels where
 * they fit, and a `<title>` per bar (name, start, duration, how it ended)
 * that viewers show on hover.
 *
 * Owns: only the drawing; calls come from calls.ts. Invariants:
 * - the same calls and options give the same bytes (coordinates rounded to
 *   0.01 px, colours from the name alone);
 * - the picture is one SVG document with nothing outside it (the xmlns is a
 *   namespace name, never fetched);
 * - a label is drawn only when it fits in its bar (cut with `…` when at
 *   least three characters fit), so labels never overlap;
 * - drawn in two passes over each thread's events (the time span and the
 *   depths, then the bars), in memory bounded by the call depth: calls
 *   narrower than MIN_BAR_PX are drawn as one grey bar per run of them in
 *   a row ("N calls"), so the picture grows with its width and depth,
 *   never with the number of calls.
 * Times of threads share one axis starting at the earliest call: under the
 * `local` or `counter` clocks threads' times do not compare (use `global`
 * or `mono` for a multi-thread picture).
 */

import { currentRings, EV_GC, EV_LOOP_DELAY } from '../session.js';
import { CallWalker, type ClosedCall } from './calls.js';
import { functionFirst, ringEvents, toText, type Item, type ItemSource, type Sink, type ThreadEvents } from './common.js';
import { gcKind } from './runtime.js';

export interface TimelineOptions {
  /** Width of the time axis in px (default 1200). */
  width?: number;
  title?: string;
}

const ROW = 18;
const LEFT = 20;
const AXIS = 34;
const BAND_GAP = 10;
const BAND_HEAD = 18;
/** Average width of a label character at 11px, generous so labels fit. */
const CHAR_PX = 6.6;
/** Narrower calls are drawn together, one bar per run of them in a row. */
export const MIN_BAR_PX = 1;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function px(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

/** A warm colour per name (FNV-1a, then mixed), the same in every picture. */
export function nameColour(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = (h ^ (h >>> 13)) >>> 0;
  return `hsl(${h % 50 + 5},${70 + (h >>> 8) % 25}%,${58 + (h >>> 16) % 14}%)`;
}

/** A duration in ns as text: `12.5 µs`, `3 ms`; counts as `N` (counter clock). */
function timeText(v: number, counts: boolean): string {
  if (counts) return String(Math.round(v));
  const a = Math.abs(v);
  const [d, u] = a >= 1e9 ? [1e9, 's'] : a >= 1e6 ? [1e6, 'ms'] : a >= 1e3 ? [1e3, 'µs'] : [1, 'ns'];
  return `${Number((v / d).toFixed(3))} ${u}`;
}

/** A tick step of 1, 2 or 5 × 10^k giving about `n` ticks over `span`. */
function tickStep(span: number, n: number): number {
  const raw = span / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function label(name: string, w: number): string {
  const fit = Math.floor((w - 6) / CHAR_PX);
  if (fit >= name.length) return name;
  return fit >= 3 ? `${name.slice(0, fit - 1)}…` : '';
}

function walk(items: ItemSource, onCall: (c: ClosedCall) => void, onRuntime: (it: Item) => void = () => undefined): void {
  const w = new CallWalker();
  w.onCall = onCall;
  for (let it = items.next(); it !== null; it = items.next()) {
    w.push(it);
    if (it.lost === 0 && (it.type === EV_GC.id || it.type === EV_LOOP_DELAY.id)) onRuntime(it);
  }
  w.end();
}

interface Span {
  t0: number;
  t1: number;
  minDepth: number;
  maxDepth: number;
  /** The thread has gc or loop_delay events: a lane of markers under its calls. */
  runtime: boolean;
}

/** The rows a thread's band takes: its call depths, and a lane for runtime markers. */
function bandRows(sp: Span): number {
  return Math.max(0, sp.maxDepth - sp.minDepth + 1) + (sp.runtime ? 1 : 0);
}

/** Draws the threads to `sink`, in the order given. */
export function timelineTo(threads: readonly ThreadEvents[], sink: Sink, opts: TimelineOptions = {}): void {
  const W = opts.width ?? 1200;
  const counts = threads.some((t) => t.view.counts);
  // Pass 1: the time span, and each thread's depths.
  let t0 = Number.POSITIVE_INFINITY;
  let t1 = Number.NEGATIVE_INFINITY;
  const spans: Span[] = threads.map((t) => {
    const sp: Span = { t0: Number.POSITIVE_INFINITY, t1: Number.NEGATIVE_INFINITY, minDepth: Number.POSITIVE_INFINITY, maxDepth: -1, runtime: false };
    walk(t.open(), (c) => {
      sp.t0 = Math.min(sp.t0, c.start);
      sp.t1 = Math.max(sp.t1, c.end);
      sp.minDepth = Math.min(sp.minDepth, c.depth);
      sp.maxDepth = Math.max(sp.maxDepth, c.depth);
    }, () => { sp.runtime = true; });
    t0 = Math.min(t0, sp.t0);
    t1 = Math.max(t1, sp.t1);
    return sp;
  });
  if (t0 > t1) t0 = t1 = 0;
  const span = Math.max(t1 - t0, 1);
  const x = (v: number): number => LEFT + ((v - t0) / span) * W;
  let H = AXIS;
  for (const sp of spans) H += BAND_HEAD + bandRows(sp) * ROW + BAND_GAP;
  const title = opts.title ?? 'jsftrace timeline';
  sink.write(`<svg xmlns="http://www.w3.org/2000/svg" width="${px(W + 2 * LEFT)}" height="${H}" viewBox="0 0 ${px(W + 2 * LEFT)} ${H}" font-family="system-ui, sans-serif" font-size="11">
<title>${esc(title)}</title>
<style>
.axis line { stroke: #888; } .axis text { fill: #555; font-size: 10px; text-anchor: middle; }
.head { font-weight: bold; fill: #333; }
.call rect { stroke: #fff; stroke-width: 0.5; } .call text { fill: #111; pointer-events: none; }
.call.threw rect { stroke: #c00; stroke-width: 1.5; }
.call.unwound rect, .call.open rect { stroke: #333; stroke-width: 1; stroke-dasharray: 3 2; }
.call.suspended rect { stroke: #36c; stroke-width: 1; stroke-dasharray: 1 2; }
.many rect { fill: #bbb; }
.gc rect { fill: #d33; } .loop line { stroke: #e80; stroke-width: 2; }
</style>
`);
  // Axis: time since the earliest call.
  const step = tickStep(span, 10);
  let axis = `<g class="axis"><line x1="${LEFT}" y1="${AXIS - 6}" x2="${px(LEFT + W)}" y2="${AXIS - 6}"/>`;
  for (let k = 0; k * step <= span + step * 1e-9; k++) {
    const tx = px(x(t0 + k * step));
    axis += `\n<line x1="${tx}" y1="${AXIS - 10}" x2="${tx}" y2="${AXIS - 6}"/><text x="${tx}" y="${AXIS - 13}">${esc(timeText(k * step, counts))}</text>`;
  }
  sink.write(`${axis}\n</g>\n`);
  // Pass 2: the bars, as calls close; narrow ones gathered per row.
  let y = AXIS;
  threads.forEach((t, i) => {
    const sp = spans[i]!;
    const v = t.view;
    sink.write(`<g class="thread" data-thread="${v.threadId}" data-pid="${v.pid}"><text class="head" x="${LEFT}" y="${y + 13}">${esc(`${v.name}-${v.pid} [${v.threadId}]`)}</text>\n`);
    const top = y + BAND_HEAD;
    const runs = new Map<number, { x0: number; x1: number; n: number; from: number; to: number }>();
    const flush = (row: number): void => {
      const r = runs.get(row);
      if (r === undefined) return;
      runs.delete(row);
      const by = top + row * ROW;
      const tip = `${r.n} call${r.n === 1 ? '' : 's'} too short to draw, from ${timeText(r.from - t0, counts)} to ${timeText(r.to - t0, counts)}`;
      sink.write(`<g class="many"><title>${esc(tip)}</title><rect x="${px(r.x0)}" y="${by}" width="${px(Math.max(r.x1 - r.x0, 0.5))}" height="${ROW - 2}"/></g>\n`);
    };
    // The runtime lane: collections as red bars over the time they took, event-loop delay samples as ticks as high as the delay.
    const lane = top + Math.max(0, sp.maxDepth - sp.minDepth + 1) * ROW;
    const clamp = (vx: number): number => Math.min(LEFT + W, Math.max(LEFT, vx));
    const onRuntime = (it: Item): void => {
      if (it.type === EV_GC.id) {
        const bx = clamp(x(it.c));
        const ex = clamp(x(it.c + (it.d ?? 0)));
        const tip = `GC (${gcKind(it.a)}) at ${timeText(it.c - t0, counts)}, ${timeText(it.d ?? 0, counts)}`;
        sink.write(`<g class="gc"><title>${esc(tip)}</title><rect x="${px(bx)}" y="${lane}" width="${px(Math.max(ex - bx, 1))}" height="${ROW - 2}"/></g>\n`);
        return;
      }
      const tx = px(clamp(x(it.ts)));
      const h = Math.max(2, Math.min(ROW - 2, ((it.d ?? 0) / 50e6) * (ROW - 2)));
      const tip = `event-loop delay until ${timeText(it.ts - t0, counts)}: max ${timeText(it.d ?? 0, false)}, mean ${timeText(it.c, false)}`;
      sink.write(`<g class="loop"><title>${esc(tip)}</title><line x1="${tx}" y1="${px(lane + ROW - 2)}" x2="${tx}" y2="${px(lane + ROW - 2 - h)}"/></g>\n`);
    };
    walk(t.open(), (c) => {
      const row = c.depth - sp.minDepth;
      const bx = x(c.start);
      const ex = x(c.end);
      if (ex - bx < MIN_BAR_PX) {
        const r = runs.get(row);
        if (r !== undefined && bx <= r.x1 + MIN_BAR_PX) {
          r.x1 = Math.max(r.x1, ex);
          r.n++;
          r.to = Math.max(r.to, c.end);
          return;
        }
        flush(row);
        runs.set(row, { x0: bx, x1: ex, n: 1, from: c.start, to: c.end });
        return;
      }
      const bw = ex - bx;
      const by = top + row * ROW;
      const name = v.site(c.site);
      const how = c.exit === 'return' ? '' : `, ${c.exit}`;
      const tip = `${name}\nstart ${timeText(c.start - t0, counts)}, duration ${timeText(c.end - c.start, counts)}${how}`;
      const cls = c.exit === 'return' ? 'call' : `call ${c.exit}`;
      let g = `<g class="${cls}" data-name="${esc(name)}"><title>${esc(tip)}</title>`
        + `<rect x="${px(bx)}" y="${by}" width="${px(bw)}" height="${ROW - 2}" fill="${nameColour(name)}"/>`;
      const l = label(functionFirst(name), bw);
      if (l !== '') g += `<text x="${px(bx + 3)}" y="${by + 12}">${esc(l)}</text>`;
      sink.write(`${g}</g>\n`);
    }, onRuntime);
    for (const row of [...runs.keys()].sort((a, b) => a - b)) flush(row);
    sink.write('</g>\n');
    y = top + bandRows(sp) * ROW + BAND_GAP;
  });
  sink.write('</svg>\n');
}

/** The picture as one string. */
export function timelineSvg(threads: readonly ThreadEvents[], opts: TimelineOptions = {}): string {
  return toText((sink) => timelineTo(threads, sink, opts));
}

/** The timeline of every thread's current buffer (non-consuming, as `trace`). */
export async function readTimeline(opts: TimelineOptions = {}): Promise<string> {
  return timelineSvg((await currentRings()).map(ringEvents), opts);
}
