/**
 * Where the transform cache lives, and whether a directory may hold it.
 *
 * Owns: the choice of the cache directory and the trust check of a path.
 * The cache holds code this process will run, so another user must not be
 * able to put a file there or swap a directory on the way to it. Invariants:
 * - the default is a directory of the user's own: `$XDG_CACHE_HOME/jsftrace`
 *   (when XDG_CACHE_HOME is an absolute path, as the XDG spec requires),
 *   else `~/.cache/jsftrace`, else (no usable home: HOME unset, not ours)
 *   `<tmpdir>/jsftrace-cache-<uid>`; never a directory found from the cwd
 *   (a `node_modules` above it may belong to anyone);
 * - a path is trusted when every directory on its real path (symlinks
 *   resolved, then each component checked with lstat) belongs to root or to
 *   this user and cannot be written by anyone else, except that a
 *   sticky-bit directory (as /tmp) may be on the way, since its entries can
 *   be moved only by their owners; the cache directory itself must be this
 *   user's and writable by no one else. Missing directories are made 0700,
 *   one at a time, each in a parent already checked;
 * - the cache is used through the real path found here, so a symlink
 *   swapped later changes nothing.
 * On a system without uids (Windows) there is no owner to check: the path
 * is used as given, and the entries' authentication tag (cache.ts) still
 * refuses planted files.
 */

const {
  accessSync, closeSync, constants, fstatSync, linkSync, lstatSync, mkdirSync, openSync, readSync, realpathSync, unlinkSync, writeSync,
} = require('node:fs') as typeof import('node:fs');
const { homedir, tmpdir } = require('node:os') as typeof import('node:os');
const { dirname, isAbsolute, join, parse, resolve, sep } = require('node:path') as typeof import('node:path');

const uid = typeof process.getuid === 'function' ? process.getuid() : -1;

/** The default directories, most preferred first. */
function defaultCacheDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg !== undefined && isAbsolute(xdg)) out.push(join(xdg, 'jsftrace'));
  let home = '';
  try {
    home = homedir();
  } catch {
    // no home directory: the temporary directory below
  }
  if (home !== '' && isAbsolute(home)) out.push(join(home, '.cache', 'jsftrace'));
  out.push(join(tmpdir(), `jsftrace-cache-${uid >= 0 ? uid : 'user'}`));
  return out;
}

/** Why directory `p` (a real path) may not be on the way to the cache, or null. */
function stepProblem(p: string, last: boolean): string | null {
  const st = lstatSync(p);
  if (!st.isDirectory()) return `${p} is not a directory`;
  if (uid < 0) return null;
  if (last) {
    if (st.uid !== uid) return `${p} belongs to uid ${st.uid}, not ${uid}`;
    if ((st.mode & 0o022) !== 0) return `${p} can be written by others (mode ${(st.mode & 0o7777).toString(8)})`;
    return null;
  }
  if (st.uid !== uid && st.uid !== 0) return `${p} belongs to uid ${st.uid}, who could replace what is below it`;
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) {
    return `${p} can be written by others without the sticky bit (mode ${(st.mode & 0o7777).toString(8)})`;
  }
  return null;
}

/** Every directory from the root to `real`, root first. */
function components(real: string): string[] {
  const root = parse(real).root;
  const parts = real.slice(root.length).split(sep).filter((x) => x !== '');
  const out = [root];
  let p = root;
  for (const x of parts) {
    p = join(p, x);
    out.push(p);
  }
  return out;
}

/** The existing part of `dir` (as a real path) and the names still to make below it. */
function existing(dir: string): { real: string; missing: string[] } {
  const missing: string[] = [];
  let d = resolve(dir);
  for (;;) {
    try {
      return { real: realpathSync(d), missing };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      const up = dirname(d);
      if (up === d) throw e;
      missing.unshift(d.slice(up.length).replace(/^[\\/]+/, ''));
      d = up;
    }
  }
}

