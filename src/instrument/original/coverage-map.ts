/**
 * V8's block coverage of an instrumented module, put back in the module's
 * own coordinates.
 *
 * Owns: the mapping of one script's coverage (the `functions` of one entry
 * of a `NODE_V8_COVERAGE` file) through the module's edit table (table.ts).
 * Invariants: the result holds only what the program wrote (no function or
 * block range that lies in inserted text), every offset is an offset of
 * the module's own text, and code the transform wrote twice (a short
 * return value and its copy, one of which runs) is counted once, with the
 * sum of both. The result is in V8's normal form (nested ranges sorted by
 * start, none with its parent's count, no empty range, no uncovered range
 * inside an uncovered parent), so a consumer merges it with other
 * processes' coverage as it merges V8's own.
 *
 * Why more than a mapping of offsets: V8 decides some ranges by what
 * follows a statement. It ends the code after a jump or a suspension (a
 * continuation) where the next range starts, or with its parent; it leaves
 * out the continuation of a list's last statement, unless V8 compiled that
 * statement into a block of its own; and it merges a range with the next
 * when their counts are equal. Inserted code changes what follows, so the
 * edit table says what the transform knew of the syntax: where the code
 * after each wrapped await or yield starts and ends in the plain run, which
 * statements of lists a continuation follows, and which last statements
 * keep theirs. A continuation cut short by inserted code goes on to where
 * the plain run's ends; one that V8 made only because inserted code
 * follows (its own text holds no statement) is left out. What this does
 * not recover is listed in docs/transparency.md (difference 26).
 */

import { lowerBound, type EditTable } from './table.js';

export interface CoverageRange {
  startOffset: number;
  endOffset: number;
  count: number;
}

export interface FunctionCoverage {
  functionName: string;
  ranges: CoverageRange[];
  isBlockCoverage: boolean;
}

/** The inserted spans in the instrumented text's coordinates. */
interface Spans {
  /** Start of each span in the instrumented text. */
  readonly at: Int32Array;
  /** Text inserted before each span's start (in the instrumented text). */
  readonly before: Int32Array;
  /** Copy regions in the instrumented text: start, end, original offset, 3 per copy, by start. */
  readonly copies: Int32Array;
}

function spansOf(t: EditTable): Spans {
  const n = t.spans.length >> 2;
  const at = new Int32Array(n);
  const before = new Int32Array(n);
  let inserted = 0;
  for (let i = 0; i < n; i++) {
    at[i] = t.spans[i * 4]! + inserted;
    before[i] = inserted;
    inserted += t.spans[i * 4 + 1]!;
  }
  const copies = new Int32Array((t.copies.length >> 2) * 3);
  for (let i = 0, j = 0; i < t.copies.length; i += 4, j += 3) {
    const span = t.copies[i]!;
    const start = at[span]! + t.copies[i + 1]!;
    copies[j] = start;
    copies[j + 1] = start + t.copies[i + 2]!;
    // The copy's column is on the span's line: the line starts at the span's offset less its column.
    copies[j + 2] = t.spans[span * 4]! - t.spans[span * 4 + 3]! + t.copies[i + 3]!;
  }
  return { at, before, copies };
}

/** Index of the last span that starts at or before `x`, or -1. */
function spanBefore(s: Spans, x: number): number {
  return lowerBound(s.at, 1, x + 1) - 1;
}

/** Index of the copy region holding [from, to), or -1 (copies are apart and sorted by start). */
function copyHolding(s: Spans, from: number, to: number): number {
  const j = lowerBound(s.copies, 3, from + 1) - 1;
  return j >= 0 && to <= s.copies[j * 3 + 1]! ? j : -1;
}

class Mapper {
  private readonly t: EditTable;
  private readonly s: Spans;
  constructor(t: EditTable) {
    this.t = t;
    this.s = spansOf(t);
  }

