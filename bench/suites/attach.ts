/**
 * `npm run bench -- attach`: attaching to a process started with plain node
 * (docs/attach.md).
 *
 * One target process, started without jsftrace, times its own calls of a
 * small function (a loop that calls `leaf`, or `leaf2` for the probe), so
 * no IPC is in the figures. In order:
 * 1. plain: ns per call before any attach (the baseline of every ratio);
 * 2. attach: from `jsftrace -P` finding no socket to the control socket
 *    answering hello, and the inspector window inside it (signal to port
 *    closed);
 * 3. live patch: the `function` tracer on `leaf`, ns per traced call, then
 *    the same site idle (tracer nop, script still patched);
 * 4. probe: the `function` tracer on `leaf2` through a probe (fewer calls:
 *    each costs tens of microseconds);
 * 5. after detach (reset): ns per call of `leaf` again, against the plain
 *    run: what the attach leaves behind.
 *
 * Owns: the target program and the figures.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connectOrAttach } from '../../src/attach/connect.js';
import type { ControlClient } from '../../src/control/client.js';
import { nowNs, median, summarize, writeResults, type Summary } from '../harness.js';

const TRIALS = 5;
const ROUNDS = 7;
const CALLS = 5_000_000;
const PROBE_CALLS = 2000;

const TARGET = `
'use strict';
function leaf(i) { return i + 1; }
function leaf2(i) { return i + 1; }
function hot(n) { let s = 0; for (let i = 0; i < n; i++) s += leaf(i); return s; }
function hot2(n) { let s = 0; for (let i = 0; i < n; i++) s += leaf2(i); return s; }
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [what, n] = line.split(' ');
  const f = what === 'hot2' ? hot2 : hot;
  f(Math.min(Number(n), 10000)); // warm
  const t = process.hrtime.bigint();
  const s = f(Number(n));
  const ns = Number(process.hrtime.bigint() - t) / Number(n);
  console.log('ns ' + ns + ' ' + s);
});
console.log('ready');
`;

interface Trial {
  plain: number;
  attachMs: number;
  windowMs: number;
  patched: number;
  patchedIdle: number;
  probe: number;
  after: number;
}

/** One target process, from plain to detached. */
async function trial(dir: string, file: string): Promise<Trial> {
  const child = spawn(process.execPath, ['--inspect-port=0', file], { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((l: string) => void)[] = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const next = (): Promise<string> => new Promise((r) => waiting.push(r));
  await next();
  const perCall = async (what: string, n: number, rounds = ROUNDS): Promise<number> => {
    const xs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      child.stdin!.write(`${what} ${n}\n`);
      xs.push(Number((await next()).split(' ')[1]));
    }
    return median(xs);
  };
  let c: ControlClient | null = null;
  try {
    const plain = await perCall('hot', CALLS);
    const t0 = nowNs();
    const conn = await connectOrAttach(child.pid!, true);
    const attachMs = (nowNs() - t0) / 1e6;
    c = conn.client;
    const liveEdit = (await c.read('attach')).includes('live patch: available');
    let patched = NaN;
    let patchedIdle = NaN;
    if (liveEdit) {
      await c.write('set_ftrace_filter', '*:leaf');
      await c.write('current_tracer', 'function');
      patched = await perCall('hot', CALLS / 5);
      await c.write('current_tracer', 'nop');
      await c.write('trace', '');
      patchedIdle = await perCall('hot', CALLS);
      await c.write('attach', 'probe');
    }
    await c.write('set_ftrace_filter', '*:leaf2');
    await c.write('current_tracer', 'function');
    const probe = await perCall('hot2', PROBE_CALLS, 3);
    await c.write('current_tracer', 'nop');
    await c.write('set_ftrace_filter', '');
    await c.write('attach', 'detach');
    await c.close().catch(() => undefined);
    c = null;
    const after = await perCall('hot', CALLS);
    return { plain, attachMs, windowMs: conn.attached!.windowMs, patched, patchedIdle, probe, after };
  } finally {
    await c?.close().catch(() => undefined);
    child.kill();
    void dir;
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'jsftrace-bench-attach-'));
  const file = join(dir, 'target.cjs');
  writeFileSync(file, TARGET);
  process.env['JSFTRACE_SOCKET_DIR'] = join(dir, 'sockets');
  try {
    const trials: Trial[] = [];
    for (let i = 0; i < TRIALS; i++) trials.push(await trial(dir, file));
    const col = (f: (t: Trial) => number): Summary => summarize(trials.map(f));
    const r = {
      trials: TRIALS, calls: CALLS, rounds: ROUNDS, probeCalls: PROBE_CALLS,
      plainNs: col((t) => t.plain), attachMs: col((t) => t.attachMs), windowMs: col((t) => t.windowMs),
      patchNs: col((t) => t.patched), patchCostNs: col((t) => t.patched - t.plain), patchIdleRatio: col((t) => t.patchedIdle / t.plain),
      probeUs: col((t) => t.probe / 1000), probeCostUs: col((t) => (t.probe - t.plain) / 1000),
      afterNs: col((t) => t.after), afterRatio: col((t) => t.after / t.plain),
    };
    const f = (x: Summary, d = 1): string => (Number.isNaN(x.median) ? 'n/a' : `${x.median.toFixed(d)} (${x.min.toFixed(d)}-${x.max.toFixed(d)})`);
    process.stdout.write(`${TRIALS} processes, medians (min-max)\n`);
    process.stdout.write(`plain leaf():                  ${f(r.plainNs, 2)} ns/call\n`);
    process.stdout.write(`attach (to control socket):    ${f(r.attachMs)} ms, inspector open ${f(r.windowMs)} ms\n`);
    process.stdout.write(`live patch, function tracer:   ${f(r.patchNs)} ns/call, +${f(r.patchCostNs)} ns\n`);
    process.stdout.write(`live patch, site idle:         ${f(r.patchIdleRatio, 2)}x plain\n`);
    process.stdout.write(`probe, function tracer:        ${f(r.probeUs)} us/call, +${f(r.probeCostUs)} us\n`);
    process.stdout.write(`after detach:                  ${f(r.afterNs, 2)} ns/call, ${f(r.afterRatio, 3)}x plain\n`);
    process.stdout.write(`wrote ${writeResults('attach', r)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
