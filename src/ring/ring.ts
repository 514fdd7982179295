/**
 * A ring: one SharedArrayBuffer laid out as layout.ts says, and the handle
 * every thread builds around it.
 *
 * Owns: creating a ring (buffer_size_kb and page size to geometry, an empty
 * first page), opening one another thread created (checking magic, format
 * major and byte order), and the settings any thread may change (mode).
 * Invariant: a handle's geometry is read once from the header and never
 * changes; a ring whose size must change is replaced (writer.resize), and the
 * old one is marked RING_RETIRED.
 */

import { fail } from '../shared/errors.js';
import {
  computeGeometry, DEFAULT_PAGE_BYTES, DEFAULT_SIZE_KB, F_CLOCK_ANCHOR, F_DROPPED, F_NEXT_SERIAL, F_READ_TS, F_WALL_ANCHOR_MS, type Geometry, HEADER_WORDS,
  LITTLE_ENDIAN, MAX_PAGES, MIN_PAGES, MODE_OVERWRITE, MODE_PRODUCER, MODE_WAIT, NO_HEAD, P_COMMIT, P_SEQ, P_SERIAL_LO, P_TS_LO,
  P_WBASE_LO, packHead, R_CLOCK, R_FORMAT_MAJOR, R_FORMAT_MINOR, R_HEAD, R_MAGIC, R_MODE, R_NR_PAGES, R_PAGE_BYTES,
  R_PAGES_AT, R_READ_HEAD, R_READ_OFF, R_SEQ_MOD, R_STATE, R_TAIL, R_WAIT_MS, RING_FORMAT_MAJOR, RING_FORMAT_MINOR, RING_LIVE, RING_MAGIC,
  RING_RETIRED, writeU64,
} from './layout.js';
import { type ClockName, clockNameOf, makeClock, UNIT_NS } from './clock.js';
import { headerEventText, headerPageText } from './format.js';
import { AtomicsExchange, AtomicsLoad, AtomicsStore, MathCeil, MathMax, PerformanceNow, PerformanceOfStart } from '../shared/builtins.js';

export { DEFAULT_SIZE_KB };

export type RingMode = 'overwrite' | 'producer' | 'wait';

/** ftrace's default buffer_size_kb. */

export interface RingOptions {
  /** KB of pages (buffer_size_kb); rounded up to whole pages, at least two. */
  sizeKb?: number;
  /** Sub-buffer size (buffer_subbuf_size_kb * 1024): power of two, 64 to 32768. */
  pageBytes?: number;
  mode?: RingMode;
  /** The wait mode's bound in ms (default DEFAULT_WAIT_MS). */
  waitMs?: number;
  clock?: ClockName;
}

export class Ring {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly geometry: Geometry;

  constructor(sab: SharedArrayBuffer) {
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < HEADER_WORDS * 4) fail('EINVAL', 'not a ring: too small');
    const i32 = new Int32Array(sab);
    if (AtomicsLoad(i32, R_MAGIC) !== RING_MAGIC) fail('EINVAL', 'not a ring: bad magic (or not yet initialised)');
    const major = i32[R_FORMAT_MAJOR]!;
    if (major !== RING_FORMAT_MAJOR) fail('EINVAL', `ring format ${major}.${i32[R_FORMAT_MINOR]}, this build reads ${RING_FORMAT_MAJOR}.x`);
    const g = computeGeometry(i32[R_PAGE_BYTES]!, i32[R_NR_PAGES]!);
    if (g.bytes !== sab.byteLength || g.pagesAt !== i32[R_PAGES_AT] || g.seqMod !== i32[R_SEQ_MOD]) {
      fail('EINVAL', 'ring header does not match its buffer');
    }
    this.sab = sab;
    this.i32 = i32;
    this.f64 = new Float64Array(sab);
    this.geometry = g;
  }

  /**
   * Refuses a page sequence number no sound ring holds (a corrupted ring,
   * from a damaged trace file or memory written by something else): every
   * index a reader computes from one is then inside the buffer, and the
   * reader ends with EINVAL instead of a RangeError or a walk over pages
   * that do not exist.
   */
  checkSeq(seq: number, what: string): void {
    if (!(Number.isInteger(seq) && seq >= 0 && seq < this.geometry.seqMod)) {
      fail('EINVAL', `the ring is corrupted: its ${what} page ${seq} is outside 0..${this.geometry.seqMod - 1}`);
    }
  }

  /** i32 index of the header of page `seq`. */
  pageBase(seq: number): number {
    const g = this.geometry;
    return g.pagesAt + (seq % g.nrPages) * g.pageWords;
  }

  get mode(): RingMode {
    const m = AtomicsLoad(this.i32, R_MODE);
    return m === MODE_PRODUCER ? 'producer' : m === MODE_WAIT ? 'wait' : 'overwrite';
  }

  /**
   * Takes effect at the writer's next page boundary. `waitMs` is the wait
   * mode's bound (how long the writer waits for a reader at a full ring).
   */
  setMode(mode: RingMode, waitMs?: number): void {
    if (waitMs !== undefined) AtomicsStore(this.i32, R_WAIT_MS, checkWaitMs(waitMs));
    AtomicsStore(this.i32, R_MODE, modeWord(mode));
  }

  /**
   * Events refused so far (producer and wait modes), read without the
   * reader lock: a drain's running count, exact once the writer is done
   * (ringStats gives a consistent snapshot).
   */
  get dropped(): number {
    return this.f64[F_DROPPED]!;
  }

  /** The wait mode's bound in ms. */
  get waitMs(): number {
    return AtomicsLoad(this.i32, R_WAIT_MS);
  }

  get clockId(): number {
    return AtomicsLoad(this.i32, R_CLOCK);
  }

  get clockName(): string {
    return clockNameOf(this.clockId);
  }

  get retired(): boolean {
    return AtomicsLoad(this.i32, R_STATE) === RING_RETIRED;
  }

  /** buffer_size_kb: whole pages, so possibly more than was asked for. */
  get sizeKb(): number {
    return (this.geometry.nrPages * this.geometry.pageBytes) / 1024;
  }

  /** Clock reading and wall time (ms since the epoch) taken together at the last reset. */
  get anchor(): { clock: number; wallMs: number } {
    return { clock: this.f64[F_CLOCK_ANCHOR]!, wallMs: this.f64[F_WALL_ANCHOR_MS]! };
  }

  headerPageText(): string {
    return headerPageText(this.geometry.pageBytes);
  }

  headerEventText(): string {
    return headerEventText();
  }
}