/** The first problem on the existing part of a path (`real`, the cache itself when nothing is missing). */
function existingProblem(real: string, complete: boolean): string | null {
  const steps = components(real);
  for (let i = 0; i < steps.length; i++) {
    const why = stepProblem(steps[i]!, complete && i === steps.length - 1);
    if (why !== null) return why;
  }
  return null;
}

/** Why `dir` cannot be the cache (checking what exists, making nothing), or null. */
function cacheDirProblem(dir: string): string | null {
  try {
    const { real, missing } = existing(dir);
    const why = existingProblem(real, missing.length === 0);
    if (why !== null) return why;
    if (missing.length > 0) accessSync(real, constants.W_OK);
    return null;
  } catch (e) {
    return `${dir}: ${(e as Error).message}`;
  }
}

/**
 * The directory a program started with `env` uses: JSFTRACE_CACHE_DIR
 * (relative to `cwd`) when set, else the first default that is trusted or
 * can be made in a trusted parent (the last one otherwise, which then
 * fails its check and turns the cache off with a warning).
 */
function chooseCacheDir(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const explicit = env['JSFTRACE_CACHE_DIR'];
  if (explicit !== undefined && explicit !== '') return resolve(cwd, explicit);
  const dirs = defaultCacheDirs(env);
  return dirs.find((d) => cacheDirProblem(d) === null) ?? dirs[dirs.length - 1]!;
}

/**
 * Makes `dir` (missing directories 0700, each in a checked parent) and
 * checks every component of its real path. Returns the real path, or why
 * it may not hold the cache.
 */
function prepareCacheDir(dir: string): { real: string } | { problem: string } {
  try {
    const { real, missing } = existing(dir);
    const why = existingProblem(real, missing.length === 0);
    if (why !== null) return { problem: why };
    let p = real;
    for (let k = 0; k < missing.length; k++) {
      p = join(p, missing[k]!);
      try {
        mkdirSync(p, { mode: 0o700 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      // Made now or by someone meanwhile: checked like any other step.
      const why = stepProblem(p, k === missing.length - 1);
      if (why !== null) return { problem: why };
    }
    return { real: p };
  } catch (e) {
    return { problem: `${dir}: ${(e as Error).message}` };
  }
}

/** The version of the cache's entry format: entries live in `v<CACHE_SCHEMA>/` (instrument/cache.ts). */
const CACHE_SCHEMA = 2;
/** The subdirectory of the cache that holds Node's compile cache (module.enableCompileCache). */
const COMPILE_CACHE_SUBDIR = 'v8';

/**
 * Whether jsftrace turns Node's compile cache on (module.enableCompileCache,
 * Node 22.1 and later) in a process started with `env`: not with the
 * transform cache off (JSFTRACE_CACHE=0), with JSFTRACE_COMPILE_CACHE=0, or
 * where the program's environment decides it (NODE_COMPILE_CACHE,
 * NODE_DISABLE_COMPILE_CACHE).
 */
function compileCacheWanted(env: NodeJS.ProcessEnv): boolean {
  const on = env['JSFTRACE_CACHE'];
  if (on === '0' || on === 'false' || on === 'off' || env['JSFTRACE_COMPILE_CACHE'] === '0') return false;
  return env['NODE_COMPILE_CACHE'] === undefined && env['NODE_DISABLE_COMPILE_CACHE'] === undefined;
}

/**
 * The directory for Node's compile cache in a process started with `env`
 * in `cwd`: the subdirectory of the cache directory, made and checked; null
 * where compileCacheWanted says no or a directory fails its check, the
 * entries' own included (the transform cache is then off). What this does
 * not check is the transform cache's key (instrument/cache.ts): a key that
 * cannot be read turns that cache off, not Node's, whose entries Node
 * checks against the source it compiles.
 */
function compileCacheDir(env: NodeJS.ProcessEnv, cwd: string): string | null {
  if (!compileCacheWanted(env)) return null;
  const top = prepareCacheDir(chooseCacheDir(env, cwd));
  if (!('real' in top) || !('real' in prepareCacheDir(join(top.real, `v${CACHE_SCHEMA}`)))) return null;
  const sub = prepareCacheDir(join(top.real, COMPILE_CACHE_SUBDIR));
  return 'real' in sub ? sub.real : null;
}

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
/** The largest file ownFileOnce reads. */
const OWN_FILE_MAX = 4096;

/** The first `size` bytes of open file `fd` (fewer when it is shorter). */
function readWhole(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return off === size ? buf : buf.subarray(0, off);
}

/** Writes all of `data` to open file `fd`. */
function writeWhole(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/** `file`'s bytes: a regular file of this user's that no one else can read or write; 'absent', or why not. */
function readOwnFile(file: string): Buffer | 'absent' | string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | O_NOFOLLOW);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : `${file}: ${(e as Error).message}`;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || (uid >= 0 && st.uid !== uid)) return `${file} is not a file this user made`;
    if (uid >= 0 && (st.mode & 0o077) !== 0) return `${file} can be read or written by others (mode ${(st.mode & 0o777).toString(8)})`;
    if (st.size > OWN_FILE_MAX) return `${file} is too large (${st.size} bytes)`;
    return readWhole(fd, st.size);
  } catch (e) {
    return `${file}: ${(e as Error).message}`;
  } finally {
    closeSync(fd);
  }
}

