/**
 * The reading side of a ring: trace_pipe (consuming) and trace (not), from
 * any thread, while the writer keeps writing in its own.
 *
 * Owns: R_HEAD's reader moves, R_READ_*, F_READ_* and F_NEXT_SERIAL, all
 * under R_LOCK, which serialises readers among themselves (never the writer).
 * Invariants:
 * - a reader copies a run of committed events into a private page image
 *   before it looks at them, and keeps the copy only if a compareExchange on
 *   R_HEAD then succeeds (layout.ts, rule 2): what it decodes was never
 *   overwritten while it copied;
 * - every event is consumed at most once, by the reader whose
 *   compareExchange took it; events overwritten before any reader took them
 *   show up as a gap in serial numbers, reported as READ_LOST with the exact
 *   count before the next event;
 * - no allocation per event: the cursor and the image are reused; a refill
 *   (once per page or committed run) allocates one subarray view.
 *
 * Both readers return a status from next(): READ_EVENT (the cursor `event`
 * holds it), READ_LOST (`lost` events are missing here; call again),
 * READ_EMPTY (nothing more now), READ_RETIRED (the ring was resized away:
 * read its successor).
 */

import {
  COMMIT_ENTRIES_SHIFT, COMMIT_WORDS_MASK, F_NEXT_SERIAL, F_READ, F_READ_TS, headConsumed, headSeq, NO_HEAD,
  P_COMMIT, P_SEQ, P_SERIAL_LO, P_TS_LO, P_WBASE_LO, PAGE_HEADER_WORDS, packHead, R_HEAD, R_LOCK, R_READ_HEAD,
  R_READ_OFF, R_RESET_GEN, R_STATE, R_TAIL, R_WAITING, readU64, RING_RETIRED, seqDiff, seqNext, writeU64,
} from './layout.js';
import { EventCursor } from './cursor.js';
import { pageFormatFor } from './format.js';
import { lockWord, unlockWord } from './lock.js';
import type { Ring } from './ring.js';
import { warnOn } from '../shared/assert.js';
import { fail } from '../shared/errors.js';
import { AtomicsCompareExchange, AtomicsLoad, AtomicsNotify, MathMax, MathMin } from '../shared/builtins.js';

export const READ_EMPTY = 0;
export const READ_EVENT = 1;
export const READ_LOST = 2;
export const READ_RETIRED = 3;

/** TraceIterator states. */
const ITER_READING = 0;
/** Past the last page it was to show, or the ring was reset under it. */
const ITER_DONE = 1;

/**
 * Copies `[off, words)` of the data of the page at i32 index `base` into
 * `img` after a fresh header (seq, commit, timestamp `ts`, serial, words
 * before). Racy by design: the caller validates before trusting it.
 */
export function copyRun(ring: Ring, base: number, off: number, words: number, entries: number, ts: number, serial: number, img: Int32Array): void {
  const i32 = ring.i32;
  const max = ring.geometry.dataWords;
  // Clamp: a slot being rewritten can show any commit; the copy is dropped then.
  const from = MathMin(MathMax(off, 0), max);
  const to = MathMin(MathMax(words, from), max);
  img.set(i32.subarray(base + PAGE_HEADER_WORDS + from, base + PAGE_HEADER_WORDS + to), PAGE_HEADER_WORDS);
  img[P_SEQ] = i32[base + P_SEQ]!;
  img[P_COMMIT] = (MathMax(entries, 0) << COMMIT_ENTRIES_SHIFT) | (to - from);
  writeU64(img, P_TS_LO, ts);
  writeU64(img, P_SERIAL_LO, serial);
  writeU64(img, P_WBASE_LO, readU64(i32, base + P_WBASE_LO) + from);
}

export class PipeReader {
  readonly ring: Ring;
  /** The current event, valid after READ_EVENT until the next call. */
  readonly event: EventCursor;
  /** After READ_LOST: how many events were overwritten before this reader got them. */
  lost = 0;
  private readonly img: Int32Array;
  /** Walks a run taken from the tail page to find its last timestamp. */
  private readonly scan: EventCursor;
  private pendingLost = 0;

