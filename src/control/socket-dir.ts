/**
 * Where control sockets live, and whether that place is safe to use.
 *
 * Owns: the socket directory's location and its checks, for the server
 * (which creates it) and the client (which only checks it). Invariant
 * (G8): a socket is made or opened only in a directory that is a real
 * directory (not a symlink), owned by this uid, with mode 0700. Only its
 * owner can then reach the sockets in it, whatever mode a socket has
 * between listen() and chmod().
 */

import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fail } from '../shared/errors.js';

/** sun_path holds 108 bytes on Linux (104 on macOS), NUL included. */
const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103;

function uid(): number {
  if (typeof process.getuid !== 'function') fail('ENODEV', 'control sockets need a POSIX system (no process.getuid here)');
  return process.getuid();
}

/** `$JSFTRACE_SOCKET_DIR`, else `$XDG_RUNTIME_DIR/jsftrace`, else `<tmpdir>/jsftrace-<uid>`. */
export function defaultSocketDir(env: NodeJS.ProcessEnv = process.env): string {
  const own = env['JSFTRACE_SOCKET_DIR'];
  if (own !== undefined && own !== '') return resolve(own);
  const xdg = env['XDG_RUNTIME_DIR'];
  if (xdg !== undefined && xdg !== '') return join(resolve(xdg), 'jsftrace');
  return join(tmpdir(), `jsftrace-${uid()}`);
}

export function socketPath(dir: string, pid: number): string {
  return join(dir, `${pid}.sock`);
}

const octal = (mode: number): string => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

/**
 * Throws EACCES unless `dir` is a directory owned by this uid with mode
 * 0700, ENOENT if it does not exist.
 */
export function checkSocketDir(dir: string): void {
  const me = uid();
  let st;
  try {
    st = lstatSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') fail('ENOENT', `socket directory ${dir} does not exist`);
    fail('EACCES', `socket directory ${dir}: ${(e as Error).message}`);
  }
  if (st.isSymbolicLink()) fail('EACCES', `socket directory ${dir} is a symbolic link; refusing it (it must be a private directory)`);
  if (!st.isDirectory()) fail('EACCES', `socket directory ${dir} is not a directory`);
  if (st.uid !== me) fail('EACCES', `socket directory ${dir} belongs to uid ${st.uid}, not to this user (uid ${me})`);
  if ((st.mode & 0o777) !== 0o700) {
    fail('EACCES', `socket directory ${dir} has mode ${octal(st.mode)}, not 0700; refusing it (chmod 700 it or remove it)`);
  }
}

/**
 * Creates `dir` with mode 0700 if it is missing (its parents too), then
 * checks it. A directory that exists is never repaired: one with a wrong
 * owner or mode may have been prepared by someone else.
 */
export function ensureSocketDir(dir: string): void {
  uid();
  let created: string | undefined;
  try {
    created = mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    fail('EACCES', `cannot create socket directory ${dir}: ${(e as Error).message}`);
  }
  // The umask may have taken bits off; it can never add any, so this only widens to exactly 0700.
  if (created !== undefined) chmodSync(dir, 0o700);
  checkSocketDir(dir);
}

/** Refuses a socket path the kernel would truncate. */
export function checkSocketPathLength(path: string): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    fail('EINVAL', `socket path ${path} is longer than ${MAX_SOCKET_PATH} bytes; set JSFTRACE_SOCKET_DIR to a shorter directory`);
  }
}
