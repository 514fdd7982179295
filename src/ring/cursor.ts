/**
 * Decoding a page image: a page header and its events, as the writer laid
 * them out, in memory no writer touches (a reader's private copy, or a raw
 * page read from elsewhere).
 *
 * Owns: the walk over events, timestamps rebuilt from deltas, extends and
 * stamps. Invariant: the cursor takes every offset and code from a parsed
 * PageFormat and EventHeaderFormat, so a reader with only header_page and
 * header_event decodes what this build writes; it never reads outside the
 * image's committed words, even from a corrupt page (an event that claims to
 * run past them ends the page).
 *
 * One cursor is reused for every event: `step()` moves it, and its fields
 * describe the current event until the next step. Nothing is allocated per
 * event; the payload is `data[at .. at + words)`, word 0 being the common
 * word.
 */

import { COMMIT_ENTRIES_SHIFT, COMMIT_WORDS_MASK, DEFAULT_PAGE_BYTES, readU64 } from './layout.js';
import {
  EVENT_HEADER, type EventFormat, type EventHeaderFormat, type FieldFormat, pageFormatFor, type PageFormat, readField,
  readStringField,
} from './format.js';
import { MathMax, MathMin } from '../shared/builtins.js';

const EMPTY = new Int32Array(0);

export class EventCursor {
  /** The image; the current payload is data[at .. at + words). */
  data: Int32Array = EMPTY;
  at = 0;
  words = 0;
  /** Timestamp in clock units. */
  ts = 0;
  /** common_type and common_flags. */
  type = 0;
  flags = 0;
  /** Serial number: events written to the ring before this one. */
  serial = 0;
  /** Sequence number of the page the image was taken from. */
  pageSeq = 0;

  private p = 0;
  private end = 0;
  private readonly lenMask: number;
  private readonly shift: number;
  private readonly maxLen: number;
  private readonly padding: number;
  private readonly extend: number;
  private readonly stamp: number;
  private readonly extendUnit: number;
  private readonly page: PageFormat;

  constructor(page: PageFormat = pageFormatFor(DEFAULT_PAGE_BYTES), header: EventHeaderFormat = EVENT_HEADER) {
    this.page = page;
    this.lenMask = (1 << header.typeLenBits) - 1;
    this.shift = header.typeLenBits;
    this.maxLen = header.maxTypeLen;
    this.padding = header.padding;
    this.extend = header.timeExtend;
    this.stamp = header.timeStamp;
    this.extendUnit = 2 ** header.deltaBits;
  }

  /**
   * Points the cursor before the first event of the image at `data[base]`.
   * Returns the number of events the page header announces.
   */
  load(data: Int32Array, base = 0): number {
    const pf = this.page;
    const c = data[base + pf.commitAt]!;
    this.data = data;
    this.p = base + pf.headerWords;
    this.end = MathMin(data.length, this.p + (c & COMMIT_WORDS_MASK));
    this.ts = readU64(data, base + pf.tsAt);
    this.serial = readU64(data, base + pf.serialAt) - 1;
    this.pageSeq = data[base + pf.seqAt]! >>> 0;
    this.at = this.words = this.type = this.flags = 0;
    return c >>> COMMIT_ENTRIES_SHIFT;
  }

  /** Moves to the next event; false when the image has no more. */
  step(): boolean {
    const d = this.data;
    const end = this.end;
    let p = this.p;
    while (p < end) {
      const h = d[p]!;
      const len = h & this.lenMask;
      if (len !== 0 && len <= this.maxLen) {
        const at = p + 1;
        if (at + len > end) break;
        this.ts += h >>> this.shift;
        const c = d[at]!;
        this.type = c & 0xffff;
        this.flags = c >>> 16;
        this.at = at;
        this.words = len;
        this.p = at + len;
        this.serial++;
        return true;
      }
      if (p + 1 >= end) break;
      const a = d[p + 1]! >>> 0;
      if (len === 0) {
        const at = p + 2;
        if (a === 0 || at + a > end) break;
        this.ts += h >>> this.shift;
        const c = d[at]!;
        this.type = c & 0xffff;
        this.flags = c >>> 16;
        this.at = at;
        this.words = a;
        this.p = at + a;
        this.serial++;
        return true;
      }
      if (len === this.extend) this.ts += (h >>> this.shift) + a * this.extendUnit;
      else if (len === this.stamp) this.ts = (h >>> this.shift) + a * this.extendUnit;
      else if (len === this.padding) {
        p += MathMax(1, h >>> this.shift);
        continue;
      } else break; // a code this format does not define: the page is corrupt
      p += 2;
    }
    this.p = end;
    return false;
  }

  /** Timestamp after the last event of the image (walks the rest of it). */
  finalTs(): number {
    while (this.step());
    return this.ts;
  }

  u32(i: number): number {
    return this.data[this.at + i]! >>> 0;
  }

  i32(i: number): number {
    return this.data[this.at + i]! | 0;
  }

  u64(i: number): number {
    return (this.data[this.at + i]! >>> 0) + (this.data[this.at + i + 1]! >>> 0) * 0x100000000;
  }

  field(f: FieldFormat): number {
    return readField(this.data, this.at, f);
  }

  string(f: FieldFormat): string {
    return readStringField(this.data, this.at, f, this.words);
  }

  /** Whether the current event is of type `e` and long enough for its fixed fields. */
  is(e: EventFormat): boolean {
    return this.type === e.id && this.words >= e.words;
  }
}
