/**
 * The core's microbenchmark matrix, after the kernel's ftrace-ops sample:
 * ns per call of a function with a site, by what the site calls (nothing,
 * one ops directly, the list function, a direct trampoline), by the number
 * of irrelevant ops registered elsewhere, with and without arguments,
 * recursion guard and exit part. Then modifyFtraceDirect over 20,000 sites
 * while two worker threads call them.
 *
 * Each case runs in a fresh process, cases interleaved over several rounds;
 * the baseline (the same function without a site) is measured in the same
 * process as each case, and ratios and differences are taken against it.
 */

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, setEnvironmentData, getEnvironmentData, workerData } from 'node:worker_threads';
import { median, summarize, writeResults, type Summary } from '../harness.js';

const CALLS_BASE = 20_000_000;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);

interface CaseDef {
  name: string;
  /** Ops covering the hot site. */
  relevant: number;
  /** Ops registered on another site. */
  irrelevant: number;
  flags?: 'args' | 'recursion' | 'exit';
  direct?: boolean;
}

const CASES: CaseDef[] = [
  { name: 'site, nothing attached', relevant: 0, irrelevant: 0 },
  { name: '1 ops', relevant: 1, irrelevant: 0 },
  { name: '1 ops + 10 irrelevant', relevant: 1, irrelevant: 10 },
  { name: '1 ops + 100 irrelevant', relevant: 1, irrelevant: 100 },
  { name: '1 ops, ARGS', relevant: 1, irrelevant: 0, flags: 'args' },
  { name: '1 ops, RECURSION', relevant: 1, irrelevant: 0, flags: 'recursion' },
  { name: '1 ops with exit', relevant: 1, irrelevant: 0, flags: 'exit' },
  { name: '2 ops (list)', relevant: 2, irrelevant: 0 },
  { name: '10 ops (list)', relevant: 10, irrelevant: 0 },
  { name: '100 ops (list)', relevant: 100, irrelevant: 0 },
  { name: 'direct trampoline', relevant: 0, irrelevant: 0, direct: true },
  { name: 'direct trampoline + 100 irrelevant', relevant: 0, irrelevant: 100, direct: true },
];

async function runCase(c: CaseDef): Promise<{ base: number; traced: number; body: number }> {
  // Fewer calls where each costs more, so that every case takes a few
  // seconds; ns per call are comparable whatever the count.
  const CALLS = Math.floor(CALLS_BASE / Math.max(1, c.relevant / 2));
  const jf = await import('../../src/public/index.js');
  const hot = jf.defineSite({ name: 'bench:hot' });
  jf.defineSite({ name: 'bench:cold' });
  const { words, targetBase, handlers: H } = jf.siteAbi();
  const leave = jf.leave;
  const at = targetBase + hot;
  let counter = 0;
  // The same work with and without the site; the site's shape is what
  // load-time instrumentation emits.
  function plain(x: number): number {
    return (x * 31 + 7) | 0;
  }
  function traced(this: unknown, x: number): number {
    const t = words[at]!;
    if (t !== 0) {
      const tok = H[t]!(hot, this, (t & 1) !== 0 ? [x] : null);
      const r = (x * 31 + 7) | 0;
      return tok !== 0 ? leave(tok, r) as number : r;
    }
    return (x * 31 + 7) | 0;
  }
  const emptyTramp = function tramp(): void { counter++; };
  for (let i = 0; i < c.irrelevant; i++) {
    const o = jf.createOps({ func: () => { counter++; }, name: `irr${i}` });
    await jf.ftraceSetFilter(o, 'bench:cold');
    await jf.registerFtraceFunction(o);
  }
  for (let i = 0; i < c.relevant; i++) {
    const flags = c.flags === 'args' ? jf.OPS_FL.ARGS : c.flags === 'recursion' ? jf.OPS_FL.RECURSION : 0;
    const o = jf.createOps({
      func: () => { counter++; },
      ...(c.flags === 'exit' ? { retfunc: () => { counter++; } } : {}),
      flags, name: `rel${i}`,
    });
    await jf.ftraceSetFilter(o, 'bench:hot');
    await jf.registerFtraceFunction(o);
  }
  if (c.direct === true) {
    const d = jf.createOps({ name: 'direct' });
    await jf.ftraceSetFilter(d, 'bench:hot');
    await jf.registerFtraceDirect(d, emptyTramp);
  }
  // One loop per function, so that each call site stays monomorphic and
  // V8 may inline exactly as it would in a program.
  const bodyOnly = (x: number): number => { emptyTramp(); return plain(x); };
  const ns = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / CALLS;
  const timePlain = (): number => {
    let x = 1;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) x = plain(x);
    if (x === 42) counter++;
    return ns(t0);
  };
  const timeTraced = (): number => {
    let x = 1;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) x = traced(x);
    if (x === 42) counter++;
    return ns(t0);
  };
  const timeBody = (): number => {
    let x = 1;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) x = bodyOnly(x);
    if (x === 42) counter++;
    return ns(t0);
  };
  for (let w = 0; w < 3; w++) { timePlain(); timeTraced(); timeBody(); }
  const base = timePlain();
  const tr = timeTraced();
  const body = timeBody();
  if (counter === -1) process.stdout.write('');
  return { base, traced: tr, body };
}

