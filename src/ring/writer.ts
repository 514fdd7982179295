/**
 * The writing side of a ring: the one thread that owns it appends events.
 *
 * Owns: the tail page and everything the writer alone changes (page contents,
 * P_*, R_TAIL, the overrun/dropped counters), and the writer-side steps of
 * reset, resize and clock changes. Invariants:
 * - an event is written with plain stores and published by the next
 *   Atomics.store of P_COMMIT (every `commitWords` words, at a page end, on
 *   flush), so the per-event path has no Atomics, no allocation and one
 *   branch for "anything unusual" (page or commit limit reached, delta out of
 *   range); layout.ts has the ordering argument;
 * - an event is never split across pages; a page's first event has delta 0
 *   from the page timestamp;
 * - a page is reused only after R_HEAD has passed it: consumed by a reader,
 *   or (overwrite mode) taken back by the writer's compareExchange on R_HEAD,
 *   which adds the page's unconsumed entries to F_OVERRUN; in producer mode a
 *   full ring drops the new event and counts it in F_DROPPED. Nothing is lost
 *   without being counted.
 *
 * - after each complete event the writer notes, with one plain store, how far
 *   complete events reach (R_SHADOW); a reserved event notes its end in
 *   R_RESERVED and counts as complete at filled(): if the thread stops
 *   before it publishes, seal.ts publishes what was complete and counts the
 *   rest (layout.ts, rule 4).
 *
 * One writer per ring, claimed in R_WRITER. Writes do not nest: nothing here
 * calls out while an event is half written.
 */

import { threadId } from 'node:worker_threads';
import { fail } from '../shared/errors.js';
import {
  COMMIT_ENTRIES_SHIFT, COMMIT_WORDS_MASK, F_CLOCK_ANCHOR, F_DROPPED, F_NEXT_SERIAL, F_OVERRUN, F_READ,
  F_WALL_ANCHOR_MS, headConsumed, headSeq, MODE_OVERWRITE, MODE_WAIT, P_COMMIT, P_SEQ, P_SERIAL_LO, P_TS_LO, P_WBASE_LO,
  PAGE_HEADER_WORDS, packHead, R_CLOCK, R_HEAD, R_LOCK, R_MODE, R_RESERVED, R_RESET_GEN, R_SHADOW, R_STATE, R_STATS_SEQ, R_TAIL,
  R_WAIT_MS, R_WAITING, R_WRITER, readU64, RING_RETIRED, seqDiff, seqNext, writeU64,
} from './layout.js';
import { type ClockSource, CLOCK_CUSTOM, makeClock, UNIT_NS } from './clock.js';
import { DELTA_BITS, MAX_DELTA, MAX_TYPE_LEN, TYPE_DATA, TYPE_LEN_BITS, TYPE_TIME_EXTEND, TYPE_TIME_STAMP } from './format.js';
import { lockWord, unlockWord } from './lock.js';
import { createRing, initPages, type Ring } from './ring.js';
import { AtomicsAdd, AtomicsCompareExchange, AtomicsExchange, AtomicsLoad, AtomicsNotify, AtomicsStore, AtomicsWait, MathFloor, MathMin, PerformanceNow, PerformanceOfStart } from '../shared/builtins.js';

const EXTEND_UNIT = 2 ** DELTA_BITS;
// Module-local copies for the hot path: TurboFan folds a module's own const
// bindings into the code but loads imported ones from their cells on every
// call; with the imports write2 ran at ~120 M events/s, with these at ~150.
const SHIFT = TYPE_LEN_BITS;
const MAX_D = MAX_DELTA;
const MAX_LEN = MAX_TYPE_LEN;
const SHADOW = R_SHADOW;

/** advance() results. */
const ADVANCED = 0;
const RING_FULL = 1;

export interface WriterOptions {
  /** A clock name, or a source of your own; default: the ring's clock. */
  clock?: string | ClockSource;
  /** Publish at least every this many words (default: a quarter page, at most 256). */
  commitWords?: number;
  /** Take over a ring whose writer slot is still claimed (by a thread that died). */
  force?: boolean;
  /**
   * The consuming reader's doorbell (wait mode): `words[index]` is bumped
   * and notified when the ring is half full while `words[index + 1]` says
   * the reader sleeps, and whenever the writer must wait for it.
   */
  wake?: { words: Int32Array; index: number };
}

