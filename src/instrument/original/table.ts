/**
 * The edit table: what the transform inserted into a module, so that the
 * program can be shown its original code (Function.prototype.toString) and
 * its original positions (stack traces).
 *
 * Owns: the table's content and its text encoding (version 1). The
 * transform only inserts text, never removes or replaces any (transform.ts),
 * and never inserts a line break, so the original is the output with the
 * inserted spans taken out, and a position keeps its line. (The one
 * exception, the URL of the module's closing `sourceMappingURL` comment,
 * which source-map.ts replaces, lies outside every unit and after every
 * span.)
 *
 * Content:
 * - spans: one per original offset where something was inserted, in order:
 *   the offset, the inserted length, and the offset's line and column (0-based
 *   column, 1-based line) so that a column on a line can be mapped without
 *   the text;
 * - units: one per function and class whose text V8 can return from
 *   Function.prototype.toString, in order of start: its original start and
 *   length, the length of its instrumented text (`tlen`), the length of the
 *   insertions at its end that belong to it (an arrow's closing brace), its
 *   parent unit and its site (k in the module, or -1 for a class);
 * - copies: inserted text that repeats a piece of the same line (a short
 *   return value, written twice): its span, where it starts in the span, its
 *   length, and the original column it repeats, so that a position inside
 *   the copy maps to the same place in the original.
 *
 * - suspensions: where an await or a yield the transform wrapped ends (V8
 *   starts its coverage of the code after it there: original/coverage-map.ts):
 *   the span that closes its wrapper and the place in that span; and where
 *   that code starts and ends in the plain run (the original offsets of its
 *   statement's end and of its statement list's end);
 * - kept: the ends of lists' last statements that V8 compiles into blocks
 *   of its own (transform.ts, desugaredLoop), after which its coverage keeps
 *   the range it leaves out after other last statements;
 * - continuations: the ends of the statements of lists after which V8 may
 *   start a range of its own (the code after a jump, an if, a loop, a try,
 *   a switch), in order;
 * - length: the length of the module's own text (V8's coverage of the
 *   module's top level ends at the end of the compiled text, which has
 *   the appended line: original/coverage-map.ts).
 *
 * Encoding: `2;` then the units, `;`, the spans, `;`, the copies, `;`, the
 * suspensions, `;`, the kept ends, `;`, the continuations, `;`, the length,
 * each a run of base64 VLQ numbers (as in source maps, but
 * unseparated), with offsets, lines and span indices as deltas from the
 * previous record. The text
 * contains no `*` or `/`, so it can live in a comment.
 */

export const TABLE_VERSION = 2;

export interface EditTable {
  /** Units: start, olen, tlen, endIns, parent (-1: none), site (-1: none), 6 per unit. */
  readonly units: Int32Array;
  /** Spans: offset, length, line, column, 4 per span. */
  readonly spans: Int32Array;
  /** The unit of each site. */
  readonly unitOfSite: Int32Array;
  /** Copies: span index, start in the span, length, original column, 4 per copy. */
  readonly copies: Int32Array;
  /** Suspensions: span index, place in the span, statement end, list end, 4 per suspension, in order. */
  readonly suspensions: Int32Array;
  /** The kept ends, in order. */
  readonly kept: Int32Array;
  /** The continuations' starts, in order. */
  readonly continuations: Int32Array;
  /** The length of the module's own text. */
  readonly length: number;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-';
const DEC = new Int8Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) DEC[B64.charCodeAt(i)] = i;

function vlq(n: number, out: string[]): void {
  let v = n < 0 ? ((-n) << 1) | 1 : n << 1;
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    out.push(B64[digit]!);
  } while (v > 0);
}

/** A sorted list of offsets, as deltas, then `;`. */
function sortedList(list: ArrayLike<number>, out: string[]): void {
  let prev = 0;
  for (let i = 0; i < list.length; i++) {
    vlq(list[i]! - prev, out);
    prev = list[i]!;
  }
  out.push(';');
}

