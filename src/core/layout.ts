/**
 * The shared-memory layout of one tracing instance. Version 2.
 *
 * Owns: every offset into the instance's SharedArrayBuffer. Invariant: no
 * other module computes an offset; they read the `Layout` this module builds.
 * Change anything here and bump LAYOUT_VERSION: a worker running another
 * build refuses to join an instance whose magic or version differs.
 *
 * One SharedArrayBuffer, viewed as Int32Array `i32` and Uint8Array `u8`
 * (the arena). Memory is reserved for the limits but the operating system
 * commits pages only when they are first written, so a 1M-site reservation
 * costs what the program actually defines.
 *
 *   int32 index
 *   0            +--------------------------------------------------+
 *                | HEADER (64 words)  see H_* below                  |
 *   hdr          +--------------------------------------------------+
 *                | TARGET[maxSites]   call-target word of each site  |  read by every
 *                |                    (handler index, see flags.ts)  |  traced call
 *                +--------------------------------------------------+
 *                | FLAGS[maxSites]    record flags word: ref count + |  engine only,
 *                |                    desired/actual pairs           |  under LOCK
 *                +--------------------------------------------------+
 *                | META[maxSites*2]   arena offset, byte length of   |
 *                |                    the record's metadata          |
 *                +--------------------------------------------------+
 *                | SKEY[maxSites]     the site key each site reads   |
 *                |                    (shared/site-abi.ts)           |
 *                +--------------------------------------------------+
 *                | KEYON[SITE_KEYS]   sites of each key whose TARGET |  engine only,
 *                |                    is not nop                     |  under LOCK
 *                +--------------------------------------------------+
 *                | KEYS[keySlots*8]   open-addressed table of site   |
 *                |                    blocks (K_* below)             |
 *                +--------------------------------------------------+
 *                | OPS[maxOps*32]     one row per ops slot (O_*)     |
 *                +--------------------------------------------------+
 *                | LIST[maxOps]       registered ops slots, newest   |
 *                |                    first; length in H_LIST_LEN    |
 *                +--------------------------------------------------+
 *                | COV[maxOps][maxSites/32]  coverage bitmap of each |
 *                |                    ops: bit set = filter covers   |
 *                +--------------------------------------------------+
 *                | TRAMPS[maxTramps*16] direct trampolines (T_*)     |
 *                +--------------------------------------------------+
 *                | THREADS[maxThreads*16] one row per thread (TH_*)  |
 *   arena (bytes)+--------------------------------------------------+
 *                | ARENA  UTF-8 strings, bump-allocated, never freed |
 *                +--------------------------------------------------+
 *
 * Access rules:
 * - TARGET words are written only by the update engine with
 *   Atomics.compareExchange (compare-before-write) and read by sites with a
 *   plain load: Atomics.load is a builtin call on Node 20 (about 7 ns against
 *   0.5 ns), and V8 neither caches nor hoists typed-array loads across calls,
 *   so a plain load sees a store as soon as the CPU does. docs/design.md has
 *   the ordering argument.
 * - SKEY is written once per record, before the record is published.
 * - FLAGS, META, KEYON, KEYS, OPS, LIST, COV and TRAMPS are written only while
 *   holding H_LOCK. COV words are read by list functions in any thread with
 *   plain loads; each word changes atomically.
 * - LIST is published under a sequence count (H_LIST_SEQ odd while being
 *   written) so a reader copies a consistent list or retries.
 * - A THREADS row is written by its own thread, except STATE (also by the
 *   thread that sees the worker exit) and the loader requests.
 */

import { SITE_KEYS } from '../shared/site-abi.js';
import { AtomicsStore, MathCeil, MathMax } from '../shared/builtins.js';

export const LAYOUT_MAGIC = 0x4a534654; // 'JSFT'
export const LAYOUT_VERSION = 2;

