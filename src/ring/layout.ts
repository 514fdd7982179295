/**
 * The shared-memory layout of one ring buffer. Format 1.2.
 *
 * Owns: every offset into a ring's SharedArrayBuffer, the packing of the
 * words that carry two values, and the rules for touching each word. No other
 * module computes an offset into a ring; they use these names and `Geometry`.
 * A change a reader of the old format would misread bumps RING_FORMAT_MAJOR;
 * an addition it can ignore (a reserved word given a use, a new event type)
 * bumps RING_FORMAT_MINOR. Readers refuse another major and accept any minor.
 *
 * One ring per writing thread, one SharedArrayBuffer per ring, viewed as
 * Int32Array `i32` and Float64Array `f64` over the same bytes:
 *
 *   i32 index
 *   0          +------------------------------------------------------+
 *              | RING HEADER (64 words)  R_* (int32) and F_* (float64) |
 *   pagesAt    +------------------------------------------------------+
 *              | page slot 0  | page header (8 words, P_*) | data ... |
 *              +------------------------------------------------------+
 *              | page slot 1                                          |
 *              |   ...          nrPages slots of pageBytes each        |
 *              +------------------------------------------------------+
 *
 * Pages are numbered by a sequence number modulo `seqMod` (a multiple of
 * nrPages, below 2^19); page `s` lives in slot `s % nrPages`. The writer fills
 * page TAIL; the oldest page not yet consumed is HEAD. At all times
 * HEAD <= TAIL < HEAD + nrPages (modulo seqMod): every page from HEAD to TAIL
 * is in its slot.
 *
 *        HEAD (seq, consumed)                 TAIL
 *          |                                   |
 *   ... [ h ][ h+1 ][ ... ][ t-1 ][ t: writing, committed up to COMMIT ] ...
 *          ^ consumed events skipped               ^ events after COMMIT are
 *            (R_READ_OFF words)                      invisible to readers
 *
 * Page header: P_SEQ (its sequence number), P_COMMIT (entries << 16 | data
 * words published), P_TS (timestamp the first event's delta is relative to),
 * P_SERIAL (serial number of the first event: events written to this ring
 * before it), P_WBASE (data words written before it). Events: see format.ts.
 *
 * Who writes what:
 * - the writer (the owning thread) writes page contents, P_*, R_TAIL, R_HEAD
 *   (only to take back the head page's slot: overwritten, or drained while it
 *   was the tail) and the F_OVERRUN block;
 * - readers (any thread, one at a time under R_LOCK) write R_HEAD, R_READ_*
 *   and F_READ_*; any thread may write R_MODE;
 * - reset, resize and clock changes are done by the writer while holding
 *   R_LOCK, so no reader is between two steps of its protocol;
 * - the writer also notes, with plain stores, how far its complete events
 *   reach in the tail page (R_SHADOW) and where a reserved event not yet
 *   filled ends (R_RESERVED): nobody reads them while it runs (but to count
 *   them); once its thread has ended, whoever saw it end seals the ring
 *   (seal.ts, rule 4 below).
 *
 * Memory ordering (why a reader never sees a torn event, with plain stores on
 * the per-event path). The argument is made in the ECMAScript memory model,
 * where Atomics operations are sequentially consistent and an Atomics read
 * that reads the value of an Atomics write synchronizes with it, so that
 * everything sequenced before the write happens before everything sequenced
 * after the read:
 *
 * 1. Publication. The writer stores an event's words with plain stores and
 *    makes them visible only by Atomics.store of P_COMMIT, every `commitWords`
 *    words, at the end of each page and on flush(). A reader Atomics.loads
 *    P_COMMIT and reads only words below it, so each word it reads was written
 *    before the store it synchronized with: no torn or half-written event.
 *    The writer's plain stores beyond COMMIT race with nothing, because no
 *    reader reads there. Words of a new page (its header) are written before
 *    R_TAIL is published, and readers load R_TAIL before the page header.
 * 2. Reuse. The writer rewrites a slot only after it has seen, in R_HEAD, that
 *    the page in it was consumed (an Atomics.load returning a later page) or
 *    after its own compareExchange moved R_HEAD past it (overwrite mode).
 *    A reader copies a page into private memory first and only then claims it
 *    with a compareExchange on R_HEAD that must succeed. If the writer's
 *    compareExchange came first, the reader's fails and the copy is thrown
 *    away; if the reader's came first, the writer's later read of R_HEAD reads
 *    it (or a later RMW in its chain), so the reader's copy happens before the
 *    writer's rewrite and cannot contain its words. The same holds for the
 *    non-consuming iterator, which validates with compareExchange(h, h).
 * 3. The words readers validate against (R_HEAD, R_TAIL, R_STATS_SEQ) are
 *    only ever written with read-modify-write operations (compareExchange,
 *    exchange, add), and a validation is a compareExchange that succeeded.
 *    That is what makes rule 2 work in both directions: an RMW reads the
 *    previous RMW, so a synchronizes-with edge exists whichever came first. A
 *    failed compareExchange orders nothing (on arm64 V8 emits only ldaxr for
 *    it), so a failure always means "discard and retry", never "valid".
 *
 * As V8 emits them: on x86-64, Atomics.store is xchg and an RMW is a lock-
 * prefixed instruction (full barriers), plain stores are seen in program
 * order (TSO), so only the compiler could break rule 1, and TurboFan keeps
 * typed-array stores before an Atomics builtin or atomic machine op. On
 * arm64, Atomics.store is stlr (release: earlier plain stores visible first),
 * Atomics.load is ldar (acquire: later plain loads not performed earlier), an
 * RMW is an ldaxr/stlxr loop; the reader's copy loads complete before its
 * stlxr, and the writer's rewrite stores come after its ldar/ldaxr that
 * observed it. Plain loads racing with the writer (an unvalidated copy) may
 * return a mix of old and new words; the model allows that, and the copy is
 * discarded. Word-sized (32-bit, aligned) accesses are never torn on either.
 *
 * 4. Sealing. A writer's thread that ends without publishing (worker.terminate(),
 *    a process exit that stops it) leaves complete events above P_COMMIT.
 *    The thread that sees it end (the parent, whose Worker 'exit' event comes
 *    after the worker's thread has stopped) has every store of that thread
 *    before it; under R_LOCK, while R_WRITER still names the dead writer, it
 *    publishes the tail page up to R_SHADOW with one Atomics.store of
 *    P_COMMIT, as the writer would have, counts an event reserved but never
 *    filled in F_UNSAVED, and clears R_WRITER so it is sealed once.
 *
 * Counters: F_* slots are float64 (exact integers up to 2^53). F_READ_* are
 * touched only under R_LOCK. The writer's block (F_OVERRUN, F_DROPPED,
 * F_COMMIT_OVERRUN) is a sequence lock: the writer Atomics.adds R_STATS_SEQ
 * (odd), stores, Atomics.adds it again (even); a reader copies between an
 * even load and a successful compareExchange of the same value.
 */