// ---- modifyFtraceDirect over 20,000 sites with two calling threads --------

const MOD_SITES = 20_000;
const MOD_SWITCHES = 200;

async function runModify(): Promise<Record<string, unknown>> {
  const ctl = new Int32Array(new SharedArrayBuffer(64));
  setEnvironmentData('bench:ctl', ctl.buffer);
  const jf = await import('../../src/public/index.js');
  const names = Array.from({ length: MOD_SITES }, (_, k) => ({ name: `bench:m${k}` }));
  const base = jf.defineSites('bench:modify', names);
  const tramps = new URL('./core-tramps.js', import.meta.url).href;
  const T = (k: number): { module: string; export: string } => ({ module: tramps, export: `T${k}` });
  const ops = jf.createOps({ name: 'modify' });
  await jf.ftraceSetFilter(ops, 'bench:m*');
  await jf.registerFtraceDirect(ops, T(0));
  await jf.prepareTrampoline(T(1));
  const workers = [0, 1].map(() => new Worker(fileURLToPath(import.meta.url), { workerData: { base } }));
  const ids = workers.map((w) => w.threadId);
  const done = workers.map((w) => new Promise((r) => w.once('exit', r)));
  while (Atomics.load(ctl, 1) < workers.length) await new Promise((r) => setTimeout(r, 5));
  const ms: number[] = [];
  for (let q = 1; q <= MOD_SWITCHES; q++) {
    const t0 = performance.now();
    await jf.modifyFtraceDirect(ops, T(q % 2));
    ms.push(performance.now() - t0);
  }
  Atomics.store(ctl, 0, 1);
  await Promise.all(done);
  const counts = new Int32Array(getEnvironmentData('bench:counts') as SharedArrayBuffer);
  let made = 0;
  let ran = 0;
  for (const id of ids) { made += counts[id * 4 + 2]!; ran += counts[id * 4]! + counts[id * 4 + 1]!; }
  return { sites: MOD_SITES, switches: MOD_SWITCHES, threads: 2, ms: summarize(ms), callsMade: made, trampolineRuns: ran, missed: made - ran };
}

async function modifyWorker(): Promise<void> {
  const ctl = new Int32Array(getEnvironmentData('bench:ctl') as SharedArrayBuffer);
  const counts = new Int32Array(getEnvironmentData('bench:counts') as SharedArrayBuffer);
  const jf = await import('../../src/public/index.js');
  await jf.ready();
  const { threadId } = await import('node:worker_threads');
  const base = jf.defineSites('bench:modify', Array.from({ length: MOD_SITES }, (_, k) => ({ name: `bench:m${k}` })));
  if (base !== (workerData as { base: number }).base) throw new Error('block mismatch');
  const { words, targetBase, handlers: H } = jf.siteAbi();
  const args: unknown[] = [];
  let made = 0;
  Atomics.add(ctl, 1, 1);
  while (Atomics.load(ctl, 0) === 0) {
    for (let k = 0; k < MOD_SITES; k++) {
      const id = base + k;
      const t = words[targetBase + id]!;
      if (t !== 0) H[t]!(id, undefined, args);
      made++;
    }
  }
  counts[threadId * 4 + 2] = made;
}