export class RingWriter {
  /** The ring's words: `reserve` returns an index into this array. */
  words: Int32Array;
  private pos: number;
  private limit: number;
  private last: number;
  private entries: number;
  private now: () => number;

  private ringRef: Ring;
  private clockRef: ClockSource;
  private f64: Float64Array;
  private readonly commitWords: number;
  private readonly token: number;
  private dataWords: number;
  private seqMod: number;
  private nrPages: number;
  private seq: number;
  /** i32 index of the current page's header, of its data, of its end. */
  private page: number;
  private dataAt: number;
  private pageEnd: number;
  private committed: number;
  /** Serial number of the current page's first event, data words before it. */
  private serial: number;
  private wbase: number;
  private overrun: number;
  private dropped: number;
  private readonly wake: Int32Array | null;
  private readonly wakeAt: number;
  /** Wait mode: the R_HEAD at which a wait last ran out; no new wait until a reader moves it. */
  private stalledHead = Number.NaN;

  constructor(ring: Ring, opts: WriterOptions = {}) {
    // Everything that can be refused is checked before the ring is claimed.
    if (ring.retired) fail('EINVAL', 'ring was retired (resized); attach to its successor');
    const g = ring.geometry;
    const cw = opts.commitWords ?? MathMin(256, g.dataWords >> 2);
    if (!Number.isInteger(cw) || cw < 1) fail('EINVAL', `commitWords ${cw}: must be a positive integer`);
    const clock = sourceFor(opts.clock ?? ring.clockName);
    const token = threadId + 1;
    // Also a second writer in the same thread is refused: two would interleave
    // their words in one page.
    const prev = AtomicsCompareExchange(ring.i32, R_WRITER, 0, token);
    if (prev !== 0 && opts.force !== true) fail('EBUSY', `ring already has a writer (thread ${prev - 1})`);
    AtomicsStore(ring.i32, R_WRITER, token);
    this.token = token;
    this.wake = opts.wake?.words ?? null;
    this.wakeAt = opts.wake?.index ?? 0;
    this.commitWords = cw;
    this.ringRef = ring;
    this.words = ring.i32;
    this.f64 = ring.f64;
    this.clockRef = clock;
    this.now = clock.now;
    this.dataWords = g.dataWords;
    this.seqMod = g.seqMod;
    this.nrPages = g.nrPages;
    this.pos = this.limit = this.last = this.entries = 0;
    this.seq = this.page = this.dataAt = this.pageEnd = this.committed = 0;
    this.serial = this.wbase = this.overrun = this.dropped = 0;
    if (this.clockRef.id !== ring.clockId || this.clockRef.id === CLOCK_CUSTOM) {
      // Timestamps of two clocks do not compare: start the ring afresh.
      this.locked(() => this.clearLocked());
    } else {
      this.resume();
    }
  }

  get ring(): Ring {
    return this.ringRef;
  }

  get clock(): ClockSource {
    return this.clockRef;
  }

  // ------------------------------------------------------------ hot path
  //
  // One method per payload size, so that the size is a constant and the
  // check and stores compile to straight-line code. `type` is the event id,
  // optionally | flags << 16 (common_flags). The slow path writes the header
  // itself and returns where the payload goes, or -1 if the event was dropped.

  write0(type: number): void {
    const t = this.now();
    const d = t - this.last;
    const p = this.pos;
    if (p + 2 > this.limit || d > MAX_D || d < 0) {
      const q = this.slow(1, t);
      if (q >= 0) {
        this.words[q] = type;
        this.words[SHADOW] = q + 1;
      }
      return;
    }
    const w = this.words;
    w[p] = (d << SHIFT) | 1;
    w[p + 1] = type;
    this.pos = p + 2;
    this.last = t;
    this.entries++;
    w[SHADOW] = p + 2;
  }

  write1(type: number, a: number): void {
    const t = this.now();
    const d = t - this.last;
    let p = this.pos;
    if (p + 3 > this.limit || d > MAX_D || d < 0) {
      p = this.slow(2, t);
      if (p < 0) return;
    } else {
      this.words[p] = (d << SHIFT) | 2;
      p++;
      this.pos = p + 2;
      this.last = t;
      this.entries++;
    }
    const w = this.words;
    w[p] = type;
    w[p + 1] = a;
    w[SHADOW] = p + 2;
  }