/** Encodes a table (see the header); units, spans and copies as the transform made them. */
export function encodeTable(units: ArrayLike<number>, spans: ArrayLike<number>, copies: ArrayLike<number>, suspensions: ArrayLike<number>,
  kept: ArrayLike<number>, continuations: ArrayLike<number>, length: number): string {
  const out: string[] = [`${TABLE_VERSION};`];
  let prev = 0;
  for (let i = 0; i < units.length; i += 6) {
    vlq(units[i]! - prev, out);
    prev = units[i]!;
    vlq(units[i + 1]!, out);
    vlq(units[i + 2]!, out);
    vlq(units[i + 3]!, out);
    vlq(units[i + 4]! + 1, out);
    vlq(units[i + 5]! + 1, out);
  }
  out.push(';');
  let prevOff = 0;
  let prevLine = 0;
  for (let i = 0; i < spans.length; i += 4) {
    vlq(spans[i]! - prevOff, out);
    prevOff = spans[i]!;
    vlq(spans[i + 1]!, out);
    vlq(spans[i + 2]! - prevLine, out);
    prevLine = spans[i + 2]!;
    vlq(spans[i + 3]!, out);
  }
  out.push(';');
  let prevSpan = 0;
  for (let i = 0; i < copies.length; i += 4) {
    vlq(copies[i]! - prevSpan, out);
    prevSpan = copies[i]!;
    vlq(copies[i + 1]!, out);
    vlq(copies[i + 2]!, out);
    vlq(copies[i + 3]!, out);
  }
  out.push(';');
  let prevSuspension = 0;
  for (let i = 0; i < suspensions.length; i += 4) {
    vlq(suspensions[i]! - prevSuspension, out);
    prevSuspension = suspensions[i]!;
    vlq(suspensions[i + 1]!, out);
    vlq(suspensions[i + 2]!, out);
    vlq(suspensions[i + 3]! - suspensions[i + 2]!, out);
  }
  out.push(';');
  sortedList(kept, out);
  sortedList(continuations, out);
  vlq(length, out);
  return out.join('');
}

function readAll(text: string, from: number, to: number): number[] {
  const out: number[] = [];
  let v = 0;
  let shift = 0;
  for (let i = from; i < to; i++) {
    const d = DEC[text.charCodeAt(i)]!;
    if (d < 0) throw new SyntaxError(`edit table: bad character at ${i}`);
    v += (d & 31) << shift;
    if ((d & 32) !== 0) {
      shift += 5;
      continue;
    }
    out.push((v & 1) !== 0 ? -(v >>> 1) : v >>> 1);
    v = 0;
    shift = 0;
  }
  if (shift !== 0) throw new SyntaxError('edit table: truncated number');
  return out;
}

/** A sorted list from its deltas. */
function offsets(deltas: number[]): Int32Array {
  const out = new Int32Array(deltas.length);
  for (let i = 0, at = 0; i < deltas.length; i++) out[i] = at += deltas[i]!;
  return out;
}

/** Decodes the text encodeTable made; throws SyntaxError on anything else. */
export function decodeTable(text: string): EditTable {
  const a = text.indexOf(';');
  const b = text.indexOf(';', a + 1);
  const c = text.indexOf(';', b + 1);
  const d = text.indexOf(';', c + 1);
  const e = text.indexOf(';', d + 1);
  const f = text.indexOf(';', e + 1);
  const g = text.indexOf(';', f + 1);
  if (a < 0 || b < 0 || c < 0 || d < 0 || e < 0 || f < 0 || g < 0 || text.slice(0, a) !== String(TABLE_VERSION)) {
    throw new SyntaxError('edit table: unknown version');
  }
  const u = readAll(text, a + 1, b);
  const s = readAll(text, b + 1, c);
  const cp = readAll(text, c + 1, d);
  const su = readAll(text, d + 1, e);
  const kept = offsets(readAll(text, e + 1, f));
  const continuations = offsets(readAll(text, f + 1, g));
  const len = readAll(text, g + 1, text.length);
  if (u.length % 6 !== 0 || s.length % 4 !== 0 || cp.length % 4 !== 0 || len.length !== 1) throw new SyntaxError('edit table: wrong record length');
  const copies = new Int32Array(cp.length);
  let span = 0;
  for (let i = 0; i < cp.length; i += 4) {
    span += cp[i]!;
    copies[i] = span;
    copies[i + 1] = cp[i + 1]!;
    copies[i + 2] = cp[i + 2]!;
    copies[i + 3] = cp[i + 3]!;
  }
  const units = new Int32Array(u.length);
  let prev = 0;
  for (let i = 0; i < u.length; i += 6) {
    prev += u[i]!;
    units[i] = prev;
    units[i + 1] = u[i + 1]!;
    units[i + 2] = u[i + 2]!;
    units[i + 3] = u[i + 3]!;
    units[i + 4] = u[i + 4]! - 1;
    units[i + 5] = u[i + 5]! - 1;
  }
  let sites = 0;
  for (let i = 5; i < units.length; i += 6) if (units[i]! >= sites) sites = units[i]! + 1;
  const unitOfSite = new Int32Array(sites).fill(-1);
  for (let i = 0; i < units.length; i += 6) if (units[i + 5]! >= 0) unitOfSite[units[i + 5]!] = i / 6;
  const spans = new Int32Array(s.length);
  let off = 0;
  let line = 0;
  for (let i = 0; i < s.length; i += 4) {
    off += s[i]!;
    line += s[i + 2]!;
    spans[i] = off;
    spans[i + 1] = s[i + 1]!;
    spans[i + 2] = line;
    spans[i + 3] = s[i + 3]!;
  }
  if (su.length % 4 !== 0) throw new SyntaxError('edit table: wrong record length');
  const suspensions = new Int32Array(su.length);
  for (let i = 0, at = 0; i < su.length; i += 4) {
    suspensions[i] = at += su[i]!;
    suspensions[i + 1] = su[i + 1]!;
    suspensions[i + 2] = su[i + 2]!;
    suspensions[i + 3] = su[i + 2]! + su[i + 3]!;
  }
  return { units, spans, unitOfSite, copies, suspensions, kept, continuations, length: len[0]! };
}