// Header words.
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_MAX_SITES = 2;
export const H_MAX_OPS = 3;
export const H_MAX_TRAMPS = 4;
export const H_MAX_THREADS = 5;
export const H_KEY_SLOTS = 6;
export const H_ARENA_BYTES = 7;
/** Number of records defined; records are ids 0 .. H_NR_SITES-1. */
export const H_NR_SITES = 8;
/** The engine mutex: 0 free, 1 held, 2 held with waiters. */
export const H_LOCK = 9;
/** Instance state: see INSTANCE_* . */
export const H_STATE = 10;
/** Bytes used in the arena (bump pointer). */
export const H_ARENA_TOP = 11;
/** Registered-list sequence count: odd while the list is being rewritten. */
export const H_LIST_SEQ = 12;
export const H_LIST_LEN = 13;
/** Bumped on every change that threads must pick up (handler loads). */
export const H_LOAD_GEN = 14;
/** Bumped for every thread synchronisation round. */
export const H_SYNC_GEN = 15;
/** Generation of the site keys: bumped whenever a key's KEYON count leaves or reaches 0. */
export const H_KEY_GEN = 16;
/** Arena reference of the fail-stop reason. */
export const H_KILL_OFF = 17;
export const H_KILL_LEN = 18;
/** Highest thread row ever used, plus one. */
export const H_THREADS_TOP = 19;
/** Count of records whose TARGET is not nop (maintained by the engine). */
export const H_NR_ENABLED = 20;
/** 1 while calls are switched off globally (ftrace_enabled = 0). */
export const H_CALLS_OFF = 21;
export const HEADER_WORDS = 64;

export const INSTANCE_ALIVE = 0;
export const INSTANCE_DEAD = 1;

// Site-block key table rows. A block is a run of consecutive record ids
// defined together (a module's functions, or one attached method), found
// again by its key when another thread defines the same block.
export const KEY_STRIDE = 8;
export const K_HASH = 0;
/** First record id + 1 (0 marks an empty row). */
export const K_BASE1 = 1;
export const K_COUNT = 2;
export const K_KEY_OFF = 3;
export const K_KEY_LEN = 4;

// Ops rows.
export const OPS_STRIDE = 32;
/** Slot state: see SLOT_* . */
export const O_STATE = 0;
/** OPS_FL_* attribute and state flags. */
export const O_FLAGS = 1;
/** The direct ops' single current-target word: trampoline id, or -1. */
export const O_DIRECT = 2;
/** Thread row that created the ops (its function value lives there). */
export const O_OWNER = 3;
/** HANDLER_FUNCTION or HANDLER_MODULE. */
export const O_KIND = 4;
export const O_SPEC_OFF = 5;
export const O_SPEC_LEN = 6;
export const O_NAME_OFF = 7;
export const O_NAME_LEN = 8;
export const O_FILTER_OFF = 9;
export const O_FILTER_LEN = 10;
/** Bumped whenever O_FILTER_* changes, so threads recompile lazily. */
export const O_FILTER_GEN = 11;
export const O_CB_ERRORS = 12;
export const O_ERR_OFF = 13;
export const O_ERR_LEN = 14;
/** Bumped each time the slot is reused, so stale handlers are noticed. */
export const O_GEN = 15;
/** H_SYNC_GEN when the slot became DYING; freed after a later round. */
export const O_DYING_SYNC = 16;

/** Slot states: FREE, RESERVED (in use), DYING (unregistered, waiting for
 * every thread to drop its handler before the slot may be reused). */
export const SLOT_FREE = 0;
export const SLOT_RESERVED = 1;
export const SLOT_DYING = 2;

export const HANDLER_FUNCTION = 0;
export const HANDLER_MODULE = 1;

// Trampoline rows.
export const TRAMP_STRIDE = 16;
export const T_STATE = 0;
export const T_KIND = 1;
export const T_OWNER = 2;
export const T_SPEC_OFF = 3;
export const T_SPEC_LEN = 4;
export const T_NAME_OFF = 5;
export const T_NAME_LEN = 6;
/** Number of direct ops currently using this trampoline. */
export const T_REFS = 7;
/** H_SYNC_GEN when the trampoline became DYING. */
export const T_DYING_SYNC = 8;

