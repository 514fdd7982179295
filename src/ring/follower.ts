/**
 * A reader that follows a ring as it is written without consuming it: a
 * second observer beside `trace` and `trace_pipe` (the OTLP export worker
 * uses one per thread), which must neither take events from the pipe nor
 * let the pipe's reader take them from it.
 *
 * Owns: its own position in the ring (page, words and events of that page
 * already handed out, the time after the last of them, the serial number it
 * expects next). It writes nothing to the ring but takes R_LOCK, as every
 * reader does. Invariants:
 * - each event committed while the follower keeps up is handed out exactly
 *   once, in order; a run is kept only after a successful
 *   compareExchange(R_HEAD, h, h) following the copy (layout.ts, rule 2),
 *   as the `trace` iterator validates;
 * - events it could not read are counted exactly, never skipped silently:
 *   a page overwritten (or consumed by a pipe reader and reused) before the
 *   follower got to it shows up as a gap in serial numbers, reported as
 *   READ_LOST with that count before the next event;
 * - a reset of the ring (`echo > trace`, a clock change) restarts it at the
 *   new head, with no loss reported (the reset discarded the events for
 *   every reader).
 *
 * Unlike the `trace` iterator it has no end: READ_EMPTY means nothing more
 * is committed now; a later next() goes on from the same place.
 */

import {
  COMMIT_ENTRIES_SHIFT, COMMIT_WORDS_MASK, headSeq, P_COMMIT, P_SERIAL_LO, P_TS_LO, R_HEAD, R_LOCK, R_RESET_GEN, R_STATE,
  R_TAIL, readU64, RING_RETIRED, seqDiff, seqNext,
} from './layout.js';
import { EventCursor } from './cursor.js';
import { pageFormatFor } from './format.js';
import { lockWord, unlockWord } from './lock.js';
import { copyRun, READ_EMPTY, READ_EVENT, READ_LOST, READ_RETIRED } from './reader.js';
import type { Ring } from './ring.js';
import { AtomicsCompareExchange, AtomicsLoad } from '../shared/builtins.js';

export class FollowReader {
  readonly ring: Ring;
  /** The current event, valid after READ_EVENT until the next call. */
  readonly event: EventCursor;
  /** After READ_LOST: how many events went by unread. */
  lost = 0;
  private readonly img: Int32Array;
  private readonly scan: EventCursor;
  private pendingLost = 0;
  /** The page followed, and the data words and events of it already taken. */
  private q = 0;
  private off = 0;
  private taken = 0;
  /** Time after the last event taken from page q (NaN: none taken yet). */
  private ts = Number.NaN;
  /** Serial number expected next. */
  private nextSerial = -1;
  private resetGen = 0;

  constructor(ring: Ring) {
    this.ring = ring;
    const pf = pageFormatFor(ring.geometry.pageBytes);
    this.event = new EventCursor(pf);
    this.scan = new EventCursor(pf);
    this.img = new Int32Array(ring.geometry.pageWords);
    const i32 = ring.i32;
    lockWord(i32, R_LOCK, 'ring reader');
    try {
      this.resetGen = AtomicsLoad(i32, R_RESET_GEN);
      this.startAtHead();
    } finally {
      unlockWord(i32, R_LOCK);
    }
  }

  /**
   * READ_EVENT (`event` holds it), READ_LOST (`lost` events went by unread
   * before the events that follow), READ_EMPTY (nothing more committed now)
   * or READ_RETIRED (the ring was resized away).
   */
  next(): number {
    for (;;) {
      if (this.event.step()) return READ_EVENT;
      const i32 = this.ring.i32;
      lockWord(i32, R_LOCK, 'ring reader');
      let st: number;
      try {
        st = this.takeLocked();
      } finally {
        unlockWord(i32, R_LOCK);
      }
      if (st !== READ_EVENT) return st;
      this.event.load(this.img);
      if (this.pendingLost !== 0) {
        // The run after the gap is loaded; its events come after the notice.
        this.lost = this.pendingLost;
        this.pendingLost = 0;
        return READ_LOST;
      }
    }
  }

  /**
   * From the head page's first event; what goes by after this counts as
   * lost (events consumed from the head page before are still in it).
   * Caller holds R_LOCK.
   */
  private startAtHead(): void {
    this.restartAt(headSeq(AtomicsLoad(this.ring.i32, R_HEAD)));
    this.nextSerial = readU64(this.ring.i32, this.ring.pageBase(this.q) + P_SERIAL_LO);
  }

  private restartAt(seq: number): void {
    this.q = seq;
    this.off = this.taken = 0;
    this.ts = Number.NaN;
  }

  /** Copies the next committed run after our position into the image; caller holds R_LOCK. */
  private takeLocked(): number {
    const ring = this.ring;
    const i32 = ring.i32;
    const seqMod = ring.geometry.seqMod;
    if (AtomicsLoad(i32, R_STATE) === RING_RETIRED) return READ_RETIRED;
    const gen = AtomicsLoad(i32, R_RESET_GEN);
    if (gen !== this.resetGen) {
      this.resetGen = gen;
      this.startAtHead();
    }
    for (;;) {
      const h = AtomicsLoad(i32, R_HEAD);
      // Our page left the ring (overwritten, or consumed and reused): go on
      // from the head; the serial gap counts what went by.
      if (seqDiff(this.q, headSeq(h), seqMod) < 0) this.restartAt(headSeq(h));
      const t = AtomicsLoad(i32, R_TAIL);
      const base = ring.pageBase(this.q);
      // R_TAIL before P_COMMIT: a page seen closed has its final commit.
      const c = AtomicsLoad(i32, base + P_COMMIT);
      const words = c & COMMIT_WORDS_MASK;
      const entries = c >>> COMMIT_ENTRIES_SHIFT;
      if (this.off >= words) {
        if (this.q === t) return READ_EMPTY;
        this.restartAt(seqNext(this.q, seqMod));
        continue;
      }
      const serial = readU64(i32, base + P_SERIAL_LO) + this.taken;
      const ts = Number.isNaN(this.ts) ? readU64(i32, base + P_TS_LO) : this.ts;
      copyRun(ring, base, this.off, words, entries - this.taken, ts, serial, this.img);
      if (AtomicsCompareExchange(i32, R_HEAD, h, h) !== h) continue; // the ring moved while we copied
      if (serial > this.nextSerial) this.pendingLost += serial - this.nextSerial;
      this.nextSerial = serial + entries - this.taken;
      this.off = words;
      this.taken = entries;
      this.scan.load(this.img);
      this.ts = this.scan.finalTs();
      return READ_EVENT;
    }
  }
}

export function followRing(ring: Ring): FollowReader {
  return new FollowReader(ring);
}
