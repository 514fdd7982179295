/**
 * The text a loaded script is live-patched to: its own source, with the
 * pieces the transform inserted into the chosen functions put back in.
 *
 * Owns: composing that text, where each function and each source character
 * land in it, and which inserted ranges each function brought. Invariants:
 * - only the chosen functions change: the text is the source plus the
 *   pieces the chosen functions own (functions.ts), never a piece of the top
 *   level or of a function not chosen; so V8's LiveEdit recompiles exactly
 *   those and refuses only for them;
 * - composing is per function: the pieces a function brings, and where they
 *   go, do not depend on which other functions are chosen, so the text for
 *   a set of functions is the text for any subset with more text inserted
 *   (what matching.ts needs to tell what V8 will match);
 * - the transform's module prologue is left out (an ES module's top level
 *   cannot be live-edited, and new top-level bindings would leave the
 *   script's closures unpatched): the names it declares are read instead as
 *   bindings of the global lexical scope, renamed per script so that two
 *   scripts never share one;
 * - line breaks are never added or removed, so line numbers in stack traces
 *   stay those of the source.
 *
 * Where a piece goes, so that V8 finds every function again (matching.ts):
 * - a block body's closing text that holds a `}` (an async function's or a
 *   generator's catch) goes right after the body's last token rather than
 *   right before the body's `}`, which V8 could otherwise match to the one
 *   in that text; alone on its line, the brace then keeps its line
 *   unchanged. (A closing text without a `}` stays: moved, it would join
 *   the line of the last statement, where an inner function may end.)
 * - text inserted right where an inner arrow or class starts (`return (x)
 *   => ...` opening the returned value) goes before the whitespace in front
 *   of it, so that V8 does not see the inner function start later;
 * - each function's last piece on a line is followed by a comment naming
 *   the line, so that no line the patch changes is equal to another line of
 *   the old text (V8 first matches lines by their text).
 */

import type { Piece, ScriptFunctions } from './functions.js';
import { lineIndexAt, v8LineStarts } from '../instrument/original/v8-lines.js';

export interface Spliced {
  text: string;
  /** Per function: its start and end offsets in `text`. */
  starts: Int32Array;
  ends: Int32Array;
  /** Inserted ranges of `text`, as [start, end) pairs in order, and the function each came with. */
  inserted: number[];
  owners: number[];
  /** Where the source character at an offset is in `text`. */
  at(offset: number): number;
}

/** A piece where it goes: its destination offset and its order there. */
interface Placed {
  dest: number;
  order: number;
  from: number;
  to: number;
  fn: number;
  /** A line comment's text instead of a range of the output ('' for a piece). */
  note: string;
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/**
 * Where every piece goes, for every function (once per script: composing is
 * per function, see the header), sorted. `prefix` starts the line notes (the
 * transform's prefix, absent from the source).
 */
function placePieces(source: string, output: string, sf: ScriptFunctions, prefix: string): Placed[][] {
  const { fns, pieces } = sf;
  // Where arrows and classes start: V8 starts functions there.
  const starts = new Set<number>(sf.classes.map((c) => c.start));
  for (const f of fns) if (f.v8Start === f.start) starts.add(f.start);
  // Functions whose closing text holds a `}` (an async function's or a generator's catch).
  const braced = new Set<number>();
  for (const p of pieces) if (p.fn >= 0 && p.at === fns[p.fn]!.closeAt && output.slice(p.from, p.to).includes('}')) braced.add(p.fn);
  const byFn: Placed[][] = fns.map(() => []);
  pieces.forEach((p: Piece, i) => {
    if (p.fn < 0) return;
    const f = fns[p.fn]!;
    let dest = p.at;
    if (p.at === f.closeAt && f.lastTokenEnd < f.closeAt && braced.has(p.fn)) dest = f.lastTokenEnd;
    else if (starts.has(p.at) && isSpace(source[p.at - 1]) && output.charCodeAt(p.from) === 40 /* ( */) {
      // Before the spaces: `return($Jr= (x) => ...`; the `(` cannot join the token before it.
      dest = p.at - 1;
      while (dest > 0 && isSpace(source[dest - 1])) dest--;
    }
    byFn[p.fn]!.push({ dest, order: i, from: p.from, to: p.to, fn: p.fn, note: '' });
  });
  const lines = v8LineStarts(source);
  const lineOf = (offset: number): number => lineIndexAt(lines, offset);
  return byFn.map((list) => {
    list.sort((x, y) => x.dest - y.dest || x.order - y.order);
    // After the function's last piece on each line, the line's note.
    const out: Placed[] = [];
    list.forEach((p, k) => {
      out.push(p);
      const next = list[k + 1];
      const line = lineOf(p.dest);
      if (next === undefined || lineOf(next.dest) !== line) out.push({ dest: p.dest, order: p.order + 0.5, from: 0, to: 0, fn: p.fn, note: `/*${prefix}${line}*/` });
    });
    return out;
  });
}

/** The prefix the transform chose: the common start of the prologue's names. */
function prefixOf(sf: ScriptFunctions): string {
  const names = sf.prologueNames;
  if (names.length === 0) return '$J';
  let p = names[0]!;
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1);
  return p;
}