  write2(type: number, a: number, b: number): void {
    this.write2At(this.now(), type, a, b);
  }

  /**
   * write2 with a timestamp the caller read from this writer's clock
   * (`clock.now`) just before: a tracer that needs the time itself (the
   * graph tracer's durations) reads the clock once per event, not twice.
   */
  write2At(t: number, type: number, a: number, b: number): void {
    const d = t - this.last;
    let p = this.pos;
    if (p + 4 > this.limit || d > MAX_D || d < 0) {
      p = this.slow(3, t);
      if (p < 0) return;
    } else {
      this.words[p] = (d << SHIFT) | 3;
      p++;
      this.pos = p + 3;
      this.last = t;
      this.entries++;
    }
    const w = this.words;
    w[p] = type;
    w[p + 1] = a;
    w[p + 2] = b;
    w[SHADOW] = p + 3;
  }

  write3(type: number, a: number, b: number, c: number): void {
    const t = this.now();
    const d = t - this.last;
    let p = this.pos;
    if (p + 5 > this.limit || d > MAX_D || d < 0) {
      p = this.slow(4, t);
      if (p < 0) return;
    } else {
      this.words[p] = (d << SHIFT) | 4;
      p++;
      this.pos = p + 4;
      this.last = t;
      this.entries++;
    }
    const w = this.words;
    w[p] = type;
    w[p + 1] = a;
    w[p + 2] = b;
    w[p + 3] = c;
    w[SHADOW] = p + 4;
  }

  write4(type: number, a: number, b: number, c: number, e: number): void {
    this.write4At(this.now(), type, a, b, c, e);
  }

  /** write4 with a timestamp read from this writer's clock (see write2At). */
  write4At(t: number, type: number, a: number, b: number, c: number, e: number): void {
    const d = t - this.last;
    let p = this.pos;
    if (p + 6 > this.limit || d > MAX_D || d < 0) {
      p = this.slow(5, t);
      if (p < 0) return;
    } else {
      this.words[p] = (d << SHIFT) | 5;
      p++;
      this.pos = p + 5;
      this.last = t;
      this.entries++;
    }
    const w = this.words;
    w[p] = type;
    w[p + 1] = a;
    w[p + 2] = b;
    w[p + 3] = c;
    w[p + 4] = e;
    w[SHADOW] = p + 5;
  }

  /**
   * Room for an event of `n` words after the common word. Returns the index in
   * `words` of the first of them (the common word, already written, is just
   * before), or -1 if the event was dropped. Fill them, then call filled(),
   * before the next write or flush: that is when they may be published (a
   * thread that stops between reserve and filled() loses the event, and it
   * is counted). Index `this.words` as it is now: resize() gives the writer
   * another array.
   */
  reserve(type: number, n: number): number {
    return this.reserveAt(this.now(), type, n);
  }

  /** reserve with a timestamp read from this writer's clock (see write2At). */
  reserveAt(t: number, type: number, n: number): number {
    const len = (n | 0) + 1;
    const d = t - this.last;
    let p = this.pos;
    // (len - 1) >>> 0 catches both the long form (len > 28) and len < 1,
    // which the slow path refuses.
    if ((len - 1) >>> 0 >= MAX_LEN || p + len + 1 > this.limit || d > MAX_D || d < 0) {
      p = this.slow(len, t);
      if (p < 0) return -1;
    } else {
      this.words[p] = (d << SHIFT) | len;
      p++;
      this.pos = p + len;
      this.last = t;
      this.entries++;
    }
    this.words[p] = type;
    this.words[R_RESERVED] = this.pos;
    return p + 1;
  }

  /** The event last reserved is filled: it is complete (see reserve). */
  filled(): void {
    this.words[SHADOW] = this.pos;
  }

  /** An event whose words after the common word are `src[from .. from+n)`. */
  writeWords(type: number, src: ArrayLike<number>, from: number, n: number): void {
    const p = this.reserve(type, n);
    if (p < 0) return;
    const w = this.words;
    for (let i = 0; i < n; i++) w[p + i] = src[from + i]!;
    this.filled();
  }

