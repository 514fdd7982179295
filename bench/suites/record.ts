/**
 * `npm run bench -- record`: streaming record and bounded-memory report.
 *
 * Owns: bench/results/record.json. Three parts, each process measured from
 * outside (wall time; peak RSS by GNU time's %M):
 * 0. Drain capacity: writer threads writing 16-byte events as fast as a
 *    ring takes them (counter clock, wait mode, the default 1408 KiB) and
 *    one reader thread doing what the drain does (consuming reads into
 *    PAGES chunks, written to a file; no socket): events/s moved with no
 *    loss, with 1 and 4 writers. What the program's tracer produces per
 *    thread is far below it (part 1).
 * 1. Drain: `jsftrace record` (defaults: the function tracer, wait mode)
 *    of test/fixtures/tracefile/many.mjs with 1 and with 4 worker threads,
 *    against the same program run plainly in the same run: events kept,
 *    events lost (must be 0), events/s recorded per thread and in all.
 * 2. Report at scale: a function_graph recording of the same program of at
 *    least 1 GiB, then `jsftrace report -o` in every format: seconds,
 *    events/s rendered, peak RSS (target: under 300 MB), output size.
 * 3. The newcomer scenario: eslint (bench/newcomer, pinned) on 40 files of
 *    this package under function_graph, recorded with the defaults and
 *    reported in every format, nothing lost.
 * `node dist/bench/suites/record.js newcomer` (or capacity, drain, big)
 * runs those parts alone and keeps the others' last results.
 */

import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, readFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { attachReader, createRing, READ_EMPTY } from '../../src/ring/index.js';
import { PagesBuilder } from '../../src/tracefile/encode.js';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchRoot, resultsDir, writeResults } from '../harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(benchRoot, '..');
const mainJs = join(here, '..', '..', 'src', 'cli', 'main.js');
const many = join(root, 'test', 'fixtures', 'tracefile', 'many.mjs');
const FORMATS = ['text', 'function_graph', 'perfetto', 'perfetto-json', 'folded', 'html', 'svg', 'stat'] as const;
const GiB = 2 ** 30;

interface Timed {
  seconds: number;
  rssMiB: number;
  stdout: string;
  stderr: string;
  status: number | null;
}

/** Runs a command under GNU time: wall seconds and peak RSS. */
function timed(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Timed {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', cmd, ...args], { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = /TIME ([\d.]+) (\d+)\s*$/.exec(r.stderr);
  if (m === null) throw new Error(`no timing from ${cmd} ${args.join(' ')}: ${r.stderr}`);
  return { seconds: Number(m[1]), rssMiB: Number(m[2]) / 1024, stdout: r.stdout, stderr: r.stderr.slice(0, m.index), status: r.status };
}

function env(dir: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('JSFTRACE_') && k !== 'NODE_OPTIONS') e[k] = v;
  return { ...e, JSFTRACE_SOCKET_DIR: join(dir, 'sockets') };
}

/** `recorded N events ...; L events lost` from record's summary. */
function summaryOf(stderr: string): { events: number; lost: number } {
  const m = /recorded (\d+) events/.exec(stderr);
  const l = /; (\d+) events? lost/.exec(stderr);
  if (m === null) throw new Error(`no summary: ${stderr}`);
  return { events: Number(m[1]), lost: l === null ? 0 : Number(l[1]) };
}

function drain(dir: string, threads: number, calls: number): Record<string, number> {
  const plain = timed(process.execPath, [many, String(threads), String(calls)], dir);
  const out = join(dir, `drain-${threads}.jsft`);
  const rec = timed(process.execPath, [mainJs, 'record', '-o', out, '--', process.execPath, many, String(threads), String(calls)], dir, env(dir));
  if (rec.status !== 0) throw new Error(rec.stderr);
  const s = summaryOf(rec.stderr);
  const bytes = statSync(out).size;
  rmSync(out);
  const r = {
    threads, calls: 2 * threads * calls, events: s.events, lost: s.lost, plainSeconds: plain.seconds, recordSeconds: rec.seconds,
    eventsPerSecond: s.events / rec.seconds, eventsPerSecondPerThread: s.events / rec.seconds / threads, ratio: rec.seconds / plain.seconds,
    fileMiB: bytes / 2 ** 20, recordRssMiB: rec.rssMiB,
  };
  process.stdout.write(`drain, ${threads} thread(s): ${r.events} events in ${r.recordSeconds.toFixed(1)} s (plain ${r.plainSeconds.toFixed(1)} s, x${r.ratio.toFixed(2)}): `
    + `${(r.eventsPerSecond / 1e6).toFixed(2)} M events/s, ${(r.eventsPerSecondPerThread / 1e6).toFixed(2)} M/s per thread, lost ${r.lost}, ${r.fileMiB.toFixed(0)} MiB\n`);
  return r;
}