const cache = new WeakMap<ScriptFunctions, Placed[][]>();

/**
 * `source` with the pieces of the functions in `chosen` put in, every use of
 * a prologue name `n` written `rename(n)`.
 */
export function splice(source: string, output: string, sf: ScriptFunctions, chosen: ReadonlySet<number>, rename: (name: string) => string): Spliced {
  let placed = cache.get(sf);
  if (placed === undefined) {
    placed = placePieces(source, output, sf, prefixOf(sf));
    cache.set(sf, placed);
  }
  const all: Placed[] = [];
  for (const i of chosen) for (const p of placed[i]!) all.push(p);
  all.sort((x, y) => x.dest - y.dest || x.order - y.order);
  const { uses } = sf;
  let useAt = 0;
  const parts: string[] = [];
  const inserted: number[] = [];
  const owners: number[] = [];
  // Source offsets with insertions and the total inserted before each source character there.
  const atOffsets: number[] = [];
  const atShift: number[] = [];
  let length = 0;
  let from = 0;
  let shift = 0;
  for (const p of all) {
    if (p.dest > from) {
      parts.push(source.slice(from, p.dest));
      length += p.dest - from;
      from = p.dest;
    }
    const start = length;
    if (p.note !== '') {
      parts.push(p.note);
      length += p.note.length;
    } else {
      // Renamed uses of prologue names inside the piece.
      let lo = 0;
      let hi = uses.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (uses[mid]!.start < p.from) lo = mid + 1;
        else hi = mid;
      }
      let at = p.from;
      for (useAt = lo; useAt < uses.length && uses[useAt]!.end <= p.to; useAt++) {
        const u = uses[useAt]!;
        const r = rename(u.name);
        parts.push(output.slice(at, u.start), r);
        length += u.start - at + r.length;
        at = u.end;
      }
      parts.push(output.slice(at, p.to));
      length += p.to - at;
    }
    shift += length - start;
    if (inserted.length > 0 && inserted[inserted.length - 1] === start && owners[owners.length - 1] === p.fn) inserted[inserted.length - 1] = length;
    else {
      inserted.push(start, length);
      owners.push(p.fn);
    }
    if (atOffsets.length > 0 && atOffsets[atOffsets.length - 1] === p.dest) atShift[atShift.length - 1] = shift;
    else {
      atOffsets.push(p.dest);
      atShift.push(shift);
    }
  }
  parts.push(source.slice(from));
  const text = parts.join('');
  const at = (offset: number): number => {
    // Inserted text at an offset comes before the source character there.
    let lo = 0;
    let hi = atOffsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (atOffsets[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return offset + (lo > 0 ? atShift[lo - 1]! : 0);
  };
  const { fns } = sf;
  const starts = new Int32Array(fns.length);
  const ends = new Int32Array(fns.length);
  fns.forEach((f, i) => {
    starts[i] = at(f.start);
    ends[i] = at(f.end - 1) + 1;
  });
  return { text, starts, ends, inserted, owners, at };
}
