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
 *   least three characters fit), so labels never overlap.
 * Times of threads share one axis starting at the earliest call: under the
 * `local` or `counter` clocks threads' times do not compare (use `global`
 * or `mono` for a multi-thread picture).
 */

import { currentRings } from '../session.js';
import { type Call, type ThreadCalls, threadCalls, walkCalls } from './calls.js';

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

function maxDepth(roots: readonly Call[]): number {
  let m = -1;
  const go = (cs: readonly Call[], d: number): void => {
    for (const c of cs) {
      m = Math.max(m, d);
      go(c.children, d + 1);
    }
  };
  go(roots, 0);
  return m;
}

/** The picture of decoded threads, in thread id order. */
export function timelineSvg(threads: readonly ThreadCalls[], opts: TimelineOptions = {}): string {
  const W = opts.width ?? 1200;
  const sorted = [...threads].sort((a, b) => a.threadId - b.threadId);
  const counts = sorted.some((t) => t.counts);
  let t0 = Number.POSITIVE_INFINITY;
  let t1 = Number.NEGATIVE_INFINITY;
  for (const t of sorted) {
    for (const c of t.roots) {
      t0 = Math.min(t0, c.start);
      t1 = Math.max(t1, c.end);
    }
  }
  if (t0 > t1) t0 = t1 = 0;
  const span = Math.max(t1 - t0, 1);
  const x = (v: number): number => LEFT + ((v - t0) / span) * W;

  const body: string[] = [];
  // Axis: time since the earliest call.
  const step = tickStep(span, 10);
  body.push(`<g class="axis"><line x1="${LEFT}" y1="${AXIS - 6}" x2="${px(LEFT + W)}" y2="${AXIS - 6}"/>`);
  for (let k = 0; k * step <= span + step * 1e-9; k++) {
    const tx = px(x(t0 + k * step));
    body.push(`<line x1="${tx}" y1="${AXIS - 10}" x2="${tx}" y2="${AXIS - 6}"/><text x="${tx}" y="${AXIS - 13}">${esc(timeText(k * step, counts))}</text>`);
  }
  body.push('</g>');

  let y = AXIS;
  for (const t of sorted) {
    const rows = maxDepth(t.roots) + 1;
    body.push(`<g class="thread" data-thread="${t.threadId}"><text class="head" x="${LEFT}" y="${y + 13}">${esc(`${t.name}-${t.threadId}`)}</text>`);
    const top = y + BAND_HEAD;
    walkCalls(t.roots, (c, path) => {
      const bx = x(c.start);
      const bw = Math.max(x(c.end) - bx, 0.5);
      const by = top + (path.length - 1) * ROW;
      const how = c.exit === 'return' ? '' : `, ${c.exit}`;
      const tip = `${c.name}\nstart ${timeText(c.start - t0, counts)}, duration ${timeText(c.end - c.start, counts)}${how}`;
      const cls = c.exit === 'return' ? 'call' : `call ${c.exit}`;
      let g = `<g class="${cls}" data-name="${esc(c.name)}"><title>${esc(tip)}</title>`
        + `<rect x="${px(bx)}" y="${by}" width="${px(bw)}" height="${ROW - 2}" fill="${nameColour(c.name)}"/>`;
      const l = label(c.name, bw);
      if (l !== '') g += `<text x="${px(bx + 3)}" y="${by + 12}">${esc(l)}</text>`;
      body.push(`${g}</g>`);
    });
    body.push('</g>');
    y = top + rows * ROW + BAND_GAP;
  }
  const H = y;
  const title = opts.title ?? 'jsftrace timeline';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${px(W + 2 * LEFT)}" height="${H}" viewBox="0 0 ${px(W + 2 * LEFT)} ${H}" font-family="system-ui, sans-serif" font-size="11">
<title>${esc(title)}</title>
<style>
.axis line { stroke: #888; } .axis text { fill: #555; font-size: 10px; text-anchor: middle; }
.head { font-weight: bold; fill: #333; }
.call rect { stroke: #fff; stroke-width: 0.5; } .call text { fill: #111; pointer-events: none; }
.call.threw rect { stroke: #c00; stroke-width: 1.5; }
.call.unwound rect, .call.open rect { stroke: #333; stroke-width: 1; stroke-dasharray: 3 2; }
.call.suspended rect { stroke: #36c; stroke-width: 1; stroke-dasharray: 1 2; }
</style>
${body.join('\n')}
</svg>
`;
}

/** The timeline of every thread's current buffer (non-consuming, as `trace`). */
export async function readTimeline(opts: TimelineOptions = {}): Promise<string> {
  return timelineSvg((await currentRings()).map((r) => threadCalls(r)), opts);
}