function reportAll(dir: string, trace: string, events: number, label: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const f of FORMATS) {
    const file = join(dir, `out.${f}`);
    const r = timed(process.execPath, [mainJs, 'report', '-i', trace, '--format', f, '-o', file], dir, env(dir));
    if (r.status !== 0) throw new Error(`report --format ${f}: ${r.stderr}`);
    const bytes = statSync(file).size;
    rmSync(file);
    out[f] = { seconds: r.seconds, eventsPerSecond: events / r.seconds, rssMiB: r.rssMiB, outputMiB: bytes / 2 ** 20 };
    process.stdout.write(`${label} report --format ${f.padEnd(14)} ${r.seconds.toFixed(1).padStart(6)} s  ${(events / r.seconds / 1e6).toFixed(2).padStart(6)} M events/s  `
      + `peak RSS ${r.rssMiB.toFixed(0).padStart(4)} MiB  output ${(bytes / 2 ** 20).toFixed(1)} MiB\n`);
  }
  return out;
}

function eventsIn(stderr: string): number {
  return summaryOf(stderr).events;
}

function ensureNewcomer(): string {
  const dir = join(benchRoot, 'newcomer');
  if (!existsSync(join(dir, 'node_modules', 'eslint', 'package.json'))) {
    process.stdout.write('installing eslint into bench/newcomer (npm ci --prefix bench/newcomer)...\n');
    const r = spawnSync('npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm ci --prefix bench/newcomer failed');
  }
  return dir;
}

/** 40 JavaScript files of this package's build, sorted: the corpus eslint checks. */
function corpus(): string[] {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.js')) files.push(join(d, e.name));
    }
  };
  walk(join(here, '..', '..', 'src'));
  return files.slice(0, 40);
}

function newcomer(dir: string): Record<string, unknown> {
  const app = ensureNewcomer();
  // eslint lints files under its working directory only: the corpus is copied there.
  const src = join(here, '..', '..', 'src');
  const files = corpus().map((f) => {
    const rel = join('corpus', f.slice(src.length + 1));
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    copyFileSync(f, join(dir, rel));
    return rel;
  });
  const config = join(dir, 'eslint.config.js');
  writeFileSync(config, `import js from '${join(app, 'node_modules', '@eslint', 'js', 'src', 'index.js')}';\nexport default [js.configs.recommended, { languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', console: 'readonly', performance: 'readonly', setTimeout: 'readonly', setInterval: 'readonly', clearTimeout: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', SharedArrayBuffer: 'readonly', Atomics: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly', globalThis: 'readonly' } } }];\n`);
  const eslint = join(app, 'node_modules', 'eslint', 'bin', 'eslint.js');
  const args = ['--no-config-lookup', '-c', config, ...files];
  const plain = timed(process.execPath, [eslint, ...args], dir);
  const trace = join(dir, 'eslint.jsft');
  const rec = timed(process.execPath, [mainJs, 'record', '-p', 'function_graph', '-o', trace, '--', process.execPath, eslint, ...args], dir, env(dir));
  const s = summaryOf(rec.stderr);
  const bytes = statSync(trace).size;
  process.stdout.write(`newcomer: eslint on ${files.length} files, function_graph: exit ${rec.status} (plain ${plain.status}), ${s.events} events, lost ${s.lost}, `
    + `${(bytes / 2 ** 20).toFixed(1)} MiB, ${rec.seconds.toFixed(1)} s (plain ${plain.seconds.toFixed(1)} s)\n`);
  const reports = reportAll(dir, trace, s.events, 'newcomer');
  rmSync(trace);
  return {
    files: files.length, exit: rec.status, plainExit: plain.status, sameOutput: rec.stdout === plain.stdout, events: s.events, lost: s.lost,
    fileMiB: bytes / 2 ** 20, recordSeconds: rec.seconds, plainSeconds: plain.seconds, recordRssMiB: rec.rssMiB, reports,
  };
}