// ---- driver -----------------------------------------------------------------

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === '--case') {
    const c = CASES[Number(process.argv[3])]!;
    process.stdout.write(JSON.stringify(await runCase(c)) + '\n');
    return;
  }
  if (arg === '--modify') {
    setEnvironmentData('bench:counts', new SharedArrayBuffer(4 * 4 * 64));
    process.stdout.write(JSON.stringify(await runModify()) + '\n');
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const runs: Record<string, { base: number[]; traced: number[]; body: number[] }> = {};
  for (const c of CASES) runs[c.name] = { base: [], traced: [], body: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < CASES.length; i++) {
      const r = spawnSync(process.execPath, [self, '--case', String(i)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`case ${CASES[i]!.name} failed: ${r.stderr}`);
      const v = JSON.parse(r.stdout.trim().split('\n').pop()!) as { base: number; traced: number; body: number };
      const slot = runs[CASES[i]!.name]!;
      slot.base.push(v.base); slot.traced.push(v.traced); slot.body.push(v.body);
    }
    process.stdout.write(`round ${round + 1}/${ROUNDS}\n`);
  }
  const matrix: Record<string, { baseNs: Summary; tracedNs: Summary; overheadNs: number; ratio: number; aboveBodyNs?: number }> = {};
  process.stdout.write(`\n${'case'.padEnd(38)} ${'ns/call'.padStart(9)} ${'base'.padStart(7)} ${'+ns'.padStart(7)} ${'ratio'.padStart(6)}\n`);
  for (const c of CASES) {
    const r = runs[c.name]!;
    const over = r.traced.map((t, k) => t - r.base[k]!);
    const ratio = r.traced.map((t, k) => t / r.base[k]!);
    const entry: (typeof matrix)[string] = {
      baseNs: summarize(r.base), tracedNs: summarize(r.traced), overheadNs: median(over), ratio: median(ratio),
    };
    if (c.direct === true) entry.aboveBodyNs = median(r.traced.map((t, k) => t - r.body[k]!));
    matrix[c.name] = entry;
    process.stdout.write(`${c.name.padEnd(38)} ${entry.tracedNs.median.toFixed(2).padStart(9)} ${entry.baseNs.median.toFixed(2).padStart(7)} `
      + `${entry.overheadNs.toFixed(2).padStart(7)} ${entry.ratio.toFixed(2).padStart(6)}`
      + (entry.aboveBodyNs !== undefined ? `   (${entry.aboveBodyNs.toFixed(2)} ns above the trampoline body called directly)` : '') + '\n');
  }
  const m = spawnSync(process.execPath, [self, '--modify'], { encoding: 'utf8' });
  if (m.status !== 0) throw new Error(`modify failed: ${m.stderr}`);
  const modify = JSON.parse(m.stdout.trim().split('\n').pop()!) as { ms: Summary; missed: number; callsMade: number };
  process.stdout.write(`\nmodifyFtraceDirect over ${MOD_SITES} sites, 2 threads calling: median ${modify.ms.median.toFixed(2)} ms `
    + `(min ${modify.ms.min.toFixed(2)}, max ${modify.ms.max.toFixed(2)}), ${modify.callsMade} calls, ${modify.missed} missed\n`);
  const file = writeResults('core', { calls: CALLS_BASE, rounds: ROUNDS, matrix, modify });
  process.stdout.write(`wrote ${file}\n`);
}

if (isMainThread) await main();
else await modifyWorker();
