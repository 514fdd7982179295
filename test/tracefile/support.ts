// Shared by the trace-file tests: recording a program in this process (a
// Collector on a private socket, the program started with
// JSFTRACE_RECORD pointing at it), reading the file back, and rendering it
// in a format to a string.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Collector } from '../../src/recorder/collector.js';
import { fileHeader } from '../../src/tracefile/encode.js';
import { TraceFile } from '../../src/tracefile/read.js';
import { renderFile, type RenderOptions, type ReportFormat } from '../../src/tracefile/report.js';
import { ReplacingFile } from '../../src/tracefile/replace.js';

export const register = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
const registerCjs = fileURLToPath(new URL('../../src/public/register.cjs', import.meta.url));
export const tracerFixtures = fileURLToPath(new URL('../../../test/fixtures/tracers/', import.meta.url));
export const fixtures = fileURLToPath(new URL('../../../test/fixtures/tracefile/', import.meta.url));
const fixturesRoot = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

/** A scratch directory, removed by done(). */
export function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'jsftrace-tf-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The environment of a recorded program: no inherited jsftrace settings, no control server. */
export function programEnv(dir: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('JSFTRACE_') && !k.startsWith('NODE_TEST') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, JSFTRACE_CACHE_DIR: join(dir, 'cache'), JSFTRACE_CONTROL: '0', ...extra };
}

export interface Recording {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  collector: Collector;
  file: string;
}

export interface RecordProgram {
  args: string[];
  cwd: string;
  /** JSFTRACE_CONTROL_INIT, as a list of writes. */
  init: [string, string, string][];
  out: string;
  env?: Record<string, string | undefined>;
  /** JSFTRACE_RECORD's other settings. */
  record?: { flight?: boolean; waitMs?: number };
  maxBytes?: number;
  /** Called with the child once it prints `line` (then the test may signal it). */
  onLine?: { line: RegExp; then: (pid: number) => void };
  timeoutMs?: number;
}

/** Records `node --require register <args>` (as `jsftrace record` starts it) into `out` through a Collector in this process. */
export async function recordProgram(o: RecordProgram): Promise<Recording> {
  const file = ReplacingFile.create(o.out);
  file.write(fileHeader());
  const collector = await Collector.start(file, o.maxBytes === undefined ? {} : { maxBytes: o.maxBytes });
  try {
    // A program run from the repository's fixtures keeps its transform cache out of the repository.
    const env = programEnv(o.cwd.startsWith(fixturesRoot) ? tmpdir() : o.cwd, {
      JSFTRACE_CONTROL_INIT: JSON.stringify(o.init),
      JSFTRACE_RECORD: JSON.stringify({ socket: collector.socket, ...o.record }),
      ...o.env,
    });
    const child = spawn(process.execPath, ['--require', registerCjs, ...o.args], { cwd: o.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let fired = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!fired && o.onLine !== undefined && o.onLine.line.test(stdout)) {
        fired = true;
        o.onLine.then(child.pid!);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('close', (c, s) => resolve({ code: c, signal: s }));
    });
    clearTimeout(timer);
    await collector.idle();
    await collector.close();
    file.commit();
    return { code, signal, stdout, stderr, collector, file: o.out };
  } catch (e) {
    file.abandon();
    await collector.close();
    throw e;
  }
}

/** `path` rendered as `format`, as a string (binary formats as latin1). */
export function render(path: string, format: ReportFormat, opts: RenderOptions = {}): string {
  const t = TraceFile.open(path);
  try {
    let out = '';
    renderFile(t, format, { write: (d) => { out += typeof d === 'string' ? d : Buffer.from(d).toString('latin1'); } }, opts);
    return out;
  } finally {
    t.close();
  }
}

/** The bytes of `path` rendered as `format`. */
export function renderBytes(path: string, format: ReportFormat): Buffer {
  const t = TraceFile.open(path);
  try {
    const parts: Buffer[] = [];
    renderFile(t, format, { write: (d) => { parts.push(typeof d === 'string' ? Buffer.from(d, 'utf8') : Buffer.from(d)); } });
    return Buffer.concat(parts);
  } finally {
    t.close();
  }
}

/** A seeded generator (mulberry32): the same seed, the same cases. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