  /**
   * The serial number the next event will have: events written to this
   * ring before it (an event refused in producer mode takes none).
   */
  get nextSerial(): number {
    return this.serial + this.entries;
  }

  /** Publishes every event written so far. */
  flush(): void {
    this.commit();
  }

  // ------------------------------------------------------------ slow path

  /** `len`: payload words, common word included. */
  private slow(len: number, t: number): number {
    const hdr = len <= MAX_TYPE_LEN ? 1 : 2;
    const need = hdr + len;
    if (!Number.isInteger(len) || len < 1 || need > this.dataWords) {
      fail('EINVAL', `event of ${len} payload words does not fit a page of ${this.dataWords} data words`);
    }
    const d = t - this.last;
    const stamp = this.entries === 0 || (d >= 0 && d <= MAX_DELTA) ? 0 : 2;
    if (this.pos + stamp + need > this.pageEnd) {
      if (this.advance() === RING_FULL) {
        this.dropped++;
        this.publishCounters();
        return -1;
      }
    } else {
      this.commit();
    }
    this.limit = MathMin(this.pageEnd, this.committed + this.commitWords);
    const w = this.words;
    let p = this.pos;
    let delta = d;
    if (this.entries === 0) {
      writeU64(w, this.page + P_TS_LO, t);
      delta = 0;
    } else if (stamp !== 0) {
      // A stamp when the clock went back (absolute time), else an extend.
      const v = d < 0 ? t : d;
      const hi = MathFloor(v / EXTEND_UNIT);
      w[p] = ((v - hi * EXTEND_UNIT) << TYPE_LEN_BITS) | (d < 0 ? TYPE_TIME_STAMP : TYPE_TIME_EXTEND);
      w[p + 1] = hi;
      p += 2;
      delta = 0;
    }
    if (hdr === 1) {
      w[p] = (delta << TYPE_LEN_BITS) | len;
    } else {
      w[p] = (delta << TYPE_LEN_BITS) | TYPE_DATA;
      w[p + 1] = len;
    }
    p += hdr;
    this.pos = p + len;
    this.last = t;
    this.entries++;
    return p;
  }

  private commit(): void {
    if (this.pos === this.committed) return;
    AtomicsStore(this.words, this.page + P_COMMIT, (this.entries << COMMIT_ENTRIES_SHIFT) | (this.pos - this.dataAt));
    this.committed = this.pos;
  }

  /** Closes the tail page and opens the next, reclaiming its slot. */
  private advance(): number {
    this.commit();
    const w = this.words;
    const ring = this.ringRef;
    const next = seqNext(this.seq, this.seqMod);
    let h = AtomicsLoad(w, R_HEAD);
    for (;;) {
      const hs = headSeq(h);
      if (seqDiff(next, hs, this.seqMod) < this.nrPages) break;
      // The head page occupies the slot `next` needs.
      const c = w[ring.pageBase(hs) + P_COMMIT]!;
      const unread = (c >>> COMMIT_ENTRIES_SHIFT) - headConsumed(h);
      if (unread === 0) {
        // Drained while it was the tail page: step over it, nothing is lost.
        const got = AtomicsCompareExchange(w, R_HEAD, h, packHead(seqNext(hs, this.seqMod), 0));
        if (got === h) break;
        h = got;
        continue;
      }
      const mode = AtomicsLoad(w, R_MODE);
      if (mode === MODE_WAIT && h !== this.stalledHead) {
        const moved = this.waitForReader(h);
        if (moved !== h) {
          h = moved;
          continue;
        }
        this.stalledHead = h;
      }
      if (mode !== MODE_OVERWRITE) return RING_FULL; // producer, or wait mode whose wait ran out
      // Overwrite. The counter block is open (odd) around the move of R_HEAD,
      // so a stats snapshot sees both or neither (stats.ts).
      AtomicsAdd(w, R_STATS_SEQ, 1);
      const got = AtomicsCompareExchange(w, R_HEAD, h, packHead(seqNext(hs, this.seqMod), 0));
      if (got === h) {
        this.overrun += unread;
        this.f64[F_OVERRUN] = this.overrun;
      }
      AtomicsAdd(w, R_STATS_SEQ, 1);
      if (got === h) break;
      h = got; // a reader moved it; look again
    }
    const serial = this.serial + this.entries;
    const wbase = this.wbase + (this.pos - this.dataAt);
    const b = ring.pageBase(next);
    w[b + P_SEQ] = next;
    writeU64(w, b + P_TS_LO, 0);
    writeU64(w, b + P_SERIAL_LO, serial);
    writeU64(w, b + P_WBASE_LO, wbase);
    AtomicsStore(w, b + P_COMMIT, 0);
    AtomicsExchange(w, R_TAIL, next);
    this.setPage(next, serial, wbase);
    // Half full and the reader asleep: wake it before anyone has to wait.
    const db = this.wake;
    if (db !== null && AtomicsLoad(db, this.wakeAt + 1) !== 0 && 2 * seqDiff(next, headSeq(h), this.seqMod) >= this.nrPages) this.ringDoorbell();
    return ADVANCED;
  }

