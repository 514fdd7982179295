/**
 * The disk cache of transformed modules.
 *
 * Owns: the entry format, keys, the per-user secret that authenticates
 * entries, eviction and stats (the directory is chosen and checked in
 * shared/cache-dir.cts). Invariants:
 * - an entry is code this process will run, so nothing is taken from the
 *   cache that this user's processes did not write: the directory and every
 *   directory above it are checked once (shared/cache-dir.cts); each entry is opened
 *   without following a symlink and its descriptor checked (a regular file,
 *   this user's, writable by no one else) before a byte is read; and the
 *   entry must carry a message authentication code, under this user's
 *   secret key, of its key, status, sites, length and body. A file planted
 *   by anyone who does not hold the key (another user; a cache copied from
 *   elsewhere) is a miss, never executed;
 * - a reader sees either no entry or a whole entry written for exactly its
 *   key: entries are written to a temporary file (unpredictable name,
 *   created exclusively, 0600) in the same directory and renamed into place
 *   (atomic on one file system); processes and threads share a directory
 *   without locks; two writers of one key write the same bytes and the last
 *   rename wins.
 *
 * Layout: `<dir>/key` (32 random bytes, 0600, made once with an exclusive
 * create then a link, so two processes that start together agree on it) and
 * `<dir>/v<SCHEMA>/<64 hex>`, where the name is the key (sha256 over the
 * source, the transformer's version, its options and the naming inputs: see
 * load.ts). An entry is one header line
 * `jsftrace-cache <SCHEMA> <key> <ok|failed> <sites> <body bytes> <tag hex>\n`
 * then the body (UTF-8): the emitted code, or the transform's error message
 * for a file that failed (so a file that cannot be transformed is not
 * parsed again on every run; its warning is still shown each time). The tag
 * is a random 12-byte nonce and the 16-byte Poly1305 tag of ChaCha20-Poly1305
 * (RFC 8439) under the key and that nonce, with the header line up to the
 * body length, its newline, and the body as additional data. Poly1305 rather
 * than HMAC-SHA256 for speed: a cached load authenticates every byte of its
 * entry, and on typescript.js's (14.5 MB) a get() took 2.4 ms more CPU than
 * with no authentication where HMAC-SHA256 took 8.7 ms more
 * (docs/benchmarks.md, "Hardening").
 *
 * Size is bounded by least-recently-used eviction on the entries' mtime: a
 * hit refreshes the mtime when it is older than a minute (so hot entries are
 * not written on every load), and a process that writes sweeps the
 * directory once on its first write and again each time it has written an
 * eighth of the bound, deleting the oldest entries down to 80 % of it.
 * A reader racing a sweep that deletes its entry sees a miss.
 *
 * JSFTRACE_CACHE_DIR chooses the directory (shared/cache-dir.cts has the default);
 * JSFTRACE_CACHE=0 turns the cache off; JSFTRACE_CACHE_MAX sets the bound
 * (bytes, or with k/m/g; default 512m). A directory that fails its check
 * turns the cache off for the process, with one warning.
 */

import { createCipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  closeSync, constants, fstatSync, futimesSync, openSync, readdirSync, readSync, realpathSync, renameSync, rmdirSync,
  rmSync, statSync, unlinkSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { fail } from '../shared/errors.js';
import { DateNow } from '../shared/builtins.js';
import { requireOwnCjs } from '../shared/own-cjs.js';
import type { CacheDirs } from '../shared/cache-dir.cjs';
import { workingDir } from '../shared/working-dir.js';
import { keyGlobalProblem } from '../shared/site-abi.js';

// CommonJS, so that a start can check the directory before the runtime compiles (shared/runtime-file.cts).
const dirs = requireOwnCjs<CacheDirs>('./cache-dir.cjs');
const { cacheDirProblem, chooseCacheDir, ownFileOnce, prepareCacheDir, readWhole, writeWhole } = dirs;
export const compileCacheWanted = dirs.compileCacheWanted;

export const CACHE_SCHEMA = dirs.CACHE_SCHEMA;
/** Where Node's compile cache lives in the cache directory (load.ts): not an old entry folder, though its name looks like one. */
export const COMPILE_CACHE_SUBDIR = dirs.COMPILE_CACHE_SUBDIR;
const MAGIC = 'jsftrace-cache';
const DEFAULT_MAX = 512 * 1024 * 1024;
const TOUCH_AFTER_MS = 60_000;
const STALE_TMP_MS = 10 * 60_000;
/** The temporary name of the key or the binding name as they are made (cache-dir.cts, ownFileOnce). */
const OWN_FILE_TMP = /^(?:key|binding)\.[0-9a-f]{24}\.tmp$/;
const KEY_BYTES = 32;
/** Entries larger than this are not read (the largest modules emit tens of MB). */
const MAX_ENTRY_BYTES = 1 << 30;
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const uid = typeof process.getuid === 'function' ? process.getuid() : -1;

export interface CacheEntry {
  readonly status: 'ok' | 'failed';
  readonly sites: number;
  /** The emitted code, or the error message of a failed transform. */
  readonly body: string;
}

export interface CacheStats {
  readonly dir: string;
  readonly entries: number;
  readonly failedEntries: number;
  readonly bytes: number;
  readonly maxBytes: number;
}

export interface CacheOptions {
  readonly dir: string;
  readonly maxBytes: number;
}

/** Parses `123`, `64k`, `512m`, `2g` (binary units). */
export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$/i.exec(s);
  if (m === null) fail('EINVAL', `size ${JSON.stringify(s)} is not a number of bytes (e.g. 512m)`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * unit);
}