  constructor(ring: Ring) {
    this.ring = ring;
    const pf = pageFormatFor(ring.geometry.pageBytes);
    this.event = new EventCursor(pf);
    this.scan = new EventCursor(pf);
    this.img = new Int32Array(ring.geometry.pageWords);
  }

  next(): number {
    if (this.event.step()) return READ_EVENT;
    return this.refill();
  }

  private refill(): number {
    if (this.pendingLost !== 0) {
      // The run that follows the gap is loaded; report the gap first.
      this.lost = this.pendingLost;
      this.pendingLost = 0;
      return READ_LOST;
    }
    const st = this.take(this.img);
    if (st !== READ_EVENT) return st;
    this.event.load(this.img);
    if (this.pendingLost !== 0) return this.refill();
    return this.event.step() ? READ_EVENT : this.refill();
  }

  /**
   * trace_pipe_raw: consumes the next run of events as a page image in
   * `into` (at least pageWords long), for a reader elsewhere to decode with
   * header_page and header_event. Returns READ_EVENT, READ_LOST (the image
   * is loaded too; `lost` events are missing before it), READ_EMPTY or
   * READ_RETIRED. Do not mix with next() while it has events left.
   */
  readPage(into: Int32Array): number {
    if (into.length < this.ring.geometry.pageWords) fail('EINVAL', `page buffer of ${into.length} words; need ${this.ring.geometry.pageWords}`);
    if (this.event.step()) fail('EINVAL', 'readPage while next() has events left');
    const st = this.take(into);
    if (st === READ_EVENT && this.pendingLost !== 0) {
      this.lost = this.pendingLost;
      this.pendingLost = 0;
      return READ_LOST;
    }
    return st;
  }

  /** Takes the next run of unconsumed events into `img`, under R_LOCK. */
  private take(img: Int32Array): number {
    const i32 = this.ring.i32;
    lockWord(i32, R_LOCK, 'ring reader');
    try {
      return this.takeLocked(img);
    } finally {
      unlockWord(i32, R_LOCK);
    }
  }

  private takeLocked(img: Int32Array): number {
    const ring = this.ring;
    const i32 = ring.i32;
    const f64 = ring.f64;
    const seqMod = ring.geometry.seqMod;
    if (AtomicsLoad(i32, R_STATE) === RING_RETIRED) return READ_RETIRED;
    for (;;) {
      const h = AtomicsLoad(i32, R_HEAD);
      const p = headSeq(h);
      const k = headConsumed(h);
      const t = AtomicsLoad(i32, R_TAIL);
      ring.checkSeq(p, 'head');
      ring.checkSeq(t, 'tail');
      const base = ring.pageBase(p);
      // R_TAIL before P_COMMIT: a page seen closed has its final commit.
      const c = AtomicsLoad(i32, base + P_COMMIT);
      const words = c & COMMIT_WORDS_MASK;
      const entries = c >>> COMMIT_ENTRIES_SHIFT;
      const closed = p !== t;
      if (k >= entries) {
        if (!closed) return READ_EMPTY;
        // Drained while it was the tail page; step over it.
        if (AtomicsCompareExchange(i32, R_HEAD, h, packHead(seqNext(p, seqMod), 0)) === h) {
          i32[R_READ_HEAD] = NO_HEAD;
          if (AtomicsLoad(i32, R_WAITING) !== 0) AtomicsNotify(i32, R_HEAD);
        }
        continue;
      }
      const own = i32[R_READ_HEAD] === h;
      const off = own ? i32[R_READ_OFF]! : 0;
      const ts = own ? f64[F_READ_TS]! : readU64(i32, base + P_TS_LO);
      const serial = readU64(i32, base + P_SERIAL_LO) + k;
      copyRun(ring, base, off, words, entries - k, ts, serial, img);
      const nh = closed ? packHead(seqNext(p, seqMod), 0) : packHead(p, entries);
      if (AtomicsCompareExchange(i32, R_HEAD, h, nh) !== h) continue; // overwritten while copied
      // A writer in wait mode sleeps on R_HEAD until a page is freed.
      if (AtomicsLoad(i32, R_WAITING) !== 0) AtomicsNotify(i32, R_HEAD);
      if (closed) {
        i32[R_READ_HEAD] = NO_HEAD;
      } else {
        // More may be committed to this page: remember where they start.
        i32[R_READ_HEAD] = nh;
        i32[R_READ_OFF] = words;
        this.scan.load(img);
        f64[F_READ_TS] = this.scan.finalTs();
      }
      const expected = f64[F_NEXT_SERIAL]!;
      // Test first: the message is built only when it is needed.
      if (serial < expected) warnOn(true, `ring reader: serial ${serial} below the expected ${expected}`);
      if (serial > expected) this.pendingLost += serial - expected;
      f64[F_NEXT_SERIAL] = serial + entries - k;
      f64[F_READ] = f64[F_READ]! + entries - k;
      return READ_EVENT;
    }
  }
}

