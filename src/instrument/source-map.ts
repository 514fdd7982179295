/**
 * The program's own source map, carried through jsftrace's insertions.
 *
 * Owns: rewriting the source map a module names in its last
 * `sourceMappingURL` comment (the inline map of tsx, esbuild, swc; the
 * `.map` file a compiler wrote beside it) into a map of the instrumented
 * text, put in place of the comment's URL as a data URL. Invariant: when
 * Node applies source maps (`--enable-source-maps`, or
 * `process.setSourceMapsEnabled(true)` as tsx does), every position of the
 * instrumented text maps where the module's own map maps the same
 * character of the module's text; an inserted span maps where the text it
 * was inserted before maps. Lines never move (the transform inserts no line
 * break), so only generated columns change. A module with no map, an index
 * map (`sections`), or a map that cannot be read is left as it is: Node
 * then does what it did before.
 *
 * Without this, Node would look V8's columns of the instrumented text up in
 * the module's map: on a line with insertions, and on every line of a
 * minified module (tsx's output is one line), the frames of the program's
 * stack traces pointed at other places of its source.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { decode, encode, type SourceMapSegment } from '@jridgewell/sourcemap-codec';

/** Node's own pattern for the comment (lib/internal/source_map/source_map_cache.js); the last match wins. */
const COMMENT = /\/[*/]#\s+sourceMappingURL=(?<url>[^\s]+)/g;
const DATA_URL = /^data:application\/json(?:;charset=[\w-]+)?(?<b64>;base64)?,(?<payload>.*)$/s;

interface RawMap {
  version?: unknown;
  mappings?: unknown;
  sources?: unknown;
  sourceRoot?: unknown;
  sections?: unknown;
  [k: string]: unknown;
}

/**
 * `instrumented` with the module's source map rewritten for it, or
 * unchanged. `spans` are the table's span records: original offset,
 * inserted length, 1-based line and 0-based column, in offset order;
 * `copies` the table's copy records (span index, start in the span,
 * length, original column), in span order; `filename` is the module's path.
 */
export function carrySourceMap(instrumented: string, spans: readonly number[], copies: readonly number[], filename: string): string {
  let last: RegExpExecArray | null = null;
  for (const m of instrumented.matchAll(COMMENT)) last = m;
  if (last === null) return instrumented;
  // Only the comment that ends the module, as compilers write it: one
  // anywhere else could be inside a function, whose text must not change.
  const rest = instrumented.slice(last.index + last[0].length).trim();
  if (rest !== '' && rest !== '*/') return instrumented;
  // And after everything inserted (the edit table's offsets stay true).
  let inserted = 0;
  for (let i = 1; i < spans.length; i += 4) inserted += spans[i]!;
  if (spans.length > 0 && spans[spans.length - 4]! >= last.index - inserted) return instrumented;
  const url = last.groups!['url']!;
  const read = readMap(url, filename);
  if (read === null) return instrumented;
  const { map, fromFile } = read;
  if (map.sections !== undefined || typeof map.mappings !== 'string') return instrumented;
  let lines: SourceMapSegment[][];
  try {
    lines = decode(map.mappings);
  } catch {
    return instrumented;
  }
  const out: RawMap = { ...map, mappings: encode(shiftColumns(lines, spans, copies)) };
  if (fromFile !== null && Array.isArray(map.sources)) {
    // Node resolves sources against the map's own URL for a file, against
    // the module's for a data URL: resolved here, they name the same files.
    const root = typeof map.sourceRoot === 'string' ? map.sourceRoot : '';
    out.sources = map.sources.map((s: unknown) => (typeof s === 'string' ? new URL(root + s, fromFile).href : s));
    delete out.sourceRoot;
  }
  const data = `data:application/json;base64,${Buffer.from(JSON.stringify(out)).toString('base64')}`;
  const at = last.index + last[0].length - url.length;
  return instrumented.slice(0, at) + data + instrumented.slice(at + url.length);
}