import { fail } from '../shared/errors.js';
import { MathFloor } from '../shared/builtins.js';

export const RING_MAGIC = 0x4a535242; // 'JSRB'
export const RING_FORMAT_MAJOR = 1;
export const RING_FORMAT_MINOR = 2;

// Ring header, int32 words.
export const R_MAGIC = 0;
export const R_FORMAT_MAJOR = 1;
export const R_FORMAT_MINOR = 2;
export const R_PAGE_BYTES = 3;
export const R_NR_PAGES = 4;
/** i32 index of page slot 0. */
export const R_PAGES_AT = 5;
/** Page sequence numbers run modulo this (a multiple of R_NR_PAGES). */
export const R_SEQ_MOD = 6;
/** MODE_OVERWRITE or MODE_PRODUCER; the writer rereads it at each page end. */
export const R_MODE = 7;
/** Clock id (clock.ts) the timestamps were taken with. */
export const R_CLOCK = 8;
/** RING_LIVE or RING_RETIRED. */
export const R_STATE = 9;
/** Sequence number of the page being written. Writer only, by exchange. */
export const R_TAIL = 10;
/** Oldest unconsumed page and events consumed in it (packHead). RMW only. */
export const R_HEAD = 11;
/** Reader mutex: LOCK_FREE, LOCK_HELD, LOCK_CONTENDED. */
export const R_LOCK = 12;
/** The R_HEAD value R_READ_OFF and F_READ_TS belong to, or NO_HEAD. */
export const R_READ_HEAD = 13;
/** Data word offset of the first unconsumed event in the head page. */
export const R_READ_OFF = 14;
/** Sequence count of the writer's counter block (odd while it writes). */
export const R_STATS_SEQ = 15;
/** Bumped by every reset, so iterators stop instead of reading a new ring. */
export const R_RESET_GEN = 16;
/** Token of the attached writer (thread id + 1), 0 when none. */
export const R_WRITER = 17;
/** 1.1: 1 while the writer waits for a reader (MODE_WAIT); readers that free a page then notify R_HEAD. */
export const R_WAITING = 18;
/** 1.1: MODE_WAIT's bound: how long the writer waits for a reader at a full ring, in ms. */
export const R_WAIT_MS = 19;
/**
 * 1.2: i32 index just past the writer's last complete event in the tail
 * page; plain stores by the writer after each event; read when it has
 * stopped (rule 4), or racily to count what it has not published.
 */