/**
 * The `trace` file's reader: every event in the ring from the oldest
 * unconsumed one to the newest committed when it was created, consuming
 * nothing. Pages the writer overwrites before the iterator reaches them are
 * skipped and reported as READ_LOST (also pages a consuming reader took
 * meanwhile: this reader cannot tell the two apart).
 */
export class TraceIterator {
  readonly ring: Ring;
  readonly event: EventCursor;
  lost = 0;
  private readonly img: Int32Array;
  private pendingLost = 0;
  /** Next page to read, data word offset in it, timestamp before it. */
  private q = 0;
  private off = 0;
  /** Events consumed before `off` (only while off > 0). */
  private skip = 0;
  private ts = 0;
  private nextSerial = 0;
  /** Last page and its committed words and entries when iteration began. */
  private endSeq = 0;
  private endWords = 0;
  private endEntries = 0;
  private resetGen = 0;
  private state = ITER_READING;
  /** Pages taken: a sound ring has at most nrPages between head and tail. */
  private pages = 0;

  constructor(ring: Ring) {
    this.ring = ring;
    this.event = new EventCursor(pageFormatFor(ring.geometry.pageBytes));
    this.img = new Int32Array(ring.geometry.pageWords);
    const i32 = ring.i32;
    lockWord(i32, R_LOCK, 'ring reader');
    try {
      this.resetGen = AtomicsLoad(i32, R_RESET_GEN);
      const t = AtomicsLoad(i32, R_TAIL);
      ring.checkSeq(t, 'tail');
      const c = AtomicsLoad(i32, ring.pageBase(t) + P_COMMIT);
      this.endSeq = t;
      this.endWords = c & COMMIT_WORDS_MASK;
      this.endEntries = c >>> COMMIT_ENTRIES_SHIFT;
      const h = AtomicsLoad(i32, R_HEAD);
      ring.checkSeq(headSeq(h), 'head');
      // Tail read first: the head can only have moved closer to it since.
      if (seqDiff(t, headSeq(h), ring.geometry.seqMod) >= ring.geometry.nrPages) {
        fail('EINVAL', `the ring is corrupted: head page ${headSeq(h)} and tail page ${t} are more than ${ring.geometry.nrPages} pages apart`);
      }
      this.startAtHead(h);
      this.nextSerial = -1;
    } finally {
      unlockWord(i32, R_LOCK);
    }
  }

  /** Positions at the head; caller holds R_LOCK. */
  private startAtHead(h: number): void {
    const i32 = this.ring.i32;
    const own = i32[R_READ_HEAD] === h;
    this.q = headSeq(h);
    this.off = own ? i32[R_READ_OFF]! : 0;
    this.skip = own ? headConsumed(h) : 0;
    this.ts = own ? this.ring.f64[F_READ_TS]! : Number.NaN; // NaN: take the page's own
  }

