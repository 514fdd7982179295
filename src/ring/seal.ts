/**
 * What a writer leaves unpublished: counting it while the writer runs, and
 * publishing it once the writer's thread has ended (layout.ts, rule 4).
 *
 * Owns: reading R_SHADOW and R_RESERVED from outside the writer, the seal
 * (P_COMMIT of the tail page moved up to R_SHADOW, R_WRITER cleared) and
 * F_UNSAVED. Invariants:
 * - a ring is sealed only for the writer token it names, under R_LOCK, and
 *   once (R_WRITER is cleared after): a live writer's ring is never sealed by
 *   construction of the caller (it seals when a thread has ended); what a
 *   writer still running at process exit left unpublished is counted once
 *   (countUnsaved clears R_WRITER too);
 * - a seal publishes complete events only (up to R_SHADOW, which the writer
 *   stores after an event's last word), as the writer's own commit would;
 *   an event reserved but never filled is counted in F_UNSAVED, not shown;
 * - every value read from the header is checked against the tail page, so
 *   a corrupted ring is refused (EINVAL), never walked outside its page.
 */

import {
  COMMIT_ENTRIES_SHIFT, COMMIT_WORDS_MASK, F_UNSAVED, P_COMMIT, PAGE_HEADER_WORDS, R_LOCK, R_RESERVED, R_SHADOW,
  R_STATE, R_TAIL, R_WRITER, RING_RETIRED,
} from './layout.js';
import { EventCursor } from './cursor.js';
import { pageFormatFor } from './format.js';
import { lockWord, unlockWord } from './lock.js';
import type { Ring } from './ring.js';
import { AtomicsCompareExchange, AtomicsLoad, AtomicsStore, MathMax } from '../shared/builtins.js';

/** The tail page's complete events beyond P_COMMIT: how many, the words they end at, and whether one is half made. */
interface Pending {
  base: number;
  /** Events in the page up to R_SHADOW (published ones included). */
  entries: number;
  /** Data words up to R_SHADOW. */
  words: number;
  /** Events beyond P_COMMIT. */
  unpublished: number;
  /** 1 when an event was reserved and not filled. */
  torn: number;
}

function pendingOf(ring: Ring): Pending | null {
  const i32 = ring.i32;
  const g = ring.geometry;
  const t = AtomicsLoad(i32, R_TAIL);
  ring.checkSeq(t, 'tail');
  const base = ring.pageBase(t);
  const dataAt = base + PAGE_HEADER_WORDS;
  const c = AtomicsLoad(i32, base + P_COMMIT);
  const committed = c & COMMIT_WORDS_MASK;
  const shadow = i32[R_SHADOW]! - dataAt;
  const reserved = i32[R_RESERVED]! - dataAt;
  // R_SHADOW names another page (the writer was between pages): nothing here.
  if (shadow < committed || shadow > g.dataWords) return null;
  const torn = reserved > shadow && reserved <= g.dataWords ? 1 : 0;
  if (shadow === committed) return { base, entries: c >>> COMMIT_ENTRIES_SHIFT, words: committed, unpublished: 0, torn };
  // Walk the page up to R_SHADOW on a private copy, as a reader would.
  const img = new Int32Array(g.pageWords);
  img.set(i32.subarray(base, base + PAGE_HEADER_WORDS + shadow));
  img[P_COMMIT] = shadow;
  const cur = new EventCursor(pageFormatFor(g.pageBytes));
  cur.load(img);
  let entries = 0;
  while (cur.step()) entries++;
  const before = c >>> COMMIT_ENTRIES_SHIFT;
  return { base, entries, words: shadow, unpublished: MathMax(0, entries - before), torn };
}

/**
 * Events a running writer has written but not yet published (a racy read of
 * words it stores without synchronising: a count, not a promise); 0 for a
 * ring without a writer (detached, or sealed).
 */
export function unpublishedEvents(ring: Ring): number {
  if (AtomicsLoad(ring.i32, R_WRITER) === 0) return 0;
  const p = pendingOf(ring);
  return p === null ? 0 : p.unpublished + p.torn;
}

/**
 * The writer `token` (thread id + 1) has stopped for good: publishes its
 * complete events, counts what it left half made, and releases the ring.
 * Returns the events published and counted; nothing when the ring has
 * another writer, none, or was retired.
 */
export function sealRing(ring: Ring, token: number): { published: number; unsaved: number } {
  const i32 = ring.i32;
  lockWord(i32, R_LOCK, 'ring reader');
  try {
    if (AtomicsLoad(i32, R_WRITER) !== token || AtomicsLoad(i32, R_STATE) === RING_RETIRED) return { published: 0, unsaved: 0 };
    const p = pendingOf(ring);
    if (p !== null && p.unpublished > 0) AtomicsStore(i32, p.base + P_COMMIT, (p.entries << COMMIT_ENTRIES_SHIFT) | p.words);
    const unsaved = p === null ? 0 : p.torn;
    if (unsaved > 0) ring.f64[F_UNSAVED] = ring.f64[F_UNSAVED]! + unsaved;
    AtomicsCompareExchange(i32, R_WRITER, token, 0);
    return { published: p === null ? 0 : p.unpublished, unsaved };
  } finally {
    unlockWord(i32, R_LOCK);
  }
}

/**
 * At process exit, a writer that is still running (it did not answer the
 * request to publish): what it has not published is lost with the process,
 * so it is counted in F_UNSAVED, and the ring is let go of (R_WRITER
 * cleared) so that no one counts it again: the thread that ends the
 * process counts the rings it knows, the drain of a streaming record the
 * ones it knows, and a ring can be known to both. Returns the count.
 */
export function countUnsaved(ring: Ring): number {
  const i32 = ring.i32;
  lockWord(i32, R_LOCK, 'ring reader');
  try {
    const n = unpublishedEvents(ring);
    if (n === 0) return 0;
    ring.f64[F_UNSAVED] = ring.f64[F_UNSAVED]! + n;
    AtomicsStore(i32, R_WRITER, 0);
    return n;
  } finally {
    unlockWord(i32, R_LOCK);
  }
}
