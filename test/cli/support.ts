// Helpers for the CLI tests: run the built `jsftrace` (and traced
// programs) as child processes with a clean environment, a private socket
// directory and a bound on their time; wait for a line of a long-running
// one; stop everything that was started.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const mainJs = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const registerJs = new URL('../../src/public/register.js', import.meta.url).href;

export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../../test/fixtures/cli/${name}`, import.meta.url));
}

/** The name a fixture's function has in traces: `<file from the package root>:<name>`. */
export function site(file: string, fn: string): string {
  return `test/fixtures/cli/${file}:${fn}`;
}

/** A fresh directory (`dir`) with a socket directory path inside it (`sockets`, not made yet); removed by done(). */
export function tempDir(prefix = 'jsftrace-cli-'): { dir: string; sockets: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, sockets: join(dir, 'sockets'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** This environment without jsftrace's variables, NODE_OPTIONS or the test runner's, plus `extra` (undefined removes). */
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
  timeoutMs?: number;
}

/** Runs `file args` to its end (killed after timeoutMs). */
export function run(file: string, args: string[], opts: RunOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd, env: opts.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.gid ?? opts.uid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Everyone may read the tree (and walk its directories). */
function chmodTree(path: string): void {
  chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chmodTree(join(path, e));
}

/**
 * A copy of the built client under `dir` that another user can run; its
 * main.js. The checkout may sit where another user cannot read (a clone in
 * a 0700 temporary directory); the CLI reaches a process, and refuses an
 * attach, through src/ alone, no dependency.
 */
export function readableClient(dir: string): string {
  const copy = join(dir, 'client');
  cpSync(join(dirname(mainJs), '..', '..', '..', 'package.json'), join(copy, 'package.json'));
  cpSync(join(dirname(mainJs), '..'), join(copy, 'dist', 'src'), { recursive: true });
  chmodTree(copy);
  return join(copy, 'dist', 'src', 'cli', 'main.js');
}

/** Runs the jsftrace CLI. */
export function jsftrace(args: string[], opts: RunOptions = {}): Promise<Run> {
  return run(process.execPath, [mainJs, ...args], opts);
}

/** A long-running child: its output so far, a wait for a line, and a stop that always ends it. */
export class Running {
  stdout = '';
  stderr = '';
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: (() => void)[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(file: string, args: string[], opts: RunOptions = {}) {
    this.child = spawn(file, args, { cwd: opts.cwd, env: opts.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
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

  /** Resolves with the first match of `re` in stdout; rejects if the process ends first. */
  async waitFor(re: RegExp): Promise<RegExpExecArray> {
    let ended = false;
    void this.exited.then(() => { ended = true; });
    for (;;) {
      const m = re.exec(this.stdout);
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