// Thread rows.
export const THREAD_STRIDE = 16;
/** See THREAD_* . */
export const TH_STATE = 0;
export const TH_ID = 1;
/** Last H_SYNC_GEN this thread acknowledged. */
export const TH_ACK = 2;
/** Nesting of jsftrace dispatch in this thread (0 = quiescent). */
export const TH_DEPTH = 3;
/** Last H_LOAD_GEN whose handlers this thread has loaded. */
export const TH_LOADED = 4;
/** Calls that reached a handler this thread does not have. */
export const TH_MISSED = 5;
/** Re-entries refused by recursion protection. */
export const TH_RECURSION = 6;
/** Callback errors caught in this thread. */
export const TH_CB_ERRORS = 7;
/** The key generation (H_KEY_GEN) this thread last applied to its key object. */
export const TH_KEY = 8;
/** Arena reference of the last load error of this thread. */
export const TH_LOAD_ERR_OFF = 9;
export const TH_LOAD_ERR_LEN = 10;

export const THREAD_FREE = 0;
export const THREAD_ALIVE = 1;
export const THREAD_DEAD = 2;
/** Being claimed by a joining thread (its id not yet written). */
export const THREAD_CLAIMING = 3;

export interface Limits {
  maxSites: number;
  maxOps: number;
  maxTramps: number;
  maxThreads: number;
  arenaBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxSites: 1 << 20,
  maxOps: 128,
  maxTramps: 1024,
  maxThreads: 256,
  arenaBytes: 64 << 20,
};

export interface Layout extends Limits {
  keySlots: number;
  covWords: number;
  target: number;
  flags: number;
  meta: number;
  skey: number;
  keyOn: number;
  keys: number;
  ops: number;
  list: number;
  cov: number;
  tramps: number;
  threads: number;
  /** Byte offset of the arena. */
  arena: number;
  bytes: number;
}

function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function computeLayout(l: Limits): Layout {
  const covWords = MathCeil(l.maxSites / 32);
  const keySlots = pow2AtLeast(MathMax(1024, l.maxSites / 2));
  let at = HEADER_WORDS;
  const target = at; at += l.maxSites;
  const flags = at; at += l.maxSites;
  const meta = at; at += l.maxSites * 2;
  const skey = at; at += l.maxSites;
  const keyOn = at; at += SITE_KEYS;
  const keys = at; at += keySlots * KEY_STRIDE;
  const ops = at; at += l.maxOps * OPS_STRIDE;
  const list = at; at += l.maxOps;
  const cov = at; at += l.maxOps * covWords;
  const tramps = at; at += l.maxTramps * TRAMP_STRIDE;
  const threads = at; at += l.maxThreads * THREAD_STRIDE;
  const arena = at * 4;
  return {
    ...l, keySlots, covWords, target, flags, meta, skey, keyOn, keys, ops, list, cov, tramps, threads, arena,
    bytes: arena + l.arenaBytes,
  };
}

/** Reads the limits back from a header written by `writeHeader`. */
export function readLimits(i32: Int32Array): Limits {
  return {
    maxSites: i32[H_MAX_SITES],
    maxOps: i32[H_MAX_OPS],
    maxTramps: i32[H_MAX_TRAMPS],
    maxThreads: i32[H_MAX_THREADS],
    arenaBytes: i32[H_ARENA_BYTES],
  };
}

export function writeHeader(i32: Int32Array, l: Layout): void {
  i32[H_MAX_SITES] = l.maxSites;
  i32[H_MAX_OPS] = l.maxOps;
  i32[H_MAX_TRAMPS] = l.maxTramps;
  i32[H_MAX_THREADS] = l.maxThreads;
  i32[H_KEY_SLOTS] = l.keySlots;
  i32[H_ARENA_BYTES] = l.arenaBytes;
  i32[H_VERSION] = LAYOUT_VERSION;
  // Magic last: a joiner that sees it sees a complete header.
  AtomicsStore(i32, H_MAGIC, LAYOUT_MAGIC);
}
