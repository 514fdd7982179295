/**
 * The working directory jsftrace resolves its own paths against (the
 * configuration file's search, a relative JSFTRACE_CACHE_DIR, the program's
 * root, a trace's metadata).
 *
 * Owns: the answer where there is none. Invariant: never throws. Node's
 * `process.cwd()` throws once the directory has been removed, and a program
 * started there by an absolute path runs on without one (and a worker it
 * starts gets an empty string for one); so must the
 * program with jsftrace. Then the shell's PWD stands in (when absolute),
 * else the root: paths resolved against it name nothing that exists, so
 * no configuration file is found and a relative cache directory fails its
 * check (the cache is then off, with its warning).
 */

import { isAbsolute, parse } from 'node:path';

/** Whether the process's working directory has been removed (`process.cwd()` throws). */
export function workingDirRemoved(): boolean {
  try {
    // A worker's process.cwd() gives '' where the main thread's throws.
    return process.cwd() === '';
  } catch {
    return true;
  }
}

export function workingDir(): string {
  try {
    const cwd = process.cwd();
    if (cwd !== '') return cwd;
  } catch {
    // removed: the stand-in below
  }
  const pwd = process.env['PWD'];
  return pwd !== undefined && isAbsolute(pwd) ? pwd : parse(process.execPath).root;
}
