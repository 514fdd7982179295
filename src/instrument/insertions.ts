/**
 * Text inserted into a source, and nothing else: the transform's only kind
 * of edit.
 *
 * Owns: the order of insertions made at one offset and the output they
 * give. Invariant: the output is the source with text inserted between its
 * characters; no character of the source is removed, replaced or moved, so
 * the source is the output with the inserted spans taken out (what
 * original/table.ts records).
 *
 * At one offset, the order follows the nesting of what each insertion
 * opens or closes, so that the output nests as the source does however
 * tightly its nodes touch (minified code). Each insertion names its place:
 * the extent of the node it belongs to (an opener sits at its start, a
 * closer at its end) and a depth key (the walk's depth, with finer steps
 * for what wraps a node from outside, see the transform). At one offset:
 * 1. closers before openers (a node ending there and one starting there
 *    are siblings; an empty node gets one insertion holding both);
 * 2. closers innermost first: the later start, then the deeper key, then
 *    the later call;
 * 3. openers outermost first: the later end, then the shallower key, then
 *    the earlier call.
 */

export interface Applied {
  readonly code: string;
  /** Per offset with insertions, in order: offset, total inserted length. */
  readonly spans: number[];
  /** Per insertion (by the index its insert call returned): where its text starts in its span. */
  readonly inSpan: Int32Array;
  /** Per insertion: the index of its span (spans[2 * i]). */
  readonly spanOf: Int32Array;
}

export class Insertions {
  private readonly offsets: number[] = [];
  /** 1 for an opener, 0 for a closer. */
  private readonly opens: number[] = [];
  /** The other end of the node's extent: its end for an opener, its start for a closer. */
  private readonly others: number[] = [];
  private readonly keys: number[] = [];
  private readonly texts: string[] = [];
  /** Unit (original/table.ts) each insertion belongs to, or -1. */
  private readonly owners: number[] = [];
  /** The unit insertions made now belong to. */
  owner = -1;

  /** How many insertions there are. */
  get count(): number {
    return this.texts.length;
  }

  private add(offset: number, open: number, other: number, key: number, text: string): number {
    this.offsets.push(offset);
    this.at.add(offset);
    this.opens.push(open);
    this.others.push(other);
    this.keys.push(key);
    this.texts.push(text);
    this.owners.push(this.owner);
    return this.texts.length - 1;
  }

  /** Inserts `text` at the start of a node that ends at `end`, at depth `key`. */
  open(offset: number, text: string, end: number, key: number): number { return this.add(offset, 1, end, key, text); }
  /** Inserts `text` at the end of a node that starts at `start`, at depth `key`. */
  close(offset: number, text: string, start: number, key: number): number { return this.add(offset, 0, start, key, text); }

  /** Sets the text of an insertion made earlier (a placeholder keeps its place in the order). */
  setText(insertion: number, text: string): void {
    this.texts[insertion] = text;
  }

  /**
   * Adds `text` once on every line that has inserted text: at the first
   * offset of the line where something is inserted, before everything
   * inserted there, where no range of V8's coverage begins or ends (they
   * begin and end with the program's statements and ours); after
   * everything inserted there when the source has a `/` just before (a
   * comment there would begin a line comment). Made last, once every other
   * insertion is in. `lineOf` gives an offset's line, or -1 where the line
   * needs no mark.
   */
  markLines(lineOf: (offset: number) => number, text: string, code: string): void {
    const first = new Map<number, number>();
    const n = this.texts.length;
    for (let i = 0; i < n; i++) {
      if (this.texts[i] === '') continue;
      const o = this.offsets[i]!;
      const line = lineOf(o);
      if (line < 0) continue;
      const f = first.get(line);
      if (f === undefined || o < f) first.set(line, o);
    }
    for (const o of first.values()) {
      // First: a closer that starts after every other (closers come first,
      // the later start first). Last: an opener that ends before every
      // other, deepest of all.
      if (code.charCodeAt(o - 1) !== 47 /* / */) this.add(o, 0, 2 ** 30, 2 ** 30, text);
      else this.add(o, 1, -(2 ** 30), 2 ** 30, text);
    }
  }

  /** Whether anything was inserted at `offset`. */
  has(offset: number): boolean {
    return this.at.has(offset);
  }

  /** Every offset with an insertion, kept as they are made (has() is asked once per statement). */
  private readonly at = new Set<number>();

  /** The insertions in output order: indices into the arrays. */
  private order(): number[] {
    const idx = Array.from(this.offsets.keys());
    const { offsets, opens, others, keys } = this;
    idx.sort((a, b) => {
      const d = offsets[a]! - offsets[b]!;
      if (d !== 0) return d;
      const o = opens[a]! - opens[b]!;
      if (o !== 0) return o;
      if (opens[a] === 0) return others[b]! - others[a]! || keys[b]! - keys[a]! || b - a;
      return others[b]! - others[a]! || keys[a]! - keys[b]! || a - b;
    });
    return idx;
  }

  /** The output, and the spans it inserted (offset, length), one per offset. */
  apply(code: string): Applied {
    const idx = this.order();
    const out: string[] = [];
    const spans: number[] = [];
    const inSpan = new Int32Array(this.texts.length);
    const spanOf = new Int32Array(this.texts.length).fill(-1);
    let from = 0;
    for (const i of idx) {
      if (this.texts[i] === '') continue;
      const at = this.offsets[i]!;
      if (at > from) {
        out.push(code.slice(from, at));
        from = at;
      }
      out.push(this.texts[i]!);
      const n = spans.length;
      if (n > 0 && spans[n - 2] === at) {
        inSpan[i] = spans[n - 1]!;
        spans[n - 1] += this.texts[i]!.length;
      } else {
        spans.push(at, this.texts[i]!.length);
      }
      spanOf[i] = (spans.length >> 1) - 1;
    }
    out.push(code.slice(from));
    return { code: out.join(''), spans, inSpan, spanOf };
  }

  /**
   * The length inserted at `offset` by `unit` or units inside it (`inside`
   * tells whether a unit is one of those).
   */
  ownedAt(offset: number, inside: (owner: number) => boolean): number {
    if (this.byOffset === null) {
      this.byOffset = new Map();
      for (let i = 0; i < this.offsets.length; i++) {
        const list = this.byOffset.get(this.offsets[i]!);
        if (list === undefined) this.byOffset.set(this.offsets[i]!, [i]);
        else list.push(i);
      }
    }
    let n = 0;
    for (const i of this.byOffset.get(offset) ?? []) {
      if (this.owners[i] !== -1 && inside(this.owners[i]!)) n += this.texts[i]!.length;
    }
    return n;
  }

  /** Insertion indices by offset, made once all insertions are in (ownedAt). */
  private byOffset: Map<number, number[]> | null = null;
}
