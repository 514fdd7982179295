/**
 * Finding traced processes: the sockets `<pid>.sock` in the socket
 * directory.
 *
 * Owns: the mapping pid -> socket and the removal of stale sockets.
 * Invariant: a socket is removed only when its pid is dead (or, for
 * `removeStale`, when nothing listens on it), so a live server's socket is
 * never taken away; and only inside a directory that passed
 * checkSocketDir, so discovery never deletes in a place another user
 * controls.
 */

import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { JsftraceError } from '../shared/errors.js';
import { checkSocketDir, defaultSocketDir, socketPath } from './socket-dir.js';

export interface TracedProcess {
  pid: number;
  socket: string;
}

const SOCKET_NAME = /^([1-9]\d*)\.sock$/;

/** Whether `pid` names a live process (of any user: EPERM means it exists). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes a socket file, ignoring one already gone. */
export function removeStale(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * The sockets of live processes in `dir`, by pid, removing those of dead
 * ones. A directory that does not exist holds no process; one that fails
 * the checks throws EACCES.
 */
export function listTraced(dir: string = defaultSocketDir()): TracedProcess[] {
  try {
    checkSocketDir(dir);
  } catch (e) {
    if (e instanceof JsftraceError && e.code === 'ENOENT') return [];
    throw e;
  }
  const found: TracedProcess[] = [];
  for (const name of readdirSync(dir)) {
    const m = SOCKET_NAME.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    const path = socketPath(dir, pid);
    let isSocket = false;
    try {
      isSocket = lstatSync(path).isSocket();
    } catch {
      continue; // gone since readdir
    }
    if (!isSocket) continue;
    if (isAlive(pid)) found.push({ pid, socket: path });
    else removeStale(path);
  }
  return found.sort((a, b) => a.pid - b.pid);
}