  private ringDoorbell(): void {
    const db = this.wake!;
    AtomicsAdd(db, this.wakeAt, 1);
    AtomicsNotify(db, this.wakeAt);
  }

  /**
   * Wait mode: waits (at most R_WAIT_MS, blocking this thread) for a
   * consuming reader to move R_HEAD from `h`; returns R_HEAD as it then is
   * (`h` when the wait ran out). Readers notify R_HEAD while R_WAITING is set.
   */
  private waitForReader(h: number): number {
    const w = this.words;
    const budget = AtomicsLoad(w, R_WAIT_MS);
    if (budget <= 0) return h;
    AtomicsStore(w, R_WAITING, 1);
    if (this.wake !== null) this.ringDoorbell();
    const end = PerformanceNow() + budget;
    let now = h;
    try {
      for (;;) {
        now = AtomicsLoad(w, R_HEAD);
        if (now !== h) return now;
        const left = end - PerformanceNow();
        if (left <= 0) return h;
        AtomicsWait(w, R_HEAD, h, left);
      }
    } finally {
      AtomicsStore(w, R_WAITING, 0);
    }
  }

  private setPage(seq: number, serial: number, wbase: number): void {
    const b = this.ringRef.pageBase(seq);
    this.seq = seq;
    this.page = b;
    this.dataAt = b + PAGE_HEADER_WORDS;
    this.pos = this.committed = this.limit = this.dataAt;
    this.pageEnd = b + this.ringRef.geometry.pageWords;
    this.entries = 0;
    this.serial = serial;
    this.wbase = wbase;
    this.words[SHADOW] = this.words[R_RESERVED] = this.pos;
  }

  private publishCounters(): void {
    const w = this.words;
    AtomicsAdd(w, R_STATS_SEQ, 1);
    this.f64[F_OVERRUN] = this.overrun;
    this.f64[F_DROPPED] = this.dropped;
    AtomicsAdd(w, R_STATS_SEQ, 1);
  }

  /** Continues the tail page of a ring that may hold events. */
  private resume(): void {
    const w = this.words;
    const seq = AtomicsLoad(w, R_TAIL);
    const b = this.ringRef.pageBase(seq);
    const c = AtomicsLoad(w, b + P_COMMIT);
    this.setPage(seq, readU64(w, b + P_SERIAL_LO), readU64(w, b + P_WBASE_LO));
    this.entries = c >>> COMMIT_ENTRIES_SHIFT;
    this.pos = this.committed = this.limit = this.dataAt + (c & COMMIT_WORDS_MASK);
    this.words[SHADOW] = this.words[R_RESERVED] = this.pos;
    // The last timestamp is unknown: the next event gets an absolute stamp.
    this.last = Infinity;
    this.overrun = this.f64[F_OVERRUN]!;
    this.dropped = this.f64[F_DROPPED]!;
  }

  // ------------------------------------------------------------ control

  private locked<T>(fn: () => T): T {
    const w = this.words;
    lockWord(w, R_LOCK, 'ring reader');
    try {
      return fn();
    } finally {
      unlockWord(w, R_LOCK);
    }
  }

  /** Empties the ring and zeroes its counters; caller holds R_LOCK. */
  private clearLocked(): void {
    const ring = this.ringRef;
    const f64 = this.f64;
    initPages(this.words, f64, ring.geometry, 0);
    f64[F_READ] = 0;
    this.overrun = this.dropped = 0;
    this.publishCounters();
    this.setAnchor();
    AtomicsAdd(this.words, R_RESET_GEN, 1);
    this.setPage(0, 0, 0);
    this.last = 0;
  }

