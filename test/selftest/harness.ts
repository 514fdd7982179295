// The selftests' harness, in the style of the kernel's
// tools/testing/selftests/ftrace: each case drives jsftrace only through its
// control files, and runs twice, against the same program
// (test/fixtures/selftest/driver.mjs):
// - in-process: this process imports jsftrace/register at run time (its
//   control server off), then the program, and the case gets
//   controlSurface();
// - over the socket: a child process runs the program under
//   `node --import register.js` with a private JSFTRACE_SOCKET_DIR, takes
//   `call` commands on stdin, and the case gets a client connected by pid.
// Only lib.mjs has sites (JSFTRACE_INCLUDE), so every event in a trace is a
// call the case made. In-process state is global: every case starts with
// reset(), which writes the files back to the values they had at start.

import { describe, test, before, after } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlSurface } from '../../src/control/surface.js';

const REGISTER = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
const FIXTURES = new URL('../../../test/fixtures/selftest/', import.meta.url);
const MAIN = fileURLToPath(new URL('main.mjs', FIXTURES));
const DRIVER = new URL('driver.mjs', FIXTURES).href;

/**
 * After a worker's answer, one more turn of this thread's event loop: the
 * worker answers once its events are published (worker.mjs), but the
 * announcement of its ring, made on another channel, may still be queued here.
 */
export const WORKER_SETTLE_MS = 50;
/** Bound on every wait for the child. */
const CHILD_MS = 15_000;

export type Thread = 'main' | 'worker';

/** The program under test: lib.mjs's functions, called by name in its main thread or its one worker. */
export interface Prog {
  /** Calls lib.mjs's `name` n times (arguments 1..n; two-argument functions get (i, 2)); the last value as text. */
  call(name: string, n?: number, thread?: Thread): Promise<string>;
  /** The threadId of the worker (the main thread's is 0): the per_thread/<id> and set_ftrace_pid id. */
  readonly workerThreadId: number;
  /** The program's process id. */
  readonly pid: number;
}

export type Case = (fs: ControlSurface, prog: Prog) => Promise<void>;

interface Transport {
  fs: ControlSurface;
  prog: Prog;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface DriverProgram {
  workerThreadId: number;
  call(name: string, n: number, thread: Thread): Promise<unknown>;
  stop(): Promise<void>;
}

let inProcessStarted = false;

async function startInProcess(): Promise<Transport> {
  if (inProcessStarted) throw new Error('the in-process program runs once per test file');
  inProcessStarted = true;
  process.env['JSFTRACE_CONTROL'] = '0';
  process.env['JSFTRACE_INCLUDE'] = 'lib.mjs';
  await import(new URL('../../src/public/register.js', import.meta.url).href);
  const { controlSurface } = await import('../../src/public/control.js');
  const driver = (await import(DRIVER)) as { startProgram(): Promise<DriverProgram> };
  const p = await driver.startProgram();
  const prog: Prog = {
    workerThreadId: p.workerThreadId,
    pid: process.pid,
    async call(name, n = 1, thread = 'main') {
      const v = String(await p.call(name, n, thread));
      if (thread === 'worker') await sleep(WORKER_SETTLE_MS);
      return v;
    },
  };
  return { fs: controlSurface(), prog, stop: () => p.stop() };
}

/** The child's stdout as lines, taken one at a time with a bound. */
class Lines {
  private buf = '';
  private lines: string[] = [];
  private waiters: (() => void)[] = [];
  private ended = false;