export const R_SHADOW = 20;
/** 1.2: i32 index just past the last event the writer reserved; above R_SHADOW while one is being filled. */
export const R_RESERVED = 21;
// Words 22-23 reserved (minor versions may give them a use).

// Ring header, float64 slots (f64 index; i32 index is twice this).
/** Timestamp of the last consumed event, when R_READ_HEAD matches. */
export const F_READ_TS = 12;
/** Serial number of the next event a consuming reader expects. */
export const F_NEXT_SERIAL = 13;
/** Events consumed ("read events"). */
export const F_READ = 14;
/** Events overwritten before a consuming reader reached them. */
export const F_OVERRUN = 15;
/** Events refused because the ring was full in producer mode. */
export const F_DROPPED = 16;
/** Events lost to nested writers filling the ring: always 0 (no nesting). */
export const F_COMMIT_OVERRUN = 17;
/** Clock reading and wall time (ms since the epoch) taken together at reset. */
export const F_CLOCK_ANCHOR = 18;
export const F_WALL_ANCHOR_MS = 19;
/**
 * 1.2: events written that could not be saved: reserved and never filled
 * when their thread stopped, or not published by a thread still running
 * when the process exited. Written by the sealer (rule 4), under R_LOCK.
 */
export const F_UNSAVED = 20;
export const HEADER_WORDS = 64;

// Page header, int32 words relative to the slot.
export const P_SEQ = 0;
export const P_COMMIT = 1;
export const P_TS_LO = 2;
export const P_TS_HI = 3;
export const P_SERIAL_LO = 4;
export const P_SERIAL_HI = 5;
export const P_WBASE_LO = 6;
export const P_WBASE_HI = 7;
export const PAGE_HEADER_WORDS = 8;

/** P_COMMIT = entries << COMMIT_ENTRIES_SHIFT | data words. */
export const COMMIT_ENTRIES_SHIFT = 16;
export const COMMIT_WORDS_MASK = 0xffff;

/** R_HEAD = seq << HEAD_SEQ_SHIFT | events consumed in that page. */
export const HEAD_SEQ_SHIFT = 13;
export const HEAD_CONSUMED_MASK = (1 << HEAD_SEQ_SHIFT) - 1;
const SEQ_LIMIT = 1 << (32 - HEAD_SEQ_SHIFT);
/** An R_READ_HEAD value no R_HEAD can take (consumed count above any page's). */
export const NO_HEAD = -1;