  private setAnchor(): void {
    AtomicsStore(this.words, R_CLOCK, this.clockRef.id);
    // A count has no wall time to align to, and reading it would use a count up.
    this.f64[F_CLOCK_ANCHOR] = this.clockRef.unit === UNIT_NS ? this.now() : 0;
    this.f64[F_WALL_ANCHOR_MS] = PerformanceOfStart.timeOrigin + PerformanceNow();
  }

  /** Discards every event and zeroes the counters (`echo > trace`). */
  reset(): void {
    this.locked(() => this.clearLocked());
  }

  /** Switches clocks; the ring is reset, as ftrace clears on a trace_clock write. */
  setClock(clock: string | ClockSource): void {
    const src = sourceFor(clock);
    this.clockRef = src;
    this.now = src.now;
    this.reset();
  }

  /**
   * buffer_size_kb: moves this writer to a new ring of `sizeKb` and retires
   * the old one. Unread events of the old ring are discarded and counted in
   * the new ring's overrun (as the kernel counts entries of removed pages);
   * the new ring continues the old one's serial numbers and counters, so a
   * consuming reader that moves over reports the discarded events as lost.
   * Readers of the old ring get READ_RETIRED; the caller hands them the new
   * ring (its `sab`). Returns the new ring.
   */
  resize(sizeKb: number): Ring {
    const old = this.ringRef;
    // Validated and allocated before anything changes. The clock id and anchor
    // are copied from the old ring below; 'local' only fills them meanwhile.
    const fresh = createRing({ sizeKb, pageBytes: old.geometry.pageBytes, mode: old.mode, clock: 'local' });
    this.flush();
    const ow = old.i32;
    const of = old.f64;
    const written = this.serial + this.entries;
    this.locked(() => {
      const unread = written - firstUnreadSerial(old);
      const ni = fresh.i32;
      const nf = fresh.f64;
      initPages(ni, nf, fresh.geometry, written);
      nf[F_NEXT_SERIAL] = of[F_NEXT_SERIAL]!;
      nf[F_READ] = of[F_READ]!;
      nf[F_OVERRUN] = of[F_OVERRUN]! + unread;
      nf[F_DROPPED] = of[F_DROPPED]!;
      nf[F_CLOCK_ANCHOR] = of[F_CLOCK_ANCHOR]!;
      nf[F_WALL_ANCHOR_MS] = of[F_WALL_ANCHOR_MS]!;
      AtomicsStore(ni, R_CLOCK, AtomicsLoad(ow, R_CLOCK));
      AtomicsStore(ni, R_MODE, AtomicsLoad(ow, R_MODE));
      AtomicsStore(ni, R_WRITER, this.token);
      AtomicsStore(ow, R_STATE, RING_RETIRED);
      AtomicsCompareExchange(ow, R_WRITER, this.token, 0);
    });
    this.ringRef = fresh;
    this.words = fresh.i32;
    this.f64 = fresh.f64;
    const g = fresh.geometry;
    this.dataWords = g.dataWords;
    this.seqMod = g.seqMod;
    this.nrPages = g.nrPages;
    this.setPage(0, written, 0);
    this.last = Infinity;
    this.overrun = fresh.f64[F_OVERRUN]!;
    this.dropped = fresh.f64[F_DROPPED]!;
    this.publishCounters();
    return fresh;
  }

  /** Publishes what was written and gives up the ring. */
  detach(): void {
    this.flush();
    AtomicsCompareExchange(this.words, R_WRITER, this.token, 0);
  }
}

function sourceFor(clock: string | ClockSource): ClockSource {
  return typeof clock === 'string' ? makeClock(clock) : clock;
}

/** Serial number of the first unconsumed event; for the writer, under R_LOCK. */
function firstUnreadSerial(ring: Ring): number {
  const h = AtomicsLoad(ring.i32, R_HEAD);
  return readU64(ring.i32, ring.pageBase(headSeq(h)) + P_SERIAL_LO) + headConsumed(h);
}

export function attachWriter(ring: Ring, opts?: WriterOptions): RingWriter {
  return new RingWriter(ring, opts);
}
