/**
 * A ring's counters, as ftrace's per_cpu/cpuN/stats shows them (we say
 * per_thread), and the totals behind the `trace` header's
 * entries-in-buffer/entries-written.
 *
 * Owns: taking a consistent snapshot from any thread while the writer runs.
 * Invariant: written = entries + read + overrun in every snapshot (events
 * not yet published by the writer are in none of them; those that never
 * will be, because their thread stopped or the process exited first, are
 * counted in unsaved, seal.ts), so no event is unaccounted for: the whole snapshot is taken inside one even interval of
 * R_STATS_SEQ, which the writer holds odd around each overwrite of the head
 * page, and readers, who move R_HEAD and F_READ together, are locked out. Positions come from page headers (serial numbers and
 * words-before), validated like a reader's copy (layout.ts, rules 2-3),
 * rather than from counters the writer would have to keep per event.
 */

import {
  COMMIT_ENTRIES_SHIFT, COMMIT_WORDS_MASK, F_COMMIT_OVERRUN, F_DROPPED, F_OVERRUN, F_READ, F_READ_TS, F_UNSAVED, headConsumed,
  headSeq, P_COMMIT, P_SEQ, P_SERIAL_LO, P_TS_LO, P_WBASE_LO, PAGE_HEADER_WORDS, R_HEAD, R_LOCK, R_READ_HEAD,
  R_READ_OFF, R_STATS_SEQ, R_TAIL, readU64, seqDiff, writeU64,
} from './layout.js';
import { EventCursor } from './cursor.js';
import { pageFormatFor } from './format.js';
import { lockWord, unlockWord } from './lock.js';
import type { Ring } from './ring.js';
import { clockUnitOf, formatTimestamp } from './clock.js';
import { fail } from '../shared/errors.js';
import { AtomicsCompareExchange, AtomicsLoad, MathMin } from '../shared/builtins.js';

export interface RingStats {
  /** Events in the ring not yet consumed. */
  entries: number;
  /** Events overwritten before a consuming reader got them (overwrite mode, resize). */
  overrun: number;
  /** Events lost to nested writers filling the ring; 0, since writes do not nest. */
  commitOverrun: number;
  /** Bytes those `entries` take in the ring, headers included. */
  bytes: number;
  /** Timestamp of the oldest unconsumed event; NaN when there is none. */
  oldestTs: number;
  /** Timestamp of the newest published event; NaN when there is none. */
  nowTs: number;
  /** Events refused because the ring was full (producer mode). */
  dropped: number;
  /** Events consumed by readers. */
  read: number;
  /** Events published since the last reset (entries-written). */
  written: number;
  /** Events written but never published: their thread stopped mid-event, or the process exited first (seal.ts). */
  unsaved: number;
  /** UNIT_NS or UNIT_COUNT: how to print the timestamps. */
  unit: number;
}

const MAX_TRIES = 10000;

export function ringStats(ring: Ring): RingStats {
  const i32 = ring.i32;
  lockWord(i32, R_LOCK, 'ring reader');
  try {
    return snapshotLocked(ring);
  } finally {
    unlockWord(i32, R_LOCK);
  }
}

