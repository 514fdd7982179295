// Worker threads share one instance: records, ops and target words. Module
// handlers run in every thread, function handlers only in their own; busy
// threads are reached by inspector interrupts for synchronisation, and a
// load that needs a busy thread times out with nothing changed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker, setEnvironmentData } from 'node:worker_threads';

const counts = new Int32Array(new SharedArrayBuffer(4 * 256));
const ctl = new Int32Array(new SharedArrayBuffer(64));
setEnvironmentData('threads:counts', counts.buffer);
setEnvironmentData('threads:ctl', ctl.buffer);

const jf = await import('../../src/public/index.js');
const workerUrl = new URL('../fixtures/threads/worker.js', import.meta.url);
const handlers = new URL('../fixtures/threads/handlers.js', import.meta.url).href;

interface Run { worker: Worker; threadId: number; message: Promise<Record<string, unknown>>; exit: Promise<number> }
function start(data: Record<string, unknown>): Run {
  const worker = new Worker(workerUrl, { workerData: data });
  return {
    worker,
    threadId: worker.threadId,
    message: new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); }),
    exit: new Promise((resolve) => worker.once('exit', resolve)),
  };
}

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('a worker joins the same instance: same blocks, same records', async () => {
  const mine = jf.defineSites('thr:shared', [{ name: 'thr:shared-a' }, { name: 'thr:shared-b' }]);
  const w = start({ mode: 'define', key: 'thr:shared', names: ['thr:shared-a', 'thr:shared-b'], calls: 0 });
  const m = await w.message;
  assert.equal(m['base'], mine);
  assert.equal(m['available'], jf.readAvailableFilterFunctions());
  // A block first defined in a worker is visible here.
  const w2 = start({ mode: 'define', key: 'thr:from-worker', names: ['thr:worker-only'], calls: 0 });
  const m2 = await w2.message;
  assert.equal(jf.siteInfo(m2['base'] as number).name, 'thr:worker-only');
  await w.exit;
  await w2.exit;
});

test('a module ops runs in every thread; a function ops only in its own, and the others miss nothing', async () => {
  const site = jf.defineSites('thr:calls', [{ name: 'thr:calls-a' }]);
  const modOps = jf.createOps({ func: { module: handlers, export: 'countEntry' }, name: 'modcount' });
  await jf.ftraceSetFilter(modOps, 'thr:calls-a');
  await jf.registerFtraceFunction(modOps);
  const w = start({ mode: 'call', key: 'thr:calls', names: ['thr:calls-a'], calls: 1000 });
  await w.message;
  await w.exit;
  assert.equal(counts[w.threadId], 1000);
  await jf.unregisterFtraceFunction(modOps);
  let mainCalls = 0;
  const fnOps = jf.createOps({ func: () => { mainCalls++; }, name: 'fncount' });
  await jf.ftraceSetFilter(fnOps, 'thr:calls-a');
  await jf.registerFtraceFunction(fnOps);
  const w2 = start({ mode: 'call', key: 'thr:calls', names: ['thr:calls-a'], calls: 500 });
  await w2.message;
  // The worker cannot run main's function and was never meant to: not a
  // miss (the counter is for calls an ops should have seen and did not).
  const row = jf.listThreads().find((t) => t.threadId === w2.threadId)!;
  assert.equal(row.missed, 0);
  assert.equal(mainCalls, 0);
  assert.equal(counts[w2.threadId], 0);
  await w2.exit;
  // Two function ops on the site: the worker goes through the list function, the same.
  const fnOps2 = jf.createOps({ func: () => { mainCalls++; }, name: 'fncount2' });
  await jf.ftraceSetFilter(fnOps2, 'thr:calls-a');
  await jf.registerFtraceFunction(fnOps2);
  const w3 = start({ mode: 'call', key: 'thr:calls', names: ['thr:calls-a'], calls: 500 });
  await w3.message;
  assert.equal(jf.listThreads().find((t) => t.threadId === w3.threadId)!.missed, 0);
  assert.equal(mainCalls, 0);
  await w3.exit;
  await jf.unregisterFtraceFunction(fnOps2);
  await jf.unregisterFtraceFunction(fnOps);
  assert.equal(site >= 0, true);
});

test('a worker that takes over the row of one that exited gets the static key and the handlers of its own', async () => {
  const site = jf.defineSites('thr:reuse', [{ name: 'thr:reuse-a' }]);
  const ops = jf.createOps({ func: { module: handlers, export: 'countEntry' }, name: 'reuse' });
  await jf.ftraceSetFilter(ops, 'thr:reuse-a');
  await jf.registerFtraceFunction(ops);
  try {
    // One after another: each takes the row the previous one left dead.
    for (let i = 0; i < 4; i++) {
      const w = start({ mode: 'keynow', key: 'thr:reuse', names: ['thr:reuse-a'], calls: 0 });
      assert.deepEqual(await w.message, { key: true }, `worker ${i + 1}`);
      await w.exit;
      const c = start({ mode: 'call', key: 'thr:reuse', names: ['thr:reuse-a'], calls: 100 });
      await c.message;
      await c.exit;
      assert.equal(counts[c.threadId], 100, `worker ${i + 1}`);
    }
  } finally {
    await jf.unregisterFtraceFunction(ops);
  }
  assert.equal(site >= 0, true);
});