  /** Where the inserted text ends (after the last span). */
  get lastInserted(): number {
    const n = this.s.at.length;
    return n === 0 ? 0 : this.s.at[n - 1]! + this.t.spans[(n - 1) * 4 + 1]!;
  }

  /** The span containing instrumented offset `x` (inserted text), or -1 when `x` is the program's text. */
  spanAt(x: number): number {
    const i = spanBefore(this.s, x);
    if (i < 0) return -1;
    return x < this.s.at[i]! + this.t.spans[i * 4 + 1]! ? i : -1;
  }

  /**
   * The original offset of instrumented offset `x`. Inside inserted text it
   * is the point of insertion (a copy's text maps to what it copies), so a
   * range that ends inside inserted text ends where the insertion was made.
   */
  original(x: number): number {
    const i = spanBefore(this.s, x);
    if (i < 0) return x;
    const at = this.s.at[i]!;
    const len = this.t.spans[i * 4 + 1]!;
    if (x < at + len) {
      const c = copyHolding(this.s, x, x + 1);
      return c >= 0 ? this.s.copies[c * 3 + 2]! + x - this.s.copies[c * 3]! : this.t.spans[i * 4]!;
    }
    return x - this.s.before[i]! - len;
  }

  /** Whether [from, to) lies in one span's inserted text (not in a copy of the program's). */
  inserted(from: number, to: number): boolean {
    const i = this.spanAt(from);
    if (i < 0 || to > this.s.at[i]! + this.t.spans[i * 4 + 1]!) return false;
    return copyHolding(this.s, from, to) < 0;
  }

  /** Whether [from, to) holds inserted text. */
  holdsInserted(from: number, to: number): boolean {
    if (this.spanAt(from) >= 0) return true;
    const i = spanBefore(this.s, to - 1);
    return i >= 0 && this.s.at[i]! >= from;
  }

  /** Whether the character before `end` is inserted (a span's, a copy's too, or after the module's text of `length`). */
  endsInserted(end: number, length: number): boolean {
    const i = spanBefore(this.s, end - 1);
    if (end - 1 - (i < 0 ? 0 : this.s.before[i]! + this.t.spans[i * 4 + 1]!) >= length) return true;
    return i >= 0 && end - 1 < this.s.at[i]! + this.t.spans[i * 4 + 1]!;
  }

  /**
   * The suspension (table.ts) whose await or yield ends at `x`, as the
   * index of its record, or -1.
   */
  suspensionAt(x: number): number {
    const i = this.spanAt(x);
    if (i < 0) return -1;
    const su = this.t.suspensions;
    for (let j = lowerBound(su, 4, i); j < su.length >> 2 && su[j * 4] === i; j++) if (this.s.at[i]! + su[j * 4 + 1]! === x) return j;
    return -1;
  }

  /** The copy region [from, to) lies in, or -1. */
  copyOf(from: number, to: number): number {
    return this.spanAt(from) < 0 ? -1 : copyHolding(this.s, from, to);
  }

  /**
   * Whether [from, to) is the branch the transform made of a short return
   * value it wrote twice: it starts in inserted text and holds exactly the
   * program's value whose copy is the other branch.
   */
  copiedBranch(from: number, o1: number, o2: number): boolean {
    if (this.spanAt(from) < 0) return false;
    if (this.copied === undefined) {
      this.copied = new Map();
      const c = this.s.copies;
      for (let j = 0; j < c.length; j += 3) this.copied.set(c[j + 2]!, c[j + 2]! + c[j + 1]! - c[j]!);
    }
    return this.copied.get(o1) === o2;
  }

  /** The original extent of each copy: start to end (made at first use). */
  private copied: Map<number, number> | undefined;
}

interface Mapped extends CoverageRange {
  /** Counted in a copy of the program's text (its count adds to the original's). */
  copy: boolean;
}

/**
 * Whether `text[from, to)` holds no statement: only blank, comments and
 * function declarations (hoisted, so V8 does not count them as statements
 * after a return). `declarations` maps the start of each function unit to
 * its end (table.ts); a unit is a declaration where it starts with
 * `function` or `async function` after the start, a `;` or a `}`.
 */
