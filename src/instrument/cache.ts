/**
 * The disk cache of transformed modules.
 *
 * Owns: the cache directory, its entry format, keys, eviction and stats.
 * Invariant: a reader sees either no entry or a whole entry written for
 * exactly its key. Entries are written to a temporary file in the same
 * directory and renamed into place (rename is atomic on one file system), and
 * each carries its key and body length in a header that is checked on read,
 * so processes and threads may share a directory without locks; two writers
 * of one key write the same bytes and the last rename wins.
 *
 * Layout: `<dir>/v<SCHEMA>/<64 hex>`, where the name is the key
 * (sha256 over the source, the transformer's version, its options and the
 * naming inputs: see load.ts). An entry is one header line
 * `jsftrace-cache <SCHEMA> <key> <ok|failed> <sites> <body length>\n` then
 * the body: the emitted code, or the transform's error message for a file
 * that failed (so a file that cannot be transformed is not parsed again on
 * every run; its warning is still shown each time).
 *
 * Size is bounded by least-recently-used eviction on the entries' mtime: a
 * hit refreshes the mtime when it is older than a minute (so hot entries are
 * not written on every load), and a process that writes sweeps the
 * directory once on its first write and again each time it has written an
 * eighth of the bound, deleting the oldest entries down to 80 % of it.
 * A reader racing a sweep that deletes its entry sees a miss.
 *
 * Directory: JSFTRACE_CACHE_DIR; else `node_modules/.cache/jsftrace` in the
 * nearest directory from the cwd up that has a node_modules; else
 * `<os tmpdir>/jsftrace-cache-<uid>`, made 0700. A directory that is not this
 * user's own, or that others can write to, is not used (one warning): its
 * entries are code this process would run. JSFTRACE_CACHE=0 turns the cache off;
 * JSFTRACE_CACHE_MAX sets the bound (bytes, or with k/m/g; default 512m).
 */

