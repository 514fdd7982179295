// Child processes for the tests, in one place: run a command to its end with
// its output collected and a bound on its time, keep a long-running one and
// wait for its lines, give it an environment free of the test runner's and
// of jsftrace's own variables, and hand another user a Node binary it can run.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants, copyFileSync, chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A fresh directory, removed by done(). */
export function scratchDir(prefix: string): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A scratch directory holding `files` (name: text), and how to run a
 * program there plain and instrumented: a clean environment whose
 * transform cache lives in the directory (on, cold for the first run).
 */
export function scratchProgram(prefix: string, files: Record<string, string>): {
  dir: string; env: Record<string, string>; opts: { cwd: string; env: Record<string, string>; timeoutMs: number }; done: () => void;
} {
  const w = scratchDir(prefix);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(w.dir, name), text);
  const env = cleanEnv({ JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(w.dir, 'cache') });
  return { dir: w.dir, env, opts: { cwd: w.dir, env, timeoutMs: 60_000 }, done: w.done };
}

/**
 * This environment without jsftrace's variables, NODE_OPTIONS, NO_COLOR or
 * the test runner's, with the disk cache off, plus `extra` (undefined
 * removes a variable).
 */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('JSFTRACE_') && k !== 'NODE_OPTIONS' && !k.startsWith('NODE_TEST') && k !== 'NO_COLOR') env[k] = v;
  }
  env['JSFTRACE_CACHE'] = '0';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  uid?: number;
  gid?: number;
  /** Killed with SIGKILL after this long (default 30 s). */
  timeoutMs?: number;
  /** Written to its stdin, which is then closed (default: no stdin). */
  input?: string;
}

/** Runs `file args` to its end. */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd, env: opts.env ?? cleanEnv(), stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.gid ?? opts.uid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A long-running child: its output so far, a wait for a line, and a stop that always ends it. */
export class Running {
  stdout = '';
  stderr = '';
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: (() => void)[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(file: string, args: readonly string[], opts: RunOptions = {}) {
    this.child = spawn(file, args, {
      cwd: opts.cwd, env: opts.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.gid ?? opts.uid }),
    });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => { this.stdout += d; this.wake(); });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => { this.stderr += d; this.wake(); });
    // The bound on its life: a test that hangs ends, it does not leave a process behind.
    this.timer = setTimeout(() => this.child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        clearTimeout(this.timer);
        this.wake();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves with the first match of `re` in stdout (or stderr); rejects if the process ends first. */
  async waitFor(re: RegExp, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpExecArray> {
    let ended = false;
    void this.exited.then(() => { ended = true; });
    for (;;) {
      const m = re.exec(this[stream]);
      if (m !== null) return m;
      if (ended || this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`process ended before ${re}: stdout ${JSON.stringify(this.stdout)} stderr ${JSON.stringify(this.stderr)}`);
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Sends `signal` (default SIGTERM) unless it has ended, and waits for its end. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Whether every directory above `path` can be walked, and `path` read and run, by anyone. */
function openToEveryone(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.X_OK);
    if ((statSync(path).mode & 0o005) !== 0o005) return false;
    for (let d = dirname(path); ; d = dirname(d)) {
      if ((statSync(d).mode & 0o001) === 0) return false;
      if (dirname(d) === d) return true;
    }
  } catch {
    return false;
  }
}

/**
 * A Node binary of this test's line that another user can run: this one
 * when its path is open to everyone, else a copy in `dir` (which must be
 * open to everyone). Binaries of other Node lines often sit in a private
 * cache directory.
 */
export function nodeForOtherUsers(dir: string): string {
  if (openToEveryone(process.execPath)) return process.execPath;
  const copy = join(dir, 'node');
  copyFileSync(process.execPath, copy);
  chmodSync(copy, 0o755);
  return copy;
}