function noStatement(text: string, from: number, to: number, declarations: ReadonlyMap<number, number>): boolean {
  let i = from;
  let statementStart = true;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c === 0x2f && text.charCodeAt(i + 1) === 0x2f) {
      while (i < to && text.charCodeAt(i) !== 0x0a) i++;
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0 || end + 2 > to) return false;
      i = end + 2;
    } else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c || c === 0xa0 || c === 0xfeff
      || c === 0x2028 || c === 0x2029) {
      i++;
    } else if (c === 0x3b || c === 0x7d) {
      // A `;` or `}` of a statement before: the next may be a declaration.
      statementStart = true;
      i++;
    } else {
      const end = statementStart ? declarations.get(i) : undefined;
      if (end === undefined || end > to || !/^(?:async\s+)?function\b/.test(text.slice(i, i + 40))) return false;
      i = end;
      statementStart = true;
    }
  }
  return true;
}

/** Whether the code after a statement of a list (table.ts, continuations) starts in [start, end). */
function holdsContinuation(t: EditTable, start: number, end: number): boolean {
  const i = lowerBound(t.continuations, 1, start);
  return i < t.continuations.length && t.continuations[i]! < end;
}

/** Whether the sorted `list` holds `x`. */
function sortedHas(list: Int32Array, x: number): boolean {
  const i = lowerBound(list, 1, x);
  return i < list.length && list[i] === x;
}

/** The start and end of each function unit of the table (see noStatement). */
function unitExtents(t: EditTable): Map<number, number> {
  const out = new Map<number, number>();
  for (let i = 0; i < t.units.length; i += 6) {
    if (t.units[i + 5]! >= 0) out.set(t.units[i]!, t.units[i]! + t.units[i + 1]!);
  }
  return out;
}

/** V8's normal form (see the header), for ranges sorted by start and, at equal starts, outer first. */
function normalise(fnRange: CoverageRange, blocks: Mapped[]): CoverageRange[] {
  // The same range twice: an original and its copy add up; otherwise the first stays.
  const unique: Mapped[] = [];
  for (const b of blocks) {
    const last = unique[unique.length - 1];
    if (last !== undefined && last.startOffset === b.startOffset && last.endOffset === b.endOffset) {
      if (b.copy || last.copy) {
        last.count += b.count;
        last.copy = false;
      }
      continue;
    }
    unique.push({ ...b });
  }
  // A range cut by inserted code comes back as pieces that touch; the
  // pieces and ranges with their parent's count are merged as V8 merges
  // its own, in a tree walk with the parent chain on a stack.
  const out: CoverageRange[] = [];
  const stack: CoverageRange[] = [fnRange];
  const lastChild: (CoverageRange | null)[] = [null];
  for (const b of unique) {
    while (stack.length > 1 && b.startOffset >= stack[stack.length - 1]!.endOffset) {
      stack.pop();
      lastChild.pop();
    }
    const parent = stack[stack.length - 1]!;
    if (b.endOffset > parent.endOffset) b.endOffset = parent.endOffset;
    if (b.startOffset >= b.endOffset) continue;
    if (b.count === parent.count) continue;
    if (b.count === 0 && parent.count === 0) continue;
    const prev = lastChild[lastChild.length - 1];
    if (prev != null && prev.endOffset === b.startOffset && prev.count === b.count) {
      prev.endOffset = b.endOffset;
      continue;
    }
    const r: CoverageRange = { startOffset: b.startOffset, endOffset: b.endOffset, count: b.count };
    out.push(r);
    lastChild[lastChild.length - 1] = r;
    stack.push(r);
    lastChild.push(null);
  }
  return out;
}

/**
 * Where the line the transform appends starts (its helpers and the edit
 * table's holder, named by the module's prefix and one letter, after every
 * inserted span), or -1 when none of its functions is listed.
 */