/** The longest a writer may be asked to wait for a reader: a minute. */
export const MAX_WAIT_MS = 60_000;
export const DEFAULT_WAIT_MS = 1000;

function checkWaitMs(ms: number): number {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_WAIT_MS) fail('EINVAL', `ring wait ${ms} ms: an integer from 0 to ${MAX_WAIT_MS}`);
  return ms;
}

function modeWord(mode: RingMode): number {
  if (mode === 'overwrite') return MODE_OVERWRITE;
  if (mode === 'producer') return MODE_PRODUCER;
  if (mode === 'wait') return MODE_WAIT;
  return fail('EINVAL', `ring mode "${String(mode)}": overwrite or producer`);
}

export function pagesFor(sizeKb: number, pageBytes: number): number {
  if (!(sizeKb > 0) || !Number.isFinite(sizeKb)) fail('EINVAL', `buffer size ${sizeKb} KB: must be a positive number`);
  const n = MathMax(MIN_PAGES, MathCeil((sizeKb * 1024) / pageBytes));
  if (n > MAX_PAGES) fail('ENOMEM', `buffer size ${sizeKb} KB needs ${n} pages of ${pageBytes} bytes; at most ${MAX_PAGES}`);
  return n;
}

/** Geometry for options, validated before anything is allocated. */
export function geometryFor(opts: RingOptions): Geometry {
  const pageBytes = opts.pageBytes ?? DEFAULT_PAGE_BYTES;
  computeGeometry(pageBytes, MIN_PAGES); // page size errors before size errors
  return computeGeometry(pageBytes, pagesFor(opts.sizeKb ?? DEFAULT_SIZE_KB, pageBytes));
}

export function createRing(opts: RingOptions = {}): Ring {
  if (!LITTLE_ENDIAN) fail('ENODEV', 'jsftrace rings need a little-endian host');
  const g = geometryFor(opts);
  const mode = modeWord(opts.mode ?? 'overwrite');
  checkWaitMs(opts.waitMs ?? DEFAULT_WAIT_MS);
  const clock = makeClock(opts.clock ?? 'local');
  let sab: SharedArrayBuffer;
  try {
    sab = new SharedArrayBuffer(g.bytes);
  } catch {
    return fail('ENOMEM', `cannot allocate a ring of ${g.bytes} bytes`);
  }
  const i32 = new Int32Array(sab);
  i32[R_FORMAT_MAJOR] = RING_FORMAT_MAJOR;
  i32[R_FORMAT_MINOR] = RING_FORMAT_MINOR;
  i32[R_PAGE_BYTES] = g.pageBytes;
  i32[R_NR_PAGES] = g.nrPages;
  i32[R_PAGES_AT] = g.pagesAt;
  i32[R_SEQ_MOD] = g.seqMod;
  i32[R_MODE] = mode;
  i32[R_WAIT_MS] = checkWaitMs(opts.waitMs ?? DEFAULT_WAIT_MS);
  i32[R_CLOCK] = clock.id;
  i32[R_STATE] = RING_LIVE;
  const f64 = new Float64Array(sab);
  f64[F_CLOCK_ANCHOR] = clock.unit === UNIT_NS ? clock.now() : 0;
  f64[F_WALL_ANCHOR_MS] = PerformanceOfStart.timeOrigin + PerformanceNow();
  initPages(i32, f64, g, 0);
  // Magic last: a thread that sees it sees a complete header.
  AtomicsStore(i32, R_MAGIC, RING_MAGIC);
  return new Ring(sab);
}

export function openRing(sab: SharedArrayBuffer): Ring {
  return new Ring(sab);
}

/**
 * Empties the pages: page 0 is the tail and the head, its first event will
 * have serial number `serial`. The caller holds R_LOCK or owns the only
 * reference to the buffer.
 */
export function initPages(i32: Int32Array, f64: Float64Array, g: Geometry, serial: number): void {
  for (let s = 0; s < g.nrPages; s++) {
    const b = g.pagesAt + s * g.pageWords;
    i32[b + P_SEQ] = s === 0 ? 0 : -1;
    i32[b + P_COMMIT] = 0;
  }
  const b = g.pagesAt;
  writeU64(i32, b + P_TS_LO, 0);
  writeU64(i32, b + P_SERIAL_LO, serial);
  writeU64(i32, b + P_WBASE_LO, 0);
  i32[R_READ_HEAD] = NO_HEAD;
  i32[R_READ_OFF] = 0;
  f64[F_READ_TS] = 0;
  f64[F_NEXT_SERIAL] = serial;
  AtomicsExchange(i32, R_TAIL, 0);
  AtomicsExchange(i32, R_HEAD, packHead(0, 0));
}