function snapshotLocked(ring: Ring): RingStats {
  const i32 = ring.i32;
  const f64 = ring.f64;
  const g = ring.geometry;
  const img = new Int32Array(g.pageWords);
  const cur = new EventCursor(pageFormatFor(g.pageBytes));
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    // The writer's counter block (a sequence lock).
    const s = AtomicsLoad(i32, R_STATS_SEQ);
    if ((s & 1) !== 0) continue;
    const overrun = f64[F_OVERRUN]!;
    const dropped = f64[F_DROPPED]!;
    const commitOverrun = f64[F_COMMIT_OVERRUN]!;

    // Head: first unconsumed event. Readers are locked out; only the writer moves it.
    const t = AtomicsLoad(i32, R_TAIL);
    const h = AtomicsLoad(i32, R_HEAD);
    const hs = headSeq(h);
    ring.checkSeq(t, 'tail');
    ring.checkSeq(hs, 'head');
    const hb = ring.pageBase(hs);
    const own = i32[R_READ_HEAD] === h;
    const off = own ? i32[R_READ_OFF]! : 0;
    const ch = AtomicsLoad(i32, hb + P_COMMIT);
    const firstUnread = readU64(i32, hb + P_SERIAL_LO) + headConsumed(h);
    const wordsBeforeHead = readU64(i32, hb + P_WBASE_LO) + off;
    let oldestTs = firstTs(ring, hb, off, ch, own ? f64[F_READ_TS]! : readU64(i32, hb + P_TS_LO), img, cur);
    if (Number.isNaN(oldestTs) && hs !== t) {
      // The head page was drained while it was the tail: the oldest is on the next.
      const nb = ring.pageBase((hs + 1) % g.seqMod);
      oldestTs = firstTs(ring, nb, 0, AtomicsLoad(i32, nb + P_COMMIT), readU64(i32, nb + P_TS_LO), img, cur);
    }
    if (AtomicsCompareExchange(i32, R_HEAD, h, h) !== h) continue;

    // Tail: everything published.
    const tb = ring.pageBase(t);
    const ct = AtomicsLoad(i32, tb + P_COMMIT);
    const written = readU64(i32, tb + P_SERIAL_LO) + (ct >>> COMMIT_ENTRIES_SHIFT);
    const wordsWritten = readU64(i32, tb + P_WBASE_LO) + (ct & COMMIT_WORDS_MASK);
    let nowTs = lastTs(ring, tb, ct, img, cur);
    if (Number.isNaN(nowTs) && seqDiff(t, headSeq(h), g.seqMod) > 0) {
      // The tail page has nothing published yet: the newest event closed the page before.
      const pb = ring.pageBase((t + g.seqMod - 1) % g.seqMod);
      nowTs = lastTs(ring, pb, AtomicsLoad(i32, pb + P_COMMIT), img, cur);
    }
    if (AtomicsCompareExchange(i32, R_TAIL, t, t) !== t) continue;
    // Last: no overwrite moved R_HEAD and the counters since `s` (writer.ts, advance).
    if (AtomicsCompareExchange(i32, R_STATS_SEQ, s, s) !== s) continue;

    const entries = written - firstUnread;
    // Validated above as a live ring would be: counts no ring of this size
    // can hold (or a negative one) come from corrupted page headers.
    if (!(entries >= 0 && entries <= g.nrPages * g.dataWords) || !Number.isSafeInteger(written)) {
      fail('EINVAL', `the ring is corrupted: its page headers count ${entries} unread events in ${g.nrPages} pages`);
    }
    return {
      entries,
      overrun,
      commitOverrun,
      bytes: 4 * (wordsWritten - wordsBeforeHead),
      oldestTs: entries > 0 ? oldestTs : Number.NaN,
      nowTs: written > 0 ? nowTs : Number.NaN,
      dropped,
      read: f64[F_READ]!,
      written,
      unsaved: f64[F_UNSAVED]!,
      unit: clockUnitOf(ring.clockId),
    };
  }
  return fail('EBUSY', 'ring changed too fast for a consistent stats snapshot');
}

/** Timestamp of the first event published at data offset `off` of a page. */
function firstTs(ring: Ring, base: number, off: number, commit: number, ts: number, img: Int32Array, cur: EventCursor): number {
  if (!copy(ring, base, off, commit, ts, img)) return Number.NaN;
  cur.load(img);
  return cur.step() ? cur.ts : Number.NaN;
}

function lastTs(ring: Ring, base: number, commit: number, img: Int32Array, cur: EventCursor): number {
  if (!copy(ring, base, 0, commit, readU64(ring.i32, base + P_TS_LO), img)) return Number.NaN;
  cur.load(img);
  let any = false;
  while (cur.step()) any = true;
  return any ? cur.ts : Number.NaN;
}

/** Racy copy of a page's published data from `off`; validated by the caller. */
function copy(ring: Ring, base: number, off: number, commit: number, ts: number, img: Int32Array): boolean {
  const max = ring.geometry.dataWords;
  const words = MathMin(commit & COMMIT_WORDS_MASK, max);
  if (off >= words) return false;
  const i32 = ring.i32;
  img.set(i32.subarray(base + PAGE_HEADER_WORDS + off, base + PAGE_HEADER_WORDS + words), PAGE_HEADER_WORDS);
  img[P_SEQ] = i32[base + P_SEQ]!;
  img[P_COMMIT] = words - off;
  writeU64(img, P_TS_LO, ts);
  writeU64(img, P_SERIAL_LO, 0);
  return true;
}

/** per_thread/N/stats. */
export function formatStats(s: RingStats): string {
  const ts = (v: number): string => formatTimestamp(Number.isNaN(v) ? 0 : v, s.unit);
  return `entries: ${s.entries}\n`
    + `overrun: ${s.overrun}\n`
    + `commit overrun: ${s.commitOverrun}\n`
    + `bytes: ${s.bytes}\n`
    + `oldest event ts: ${ts(s.oldestTs)}\n`
    + `now ts: ${ts(s.nowTs)}\n`
    + `dropped events: ${s.dropped}\n`
    + `read events: ${s.read}\n`
    + `unsaved events: ${s.unsaved}\n`;
}

/** The `trace` header line: entries-in-buffer/entries-written. */
export function entriesLine(s: RingStats): string {
  return `entries-in-buffer/entries-written: ${s.entries}/${s.written}`;
}
