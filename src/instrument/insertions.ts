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
 * At one offset, what closes the nodes that end there comes before what
 * opens the nodes that start there, in five groups:
 * 1. `close`: closers, innermost first (the walk reaches inner nodes later,
 *    so later calls come first);
 * 2. `semicolonAfter`: the `;` that ends a statement which relied on ASI;
 * 3. `closeOuter`: closers added after a node's contents were walked (so
 *    they are outermost), in call order;
 * 4. `openOuter`: openers added after the walk, outermost last-called first;
 * 5. `open`: openers, outermost first (in call order).
 * A node that is empty between its opener and its closer (an empty body)
 * gets one insertion holding both.
 */

const CLOSE = 0;
const SEMICOLON = 1;
const CLOSE_OUTER = 2;
const OPEN_OUTER = 3;
const OPEN = 4;

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
  private readonly groups: number[] = [];
  private readonly texts: string[] = [];
  /** Unit (original/table.ts) each insertion belongs to, or -1. */
  private readonly owners: number[] = [];
  /** The unit insertions made now belong to. */
  owner = -1;

  private add(offset: number, group: number, text: string): number {
    this.offsets.push(offset);
    this.at.add(offset);
    this.groups.push(group);
    this.texts.push(text);
    this.owners.push(this.owner);
    return this.texts.length - 1;
  }

  close(offset: number, text: string): number { return this.add(offset, CLOSE, text); }
  semicolonAfter(offset: number): number { return this.add(offset, SEMICOLON, ';'); }
  closeOuter(offset: number, text: string): number { return this.add(offset, CLOSE_OUTER, text); }
  openOuter(offset: number, text: string): number { return this.add(offset, OPEN_OUTER, text); }
  open(offset: number, text: string): number { return this.add(offset, OPEN, text); }

  /** Sets the text of an insertion made earlier (a placeholder keeps its place in the order). */
  setText(insertion: number, text: string): void {
    this.texts[insertion] = text;
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
    const { offsets, groups } = this;
    idx.sort((a, b) => {
      const d = offsets[a]! - offsets[b]!;
      if (d !== 0) return d;
      const g = groups[a]! - groups[b]!;
      if (g !== 0) return g;
      // Closers and outer openers: later calls first; the rest in call order.
      return groups[a] === CLOSE || groups[a] === OPEN_OUTER ? b - a : a - b;
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