/**
 * The bytes of `<dir>/<name>`, a small file (0600) made once by whichever
 * process of this user's comes first: read when it is there, else made
 * whole under a temporary name no one can guess and linked in, which fails
 * if another process made it meanwhile (that one is then read), so
 * processes that start together agree. `dir` is a checked cache directory
 * (prepareCacheDir). Returns why not when the file there is not one this
 * user made, or `valid` refuses its bytes.
 */
function ownFileOnce(dir: string, name: string, make: () => Buffer, valid: (b: Buffer) => string | null): { bytes: Buffer } | { problem: string } {
  const file = join(dir, name);
  for (let attempt = 0; attempt < 2; attempt++) {
    const got = readOwnFile(file);
    if (typeof got === 'string' && got !== 'absent') return { problem: got };
    if (typeof got !== 'string') {
      const why = valid(got);
      return why === null ? { bytes: got } : { problem: `${file} ${why}` };
    }
    // node:crypto only here: a start that finds the file does not load it.
    const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
    const tmp = `${file}.${randomBytes(12).toString('hex')}.tmp`;
    try {
      const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o600);
      try {
        writeWhole(fd, make());
      } finally {
        closeSync(fd);
      }
      linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return { problem: `cannot make ${file}: ${(e as Error).message}` };
    } finally {
      try { unlinkSync(tmp); } catch { /* gone, or never made */ }
    }
  }
  return { problem: `${file} could not be read after it was made` };
}

module.exports = {
  CACHE_SCHEMA, COMPILE_CACHE_SUBDIR, cacheDirProblem, chooseCacheDir, compileCacheDir, compileCacheWanted, defaultCacheDirs, ownFileOnce, prepareCacheDir,
  readWhole, writeWhole,
};

/** What the modules that require this one get. */
export interface CacheDirs {
  CACHE_SCHEMA: number;
  COMPILE_CACHE_SUBDIR: string;
  cacheDirProblem: typeof cacheDirProblem;
  chooseCacheDir: typeof chooseCacheDir;
  compileCacheDir: typeof compileCacheDir;
  compileCacheWanted: typeof compileCacheWanted;
  defaultCacheDirs: typeof defaultCacheDirs;
  ownFileOnce: typeof ownFileOnce;
  prepareCacheDir: typeof prepareCacheDir;
  readWhole: typeof readWhole;
  writeWhole: typeof writeWhole;
}