  constructor(child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
      }
      this.wake();
    });
    child.on('exit', () => { this.ended = true; this.wake(); });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async next(what: string): Promise<string> {
    const end = Date.now() + CHILD_MS;
    for (;;) {
      const l = this.lines.shift();
      if (l !== undefined) return l;
      if (this.ended) throw new Error(`selftest child ended while waiting for ${what}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`selftest child: no ${what} in ${CHILD_MS} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }
}

async function startChild(): Promise<Transport> {
  const { connect } = await import('../../src/control/client.js');
  const root = mkdtempSync(join(tmpdir(), 'jsftrace-selftest-'));
  const dir = join(root, 'sock');
  let stderr = '';
  const child = spawn(process.execPath, ['--import', REGISTER, MAIN], {
    env: { ...process.env, JSFTRACE_SOCKET_DIR: dir, JSFTRACE_INCLUDE: 'lib.mjs', JSFTRACE_CONTROL: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => { stderr += d; });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const kill = async (): Promise<void> => {
    child.stdin!.end();
    if (child.exitCode === null && child.signalCode === null) {
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const lines = new Lines(child);
    const ready = await lines.next('ready line');
    const m = /^ready (\d+)$/.exec(ready);
    if (m === null) throw new Error(`selftest child said ${JSON.stringify(ready)}`);
    const client = await connect(child.pid!, { dir, timeoutMs: CHILD_MS });
    let queue: Promise<unknown> = Promise.resolve();
    const prog: Prog = {
      workerThreadId: Number(m[1]),
      pid: child.pid!,
      call(name, n = 1, thread = 'main') {
        const run = async (): Promise<string> => {
          child.stdin!.write(`call ${name} ${n} ${thread}\n`);
          const answer = await lines.next(`answer to call ${name}`);
          if (!answer.startsWith('ok ')) throw new Error(`call ${name} ${n} ${thread}: ${answer}`);
          if (thread === 'worker') await sleep(WORKER_SETTLE_MS);
          return answer.slice(3);
        };
        const p = queue.then(run, run);
        queue = p.catch(() => undefined);
        return p;
      },
    };
    const fs: ControlSurface = {
      list: () => client.list(),
      read: (p) => client.read(p),
      stream: (p, onChunk, signal) => client.stream(p, onChunk, signal),
      write: (p, t) => client.write(p, t),
      append: (p, t) => client.append(p, t),
    };
    return {
      fs,
      prog,
      async stop() {
        await client.close().catch(() => undefined);
        await kill();
      },
    };
  } catch (e) {
    await kill();
    throw new Error(`${(e as Error).message}\nchild stderr:\n${stderr}`);
  }
}

/** The values a fresh process has, read once at start; reset() writes them back. */
interface Defaults {
  clock: string;
  bufferKb: string;
  options: [string, string][];
}

async function readDefaults(fs: ControlSurface): Promise<Defaults> {
  const opts: [string, string][] = [];
  for (const p of await fs.list()) if (p.startsWith('options/')) opts.push([p, (await fs.read(p)).trim()]);
  return { clock: currentClock(await fs.read('trace_clock')), bufferKb: (await fs.read('buffer_size_kb')).trim(), options: opts };
}

/** The [bracketed] clock of trace_clock's text. */
export function currentClock(text: string): string {
  const m = /\[([^\]]+)\]/.exec(text);
  if (m === null) throw new Error(`trace_clock has no current clock: ${JSON.stringify(text)}`);
  return m[1]!;
}

/** A probe line of set_ftrace_filter: `func:cmd:unlimited` or `func:cmd:count=N` (N may be -1: an empty count). */
export const PROBE_LINE = /^(.+):(traceon|traceoff|stacktrace|dump):(unlimited|count=-?\d+)$/;

/**
 * Writes every file back to its start value: probes removed as the kernel
 * selftests' reset_ftrace_filter removes them (`!func:cmd` for an
 * `unlimited` line, `!func:cmd:count=N` for a counted one),
 * current_tracer nop, profiler off, filters and pid lists empty, graph
 * limits 0, options, trace_clock and buffer_size_kb as at start, buffers and
 * error_log cleared, tracing_on 1.
 */
export async function reset(fs: ControlSurface, d: Defaults): Promise<void> {
  for (const line of (await fs.read('set_ftrace_filter')).split('\n')) {
    const m = PROBE_LINE.exec(line);
    if (m !== null) await fs.append('set_ftrace_filter', `!${m[1]!}:${m[2]!}${m[3] === 'unlimited' ? '' : `:${m[3]!}`}`);
  }
  await fs.write('current_tracer', 'nop');
  await fs.write('function_profile_enabled', '0');
  for (const f of ['set_ftrace_filter', 'set_ftrace_notrace', 'set_graph_function', 'set_graph_notrace', 'set_ftrace_pid', 'set_ftrace_notrace_pid']) {
    await fs.write(f, '');
  }
  await fs.write('max_graph_depth', '0');
  await fs.write('tracing_thresh', '0');
  await fs.write('events/enable', '0');
  for (const [p, v] of d.options) await fs.write(p, v);
  await fs.write('trace_clock', d.clock);
  await fs.write('buffer_size_kb', d.bufferKb);
  await fs.write('tracing_on', '1');
  await fs.write('trace', '');
  await fs.write('error_log', '');
}

const TRANSPORTS: [string, () => Promise<Transport>][] = [
  ['in-process', startInProcess],
  ['socket', startChild],
];

/** Defines the cases, each run in-process and over the socket, each after reset(). */
export function selftests(cases: Record<string, Case>): void {
  for (const [name, start] of TRANSPORTS) {
    describe(name, () => {
      let t: Transport | null = null;
      let defaults: Defaults | null = null;
      before(async () => {
        t = await start();
        defaults = await readDefaults(t.fs);
      });
      after(async () => {
        if (t === null) return;
        try {
          if (defaults !== null) await reset(t.fs, defaults);
        } finally {
          await t.stop();
        }
      });
      for (const [title, run] of Object.entries(cases)) {
        test(title, { timeout: 30_000 }, async () => {
          if (t === null || defaults === null) throw new Error(`${name}: the program did not start`);
          await reset(t.fs, defaults);
          await run(t.fs, t.prog);
        });
      }
    });
  }
}

// ---- reading traces --------------------------------------------------------

/** The lines of a trace that are not header comments. */
export function body(trace: string): string[] {
  return trace.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

const FUNCTION_LINE = /^ *(.+)-(\d+) +\[(\d+)\] (?:\.{5} )? *[0-9.]+: (.*)$/;

/**
 * The function tracer's event lines as `<thread>: <text>` (the context
 * columns and the timestamp dropped); ` => ` frame lines are kept as they are.
 */
export function events(trace: string): string[] {
  return body(trace).map((l) => {
    const m = FUNCTION_LINE.exec(l);
    return m === null ? l : `${m[3]!.replace(/^0+(?=\d)/, '')}: ${m[4]!}`;
  });
}

/** The function names of a function trace's `func <-parent` and `func` (no caller) lines. */
export function functionsOf(trace: string): string[] {
  return events(trace).filter((l) => /^\d+: [^\s<]\S*(?: <-.*)?$/.test(l) && !/^\d+: tracing_mark_write: /.test(l))
    .map((l) => l.replace(/^\d+: (\S+)(?: <-.*)?$/, '$1'));
}

/** function_graph lines without the CPU and duration columns (default options): the FUNCTION CALLS text. */
export function graphCalls(trace: string): string[] {
  return body(trace).filter((l) => !l.startsWith(' => ')).map((l) => l.replace(/^.*?\|  /, ''));
}

/** Expects `p` (a write) to be refused with the errno `code`. */
export async function refused(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    const c = (e as { code?: unknown }).code;
    if (c !== code) throw new Error(`refused with ${String(c)} (${(e as Error).message}), not ${code}`);
    return;
  }
  throw new Error(`not refused (expected ${code})`);
}
