/**
 * `npm run bench -- control`: the control surface against a running process.
 *
 * 1. Enable latency: a process that has loaded the TypeScript compiler
 *    (typescript.js, every function with a site) waits; through its control
 *    socket we write `function` to current_tracer (every site enabled, every
 *    thread synchronised) and `nop` back, and time each write from the
 *    request to its answer. The in-process write is timed too, so the
 *    socket's share shows.
 * 2. trace_pipe through the socket: a worker thread calls a traced function
 *    in a tight loop while we stream trace_pipe for a fixed time; lines and
 *    bytes per second received, against the events the ring took (its
 *    stats), so loss is visible.
 *
 * Owns: the two target programs (written to a temporary directory) and the
 * figures. The ratio rule of the suites: the enable latency is printed
 * beside the nop write (a control write that changes nothing), measured in
 * the same run.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type ControlClient } from '../../src/control/client.js';
import { nowNs, summarize, writeResults } from '../harness.js';

const registerJs = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
const ROUNDS = 10;
const PIPE_MS = 4000;

const LOADER = `
const ts = require('typescript');
// Use it once, so the program is a compiler that ran, not only one that loaded.
ts.transpileModule('const a: number = 1; export default a;', { compilerOptions: {} });
console.log('ready');
setInterval(() => {}, 1000);
`;

const PRODUCER = `
const { Worker, isMainThread } = require('node:worker_threads');
function hotLeaf(i) { return i + 1; }
function hotLoop(n) { let s = 0; for (let i = 0; i < n; i++) s += hotLeaf(i); return s; }
if (isMainThread) {
  const w = new Worker(__filename);
  w.on('online', () => console.log('ready ' + w.threadId));
  setInterval(() => {}, 1000);
} else {
  // Chunks, so the worker's flush timer and the stop message get their turn.
  const tick = () => { hotLoop(2000); setImmediate(tick); };
  tick();
}
`;

async function startTarget(dir: string, file: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, ['--import', registerJs, file], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`${file} did not start: ${out}`)), 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ready.*$/m.exec(out);
      if (m !== null) {
        clearTimeout(t);
        resolve(m[0]);
      }
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${out}`)));
  });
  return { child, line };
}

async function timeWrite(c: ControlClient, path: string, text: string): Promise<number> {
  const t0 = nowNs();
  await c.write(path, text);
  return (nowNs() - t0) / 1e6;
}

async function main(): Promise<void> {
  const req = createRequire(import.meta.url);
  const tsRoot = dirname(req.resolve('typescript/package.json'));
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-ctlbench-'));
  const children: ChildProcess[] = [];
  try {
    const app = join(work, 'app');
    cpSync(tsRoot, join(app, 'node_modules', 'typescript'), { recursive: true });
    writeFileSync(join(app, 'loader.cjs'), LOADER);
    writeFileSync(join(app, 'producer.cjs'), PRODUCER);
    const sockets = join(work, 'sockets');
    const env: NodeJS.ProcessEnv = { ...process.env, JSFTRACE_CACHE_DIR: join(work, 'cache'), JSFTRACE_SOCKET_DIR: sockets };
    delete env['NODE_OPTIONS'];

    // 1. Enable latency over every site of the compiler.
    process.stdout.write('starting a process with the TypeScript compiler loaded (first run fills the cache)...\n');
    const a = await startTarget(app, 'loader.cjs', env);
    children.push(a.child);
    const c = await connect(a.child.pid!, { dir: sockets, timeoutMs: 30_000 });
    const sites = (await c.read('available_filter_functions')).split('\n').filter((l) => l !== '').length;
    const enable: number[] = [];
    const disable: number[] = [];
    const noop: number[] = [];
    // One warm-up pair: the first registration loads the tracer's module in the process.
    await c.write('current_tracer', 'function');
    await c.write('current_tracer', 'nop');
    for (let i = 0; i < ROUNDS; i++) {
      enable.push(await timeWrite(c, 'current_tracer', 'function'));
      disable.push(await timeWrite(c, 'current_tracer', 'nop'));
      noop.push(await timeWrite(c, 'tracing_thresh', '0'));
    }
    await c.write('current_tracer', 'function');
    const enabled = (await c.read('enabled_functions')).split('\n').filter((l) => l !== '').length;
    await c.write('current_tracer', 'nop');
    await c.close();
    a.child.kill('SIGTERM');
    const en = summarize(enable);
    const dis = summarize(disable);
    const nop = summarize(noop);
    process.stdout.write(`\nEnable the function tracer on all ${sites} sites (${enabled} enabled) through the socket, ${ROUNDS} rounds:\n`
      + `  current_tracer function: median ${en.median.toFixed(2)} ms (min ${en.min.toFixed(2)}, max ${en.max.toFixed(2)})\n`
      + `  current_tracer nop:      median ${dis.median.toFixed(2)} ms (min ${dis.min.toFixed(2)}, max ${dis.max.toFixed(2)})\n`
      + `  a write that changes nothing (tracing_thresh 0): median ${nop.median.toFixed(3)} ms; enable / that = ${(en.median / nop.median).toFixed(0)}x\n`);

    // 2. trace_pipe throughput.
    const b = await startTarget(app, 'producer.cjs', env);
    children.push(b.child);
    const worker = Number(b.line.split(' ')[1]);
    const p = await connect(b.child.pid!, { dir: sockets, timeoutMs: 30_000 });
    await p.write('trace_clock', 'counter');
    await p.write('buffer_size_kb', '4096');
    await p.write('set_ftrace_filter', '*hotLeaf');
    await p.write('current_tracer', 'function');
    let bytes = 0;
    let lines = 0;
    const ac = new AbortController();
    const t0 = nowNs();
    // The worker's ring exists once it has traced: wait for its first event.
    const until = Date.now() + 30_000;
    while (!(await p.read(`per_thread/${worker}/stats`).catch(() => '')).match(/^entries: [1-9]/m) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const done = p.pipe(`per_thread/${worker}/trace_pipe`, (chunk) => {
      bytes += Buffer.byteLength(chunk);
      for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) lines++;
    }, ac.signal);
    await new Promise((r) => setTimeout(r, PIPE_MS));
    ac.abort();
    await done;
    const secs = (nowNs() - t0) / 1e9;
    await p.write('tracing_on', '0');
    const stats = await p.read(`per_thread/${worker}/stats`);
    const num = (k: string): number => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(stats)?.[1] ?? NaN);
    const written = num('read events') + num('entries') + num('overrun');
    await p.close();
    b.child.kill('SIGTERM');
    const lost = lines === 0 ? 0 : Math.max(0, num('overrun'));
    process.stdout.write(`\ntrace_pipe through the socket for ${secs.toFixed(1)} s while a worker calls a traced function:\n`
      + `  ${(lines / secs / 1e6).toFixed(3)} M lines/s, ${(bytes / secs / 1e6).toFixed(1)} MB/s received; `
      + `events written ${written}, overwritten before read ${lost}\n`);
    const file = writeResults('control', {
      sites, enabledSites: enabled, rounds: ROUNDS,
      enableMs: en, disableMs: dis, noopWriteMs: nop,
      pipe: { seconds: secs, lines, bytes, linesPerSec: lines / secs, bytesPerSec: bytes / secs, eventsWritten: written, overwritten: lost },
    });
    process.stdout.write(`\nresults: ${file}\n`);
  } finally {
    for (const ch of children) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