function trailerStart(functions: readonly FunctionCoverage[], m: Mapper, tableName: string): number {
  const prefix = tableName.slice(0, -1);
  const after = m.lastInserted;
  let start = -1;
  for (const fn of functions) {
    const s = fn.ranges[0]?.startOffset ?? 0;
    if (s > 0 && s >= after && fn.functionName.length === prefix.length + 1 && fn.functionName.startsWith(prefix) && (start < 0 || s < start)) start = s;
  }
  // The line break before them.
  return start > 0 ? start - 1 : -1;
}

/**
 * The coverage of a module's functions in its own coordinates (see the
 * header). `tableName` is the name of the function holding the module's
 * edit table (registry.ts); `textOf` gives the module's own text, given
 * its length, when it is known (it lets blank continuations be told apart).
 */
export function remapFunctions(functions: readonly FunctionCoverage[], t: EditTable, tableName: string,
  textOf: (length: number) => string | null): FunctionCoverage[] | null {
  const m = new Mapper(t);
  const out: FunctionCoverage[] = [];
  const trailer = trailerStart(functions, m, tableName);
  const length = t.length;
  // Another text under the same name (a module imported again with
  // another query, changed in between): its ranges are not this table's.
  // (The appended line starts after the module's text; the take after
  // another lists only the functions that ran since, maybe not its first.)
  if (trailer >= 0 && m.original(trailer) < length) return null;
  const original = textOf(length);
  let declarations: Map<number, number> | undefined;
  const clamp = (x: number): number => (x > length ? length : x);
  for (const fn of functions) {
    const top = fn.ranges[0];
    if (top === undefined) continue;
    // The transform's own functions: those it inserted into the program's
    // lines, and those on the line it appends. The module's own top level
    // starts at 0, where its prologue is inserted.
    if (top.startOffset > 0 && (m.spanAt(top.startOffset) >= 0 || (trailer >= 0 && top.startOffset >= trailer))) continue;
    const fnRange: CoverageRange = { startOffset: clamp(m.original(top.startOffset)), endOffset: clamp(m.original(top.endOffset)), count: top.count };
    const rs = fn.ranges;
    const n = rs.length;
    if (n === 1) {
      out.push({ functionName: fn.functionName, ranges: [fnRange], isBlockCoverage: fn.isBlockCoverage });
      continue;
    }
    // V8's tree of the ranges (0 is the function's): each one's parent and next sibling.
    const parent = new Int32Array(n);
    const next = new Int32Array(n).fill(-1);
    const last = new Int32Array(n).fill(-1);
    const open = [0];
    for (let k = 1; k < n; k++) {
      while (open.length > 1 && rs[k]!.startOffset >= rs[open[open.length - 1]!]!.endOffset) open.pop();
      const p = open[open.length - 1]!;
      parent[k] = p;
      if (last[p]! >= 0) next[last[p]!] = k;
      last[p] = k;
      open.push(k);
    }
    const KEPT = 1;
    const SUSPENSION = 2;
    const kept = new Uint8Array(n);
    /** For a range kept as the code after a suspension: its record in the table. */
    const suspension = new Int32Array(n).fill(-1);
    for (let k = 1; k < n; k++) {
      const r = rs[k]!;
      if (m.inserted(r.startOffset, r.endOffset)) {
        // The code after an await or a yield: V8 starts it inside the
        // wrapper the transform closes it with.
        const j = m.suspensionAt(r.startOffset);
        if (j >= 0 && r.count !== rs[parent[k]!]!.count) {
          kept[k] = SUSPENSION;
          suspension[k] = j;
        }
        continue;
      }
      const s = clamp(m.original(r.startOffset));
      const e = clamp(m.original(r.endOffset));
      // The traced branch of a value written twice: its count is in the copy's.
      if (m.copiedBranch(r.startOffset, s, e)) continue;
      // A continuation V8 made only because inserted code follows: V8
      // leaves out the code after a list's last statement (but after the
      // statements it compiles into blocks of its own: table.ts, kept).
      if (original !== null && m.holdsInserted(r.startOffset, r.endOffset) && !sortedHas(t.kept, s)
        && noStatement(original, s, e, declarations ??= unitExtents(t))) continue;
      kept[k] = KEPT;
    }
    /**
     * Where a range cut short by inserted code ends in the plain run. V8
     * ends the code after a jump or a suspension (a continuation) where its
     * next sibling starts, or else at its parent's end (before a
     * function's closing brace); a sibling or an end that the transform
     * inserted is not there in the plain run.
     */
    const endOf = (k: number): number => {
      const r = rs[k]!;
      // Only a range that holds the code after a statement (V8 merges a
      // range with the next when their counts are equal) goes on past
      // inserted text; other ranges (a case clause, a wrapped statement, a
      // copy) end with their own text.
      const e = clamp(m.original(r.endOffset));
      if (kept[k] !== SUSPENSION) {
        const after = m.spanAt(r.startOffset) < 0 && holdsContinuation(t, m.original(r.startOffset), e);
        if (!after || !m.endsInserted(r.endOffset, length)) return e;
      }
      let j = next[k]!;
      while (j >= 0 && kept[j] !== KEPT) j = next[j]!;
      const sibling = j >= 0 ? clamp(m.original(rs[j]!.startOffset)) : Infinity;
      // The code after a suspension ends with its statement list.
      if (kept[k] === SUSPENSION) return Math.min(sibling, t.suspensions[suspension[k]! * 4 + 3]!);
      if (j >= 0) return sibling;
      const p = parent[k]!;
      return p === 0 ? fnRange.endOffset - 1 : clamp(m.original(rs[p]!.endOffset));
    };
    const blocks: Mapped[] = [];
    for (let k = 1; k < n; k++) {
      if (kept[k] === 0) continue;
      const r = rs[k]!;
      // The code after a suspension starts after its statement.
      const start = kept[k] === SUSPENSION ? t.suspensions[suspension[k]! * 4 + 2]! : clamp(m.original(r.startOffset));
      blocks.push({ startOffset: start, endOffset: endOf(k), count: r.count, copy: m.copyOf(r.startOffset, r.endOffset) >= 0 });
    }
    blocks.sort((a, b) => a.startOffset - b.startOffset || b.endOffset - a.endOffset);
    out.push({ functionName: fn.functionName, ranges: [fnRange, ...normalise(fnRange, blocks)], isBlockCoverage: fn.isBlockCoverage });
  }
  return out;
}

