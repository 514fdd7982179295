/**
 * The following reader (src/ring/follower.ts): it hands out every committed
 * event once, in order, and goes on where it stopped; it consumes nothing
 * (a trace_pipe reader still gets every event); what it could not read is
 * counted exactly; a reset restarts it.
 *
 * The small ring: pages of 128 bytes (24 data words), four of them; a
 * write1 event is 3 words, so a page holds 8 events and the ring 32.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import {
  attachReader, attachWriter, createRing, followRing, READ_EMPTY, READ_EVENT, READ_LOST, type FollowReader, type PipeReader,
  type RingOptions,
} from '../../src/ring/index.js';

const SMALL: RingOptions = { pageBytes: 128, sizeKb: 0.5, clock: 'counter' };

/** First payload word of each event and `L<n>` per loss notice, until READ_EMPTY. */
function drain(r: FollowReader | PipeReader): (number | string)[] {
  const out: (number | string)[] = [];
  for (;;) {
    const st = r.next();
    if (st === READ_EVENT) out.push(r.event.data[r.event.at + 1]!);
    else if (st === READ_LOST) out.push(`L${r.lost}`);
    else return out;
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

test('follows: each event once, in order, continuing within and across pages', () => {
  const ring = createRing(SMALL);
  const w = attachWriter(ring);
  const f = followRing(ring);
  assert.deepEqual(drain(f), []);
  for (let i = 0; i < 5; i++) w.write1(1, i);
  w.flush();
  assert.deepEqual(drain(f), range(0, 5));
  assert.deepEqual(drain(f), [], 'nothing new: empty, and it stays where it was');
  for (let i = 5; i < 20; i++) w.write1(1, i);
  w.flush();
  assert.deepEqual(drain(f), range(5, 20));
  // Unpublished events are not seen until the writer publishes them.
  w.write1(1, 20);
  const before = drain(f);
  w.flush();
  assert.deepEqual([...before, ...drain(f)], [20]);
});

test('timestamps continue across runs of one page', () => {
  const ring = createRing({ ...SMALL, clock: 'local' });
  let t = 1000;
  const w = attachWriter(ring, { clock: { id: 255, name: 'test', unit: 0, now: () => t } });
  const f = followRing(ring);
  const seen: number[] = [];
  const take = (): void => {
    while (f.next() === READ_EVENT) seen.push(f.event.ts);
  };
  w.write1(1, 0);
  t = 1500;
  w.write1(1, 1);
  w.flush();
  take();
  t = 2000;
  w.write1(1, 2);
  t = 2000 + 2 ** 28; // a delta beyond 27 bits: a time extend inside the next run
  w.write1(1, 3);
  w.flush();
  take();
  assert.deepEqual(seen, [1000, 1500, 2000, 2000 + 2 ** 28]);
});

test('consumes nothing: a pipe reader still gets every event', () => {
  const ring = createRing(SMALL);
  const w = attachWriter(ring);
  const f = followRing(ring);
  const p = attachReader(ring);
  for (let i = 0; i < 12; i++) w.write1(1, i);
  w.flush();
  assert.deepEqual(drain(f), range(0, 12));
  assert.deepEqual(drain(p), range(0, 12));
});

test('what it could not read is counted exactly: overwritten pages', () => {
  const ring = createRing(SMALL);
  const w = attachWriter(ring);
  const f = followRing(ring);
  for (let i = 0; i < 3; i++) w.write1(1, i);
  w.flush();
  assert.deepEqual(drain(f), [0, 1, 2]);
  // 50 more: the ring holds 32 (the newest full pages and the tail), the
  // rest of the first pages were overwritten before the follower came back.
  for (let i = 3; i < 53; i++) w.write1(1, i);
  w.flush();
  const got = drain(f);
  const lost = Number(String(got[0]).slice(1));
  assert.equal(typeof got[0], 'string');
  assert.deepEqual(got.slice(1), range(3 + lost, 53));
  assert.equal(lost, 53 - 3 - (got.length - 1));
  assert.ok(lost > 0 && got.length - 1 >= 24, `kept ${got.length - 1}, lost ${lost}`);
});

test('pages a pipe reader took are counted as lost (the writer may reuse them at once)', () => {
  const ring = createRing(SMALL);
  const w = attachWriter(ring);
  const f = followRing(ring);
  const p = attachReader(ring);
  for (let i = 0; i < 9; i++) w.write1(1, i); // page 0 holds 0..7 and is closed
  w.flush();
  assert.deepEqual(drain(p), range(0, 9));
  // The head moved past page 0 (consumed): the follower resumes at page 1.
  assert.deepEqual(drain(f), ['L8', 8]);
  for (let i = 9; i < 40; i++) w.write1(1, i);
  w.flush();
  assert.equal(drain(p).length, 31);
  for (let i = 40; i < 44; i++) w.write1(1, i);
  w.flush();
  // Pages 1..3 (events 9..31) were consumed and the head moved past them;
  // page 4 (32..39) was consumed while it was the tail, so the head still
  // points at it (its slot is not reused yet) and the follower reads it.
  assert.deepEqual(drain(f), ['L23', ...range(32, 44)]);
});

test('a reset restarts it at the new head with no loss', () => {
  const ring = createRing(SMALL);
  const w = attachWriter(ring);
  const f = followRing(ring);
  for (let i = 0; i < 10; i++) w.write1(1, i);
  w.flush();
  assert.deepEqual(drain(f), range(0, 10));
  for (let i = 10; i < 14; i++) w.write1(1, i);
  w.reset();
  for (let i = 100; i < 103; i++) w.write1(1, i);
  w.flush();
  assert.deepEqual(drain(f), [100, 101, 102]);
});

test('a writer in another thread: values read plus counted losses add up to the values written', async () => {
  const ring = createRing({ pageBytes: 1024, sizeKb: 8, clock: 'counter' });
  const N = 200_000;
  const worker = new Worker(new URL('../fixtures/ring/follow-writer.js', import.meta.url), { workerData: { sab: ring.sab, n: N } });
  const f = followRing(ring);
  let next = 0;
  let lost = 0;
  let read = 0;
  let done = false;
  worker.once('exit', () => { done = true; });
  // Bounded by the writer: it ends after N events; we read until it has and the ring is drained.
  for (;;) {
    const st = f.next();
    if (st === READ_EVENT) {
      const v = f.event.data[f.event.at + 1]!;
      assert.equal(v, next, `value ${v} where ${next} was due`);
      next++;
      read++;
    } else if (st === READ_LOST) {
      lost += f.lost;
      next += f.lost;
    } else if (st === READ_EMPTY) {
      if (done) {
        if (f.next() === READ_EMPTY) break;
        continue;
      }
      await new Promise((r) => setImmediate(r));
    }
  }
  assert.equal(read + lost, N);
  assert.ok(read > 0);
});