const ringUrl = new URL('../../src/ring/index.js', import.meta.url).href;
const WRITER = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.ringUrl).then(({ openRing, attachWriter }) => {
  const w = attachWriter(openRing(workerData.sab), { clock: 'counter' });
  const go = new Int32Array(workerData.go);
  while (Atomics.load(go, 0) === 0) Atomics.wait(go, 0, 0, 10);
  for (let i = 0; i < workerData.count; i++) w.write2(1, i, 7);
  w.flush();
  parentPort.postMessage('done');
});`;

/** Part 0: writer threads into wait-mode rings, the main thread draining them into chunks in a file. */
async function capacity(dir: string, writers: number, perWriter: number): Promise<Record<string, number>> {
  const rings = Array.from({ length: writers }, () => createRing({ mode: 'wait', waitMs: 60_000, clock: 'counter' }));
  const go = new Int32Array(new SharedArrayBuffer(4));
  let done = 0;
  const workers = rings.map((r) => {
    const w = new Worker(WRITER, { eval: true, workerData: { ringUrl, sab: r.sab, count: perWriter, go: go.buffer } });
    w.on('message', () => { done++; });
    return w;
  });
  await new Promise((r) => setTimeout(r, 300));
  const readers = rings.map((r) => attachReader(r));
  const builders = rings.map((r, i) => new PagesBuilder(i + 1, r.geometry.pageWords));
  const file = join(dir, 'capacity.bin');
  const fd = openSync(file, 'w');
  let bytes = 0;
  const t0 = performance.now();
  Atomics.store(go, 0, 1);
  Atomics.notify(go, 0);
  let empty = 0;
  for (;;) {
    let moved = 0;
    for (let i = 0; i < rings.length; i++) {
      for (;;) {
        const more = builders[i]!.fill(readers[i]!);
        const c = builders[i]!.take();
        if (c !== null) {
          writeSync(fd, c);
          bytes += c.length;
          moved += c.length;
        }
        if (!more) break;
      }
    }
    if (moved === 0) {
      if (done === writers && readers.every((r) => r.readPage(new Int32Array(r.ring.geometry.pageWords)) === READ_EMPTY)) break;
      empty++;
      await new Promise((r) => setImmediate(r));
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  closeSync(fd);
  rmSync(file);
  await Promise.all(workers.map((w) => w.terminate()));
  const dropped = rings.reduce((a, r) => a + r.dropped, 0);
  const events = writers * perWriter;
  const r = { writers, events, dropped, seconds, eventsPerSecond: events / seconds, bytesPerSecond: bytes / seconds, idleRounds: empty };
  process.stdout.write(`drain capacity, ${writers} writer(s): ${events} events in ${seconds.toFixed(2)} s: ${(r.eventsPerSecond / 1e6).toFixed(1)} M events/s `
    + `(${(r.bytesPerSecond / 2 ** 20).toFixed(0)} MiB/s to the file), dropped ${dropped}\n`);
  return r;
}

const dir = mkdtempSync(join(tmpdir(), 'jsftrace-bench-record-'));
try {
  mkdirSync(join(dir, 'sockets'), { mode: 0o700 });
  const load = { before: loadavg() };
  // Parts named on the command line run alone, the others' results kept from the last run.
  const only = process.argv.slice(2);
  const run = (part: string): boolean => only.length === 0 || only.includes(part);
  const last = join(resultsDir, 'record.json');
  const results: Record<string, unknown> = only.length > 0 && existsSync(last)
    ? (JSON.parse(readFileSync(last, 'utf8')) as { results: Record<string, unknown> }).results : {};
  if (run('capacity')) results['capacity'] = [await capacity(dir, 1, 20_000_000), await capacity(dir, 4, 10_000_000)];
  if (run('drain')) results['drain'] = [drain(dir, 1, 5_000_000), drain(dir, 4, 2_500_000)];
  if (run('big')) big(dir, results);
  if (run('newcomer')) results['newcomer'] = newcomer(dir);
  results['load'] = { ...load, after: loadavg() };
  process.stdout.write(`load average before ${load.before.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  process.stdout.write(`wrote ${writeResults('record', results)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function big(dir: string, results: Record<string, unknown>): void {

  // A function_graph recording of at least 1 GiB (40 bytes a call).
  const big = join(dir, 'big.jsft');
  const perThread = 3_500_000;
  const rec = timed(process.execPath, [mainJs, 'record', '-p', 'function_graph', '-o', big, '--', process.execPath, many, '4', String(perThread)], dir, env(dir));
  if (rec.status !== 0) throw new Error(rec.stderr);
  const events = eventsIn(rec.stderr);
  const size = statSync(big).size;
  process.stdout.write(`big trace: ${events} events, ${(size / GiB).toFixed(2)} GiB, recorded in ${rec.seconds.toFixed(1)} s, lost ${summaryOf(rec.stderr).lost}\n`);
  if (size < GiB) throw new Error('the big trace is under 1 GiB');
  results['big'] = { events, bytes: size, recordSeconds: rec.seconds, lost: summaryOf(rec.stderr).lost, reports: reportAll(dir, big, events, 'big') };
  rmSync(big);
}