/**
 * Ranges in the module's own offsets (remapFunctions' result) put in the
 * compiled text's offsets: a range covers the compiled text of the
 * characters it covers, and none of the text inserted before its first or
 * after its last. The top level keeps its compiled extent (`compiled`, the
 * functions as V8 listed them).
 */
export function inCompiledText(functions: readonly FunctionCoverage[], t: EditTable, compiled: readonly FunctionCoverage[]): FunctionCoverage[] {
  const s = spansOf(t);
  // The compiled offset of the module's character at `o`.
  const at = (o: number): number => {
    const i = lowerBound(t.spans, 4, o + 1) - 1;
    return i < 0 ? o : o + s.before[i]! + t.spans[i * 4 + 1]!;
  };
  const end = compiled.find((f) => f.ranges[0]?.startOffset === 0)?.ranges[0]?.endOffset;
  return functions.map((f) => ({
    functionName: f.functionName,
    isBlockCoverage: f.isBlockCoverage,
    ranges: f.ranges.map((r, k) => k === 0 && r.startOffset === 0 && end !== undefined ? { startOffset: 0, endOffset: end, count: r.count } : {
      startOffset: at(r.startOffset),
      endOffset: r.endOffset > r.startOffset ? at(r.endOffset - 1) + 1 : at(r.startOffset),
      count: r.count,
    }),
  }));
}
