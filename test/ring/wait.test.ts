// The ring's wait mode (format 1.1), as a streaming recorder uses it: a
// writer in a worker fills a small ring much faster than the main thread
// reads it. With a long enough wait every event arrives (no gap in the
// serial numbers, nothing dropped); with a reader that never comes until
// the writer is done, the writer waits once, then refuses what does not
// fit, and every event is either in the ring or counted as dropped.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { attachReader, createRing, READ_EMPTY, READ_EVENT, READ_LOST, ringStats, type Ring } from '../../src/ring/index.js';

const ringUrl = new URL('../../src/ring/index.js', import.meta.url).href;
const WRITER = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.ringUrl).then(({ openRing, attachWriter }) => {
  const w = attachWriter(openRing(workerData.sab), { clock: 'counter', wake: { words: new Int32Array(workerData.bell), index: 0 } });
  for (let i = 0; i < workerData.count; i++) w.write2(1, i, 0);
  w.flush();
  parentPort.postMessage('done');
});`;

function startWriter(ring: Ring, count: number): { done: Promise<void>; bell: Int32Array } {
  const bell = new Int32Array(new SharedArrayBuffer(8));
  const w = new Worker(WRITER, { eval: true, workerData: { ringUrl, sab: ring.sab, count, bell: bell.buffer } });
  return { bell, done: new Promise((resolve, reject) => { w.once('message', () => resolve()); w.once('error', reject); }) };
}

/** Reads what the ring holds; returns the events read and the serial numbers' gaps. */
function drain(reader: ReturnType<typeof attachReader>, img: Int32Array, state: { next: number; events: number; gaps: number }): void {
  for (;;) {
    const st = reader.readPage(img);
    if (st !== READ_EVENT && st !== READ_LOST) return;
    const serial = img[4]! + img[5]! * 2 ** 32;
    if (serial > state.next) state.gaps += serial - state.next;
    const n = img[1]! >>> 16;
    state.next = serial + n;
    state.events += n;
  }
}

test('wait mode, a slow reader: the writer waits for it, every event arrives, nothing dropped', { timeout: 60_000 }, async () => {
  const ring = createRing({ sizeKb: 8, mode: 'wait', waitMs: 30_000, clock: 'counter' });
  const count = 200_000; // about 400 ring-fulls
  const { done } = startWriter(ring, count);
  const reader = attachReader(ring);
  const img = new Int32Array(ring.geometry.pageWords);
  const state = { next: 0, events: 0, gaps: 0 };
  let finished = false;
  void done.then(() => { finished = true; });
  while (!finished || state.events < count) {
    drain(reader, img, state);
    await new Promise((r) => setTimeout(r, 1));
    if (finished) drain(reader, img, state);
    if (finished && reader.readPage(img) === READ_EMPTY && state.events >= count) break;
  }
  await done;
  assert.deepEqual(state, { next: count, events: count, gaps: 0 });
  assert.equal(ringStats(ring).dropped, 0);
  assert.equal(ringStats(ring).overrun, 0);
});

test('wait mode, a reader that stalls: one bounded wait, then refused events are counted; kept + dropped = written', { timeout: 60_000 }, async () => {
  const ring = createRing({ sizeKb: 8, mode: 'wait', waitMs: 20, clock: 'counter' });
  const count = 50_000;
  const { done, bell } = startWriter(ring, count);
  await done;
  // The writer rang the doorbell when it had to wait.
  assert.ok(Atomics.load(bell, 0) >= 1);
  const reader = attachReader(ring);
  const img = new Int32Array(ring.geometry.pageWords);
  const state = { next: 0, events: 0, gaps: 0 };
  drain(reader, img, state);
  const st = ringStats(ring);
  assert.equal(state.gaps, 0, 'nothing was overwritten');
  assert.ok(st.dropped > 0 && state.events > 0);
  assert.equal(state.events + st.dropped, count);
});