  /**
   * The next page image as it is in the ring, copied into `into` (at least
   * pageWords long) without decoding or consuming it: READ_EVENT, READ_LOST
   * (pages before it were overwritten; its serial number says how many
   * events), or READ_EMPTY. Do not mix with next().
   */
  readPage(into: Int32Array): number {
    if (into.length < this.ring.geometry.pageWords) fail('EINVAL', `page buffer of ${into.length} words; need ${this.ring.geometry.pageWords}`);
    if (this.state === ITER_DONE) return READ_EMPTY;
    const st = this.take();
    if (st !== READ_EVENT) return st;
    into.set(this.img.subarray(0, PAGE_HEADER_WORDS + (this.img[P_COMMIT]! & COMMIT_WORDS_MASK)));
    if (this.pendingLost === 0) return READ_EVENT;
    this.lost = this.pendingLost;
    this.pendingLost = 0;
    return READ_LOST;
  }

  next(): number {
    for (;;) {
      if (this.event.step()) return READ_EVENT;
      if (this.state === ITER_DONE) return READ_EMPTY;
      const st = this.take();
      if (st !== READ_EVENT) return st;
      this.event.load(this.img);
      if (this.pendingLost !== 0) {
        // The image after the gap is loaded; its events come after the notice.
        this.lost = this.pendingLost;
        this.pendingLost = 0;
        return READ_LOST;
      }
    }
  }

  /** The next page into `img`, under R_LOCK. */
  private take(): number {
    const i32 = this.ring.i32;
    lockWord(i32, R_LOCK, 'ring reader');
    try {
      return this.takeLocked();
    } finally {
      unlockWord(i32, R_LOCK);
    }
  }

  private takeLocked(): number {
    const ring = this.ring;
    const i32 = ring.i32;
    const seqMod = ring.geometry.seqMod;
    if (AtomicsLoad(i32, R_STATE) === RING_RETIRED) return READ_RETIRED;
    if (AtomicsLoad(i32, R_RESET_GEN) !== this.resetGen) {
      this.state = ITER_DONE; // cleared under us: what we would show is gone
      return READ_EMPTY;
    }
    for (;;) {
      if (seqDiff(this.q, this.endSeq, seqMod) > 0) {
        this.state = ITER_DONE;
        return READ_EMPTY;
      }
      const h = AtomicsLoad(i32, R_HEAD);
      ring.checkSeq(headSeq(h), 'head');
      if (seqDiff(this.q, headSeq(h), seqMod) < 0) {
        // Our page is gone: continue from the head; the serial gap counts it.
        this.startAtHead(h);
        continue;
      }
      const q = this.q;
      const base = ring.pageBase(q);
      const last = q === this.endSeq;
      const c = AtomicsLoad(i32, base + P_COMMIT);
      const words = last ? this.endWords : c & COMMIT_WORDS_MASK;
      const entries = last ? this.endEntries : c >>> COMMIT_ENTRIES_SHIFT;
      // Events before `off` in the head page were consumed: skip them.
      const skipped = this.off === 0 ? 0 : this.skip;
      const serial = readU64(i32, base + P_SERIAL_LO) + skipped;
      const ts = Number.isNaN(this.ts) || this.off === 0 ? readU64(i32, base + P_TS_LO) : this.ts;
      copyRun(ring, base, this.off, words, entries - skipped, ts, serial, this.img);
      if (AtomicsCompareExchange(i32, R_HEAD, h, h) !== h) continue; // validate (layout.ts, rule 3)
      if (++this.pages > ring.geometry.nrPages) fail('EINVAL', `the ring is corrupted: more than its ${ring.geometry.nrPages} pages between head and tail`);
      if (this.nextSerial >= 0 && serial > this.nextSerial) this.pendingLost += serial - this.nextSerial;
      this.nextSerial = serial + entries - skipped;
      this.q = seqNext(q, seqMod);
      this.off = this.skip = 0;
      this.ts = Number.NaN;
      if (last) this.state = ITER_DONE;
      return READ_EVENT;
    }
  }
}

export function attachReader(ring: Ring): PipeReader {
  return new PipeReader(ring);
}

export function iterateRing(ring: Ring): TraceIterator {
  return new TraceIterator(ring);
}