export const MODE_OVERWRITE = 0;
export const MODE_PRODUCER = 1;
/**
 * 1.1: producer mode whose writer, at a full ring, first waits (at most
 * R_WAIT_MS) for a consuming reader to free a page: a reader that drains
 * the ring to a file keeps every event unless it stalls for that long.
 */
export const MODE_WAIT = 2;
export const RING_LIVE = 0;
export const RING_RETIRED = 1;
export const LOCK_FREE = 0;
export const LOCK_HELD = 1;
export const LOCK_CONTENDED = 2;

export const MIN_PAGE_BYTES = 64;
/** Largest page: its data words and entries must fit P_COMMIT's halves. */
export const MAX_PAGE_BYTES = 32768;
export const DEFAULT_PAGE_BYTES = 4096;
/** buffer_size_kb of a new ring (ftrace's default per CPU on most systems). */
export const DEFAULT_SIZE_KB = 1408;
/** Fewest pages: the writer needs one to write while a reader holds another. */
export const MIN_PAGES = 2;
/** Most pages: keeps every HEAD..TAIL distance far below seqMod / 2. */
export const MAX_PAGES = SEQ_LIMIT >> 2;
/** The largest buffer_size_kb with the default page size (MAX_PAGES pages). */
export const MAX_SIZE_KB = (MAX_PAGES * DEFAULT_PAGE_BYTES) / 1024;

export interface Geometry {
  pageBytes: number;
  pageWords: number;
  /** Words of event data a page holds. */
  dataWords: number;
  nrPages: number;
  pagesAt: number;
  seqMod: number;
  /** Bytes of the whole SharedArrayBuffer. */
  bytes: number;
}

export function computeGeometry(pageBytes: number, nrPages: number): Geometry {
  if (!Number.isInteger(pageBytes) || pageBytes < MIN_PAGE_BYTES || pageBytes > MAX_PAGE_BYTES
    || (pageBytes & (pageBytes - 1)) !== 0) {
    fail('EINVAL', `ring page size ${pageBytes}: must be a power of two from ${MIN_PAGE_BYTES} to ${MAX_PAGE_BYTES} bytes`);
  }
  if (!Number.isInteger(nrPages) || nrPages < MIN_PAGES || nrPages > MAX_PAGES) {
    fail('EINVAL', `ring of ${nrPages} pages: must have ${MIN_PAGES} to ${MAX_PAGES}`);
  }
  const pageWords = pageBytes >> 2;
  return {
    pageBytes,
    pageWords,
    dataWords: pageWords - PAGE_HEADER_WORDS,
    nrPages,
    pagesAt: HEADER_WORDS,
    seqMod: nrPages * MathFloor(SEQ_LIMIT / nrPages),
    bytes: (HEADER_WORDS + nrPages * pageWords) * 4,
  };
}

export function packHead(seq: number, consumed: number): number {
  return ((seq << HEAD_SEQ_SHIFT) | consumed) | 0;
}

export function headSeq(head: number): number {
  return head >>> HEAD_SEQ_SHIFT;
}

export function headConsumed(head: number): number {
  return head & HEAD_CONSUMED_MASK;
}

/** a - b for page sequence numbers, in (-seqMod/2, seqMod/2]. */
export function seqDiff(a: number, b: number, seqMod: number): number {
  let d = (a - b) % seqMod;
  if (d > seqMod / 2) d -= seqMod;
  else if (d <= -seqMod / 2) d += seqMod;
  return d;
}

export function seqNext(s: number, seqMod: number): number {
  return s + 1 === seqMod ? 0 : s + 1;
}

/** Reads an unsigned 64-bit value stored as two int32 words, low first. */
export function readU64(i32: Int32Array, at: number): number {
  return (i32[at]! >>> 0) + (i32[at + 1]! >>> 0) * 0x100000000;
}

export function writeU64(i32: Int32Array, at: number, v: number): void {
  const hi = MathFloor(v / 0x100000000);
  i32[at] = v - hi * 0x100000000;
  i32[at + 1] = hi;
}

/** Whether this host stores the low byte of a word first (format.ts says so in header_event). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