test('unregister reaches a worker busy in a synchronous loop (inspector interrupt); afterwards its callback never runs', async () => {
  jf.defineSites('thr:spin', [{ name: 'thr:spin-a' }]);
  const ops = jf.createOps({ func: { module: handlers, export: 'countEntry' }, name: 'spincount' });
  await jf.ftraceSetFilter(ops, 'thr:spin-a');
  await jf.registerFtraceFunction(ops);
  Atomics.store(ctl, 0, 0);
  Atomics.store(ctl, 1, 0);
  const w = start({ mode: 'spin', key: 'thr:spin', names: ['thr:spin-a'], calls: 0 });
  await until(() => Atomics.load(ctl, 1) === 1 && counts[w.threadId]! > 1000, 'the worker to spin');
  jf.setThreadTimeout(10_000);
  await jf.unregisterFtraceFunction(ops); // needs the busy worker's acknowledgement
  const c1 = counts[w.threadId]!;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(counts[w.threadId], c1, 'the callback ran after unregister resolved');
  Atomics.store(ctl, 0, 1);
  await w.exit;
});

test('the static key reaches a busy worker; a worker that exits is not waited for', async () => {
  jf.defineSites('thr:key', [{ name: 'thr:key-a' }]);
  Atomics.store(ctl, 1, 0);
  const w = start({ mode: 'key', key: 'thr:key', names: ['thr:key-a'], calls: 0 });
  await until(() => Atomics.load(ctl, 1) === 1, 'the worker to spin on the key');
  const ops = jf.createOps({ func: () => undefined, name: 'keyops' });
  await jf.ftraceSetFilter(ops, 'thr:key-a');
  // Earlier tests may have left the key on; it goes off when no site is enabled.
  await jf.registerFtraceFunction(ops);
  const m = await w.message;
  assert.ok((m['spins'] as number) >= 0);
  await w.exit;
  assert.equal(jf.listThreads().find((t) => t.threadId === w.threadId)?.state, 'dead');
  await jf.unregisterFtraceFunction(ops);
});

test('a module load that a busy worker cannot do times out and changes nothing', async () => {
  jf.defineSites('thr:busy', [{ name: 'thr:busy-a' }]);
  Atomics.store(ctl, 0, 0);
  Atomics.store(ctl, 1, 0);
  const w = start({ mode: 'spin', key: 'thr:busy', names: ['thr:busy-a'], calls: 0 });
  await until(() => Atomics.load(ctl, 1) === 1, 'the worker to spin');
  const before = jf.readEnabledFunctions();
  jf.setThreadTimeout(300);
  const ops = jf.createOps({ func: { module: new URL('../fixtures/threads/handlers.js?fresh', import.meta.url).href, export: 'countEntry' }, name: 'late' });
  await jf.ftraceSetFilter(ops, 'thr:busy-a');
  await assert.rejects(jf.registerFtraceFunction(ops), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'ETIMEDOUT');
    assert.match(e.message, new RegExp(`thread\\(s\\) ${w.threadId} did not load`));
    return true;
  });
  assert.equal(ops.registered, false);
  assert.equal(jf.readEnabledFunctions(), before);
  Atomics.store(ctl, 0, 1);
  await w.exit;
  jf.setThreadTimeout(10_000);
  // With the worker gone, the same registration succeeds.
  await jf.registerFtraceFunction(ops);
  await jf.unregisterFtraceFunction(ops);
});

test('an unregister that times out on a thread stuck in a callback stays pending: registering is EBUSY, calling it again waits for it', async () => {
  jf.defineSites('thr:stuck', [{ name: 'thr:stuck-a' }]);
  Atomics.store(ctl, 2, 0);
  Atomics.store(ctl, 3, 0);
  const ops = jf.createOps({ func: { module: handlers, export: 'stuckEntry' }, name: 'stuck' });
  await jf.ftraceSetFilter(ops, 'thr:stuck-a');
  await jf.registerFtraceFunction(ops);
  const w = start({ mode: 'call', key: 'thr:stuck', names: ['thr:stuck-a'], calls: 1 });
  await until(() => Atomics.load(ctl, 3) === 1, 'the worker to be inside the callback');
  jf.setThreadTimeout(200);
  try {
    await assert.rejects(jf.unregisterFtraceFunction(ops), { code: 'ETIMEDOUT' });
    assert.equal(ops.registered, false);
    // Not "not registered": the removal is still under way.
    await assert.rejects(jf.registerFtraceFunction(ops), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'EBUSY');
      assert.match(e.message, /call the unregister function again to wait for it/);
      return true;
    });
    await assert.rejects(jf.unregisterFtraceFunction(ops), { code: 'ETIMEDOUT' }, 'still stuck: waits again, times out again');
    jf.setThreadTimeout(10_000);
    const waiting = jf.unregisterFtraceFunction(ops);
    const alsoWaiting = jf.unregisterFtraceFunction(ops); // a concurrent caller shares the wait
    Atomics.store(ctl, 2, 1);
    await waiting;
    await alsoWaiting;
    assert.equal(counts[w.threadId], 1);
    await w.message;
    await w.exit;
    // Done: the ops is an ordinary unregistered ops again.
    await assert.rejects(jf.unregisterFtraceFunction(ops), { code: 'EINVAL' });
    await jf.registerFtraceFunction(ops);
    await jf.unregisterFtraceFunction(ops);
  } finally {
    Atomics.store(ctl, 2, 1);
    jf.setThreadTimeout(10_000);
  }
});