/**
 * The first record (of `stride` numbers each, sorted by the number at
 * `field`) whose number at `field` is at least `key`; the record count when
 * none is. Every list of the table is such a list.
 */
export function lowerBound(list: ArrayLike<number>, stride: number, key: number, field = 0): number {
  let lo = 0;
  let hi = Math.floor(list.length / stride);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid * stride + field]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Where `relative` (a position inside span `span`) falls in a copy: the original column, or -1. */
function inCopy(t: EditTable, span: number, relative: number): number {
  const c = t.copies;
  for (let i = lowerBound(c, 4, span); i < c.length >> 2 && c[i * 4] === span; i++) {
    const from = c[i * 4 + 1]!;
    if (relative >= from && relative < from + c[i * 4 + 2]!) return c[i * 4 + 3]! + relative - from;
  }
  return -1;
}

/** First span index with offset >= `offset` (spans sorted by offset). */
export function firstSpanAtOrAfter(t: EditTable, offset: number): number {
  return lowerBound(t.spans, 4, offset);
}

/** First span index on `line` or after it. */
function firstSpanOnLine(t: EditTable, line: number): number {
  return lowerBound(t.spans, 4, line, 2);
}

/**
 * The original 0-based column of a 0-based column of the instrumented text
 * on `line` (1-based). A column inside an inserted span maps to the point of
 * insertion.
 */
export function originalColumn(t: EditTable, line: number, column: number): number {
  let inserted = 0;
  const n = t.spans.length >> 2;
  for (let i = firstSpanOnLine(t, line); i < n && t.spans[i * 4 + 2] === line; i++) {
    const at = t.spans[i * 4 + 3]! + inserted;
    if (column < at) break;
    const len = t.spans[i * 4 + 1]!;
    if (column < at + len) {
      const copied = inCopy(t, i, column - at);
      return copied >= 0 ? copied : t.spans[i * 4 + 3]!;
    }
    inserted += len;
  }
  return column - inserted;
}

/** The original offset of an offset of the instrumented text. */
export function originalOffset(t: EditTable, offset: number): number {
  let inserted = 0;
  const n = t.spans.length >> 2;
  for (let i = 0; i < n; i++) {
    const at = t.spans[i * 4]! + inserted;
    if (offset < at) break;
    const len = t.spans[i * 4 + 1]!;
    if (offset < at + len) {
      // A copy repeats its own line: the line starts at the span's offset less its column.
      const copied = inCopy(t, i, offset - at);
      return copied >= 0 ? t.spans[i * 4]! - t.spans[i * 4 + 3]! + copied : t.spans[i * 4]!;
    }
    inserted += len;
  }
  return offset - inserted;
}

/**
 * The original text of unit `u`, given its instrumented text as V8 returns
 * it, or null when that text is not the unit's (its length differs, or the
 * result would not have the original length).
 */
export function originalText(t: EditTable, u: number, instrumented: string): string | null {
  const start = t.units[u * 6]!;
  const olen = t.units[u * 6 + 1]!;
  const tlen = t.units[u * 6 + 2]!;
  const endIns = t.units[u * 6 + 3]!;
  if (instrumented.length !== tlen) return null;
  const end = start + olen;
  const parts: string[] = [];
  let from = 0; // in `instrumented`
  let inserted = 0;
  const n = t.spans.length >> 2;
  for (let i = firstSpanAtOrAfter(t, start + 1); i < n; i++) {
    const off = t.spans[i * 4]!;
    if (off > end) break;
    const len = off === end ? endIns : t.spans[i * 4 + 1]!;
    const at = off - start + inserted;
    parts.push(instrumented.slice(from, at));
    from = at + len;
    inserted += len;
  }
  parts.push(instrumented.slice(from));
  const text = parts.join('');
  return text.length === olen ? text : null;
}

/**
 * The original text of the function or class whose instrumented text is
 * `instrumented`, knowing that it contains unit `u`: `u` itself or one of
 * its ancestors, innermost first, the one whose instrumented length and
 * spans give back a text of the original length.
 */
export function originalTextAround(t: EditTable, u: number, instrumented: string): string | null {
  for (let i = u; i >= 0; i = t.units[i * 6 + 4]!) {
    if (t.units[i * 6 + 2] === instrumented.length) {
      const text = originalText(t, i, instrumented);
      if (text !== null) return text;
    }
  }
  return null;
}
