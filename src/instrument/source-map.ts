/**
 * The program's own source map, carried through jsftrace's insertions.
 *
 * Owns: rewriting the source map a module names in its last
 * `sourceMappingURL` comment (the inline map of tsx, esbuild, swc; the
 * `.map` file a compiler wrote beside it) into a map of the instrumented
 * text, put in place of the comment's URL as a data URL, which also keeps
 * the module's own mappings and line lengths for what `module.findSourceMap`
 * shows the program (original/carried-map.ts). Invariant: when
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
 *
 * Also owns where a position of the module's text was written, when the
 * module's map says it was written in the module's own file (what tsx,
 * ts-node and other loaders that compile a file in place produce): the
 * transform names anonymous functions by that place.
 */

import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { decode, encode, type SourceMapSegment } from '@jridgewell/sourcemap-codec';
import { closingComment, DATA_URL } from './map-comment.js';
import { ORIGINAL, type OriginalView } from './original/carried-map.js';

interface RawMap {
  version?: unknown;
  mappings?: unknown;
  sources?: unknown;
  sourceRoot?: unknown;
  sections?: unknown;
  [k: string]: unknown;
}

/** The map a module names in its closing comment, decoded. */
export interface ProgramMap {
  /** The comment's URL, and where it starts in the module's text. */
  readonly url: string;
  readonly at: number;
  readonly map: RawMap;
  /** The map file's URL, or null for a data URL. */
  readonly fromFile: string | null;
  readonly lines: SourceMapSegment[][];
  /** The index in `sources` of the module's own file, or -1. */
  readonly own: number;
}

/**
 * The source map the module names in its last `sourceMappingURL` comment,
 * or null: none, not the closing comment, an index map, a map in a file
 * when `files` is false, or one that cannot be read. `filename` is the
 * module's path.
 */
export function readProgramMap(code: string, filename: string, files: boolean): ProgramMap | null {
  const c = closingComment(code);
  if (c === null) return null;
  const { url, end } = c;
  if (!files && !url.startsWith('data:')) return null;
  const read = readMap(url, filename);
  if (read === null) return null;
  const { map, fromFile } = read;
  if (map.sections !== undefined || typeof map.mappings !== 'string') return null;
  let lines: SourceMapSegment[][];
  try {
    lines = decode(map.mappings);
  } catch {
    return null;
  }
  return { url, at: end - url.length, map, fromFile, lines, own: ownSource(map, fromFile, filename) };
}

/** A source's URL as Node resolves it: after the sourceRoot, against the map file, or the module for a data URL. */
function sourceUrl(map: RawMap, base: string | URL, source: string): string {
  // As Node's sourcesToAbsolute: a path through pathToFileURL (which
  // escapes `#`, `%` and `?`), anything else against the base.
  const root = typeof map.sourceRoot === 'string' && map.sourceRoot !== '' ? map.sourceRoot : '';
  const joined = root + source;
  return isAbsolute(joined) ? pathToFileURL(joined).href : new URL(joined, base).href;
}

function ownSource(map: RawMap, fromFile: string | null, filename: string): number {
  if (!Array.isArray(map.sources)) return -1;
  const self = pathToFileURL(filename);
  try {
    return map.sources.findIndex((s: unknown) => typeof s === 'string' && sourceUrl(map, fromFile ?? self, s) === self.href);
  } catch {
    return -1;
  }
}

/**
 * Where the module's own map says a position of its text (1-based line,
 * 0-based column) was written in the module's own file, as [line,
 * column] alike; null when the map says nothing there or names another
 * file.
 */
export function writtenAt(pm: ProgramMap, line: number, column: number): [number, number] | null {
  const segments = pm.lines[line - 1];
  if (segments === undefined || pm.own < 0) return null;
  const i = firstAfter(segments, column) - 1;
  const seg = i >= 0 ? segments[i]! : null;
  if (seg === null || seg.length < 4 || seg[1] !== pm.own) return null;
  return [seg[2]! + 1, seg[3]!];
}

/**
 * `instrumented` with the module's source map rewritten for it, or
 * unchanged. `spans` are the table's span records: original offset,
 * inserted length, 1-based line and 0-based column, in offset order;
 * `copies` the table's copy records (span index, start in the span,
 * length, original column), in span order.
 */
export function carrySourceMap(
  original: string, instrumented: string, pm: ProgramMap | null, spans: readonly number[], copies: readonly number[],
): string {
  if (pm === null) return instrumented;
  // The comment comes after everything inserted (the edit table's offsets stay true).
  let inserted = 0;
  for (let i = 1; i < spans.length; i += 4) inserted += spans[i]!;
  if (spans.length > 0 && spans[spans.length - 4]! >= pm.at) return instrumented;
  const at = pm.at + inserted;
  if (!instrumented.startsWith(pm.url, at)) return instrumented;
  const { map, fromFile } = pm;
  const out: RawMap = { ...map, mappings: encode(shiftColumns(pm.lines, spans, copies)) };
  if (fromFile !== null && Array.isArray(map.sources)) {
    // Node resolves sources against the map's own URL for a file, against
    // the module's for a data URL: resolved here, they name the same files.
    out.sources = map.sources.map((s: unknown) => (typeof s === 'string' ? sourceUrl(map, fromFile, s) : s));
    // Node empties the sourceRoot it resolved, where it stands (or adds an
    // empty one at the end): the payload's keys keep the file's order.
    if ('sourceRoot' in out) out.sourceRoot = '';
  }
  out[ORIGINAL] = originalView(original, instrumented, pm.at, map.mappings as string);
  const data = `data:application/json;base64,${Buffer.from(JSON.stringify(out)).toString('base64')}`;
  return instrumented.slice(0, at) + data + instrumented.slice(at + pm.url.length);
}

/**
 * Line lengths as Node counts them for a source map's `lineLengths`: lines
 * end at `\n`, U+2028 and U+2029 (a `\r` before `\n` counts in the length).
 */
function lineLengths(text: string): number[] {
  const out: number[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 0x2028 || c === 0x2029) {
      out.push(i - start);
      start = i + 1;
    }
  }
  out.push(text.length - start);
  return out;
}

function originalView(original: string, instrumented: string, commentAt: number, mappings: string): OriginalView {
  const mine = lineLengths(original);
  const theirs = lineLengths(instrumented);
  const lengths: [number, number][] = [];
  for (let i = 0; i < mine.length; i++) if (mine[i] !== theirs[i]) lengths.push([i, mine[i]!]);
  // The comment's line, whose URL the data URL replaces (after this count).
  const commentLine = lineLengths(original.slice(0, commentAt)).length - 1;
  if (!lengths.some(([i]) => i === commentLine)) lengths.push([commentLine, mine[commentLine]!]);
  return { mappings, lines: mine.length, lengths };
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