/** The cache options from the environment, or null when the cache is off. */
export function cacheOptionsFromEnv(env: NodeJS.ProcessEnv = process.env, cwd: string = workingDir()): CacheOptions | null {
  const on = env['JSFTRACE_CACHE'];
  if (on === '0' || on === 'false' || on === 'off') return null;
  const dir = chooseCacheDir(env, cwd);
  const maxEnv = env['JSFTRACE_CACHE_MAX'];
  const maxBytes = maxEnv !== undefined && maxEnv !== '' ? parseSize(maxEnv) : DEFAULT_MAX;
  return { dir, maxBytes };
}

/** sha256 over length-prefixed parts, so no two part lists collide. */
export function cacheKey(parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(`${p.length}:`);
    h.update(p);
  }
  return h.digest('hex');
}

/**
 * Opens `file` for reading without following a symlink and checks the
 * descriptor: a regular file of this user's that only it can write, of a
 * size the cache writes. `absent` when there is no such name; `refused` for
 * anything else there.
 */
function openOwn(file: string): { fd: number; size: number; mode: number; mtimeMs: number } | 'absent' | 'refused' {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | O_NOFOLLOW);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'refused';
  }
  try {
    const st = fstatSync(fd);
    if (st.isFile() && (uid < 0 || (st.uid === uid && (st.mode & 0o022) === 0)) && st.size <= MAX_ENTRY_BYTES) {
      return { fd, size: st.size, mode: st.mode, mtimeMs: st.mtimeMs };
    }
  } catch {
    // fall through: refused
  }
  closeSync(fd);
  return 'refused';
}

