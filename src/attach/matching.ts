/**
 * Whether V8's LiveEdit will find every function of a script again after an
 * edit that only inserts text (a patch) or only takes inserted text out (a
 * restore). V8 does not say: a function it does not find keeps its old code,
 * its closures are left as they were, and setScriptSource answers 'Ok'.
 *
 * Owns: the model of V8's matching, and the one decision made from it: for
 * each position V8 matches by, whether every edit V8 may compute keeps it
 * where it is.
 *
 * How V8 matches (src/debug/liveedit.cc): it diffs the old and the new
 * text, first by lines (whole lines compared, after the common first and
 * last lines are set aside), then, within each run of changed lines shorter
 * than 800 characters on both sides, by characters; a longer run is one
 * change. It then moves each function's start and end through that diff and
 * looks for a new function at exactly those two positions. A position inside
 * a change (the character before it replaced) or moved wrongly leaves the
 * function unmatched.
 *
 * Why this can be decided without running V8's diff: the long text is the
 * short one with text inserted on some lines (never a line break), and
 * every changed line of the long text holds a note naming its line
 * (splice.ts), so it equals no line of the short text. A shortest line
 * edit then matches every unchanged line of the long text to an equal line
 * of the short one, in order; when the leftmost and the rightmost such
 * matchings agree on a line, every one does (the line is pinned), and a run
 * of changed lines between two pinned lines is one change, the same on both
 * sides. Within it a shortest character edit inserts and nothing else, and
 * line breaks match line breaks, so each line's characters embed in its
 * longer version; where the leftmost and rightmost embeddings agree on a
 * character, every shortest edit keeps it there. Whatever V8 computes among
 * the shortest edits then keeps the positions checked here; anything not
 * proven so is reported, never guessed.
 */

import { lineIndexAt, v8LineStarts } from '../instrument/original/v8-lines.js';
import { v8Diff } from './v8-diff.js';

/** V8 diffs a run of changed lines by characters only below this length (CHUNK_LEN_LIMIT). */
export const CHUNK_LIMIT = 800;

export interface Unmatched {
  /** Index into the positions checked. */
  index: number;
  /** The lines (of the long text) whose changes put it at risk, inclusive. */
  from: number;
  to: number;
  why: string;
}

/**
 * `long` is the short text with the ranges `inserted` ([start, end) pairs,
 * sorted, in `long`) added; `adding`: the edit goes from the short text to
 * the long one (a patch), else back (a restore). `bounds` are positions of
 * `long` V8 matches functions by (where one starts, or ends), -1 for none.
 * Returns those not proven kept.
 */
