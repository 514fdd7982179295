// G1 under real concurrency: worker threads call a block of sites in tight
// loops while the main thread switches the block's direct trampoline. Every
// call must run exactly one trampoline (counts add up to calls made), and a
// call that starts after modifyFtraceDirect returned must not reach the old
// trampoline.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker, setEnvironmentData } from 'node:worker_threads';

const WORKERS = 4;
const SITES = 1000;
const SWITCHES = 1000;

const ctl = new Int32Array(new SharedArrayBuffer(64));
const counts = new Int32Array(new SharedArrayBuffer(4 * 8 * 64));
setEnvironmentData('g1:ctl', ctl.buffer);
setEnvironmentData('g1:counts', counts.buffer);

const jf = await import('../../src/public/index.js');
const { PHASE, STOP, READY, CHECKED, VIOLATIONS, STRIDE } = await import('../fixtures/g1/tramps.js');

test(`G1: ${WORKERS} workers x ${SITES} sites, ${SWITCHES} live switches, no call missed or misrouted`, { timeout: 120_000 }, async () => {
  const base = jf.defineSites('g1stress', Array.from({ length: SITES }, (_, k) => ({ name: `g1stress:s${k}` })));
  const tramps = new URL('../fixtures/g1/tramps.js', import.meta.url).href;
  const T = (k: number) => ({ module: tramps, export: `T${k}` });
  const ops = jf.createOps({ name: 'g1' });
  await jf.ftraceSetFilter(ops, 'g1stress:*');
  await jf.registerFtraceDirect(ops, T(0));
  await jf.prepareTrampoline(T(1));
  await jf.prepareTrampoline(T(2));
  const workers = Array.from({ length: WORKERS }, () => new Worker(new URL('../fixtures/g1/worker.js', import.meta.url), {
    workerData: { n: SITES, expectBase: base },
  }));
  const ids = workers.map((w) => w.threadId);
  const exited = workers.map((w) => new Promise<void>((resolve, reject) => {
    w.once('error', reject);
    w.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exit ${code}`))));
  }));
  while (Atomics.load(ctl, READY) < WORKERS) await new Promise((r) => setTimeout(r, 5));
  const ms: number[] = [];
  for (let q = 1; q <= SWITCHES; q++) {
    const t0 = performance.now();
    const st = await jf.modifyFtraceDirect(ops, T(q % 3));
    ms.push(performance.now() - t0);
    assert.equal(st.sites, SITES);
    Atomics.store(ctl, PHASE, q);
  }
  Atomics.store(ctl, STOP, 1);
  await Promise.all(exited);
  let made = 0;
  const per = [0, 0, 0];
  for (const id of ids) {
    const row = id * STRIDE;
    const ran = counts[row]! + counts[row + 1]! + counts[row + 2]!;
    assert.equal(counts[row + 4], 0, `worker ${id}: calls found their site nop`);
    assert.equal(ran, counts[row + 3], `worker ${id}: ${counts[row + 3]} calls made, ${ran} trampoline runs`);
    made += counts[row + 3]!;
    for (let k = 0; k < 3; k++) per[k]! += counts[row + k]!;
  }
  assert.equal(Atomics.load(ctl, VIOLATIONS), 0, 'a call that started after a switch returned reached the old trampoline');
  assert.ok(Atomics.load(ctl, CHECKED) > 0, 'no call could be checked for the switch rule');
  for (let k = 0; k < 3; k++) assert.ok(per[k]! > 0, `trampoline T${k} never ran`);
  for (const t of jf.listThreads()) assert.equal(t.missed, 0, `thread ${t.threadId} missed calls`);
  ms.sort((a, b) => a - b);
  process.stdout.write(`# ${made} calls, per trampoline ${per.join('/')}; checked ${Atomics.load(ctl, CHECKED)}; `
    + `modify over ${SITES} sites: median ${ms[ms.length >> 1]!.toFixed(3)} ms, max ${ms[ms.length - 1]!.toFixed(3)} ms\n`);
  await jf.unregisterFtraceDirect(ops, T(SWITCHES % 3));
});
