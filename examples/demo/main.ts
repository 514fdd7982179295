// `npm run demo`: a program's functions get sites, an ops counts calls by
// glob, and a direct trampoline is switched live, thousands of times, while
// worker threads call it; then the counts prove that no call was missed,
// beside the naive switch (unregister, register) that does miss calls.

import { Worker, setEnvironmentData } from 'node:worker_threads';

const WORKERS = 3;
const SWITCHES = 2000;
const ctl = new Int32Array(new SharedArrayBuffer(16));
const counts = new Int32Array(new SharedArrayBuffer(4 * 4 * 64));
setEnvironmentData('demo:ctl', ctl.buffer);
setEnvironmentData('demo:counts', counts.buffer);

const jf = await import('../../src/public/index.js');
const { shop, instrument } = await import('./shop.js');
const { STRIDE } = await import('./audit.js');

const say = (s = ''): boolean => process.stdout.write(s + '\n');
const indent = (text: string): string => text.replace(/^(?=.)/gm, '    ');

await instrument();
say('1. The program\'s functions have sites (available_filter_functions):');
say(indent(jf.readAvailableFilterFunctions()));

// 2. An ops on a glob.
const hits = new Map<string, number>();
const counter = jf.createOps({
  name: 'counter',
  func: (site) => { const n = jf.siteInfo(site).name; hits.set(n, (hits.get(n) ?? 0) + 1); },
});
await jf.ftraceSetFilter(counter, 'shop.ts:*');
await jf.ftraceSetNotrace(counter, '*parseOrder');
await jf.registerFtraceFunction(counter);
const total = shop.totalOrder('apple:3:2, pear:1:5, fig:10:1', 'HALF');
say(`2. An ops on 'shop.ts:*' minus notrace '*parseOrder'; totalOrder(...) = ${total}; calls seen:`);
for (const [name, n] of [...hits].sort()) say(`    ${name.padEnd(24)} ${n}`);
say('   enabled_functions:');
say(indent(jf.readEnabledFunctions()));
await jf.unregisterFtraceFunction(counter);

// 3. A direct trampoline, switched live while workers call the function.
const audit = new URL('./audit.js', import.meta.url).href;
const v1 = { module: audit, export: 'v1' };
const v2 = { module: audit, export: 'v2' };
const direct = jf.createOps({ name: 'audit' });
await jf.ftraceSetFilter(direct, 'shop.ts:priceItem');
await jf.registerFtraceDirect(direct, v1);
await jf.prepareTrampoline(v2);

async function withWorkers(switcher: () => Promise<void>): Promise<{ made: number; v1: number; v2: number }> {
  Atomics.store(ctl, 0, 0);
  Atomics.store(ctl, 1, 0);
  counts.fill(0);
  const ws = Array.from({ length: WORKERS }, () => new Worker(new URL('./worker.js', import.meta.url)));
  const ids = ws.map((w) => w.threadId);
  const exits = ws.map((w) => new Promise((r) => w.once('exit', r)));
  while (Atomics.load(ctl, 1) < WORKERS) await new Promise((r) => setTimeout(r, 5));
  await switcher();
  Atomics.store(ctl, 0, 1);
  await Promise.all(exits);
  let made = 0, a = 0, b = 0;
  for (const id of ids) {
    made += counts[id * STRIDE + 2]!;
    a += counts[id * STRIDE]!;
    b += counts[id * STRIDE + 1]!;
  }
  return { made, v1: a, v2: b };
}

let worst = 0;
const live = await withWorkers(async () => {
  for (let q = 1; q <= SWITCHES; q++) {
    const t0 = performance.now();
    await jf.modifyFtraceDirect(direct, q % 2 === 1 ? v2 : v1);
    worst = Math.max(worst, performance.now() - t0);
  }
});
say(`3. Direct trampoline on shop.ts:priceItem, switched v1 <-> v2 ${SWITCHES} times with modifyFtraceDirect`);
say(`   while ${WORKERS} worker threads called it (slowest switch ${worst.toFixed(2)} ms):`);
say(`    calls made ${live.made}, ran v1 ${live.v1}, ran v2 ${live.v2}, missed ${live.made - live.v1 - live.v2}`);
say('   enabled_functions:');
say(indent(jf.readEnabledFunctions()));

const naive = await withWorkers(async () => {
  for (let q = 1; q <= 200; q++) {
    const from = q % 2 === 1 ? v1 : v2;
    await jf.unregisterFtraceDirect(direct, from);
    await jf.registerFtraceDirect(direct, q % 2 === 1 ? v2 : v1);
  }
});
say('4. The naive switch (unregister, then register) 200 times, same workers:');
say(`    calls made ${naive.made}, ran v1 ${naive.v1}, ran v2 ${naive.v2}, missed ${naive.made - naive.v1 - naive.v2}`);
await jf.unregisterFtraceDirect(direct, v1);

const ok = live.made === live.v1 + live.v2 && live.v1 > 0 && live.v2 > 0;
say(ok ? '\nLive switching missed no call.' : '\nLIVE SWITCHING MISSED CALLS: this is a bug.');
process.exitCode = ok ? 0 : 1;
