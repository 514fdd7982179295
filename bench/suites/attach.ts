/**
 * `npm run bench -- attach`: attaching to a process started with plain node
 * (docs/attach.md).
 *
 * Each trial starts two identical target processes with plain node, each
 * timing its own calls of a small function (`leaf`, or `leaf2` for the
 * probe; no IPC in the figures): one is attached to, the other never is
 * and serves as the control, their rounds interleaved so that both see the
 * same load on a shared machine. In order:
 * 1. before the attach: the pair's ratio (calibration, about 1);
 * 2. attach: from finding no socket to the control socket answering hello,
 *    and the inspector window inside it (signal to port closed);
 * 3. live patch: the `function` tracer on `leaf`, ns per traced call above
 *    the control's call, then the same site idle (tracer nop, script still
 *    patched), as a ratio;
 * 4. probe: the `function` tracer on `leaf2` through a probe (fewer calls:
 *    each costs tens of microseconds or more);
 * 5. after detach (reset): the pair's ratio again.
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
const CALLS = 2_000_000;
const PROBE_CALLS = 2000;

const TARGET = `
'use strict';
function leaf(i) { let s = i; for (let k = 0; k < 8; k++) s = (s * 31 + k) | 0; return s; }
function leaf2(i) { let s = i; for (let k = 0; k < 8; k++) s = (s * 31 + k) | 0; return s; }
function hot(n) { let s = 0; for (let i = 0; i < n; i++) s = (s + leaf(i)) | 0; return s; }
function hot2(n) { let s = 0; for (let i = 0; i < n; i++) s = (s + leaf2(i)) | 0; return s; }
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
  /** Before the attach: attached-to process against the control process (calibration, about 1). */
  plainRatio: number;
  plainNs: number;
  attachMs: number;
  windowMs: number;
  /** ns per traced call above the control process's call. */
  patchCostNs: number;
  patchIdleRatio: number;
  probeCostUs: number;
  afterRatio: number;
}

interface Target {
  pid: number;
  run(what: string, n: number): Promise<number>;
  kill(): void;
}

async function target(file: string): Promise<Target> {
  const child = spawn(process.execPath, ['--inspect-port=0', file], { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((l: string) => void)[] = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const next = (): Promise<string> => new Promise((r) => waiting.push(r));
  await next();
  return {
    pid: child.pid!,
    async run(what, n) {
      child.stdin!.write(`${what} ${n}\n`);
      return Number((await next()).split(' ')[1]);
    },
    kill: () => child.kill(),
  };
}

/**
 * ns per call in `a` and in the control process `b`, rounds interleaved so
 * that both see the same load: medians of a, of a/b and of a-b.
 */
async function paired(a: Target, b: Target, what: string, n: number, rounds = ROUNDS): Promise<{ a: number; ratio: number; diff: number }> {
  const as: number[] = [];
  const ratios: number[] = [];
  const diffs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const x = await a.run(what, n);
    const y = await b.run(what, n);
    as.push(x);
    ratios.push(x / y);
    diffs.push(x - y);
  }
  return { a: median(as), ratio: median(ratios), diff: median(diffs) };
}

/** One process attached to, from plain to detached, beside a control process never attached to. */
async function trial(file: string): Promise<Trial> {
  const [a, b] = await Promise.all([target(file), target(file)]);
  let c: ControlClient | null = null;
  try {
    const plain = await paired(a, b, 'hot', CALLS);
    const t0 = nowNs();
    const conn = await connectOrAttach(a.pid, true);
    const attachMs = (nowNs() - t0) / 1e6;
    c = conn.client;
    const liveEdit = (await c.read('attach')).includes('live patch: available');
    let patchCostNs = NaN;
    let patchIdleRatio = NaN;
    if (liveEdit) {
      await c.write('set_ftrace_filter', '*:leaf');
      await c.write('current_tracer', 'function');
      patchCostNs = (await paired(a, b, 'hot', CALLS / 5)).diff;
      await c.write('current_tracer', 'nop');
      await c.write('trace', '');
      patchIdleRatio = (await paired(a, b, 'hot', CALLS)).ratio;
      await c.write('attach', 'probe');
    }
    await c.write('set_ftrace_filter', '*:leaf2');
    await c.write('current_tracer', 'function');
    const probeCostUs = (await paired(a, b, 'hot2', PROBE_CALLS, 3)).diff / 1000;
    await c.write('current_tracer', 'nop');
    await c.write('set_ftrace_filter', '');
    await c.write('attach', 'detach');
    await c.close().catch(() => undefined);
    c = null;
    const after = await paired(a, b, 'hot', CALLS);
    return {
      plainRatio: plain.ratio, plainNs: plain.a, attachMs, windowMs: conn.attached!.windowMs,
      patchCostNs, patchIdleRatio, probeCostUs, afterRatio: after.ratio,
    };
  } finally {
    await c?.close().catch(() => undefined);
    a.kill();
    b.kill();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'jsftrace-bench-attach-'));
  const file = join(dir, 'target.cjs');
  writeFileSync(file, TARGET);
  process.env['JSFTRACE_SOCKET_DIR'] = join(dir, 'sockets');
  try {
    const trials: Trial[] = [];
    for (let i = 0; i < TRIALS; i++) trials.push(await trial(file));
    const col = (f: (t: Trial) => number): Summary => summarize(trials.map(f));
    const r = {
      trials: TRIALS, calls: CALLS, rounds: ROUNDS, probeCalls: PROBE_CALLS,
      plainNs: col((t) => t.plainNs), plainRatio: col((t) => t.plainRatio), attachMs: col((t) => t.attachMs), windowMs: col((t) => t.windowMs),
      patchCostNs: col((t) => t.patchCostNs), patchIdleRatio: col((t) => t.patchIdleRatio),
      probeCostUs: col((t) => t.probeCostUs), afterRatio: col((t) => t.afterRatio),
    };
    const f = (x: Summary, d = 1): string => (Number.isNaN(x.median) ? 'n/a' : `${x.median.toFixed(d)} (${x.min.toFixed(d)}-${x.max.toFixed(d)})`);
    process.stdout.write(`${TRIALS} pairs of processes (attached to / never attached to), medians (min-max)\n`);
    process.stdout.write(`plain leaf():                  ${f(r.plainNs, 2)} ns/call; pair ratio before the attach ${f(r.plainRatio, 3)}\n`);
    process.stdout.write(`attach (to control socket):    ${f(r.attachMs)} ms, inspector open ${f(r.windowMs)} ms\n`);
    process.stdout.write(`live patch, function tracer:   +${f(r.patchCostNs)} ns per call\n`);
    process.stdout.write(`live patch, site idle:         ${f(r.patchIdleRatio, 3)}x\n`);
    process.stdout.write(`probe, function tracer:        +${f(r.probeCostUs)} us per call\n`);
    process.stdout.write(`after detach:                  ${f(r.afterRatio, 3)}x\n`);
    process.stdout.write(`wrote ${writeResults('attach', r)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