export function unmatched(long: string, inserted: readonly number[], bounds: readonly number[], adding: boolean): Unmatched[] {
  if (inserted.length === 0) return [];
  const starts = v8LineStarts(long);
  const lines = starts.length;
  const lineEnd = (l: number): number => (l + 1 < lines ? starts[l + 1]! : long.length);
  const lineOf = (pos: number): number => lineIndexAt(starts, pos);
  // Inserted ranges per line (an insertion holds no line break).
  const byLine = new Map<number, number[]>();
  for (let i = 0; i < inserted.length; i += 2) {
    const l = lineOf(inserted[i]!);
    let list = byLine.get(l);
    if (list === undefined) byLine.set(l, (list = []));
    list.push(inserted[i]!, inserted[i + 1]!);
  }
  const changed = [...byLine.keys()].sort((x, y) => x - y);
  const first = changed[0]!;
  const last = changed[changed.length - 1]!;
  const shortLine = (l: number): string => {
    const r = byLine.get(l);
    if (r === undefined) return long.slice(starts[l]!, lineEnd(l));
    let out = '';
    let at = starts[l]!;
    for (let i = 0; i < r.length; i += 2) {
      out += long.slice(at, r[i]!);
      at = r[i + 1]!;
    }
    return out + long.slice(at, lineEnd(l));
  };

  // Lines between the first and the last changed one: V8 diffs only those.
  // pinned[l - first]: an unchanged line every shortest line edit keeps in place.
  const pinned = new Uint8Array(last - first + 1);
  const where = new Map<string, number[]>();
  const shortText: string[] = [];
  for (let l = first; l <= last; l++) {
    const t = shortLine(l);
    shortText.push(t);
    let list = where.get(t);
    if (list === undefined) where.set(t, (list = []));
    list.push(l);
  }
  let provable = true;
  for (const l of changed) if (where.has(long.slice(starts[l]!, lineEnd(l)))) provable = false;
  if (provable) {
    // Leftmost and rightmost matchings of the unchanged long lines into short lines of equal text.
    const left = new Int32Array(last - first + 1).fill(-1);
    const cursor = new Map<string, number>();
    let prev = first - 1;
    for (let l = first; l <= last; l++) {
      if (byLine.has(l)) continue;
      const t = shortText[l - first]!;
      const list = where.get(t)!;
      let k = cursor.get(t) ?? 0;
      while (k < list.length && list[k]! <= prev) k++;
      cursor.set(t, k);
      prev = left[l - first] = k < list.length ? list[k]! : -1;
      if (prev < 0) break;
    }
    cursor.clear();
    let next = last + 1;
    for (let l = last; l >= first; l--) {
      if (byLine.has(l)) continue;
      const t = shortText[l - first]!;
      const list = where.get(t)!;
      let k = cursor.get(t) ?? list.length - 1;
      while (k >= 0 && list[k]! >= next) k--;
      cursor.set(t, k);
      next = k >= 0 ? list[k]! : -1;
      if (next < 0) break;
      if (left[l - first] === l && next === l) pinned[l - first] = 1;
    }
  }
  const isPinned = (l: number): boolean => l < first || l > last || pinned[l - first] === 1;
  /** The nearest pinned line at or beyond `l` in direction `d`. */
  const pinnedFrom = (l: number, d: 1 | -1): number => {
    while (!isPinned(l)) l += d;
    return l;
  };

  // Per changed line: the leftmost and rightmost embedding of its short text in its long text.
  const embeddings = new Map<number, { lo: Int32Array; hi: Int32Array }>();
  const embed = (l: number): { lo: Int32Array; hi: Int32Array } => {
    let e = embeddings.get(l);
    if (e !== undefined) return e;
    const s = shortLine(l);
    const t = long.slice(starts[l]!, lineEnd(l));
    const lo = new Int32Array(s.length);
    const hi = new Int32Array(s.length);
    let j = 0;
    for (let k = 0; k < s.length; k++) {
      while (t.charCodeAt(j) !== s.charCodeAt(k)) j++;
      lo[k] = j++;
    }
    j = t.length - 1;
    for (let k = s.length - 1; k >= 0; k--) {
      while (t.charCodeAt(j) !== s.charCodeAt(k)) j--;
      hi[k] = j--;
    }
    embeddings.set(l, (e = { lo, hi }));
    return e;
  };

  // Per run of changed lines: the changes V8's character diff makes there (v8-diff.ts), relative to the run.
  const simulated = new Map<number, number[]>();
  const simulate = (a: number, b: number): number[] => {
    let c = simulated.get(a);
    if (c !== undefined) return c;
    let short = '';
    for (let l = a; l <= b; l++) short += shortLine(l);
    const longRun = long.slice(starts[a]!, lineEnd(b));
    c = adding ? v8Diff(short, longRun) : v8Diff(longRun, short);
    simulated.set(a, c);
    return c;
  };
  /** Where V8 moves `pos` of the old side through `changes`, or -1 when it is inside one. */
  const moved = (changes: readonly number[], pos: number): number => {
    let shift = 0;
    for (let i = 0; i < changes.length; i += 4) {
      if (changes[i]! < pos && pos <= changes[i + 1]!) return -1;
      if (changes[i + 1]! < pos) shift += (changes[i + 3]! - changes[i + 2]!) - (changes[i + 1]! - changes[i]!);
    }
    return pos + shift;
  };

  const out: Unmatched[] = [];
  bounds.forEach((q, index) => {
    if (q <= 0) return;
    // The character before the position: the one V8 must keep in place for it.
    const c = q - 1;
    const l = lineOf(c);
    if (l < first || l > last) return;
    const r = byLine.get(l);
    if (r === undefined) {
      if (!isPinned(l)) out.push({ index, from: pinnedFrom(l, -1) + 1, to: pinnedFrom(l, 1) - 1, why: 'its line could be matched to another equal line' });
      return;
    }
    // The run of changed lines around it, between the nearest unchanged lines.
    let a = l;
    while (a - 1 >= first && byLine.has(a - 1)) a--;
    let b = l;
    while (b + 1 <= last && byLine.has(b + 1)) b++;
    if (!isPinned(a - 1) || !isPinned(b + 1)) {
      out.push({ index, from: pinnedFrom(a - 1, -1) + 1, to: pinnedFrom(b + 1, 1) - 1, why: 'its lines could be matched to other equal lines' });
      return;
    }
    if (lineEnd(b) - starts[a]! >= CHUNK_LIMIT) {
      out.push({ index, from: a, to: b, why: `its instrumented lines are ${CHUNK_LIMIT} characters or more together, which V8 does not diff` });
      return;
    }
    // Its rank among the line's characters that are not inserted.
    let k = c - starts[l]!;
    for (let i = 0; i < r.length; i += 2) {
      if (c >= r[i]! && c < r[i + 1]!) {
        out.push({ index, from: l, to: l, why: 'text is inserted right where it starts' });
        return;
      }
      if (r[i + 1]! <= c) k -= r[i + 1]! - r[i]!;
    }
    const e = embed(l);
    const col = c - starts[l]!;
    if (e.lo[k] === col && e.hi[k] === col) return;
    // Not the same in every shortest diff: decide by the one V8 computes.
    let inRun = 0;
    for (let m = a; m < l; m++) inRun += shortLine(m).length;
    const shortPos = inRun + k + 1;
    const longPos = q - starts[a]!;
    const changes = simulate(a, b);
    if (adding ? moved(changes, shortPos) !== longPos : moved(changes, longPos) !== shortPos) {
      out.push({ index, from: l, to: l, why: 'V8 would match the inserted text around it in its place' });
    }
  });
  return out;
}