/** Creates `file` exclusively (no symlink followed), 0600, with `data`; false when it could not. */
function writeNew(file: string, data: readonly Buffer[]): boolean {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o600);
  } catch {
    return false;
  }
  try {
    for (const d of data) writeWhole(fd, d);
    return true;
  } catch {
    try { unlinkSync(file); } catch { /* gone */ }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** A temporary name next to `file` that no one can guess. */
function tmpName(file: string): string {
  return `${file}.${randomBytes(12).toString('hex')}.tmp`;
}

/** How the cache tells that it is off: once per process (load.ts shares the flag across threads). */
export type CacheWarn = (message: string) => void;

function emitCacheWarning(message: string): void {
  process.emitWarning(message, { code: 'JSFTRACE_CACHE' });
}

/** Where the cache stands in this thread: not looked at yet, checked and usable, or off. */
const UNCHECKED = 0;
const READY = 1;
const OFF = 2;

export class TransformCache {
  /** The directory as configured (the cache works in its real path once checked). */
  readonly dir: string;
  readonly maxBytes: number;
  private state = UNCHECKED;
  private real = '';
  private root = '';
  private secret: Buffer = Buffer.alloc(0);
  private writtenSinceSweep = 0;
  private swept = false;
  private readonly warn: CacheWarn;
  /** Write or sweep errors (a read-only or full disk): the cache then just misses. */
  errors = 0;
  /** Entries found but not used: not this user's, writable by others, malformed, or with a wrong tag. */
  refused = 0;

  constructor(opts: CacheOptions, warn: CacheWarn = emitCacheWarning) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes;
    this.warn = warn;
  }

  /**
   * Checks the directory (every component, shared/cache-dir.cts) and loads this
   * user's key, once per thread; false, with one warning, when the cache
   * cannot be trusted with code this process will run.
   */
  private ready(): boolean {
    if (this.state !== UNCHECKED) return this.state === READY;
    const top = prepareCacheDir(this.dir);
    const sub = 'real' in top ? prepareCacheDir(join(top.real, `v${CACHE_SCHEMA}`)) : top;
    const key = 'real' in top && 'real' in sub ? loadKey(top.real) : null;
    // Entries name the static key: with a name of this process's own, no later process could use them.
    const binding = keyGlobalProblem();
    if (!('real' in top) || !('real' in sub) || typeof key === 'string' || binding !== null) {
      const why = !('real' in top) ? top.problem : !('real' in sub) ? sub.problem : typeof key === 'string' ? key : binding!;
      this.state = OFF;
      this.warn(`the transform cache is off for this process: ${why} (set JSFTRACE_CACHE_DIR to a directory of your own)`);
      return false;
    }
    this.real = top.real;
    this.root = sub.real;
    this.secret = key!;
    this.state = READY;
    return true;
  }

  /** What another thread needs to use the same cache: the checked real directory; null when it is off. */
  settings(): CacheOptions | null {
    return this.ready() ? { dir: this.real, maxBytes: this.maxBytes } : null;
  }

  // One flat directory: a cold cache then costs one mkdir, not one per
  // fan-out subdirectory (metadata operations dominate a cold run), and
  // ext4, xfs and APFS index large directories.
  private pathOf(key: string): string {
    return join(this.root, key);
  }

  /**
   * The tag of an entry: Poly1305 under a one-time key that ChaCha20 derives
   * from this user's secret and the entry's random nonce (ChaCha20-Poly1305,
   * RFC 8439, with the entry as additional data and nothing encrypted).
   */
  private mac(prefix: string, body: Buffer, nonce: Buffer): Buffer {
    const c = createCipheriv('chacha20-poly1305', this.secret, nonce, { authTagLength: 16 });
    c.setAAD(Buffer.from(`${prefix}\n`, 'latin1'), { plaintextLength: 0 });
    c.setAAD(body, { plaintextLength: 0 });
    c.final();
    return Buffer.concat([nonce, c.getAuthTag()]);
  }

  /**
   * `<dir>/<name>`, made 0700 if need be, for other caches of code this
   * process runs (Node's compile cache): its real path, checked as the cache
   * directory is (every component, shared/cache-dir.cts); null when the cache is off
   * or the subdirectory fails the check.
   */
  trustedSubdir(name: string): string | null {
    if (!this.ready()) return null;
    const sub = prepareCacheDir(join(this.real, name));
    return 'real' in sub ? sub.real : null;
  }

  get(key: string): CacheEntry | null {
    if (!this.ready()) return null;
    const f = openOwn(this.pathOf(key));
    if (f === 'absent') return null;
    if (f === 'refused') {
      this.refused++;
      return null;
    }
    try {
      const buf = readWhole(f.fd, f.size);
      const nl = buf.indexOf(0x0a);
      const h = nl < 0 || nl > 300 ? [] : buf.toString('latin1', 0, nl).split(' ');
      const status = h[3];
      const bodyBytes = buf.length - nl - 1;
      if (h.length !== 7 || h[0] !== MAGIC || h[1] !== String(CACHE_SCHEMA) || h[2] !== key || (status !== 'ok' && status !== 'failed')
        || !/^[0-9]+$/.test(h[4]!) || h[5] !== String(bodyBytes) || !/^[0-9a-f]{56}$/.test(h[6]!)) {
        this.refused++;
        return null;
      }
      const body = buf.subarray(nl + 1);
      const tag = Buffer.from(h[6]!, 'hex');
      if (!timingSafeEqual(this.mac(h.slice(0, 6).join(' '), body, tag.subarray(0, 12)), tag)) {
        this.refused++;
        return null;
      }
      const now = DateNow();
      if (now - f.mtimeMs > TOUCH_AFTER_MS) {
        try {
          futimesSync(f.fd, now / 1000, now / 1000);
        } catch {
          // Refreshing recency is best effort (a read-only cache still serves).
        }
      }
      return { status, sites: Number(h[4]), body: body.toString('utf8') };
    } catch {
      return null;
    } finally {
      closeSync(f.fd);
    }
  }

  put(key: string, entry: CacheEntry): void {
    if (!this.ready()) return;
    const body = Buffer.from(entry.body, 'utf8');
    const prefix = `${MAGIC} ${CACHE_SCHEMA} ${key} ${entry.status} ${entry.sites} ${body.length}`;
    const head = Buffer.from(`${prefix} ${this.mac(prefix, body, randomBytes(12)).toString('hex')}\n`, 'latin1');
    const file = this.pathOf(key);
    const tmp = tmpName(file);
    if (!writeNew(tmp, [head, body])) {
      this.errors++;
      return;
    }
    try {
      renameSync(tmp, file);
    } catch {
      this.errors++;
      try { unlinkSync(tmp); } catch { /* gone */ }
      return;
    }
    this.writtenSinceSweep += head.length + body.length;
    if (!this.swept || this.writtenSinceSweep >= this.maxBytes / 8) this.sweep();
  }

  /** The entries under `root` (and temporary files older than ten minutes removed). */
  private listEntries(root: string): { path: string; size: number; mtime: number }[] {
    const out: { path: string; size: number; mtime: number }[] = [];
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      return out;
    }
    const now = DateNow();
    for (const n of names) {
      const p = join(root, n);
      try {
        const st = statSync(p);
        if (n.endsWith('.tmp')) {
          // A writer that died between write and rename leaves one behind.
          if (now - st.mtimeMs > STALE_TMP_MS && this.state === READY) unlinkSync(p);
          continue;
        }
        if (st.isFile()) out.push({ path: p, size: st.size, mtime: st.mtimeMs });
      } catch {
        // Deleted by a concurrent sweep.
      }
    }
    return out;
  }

  /** Deletes the least recently used entries until the cache is within its bound. */
  sweep(): { removed: number; bytes: number } {
    if (!this.ready()) return { removed: 0, bytes: 0 };
    this.swept = true;
    this.writtenSinceSweep = 0;
    let removed = 0;
    try {
      // Entries of other schema versions are never read again.
      for (const n of readdirSync(this.real)) {
        if (/^v\d+$/.test(n) && n !== `v${CACHE_SCHEMA}` && n !== COMPILE_CACHE_SUBDIR) rmSync(join(this.real, n), { recursive: true, force: true });
      }
    } catch {
      // No directory yet.
    }
    const entries = this.listEntries(this.root);
    let bytes = entries.reduce((a, e) => a + e.size, 0);
    if (bytes > this.maxBytes) {
      entries.sort((a, b) => a.mtime - b.mtime);
      const low = this.maxBytes * 0.8;
      for (const e of entries) {
        if (bytes <= low) break;
        try {
          unlinkSync(e.path);
          removed++;
        } catch {
          // Already gone.
        }
        bytes -= e.size;
      }
    }
    return { removed, bytes };
  }

  /** Counts what is there (reading only, so also for a directory the cache would refuse). */
  stats(): CacheStats {
    const entries = this.listEntries(join(resolve(this.dir), `v${CACHE_SCHEMA}`));
    let failedEntries = 0;
    for (const e of entries) {
      // The status is in the header's fourth field; read just the header.
      try {
        const fd = openSync(e.path, constants.O_RDONLY | O_NOFOLLOW);
        try {
          const buf = Buffer.alloc(300);
          const n = readSync(fd, buf, 0, buf.length, 0);
          if (buf.toString('latin1', 0, n).split('\n', 1)[0]!.split(' ')[3] === 'failed') failedEntries++;
        } finally {
          closeSync(fd);
        }
      } catch {
        // Deleted meanwhile.
      }
    }
    return {
      dir: this.dir,
      entries: entries.length,
      failedEntries,
      bytes: entries.reduce((a, e) => a + e.size, 0),
      maxBytes: this.maxBytes,
    };
  }

  /**
   * Removes every entry (of every schema version) and the directory when it
   * is left empty; the key stays. Only in a directory that passes its check:
   * removing trees in someone else's directory is how a symlink race turns
   * into deleting the wrong files. Returns the entries removed.
   */
  clear(): number {
    const why = cacheDirProblem(this.dir);
    if (why !== null) fail('EACCES', `not clearing ${this.dir}: ${why}`);
    const real = (() => {
      try {
        return realpathSync(this.dir);
      } catch {
        return null;
      }
    })();
    if (real === null) return 0;
    const before = this.listEntries(join(real, `v${CACHE_SCHEMA}`)).length;
    try {
      const now = DateNow();
      for (const n of readdirSync(real)) {
        if (/^v\d+$/.test(n)) rmSync(join(real, n), { recursive: true, force: true });
        // What a process killed while it made the key or the binding name
        // left (cache-dir.cts, ownFileOnce); a live one holds its file for
        // a moment only.
        else if (OWN_FILE_TMP.test(n) && now - statSync(join(real, n)).mtimeMs > STALE_TMP_MS) unlinkSync(join(real, n));
      }
      rmdirSync(real);
    } catch {
      // Holds the key, or files that are not ours: leave them.
    }
    return before;
  }
}

/**
 * This user's secret key in `dir`: read (a regular file of 32 bytes, this
 * user's, readable by no one else), or made once. Returns why not when the
 * file there cannot be the key.
 */
function loadKey(dir: string): Buffer | string {
  const r = ownFileOnce(dir, 'key', () => randomBytes(KEY_BYTES), (b) => (b.length === KEY_BYTES ? null : `is not a key (${b.length} bytes, not ${KEY_BYTES})`));
  return 'bytes' in r ? r.bytes : r.problem;
}
