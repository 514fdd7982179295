/**
 * What /proc says about a process that jsftrace may attach to: its owner,
 * its executable and command line, whether it catches SIGUSR1, the inspector
 * options it was started with, and the TCP ports it listens on.
 *
 * Owns: the reading of /proc/<pid>/{status,stat,exe,cmdline,environ,fd,net}.
 * Invariant: nothing here changes the process; a file that cannot be read
 * (another user's, or the process ended) gives `null` or an empty answer,
 * never a guess, so the decision to send a signal rests on facts only.
 */

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

const SIGUSR1 = 10;
/** The kernel's clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

export interface ProcessFacts {
  pid: number;
  /** The real uid that owns it. */
  uid: number;
  /** Path of its executable ('' when it cannot be read: another user's). */
  exe: string;
  argv: string[];
  /** Whether it has a handler for SIGUSR1 (Node installs one to open its inspector). */
  catchesUsr1: boolean;
  /** Milliseconds since the epoch at which it started. */
  startTime: number;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function bootTimeMs(): number {
  const m = /^btime (\d+)$/m.exec(read('/proc/stat') ?? '');
  return m === null ? 0 : Number(m[1]) * 1000;
}

/** The facts about `pid`, or null when /proc has no such process. */
export function processFacts(pid: number): ProcessFacts | null {
  const status = read(`/proc/${pid}/status`);
  if (status === null) return null;
  const uid = /^Uid:\s+(\d+)/m.exec(status);
  const cgt = /^SigCgt:\s+([0-9a-f]+)/m.exec(status);
  let exe = '';
  try {
    exe = readlinkSync(`/proc/${pid}/exe`);
  } catch {
    // another user's process: its executable is not ours to read
  }
  const argv = (read(`/proc/${pid}/cmdline`) ?? '').split('\0');
  if (argv[argv.length - 1] === '') argv.pop();
  // starttime is field 22; the command name (field 2) may hold spaces and parentheses.
  const stat = read(`/proc/${pid}/stat`) ?? '';
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19] ?? 0);
  return {
    pid,
    uid: uid === null ? -1 : Number(uid[1]),
    exe,
    argv,
    catchesUsr1: cgt !== null && (BigInt(`0x${cgt[1]}`) & (1n << BigInt(SIGUSR1 - 1))) !== 0n,
    startTime: bootTimeMs() + (ticks * 1000) / USER_HZ,
  };
}

/** Whether an executable path names a Node.js binary (node, nodejs, node20, ...). */
export function isNodeExecutable(exe: string): boolean {
  return /^node(js)?[0-9.]*$/.test(basename(exe.replace(/ \(deleted\)$/, '')));
}

/** The inspector options a process was started with, from its command line and NODE_OPTIONS (null when its environment is not readable). */
export function inspectorOptions(f: ProcessFacts): string[] {
  const words = [...nodeArgs(f.argv)];
  const env = read(`/proc/${f.pid}/environ`);
  const opts = env?.split('\0').find((e) => e.startsWith('NODE_OPTIONS='));
  if (opts !== undefined) words.push(...opts.slice('NODE_OPTIONS='.length).split(/\s+/));
  return words.filter((w) => /^--(inspect|debug|disable-sigusr1|permission|experimental-permission)/.test(w));
}

/** The options before the script in a node command line. */
function nodeArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (const a of argv.slice(1)) {
    if (!a.startsWith('-')) break;
    out.push(a);
  }
  return out;
}

/** The inodes of the sockets `pid` holds open. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m !== null) out.add(m[1]!);
    } catch {
      // closed since readdir
    }
  }
  return out;
}

export interface Listener {
  /** 127.0.0.1, ::1, 0.0.0.0, ... */
  host: string;
  port: number;
}

function hostOf(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  if (hex === '00000000000000000000000001000000') return '::1';
  if (/^0+$/.test(hex)) return '::';
  return hex;
}

/** The TCP sockets `pid` listens on (in its own network namespace). */
export function listeners(pid: number): Listener[] {
  const inodes = socketInodes(pid);
  const out: Listener[] = [];
  for (const table of ['tcp', 'tcp6']) {
    const text = read(`/proc/${pid}/net/${table}`) ?? '';
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      // local_address, rem_address, st (0A: LISTEN), ..., inode (column 10)
      if (c.length < 10 || c[3] !== '0A' || !inodes.has(c[9]!)) continue;
      const [addr, port] = c[1]!.split(':');
      out.push({ host: hostOf(addr!), port: parseInt(port!, 16) });
    }
  }
  return out;
}

/** The Node.js processes of `uid` (every user's for root), by pid. */
export function nodeProcesses(uid: number): ProcessFacts[] {
  const out: ProcessFacts[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[1-9][0-9]*$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const f = processFacts(pid);
    if (f === null || (uid !== 0 && f.uid !== uid) || !isNodeExecutable(f.exe)) continue;
    out.push(f);
  }
  return out.sort((a, b) => a.pid - b.pid);
}