function readMap(url: string, filename: string): { map: RawMap; fromFile: string | null } | null {
  try {
    const data = DATA_URL.exec(url);
    if (data !== null) {
      const { b64, payload } = data.groups!;
      const text = b64 !== undefined ? Buffer.from(payload!, 'base64').toString('utf8') : decodeURIComponent(payload!);
      return asMap(text, null);
    }
    if (url.startsWith('data:')) return null;
    const file = new URL(url, pathToFileURL(filename));
    if (file.protocol !== 'file:') return null;
    return asMap(readFileSync(fileURLToPath(file), 'utf8'), file.href);
  } catch {
    return null;
  }
}

function asMap(text: string, fromFile: string | null): { map: RawMap; fromFile: string | null } | null {
  const map = JSON.parse(text) as unknown;
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return null;
  return { map: map as RawMap, fromFile };
}

/**
 * The segments of each line with their generated columns moved past the
 * text inserted at or before them. Inserted text maps where its insertion
 * point does (one more segment at its start, copying the segment that
 * covers the point), except a copy of the line's own text (a short return
 * value written twice), which maps as the text it repeats.
 */
function shiftColumns(lines: SourceMapSegment[][], spans: readonly number[], copies: readonly number[]): SourceMapSegment[][] {
  let s = 0;
  let c = 0;
  const n = spans.length;
  return lines.map((segments, index) => {
    const line = index + 1;
    while (s < n && spans[s + 2]! < line) s += 4;
    if (s >= n || spans[s + 2]! !== line) return segments;
    const out: SourceMapSegment[] = [];
    let shift = 0;
    let seg = 0;
    let covering: SourceMapSegment | null = null;
    for (; s < n && spans[s + 2] === line; s += 4) {
      const column = spans[s + 3]!;
      const length = spans[s + 1]!;
      while (seg < segments.length && segments[seg]![0] < column) {
        covering = segments[seg]!;
        out.push(moved(covering, shift));
        seg++;
      }
      // A segment exactly at the insertion point covers it too.
      const point = seg < segments.length && segments[seg]![0] === column ? segments[seg]! : covering;
      const from = column + shift;
      let inSpan = 0;
      const span = s / 4;
      while (c < copies.length && copies[c]! < span) c += 4;
      for (; c < copies.length && copies[c] === span; c += 4) {
        const start = copies[c + 1]!;
        const len = copies[c + 2]!;
        const copied = copies[c + 3]!;
        if (start > inSpan) mapAs(out, point, from + inSpan);
        // The copied text: the segments of the columns it repeats, moved to it.
        const first = firstAfter(segments, copied);
        mapAs(out, first > 0 ? segments[first - 1]! : null, from + start);
        for (let k = first; k < segments.length && segments[k]![0] < copied + len; k++) out.push(moved(segments[k]!, from + start - copied));
        inSpan = start + len;
      }
      if (inSpan < length) mapAs(out, point, from + inSpan);
      shift += length;
    }
    for (; seg < segments.length; seg++) out.push(moved(segments[seg]!, shift));
    return out;
  });
}

/** Adds, at `column`, a segment mapping where `like` maps (nothing when it maps nowhere). */
function mapAs(out: SourceMapSegment[], like: SourceMapSegment | null, column: number): void {
  if (like === null || like.length === 1) return;
  const last = out[out.length - 1];
  const segment = [column, ...like.slice(1)] as SourceMapSegment;
  if (last !== undefined && last[0] === column) out[out.length - 1] = segment;
  else out.push(segment);
}

/** The index of the first segment that starts after `column` (segments are in column order). */
function firstAfter(segments: readonly SourceMapSegment[], column: number): number {
  let lo = 0;
  let hi = segments.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (segments[mid]![0] <= column) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function moved(segment: SourceMapSegment, shift: number): SourceMapSegment {
  if (shift === 0) return segment;
  const copy = segment.slice() as SourceMapSegment;
  copy[0] += shift;
  return copy;
}