import { createHash } from 'node:crypto';
import {
  closeSync, existsSync, fstatSync, futimesSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmdirSync,
  rmSync, statSync, unlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import { fail } from '../shared/errors.js';

export const CACHE_SCHEMA = 1;
const MAGIC = 'jsftrace-cache';
const DEFAULT_MAX = 512 * 1024 * 1024;
const TOUCH_AFTER_MS = 60_000;
const STALE_TMP_MS = 10 * 60_000;

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

/** The default directory: see the header. */
export function defaultCacheDir(cwd: string = process.cwd()): string {
  let d = resolve(cwd);
  for (;;) {
    if (existsSync(join(d, 'node_modules'))) return join(d, 'node_modules', '.cache', 'jsftrace');
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(tmpdir(), `jsftrace-cache-${uid}`);
}

/** The cache options from the environment, or null when the cache is off. */
export function cacheOptionsFromEnv(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): CacheOptions | null {
  const on = env['JSFTRACE_CACHE'];
  if (on === '0' || on === 'false' || on === 'off') return null;
  const dirEnv = env['JSFTRACE_CACHE_DIR'];
  const dir = dirEnv !== undefined && dirEnv !== '' ? resolve(cwd, dirEnv) : defaultCacheDir(cwd);
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

let tmpSeq = 0;

export class TransformCache {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly root: string;
  private readonly madeDirs = new Set<string>();
  private writtenSinceSweep = 0;
  /** isTrusted()'s answer, once known. */
  private trust: boolean | null = null;
  private swept = false;
  /** Write or sweep errors (a read-only or full disk): the cache then just misses. */
  errors = 0;

  constructor(opts: CacheOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes;
    this.root = join(this.dir, `v${CACHE_SCHEMA}`);
  }

  // One flat directory: a cold cache then costs one mkdir, not one per
  // fan-out subdirectory (metadata operations dominate a cold run), and
  // ext4, xfs and APFS index large directories.
  private pathOf(key: string): string {
    return join(this.root, key);
  }

  /**
   * Whether the directory may be trusted with code this process will run:
   * a real directory (not a symlink), owned by this user, that no one else
   * can write to. Anything else (another user made /tmp/jsftrace-cache-<uid>
   * first, or opened it up) turns the cache off for this process, with one
   * warning: a planted entry would be code run as this user.
   */
  private isTrusted(): boolean {
    if (this.trust !== null) return this.trust;
    let why: string | null = null;
    for (const d of [this.dir, this.root]) {
      let st;
      try {
        st = lstatSync(d);
      } catch {
        continue; // not made yet: made 0700 by put()
      }
      const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
      if (!st.isDirectory()) why = `${d} is not a directory`;
      else if (uid >= 0 && st.uid !== uid) why = `${d} belongs to uid ${st.uid}, not ${uid}`;
      else if ((st.mode & 0o022) !== 0) why = `${d} can be written by others (mode ${(st.mode & 0o777).toString(8)})`;
      if (why !== null) break;
    }
    this.trust = why === null;
    if (why !== null) {
      process.emitWarning(`the transform cache is off for this process: ${why} (set JSFTRACE_CACHE_DIR to a directory of your own)`,
        { code: 'JSFTRACE_CACHE' });
    }
    return this.trust;
  }

  /**
   * `<dir>/<name>`, made 0700 if need be, for other caches of code this
   * process runs (Node's compile cache): null unless the directory and the
   * subdirectory are trusted as the entries are.
   */
  trustedSubdir(name: string): string | null {
    const sub = join(this.dir, name);
    try {
      mkdirSync(sub, { recursive: true, mode: 0o700 });
      const st = lstatSync(sub);
      const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
      if (!st.isDirectory() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o022) !== 0) return null;
    } catch {
      return null;
    }
    this.trust = null;
    return this.isTrusted() ? sub : null;
  }

  get(key: string): CacheEntry | null {
    if (!this.isTrusted()) return null;
    let fd: number;
    try {
      fd = openSync(this.pathOf(key), 'r');
    } catch {
      return null;
    }
    try {
      const st = fstatSync(fd);
      // Decoded straight into a string (Node reads and decodes UTF-8 in one
      // step): no Buffer of the whole entry beside it. The body is a slice
      // of it, and what is compiled.
      const text = readFileSync(fd, 'utf8');
      const nl = text.indexOf('\n');
      if (nl < 0) return null;
      const h = text.slice(0, nl).split(' ');
      if (h.length !== 6 || h[0] !== MAGIC || h[1] !== String(CACHE_SCHEMA) || h[2] !== key) return null;
      const status = h[3];
      if (status !== 'ok' && status !== 'failed') return null;
      const body = text.slice(nl + 1);
      if (body.length !== Number(h[5])) return null;
      if (Date.now() - st.mtimeMs > TOUCH_AFTER_MS) {
        try {
          const now = new Date();
          futimesSync(fd, now, now);
        } catch {
          // Refreshing recency is best effort (a read-only cache still serves).
        }
      }
      return { status, sites: Number(h[4]), body };
    } catch {
      return null;
    } finally {
      closeSync(fd);
    }
  }

  put(key: string, entry: CacheEntry): void {
    const file = this.pathOf(key);
    const sub = this.root;
    const text = `${MAGIC} ${CACHE_SCHEMA} ${key} ${entry.status} ${entry.sites} ${entry.body.length}\n${entry.body}`;
    const tmp = `${file}.${process.pid}.${threadId}.${++tmpSeq}.tmp`;
    try {
      if (!this.madeDirs.has(sub)) {
        mkdirSync(sub, { recursive: true, mode: 0o700 });
        this.madeDirs.add(sub);
        // Made now, or found: checked before anything is written into it.
        this.trust = null;
      }
      if (!this.isTrusted()) return;
      writeFileSync(tmp, text, { flag: 'wx', mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      this.errors++;
      try { unlinkSync(tmp); } catch { /* not created */ }
      return;
    }
    this.writtenSinceSweep += text.length;
    if (!this.swept || this.writtenSinceSweep >= this.maxBytes / 8) this.sweep();
  }

  private listEntries(): { path: string; size: number; mtime: number }[] {
    const out: { path: string; size: number; mtime: number }[] = [];
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return out;
    }
    const now = Date.now();
    for (const n of names) {
      const p = join(this.root, n);
      try {
        const st = statSync(p);
        if (n.endsWith('.tmp')) {
          // A writer that died between write and rename leaves one behind.
          if (now - st.mtimeMs > STALE_TMP_MS) unlinkSync(p);
          continue;
        }
        out.push({ path: p, size: st.size, mtime: st.mtimeMs });
      } catch {
        // Deleted by a concurrent sweep.
      }
    }
    return out;
  }

  /** Deletes the least recently used entries until the cache is within its bound. */
  sweep(): { removed: number; bytes: number } {
    this.swept = true;
    this.writtenSinceSweep = 0;
    let removed = 0;
    try {
      // Entries of other schema versions are never read again.
      for (const n of readdirSync(this.dir)) {
        if (/^v\d+$/.test(n) && n !== `v${CACHE_SCHEMA}`) rmSync(join(this.dir, n), { recursive: true, force: true });
      }
    } catch {
      // No directory yet.
    }
    const entries = this.listEntries();
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

  stats(): CacheStats {
    const entries = this.listEntries();
    let failedEntries = 0;
    for (const e of entries) {
      // The status is in the header's fourth field; read just the header.
      try {
        const fd = openSync(e.path, 'r');
        try {
          const buf = Buffer.alloc(200);
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

  /** Removes every entry (of every schema version) and the directory when it is left empty. */
  clear(): number {
    const before = this.listEntries().length;
    try {
      for (const n of readdirSync(this.dir)) {
        if (/^v\d+$/.test(n)) rmSync(join(this.dir, n), { recursive: true, force: true });
      }
      rmdirSync(this.dir);
    } catch {
      // Absent, or holds files that are not ours: leave them.
    }
    this.madeDirs.clear();
    return before;
  }
}
