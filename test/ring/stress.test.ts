/**
 * Writers in worker threads, readers in the main thread or in workers, all at
 * once: no event torn, none taken twice, and every event either read, counted
 * as dropped (producer mode) or reported lost and counted as overrun
 * (overwrite mode), with the exact numbers. Bounded in events and time; no
 * assertion depends on timing (how many are dropped varies, the accounting
 * must not).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import {
  attachReader, createRing, iterateRing, READ_EMPTY, READ_EVENT, READ_LOST, ringStats, type Ring, type RingMode,
} from '../../src/ring/index.js';
import { mix, workerPath } from './support.js';

const DEADLINE_MS = 20_000;

interface WriterResult {
  dropped: number;
  droppedSum: number;
}
interface ReaderResult {
  count: number;
  lost: number;
  errors: number;
}

const exited = new WeakMap<Worker, Promise<unknown>>();
/** Workers not yet known to have exited; each test ends by terminating them. */
const live = new Set<Worker>();

function spawn(data: object): Worker {
  const w = new Worker(workerPath, { workerData: data });
  live.add(w);
  // Listen now: a worker may exit before the test gets to wait for it.
  exited.set(w, once(w, 'exit').finally(() => live.delete(w)));
  return w;
}

/**
 * Runs a test body; whatever happens, no worker outlives it. Without this a
 * failed writer would leave its readers waiting, and the process would not exit.
 */
async function bounded(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } finally {
    await Promise.all([...live].map((w) => w.terminate()));
  }
}

async function online(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => once(w, 'online')));
}

async function results<T>(workers: Worker[], pending: Promise<unknown[]>[]): Promise<T[]> {
  const out = (await Promise.all(pending)).map((m) => m[0] as T);
  await Promise.all(workers.map((w) => exited.get(w)));
  return out;
}

/** Per ring: what the main-thread reader saw. */
interface Seen {
  next: number;
  /** Events announced lost since the last event. */
  gap: number;
  count: number;
  sum: number;
  lost: number;
  errors: number;
}

/**
 * Writers on their own rings, one reader in this thread polling all of them
 * while they write. In overwrite mode every gap must be announced by a
 * READ_LOST of exactly its size.
 */
async function writersAndMainReader(mode: RingMode, nWriters: number, count: number, sizeKb: number, pageBytes: number, prefill: number): Promise<void> {
  const rings: Ring[] = [];
  for (let i = 0; i < nWriters; i++) rings.push(createRing({ sizeKb, pageBytes, mode, clock: 'counter' }));
  const control = new SharedArrayBuffer(16);
  const ctl = new Int32Array(control);
  const workers = rings.map((r, id) => spawn({ role: 'writer', sab: r.sab, control, id, count, writers: nWriters, prefill }));
  const pending = workers.map((w) => once(w, 'message'));
  await online(workers);
  const readers = rings.map((r) => attachReader(r));
  const seen: Seen[] = rings.map(() => ({ next: 0, gap: 0, count: 0, sum: 0, lost: 0, errors: 0 }));
  const started = Date.now();
  Atomics.store(ctl, 0, 1);
  Atomics.notify(ctl, 0);
  while (Atomics.load(ctl, 2) < nWriters) {
    if (Atomics.load(ctl, 3) !== 0) assert.fail('a writer failed');
    if (Date.now() - started > DEADLINE_MS) assert.fail('writers did not prefill in time');
  }
  for (;;) {
    const done = Atomics.load(ctl, 1) === nWriters;
    let idle = true;
    for (let k = 0; k < readers.length; k++) {
      const r = readers[k]!;
      const s = seen[k]!;
      const ev = r.event;
      // A bounded batch per ring, so every ring is polled while writers run.
      for (let n = 0; n < 4096; n++) {
        const st = r.next();
        if (st === READ_EVENT) {
          idle = false;
          const i = ev.i32(2);
          if (ev.type !== 1 || ev.i32(1) !== k || ev.i32(3) !== mix(k, i) || i < s.next) s.errors++;
          if (mode === 'overwrite' && i - s.next !== s.gap) s.errors++;
          s.gap = 0;
          s.next = i + 1;
          s.count++;
          s.sum += i;
        } else if (st === READ_LOST) {
          idle = false;
          s.gap += r.lost;
          s.lost += r.lost;
        } else {
          break;
        }
      }
    }
    if (done && idle) break;
    if (Atomics.load(ctl, 3) !== 0) assert.fail('a writer failed');
    if (Date.now() - started > DEADLINE_MS) assert.fail('stress run exceeded its deadline');
  }
  const res = await results<WriterResult>(workers, pending);
  const total = (count * (count - 1)) / 2;
  for (let k = 0; k < nWriters; k++) {
    const s = seen[k]!;
    const w = res[k]!;
    const st = ringStats(rings[k]!);
    assert.equal(s.errors, 0, `ring ${k}: torn, foreign, reordered or unannounced events`);
    assert.equal(st.entries, 0);
    assert.equal(st.read, s.count);
    assert.equal(st.written, s.count + s.lost);
    assert.ok(s.count > 0);
    // A prefill beyond capacity makes some loss certain, whatever the scheduling.
    if (prefill > 0) assert.ok(st.dropped + st.overrun > 0, 'the prefill overflowed the ring');
    if (mode === 'producer') {
      assert.equal(s.lost, 0, 'producer mode never overwrites');
      assert.equal(st.overrun, 0);
      assert.equal(st.dropped, w.dropped);
      assert.equal(s.count + w.dropped, count);
      assert.equal(s.sum + w.droppedSum, total, 'the events missing are exactly the ones the writer saw dropped');
    } else {
      assert.equal(w.dropped, 0, 'overwrite mode never drops');
      assert.equal(st.dropped, 0);
      assert.equal(st.overrun, s.lost);
      assert.equal(s.count + s.lost, count);
    }
  }
}

test('producer mode within capacity: three writers, one reader, nothing lost', { timeout: 60_000 }, async () => {
  // 200k events of 5 words = 4 MB per ring: each ring holds all of them.
  await bounded(() => writersAndMainReader('producer', 3, 200_000, 4096, 4096, 0));
});

test('producer mode beyond capacity: drops counted exactly, never an overwrite', { timeout: 60_000 }, async () => {
  // An 8 KB ring holds about 400 such events; 20,000 are written before reading starts.
  await bounded(() => writersAndMainReader('producer', 2, 400_000, 8, 512, 20_000));
});

test('overwrite mode beyond capacity: every gap announced with its exact size', { timeout: 60_000 }, async () => {
  await bounded(() => writersAndMainReader('overwrite', 2, 400_000, 8, 512, 20_000));
});

/** One writer, two consuming readers in two more threads, on one ring. */
async function twoReaders(mode: RingMode): Promise<void> {
  const count = 300_000;
  const ring = createRing({ sizeKb: 16, pageBytes: 1024, mode, clock: 'counter' });
  const control = new SharedArrayBuffer(16);
  const seen = new SharedArrayBuffer(count);
  const prefill = 20_000; // the 16 KB ring holds about 800
  const writer = spawn({ role: 'writer', sab: ring.sab, control, id: 0, count, writers: 1, prefill });
  const readers = [0, 1].map(() => spawn({ role: 'reader', sab: ring.sab, control, id: 0, count, writers: 1, seen, prefill }));
  const wp = once(writer, 'message');
  const rp = readers.map((r) => once(r, 'message'));
  await online([writer, ...readers]);
  const ctl = new Int32Array(control);
  Atomics.store(ctl, 0, 1);
  Atomics.notify(ctl, 0);
  const [w] = await results<WriterResult>([writer], [wp]);
  const rs = await results<ReaderResult>(readers, rp);
  const marks = new Uint8Array(seen);
  let twice = 0;
  let once_ = 0;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    if (marks[i]! > 1) twice++;
    if (marks[i] === 1) {
      once_++;
      sum += i;
    }
  }
  const got = rs[0]!.count + rs[1]!.count;
  const lost = rs[0]!.lost + rs[1]!.lost;
  const st = ringStats(ring);
  assert.equal(twice, 0, 'an event was consumed by both readers');
  assert.equal(rs[0]!.errors + rs[1]!.errors, 0, 'torn or reordered events');
  assert.equal(once_, got);
  assert.equal(st.read, got);
  assert.equal(st.entries, 0);
  assert.ok(got > 0);
  assert.ok(st.dropped + st.overrun > 0, 'the prefill overflowed the ring');
  if (mode === 'producer') {
    assert.equal(lost, 0);
    assert.equal(got + w!.dropped, count);
    assert.equal(sum + w!.droppedSum, (count * (count - 1)) / 2);
    assert.equal(st.dropped, w!.dropped);
  } else {
    assert.equal(got + lost, count);
    assert.equal(st.overrun, lost);
  }
}

test('two consuming readers in two threads: each event to one of them (producer)', { timeout: 60_000 }, async () => {
  await bounded(() => twoReaders('producer'));
});

test('two consuming readers in two threads: each event to one of them (overwrite)', { timeout: 60_000 }, async () => {
  await bounded(() => twoReaders('overwrite'));
});

test('trace iterator while a writer overwrites: ordered, gaps announced exactly', { timeout: 60_000 }, () => bounded(async () => {
  const count = 600_000;
  const ring = createRing({ sizeKb: 8, pageBytes: 256, mode: 'overwrite', clock: 'counter' });
  const control = new SharedArrayBuffer(16);
  const ctl = new Int32Array(control);
  const writer = spawn({ role: 'writer', sab: ring.sab, control, id: 0, count, writers: 1, prefill: count });
  const wp = once(writer, 'message');
  await online([writer]);
  Atomics.store(ctl, 0, 1);
  Atomics.notify(ctl, 0);
  let passes = 0;
  let errors = 0;
  const started = Date.now();
  while (Atomics.load(ctl, 1) === 0 && Atomics.load(ctl, 3) === 0 && Date.now() - started < DEADLINE_MS) {
    const it = iterateRing(ring);
    const ev = it.event;
    let next = -1;
    let gap = 0;
    for (;;) {
      const st = it.next();
      if (st === READ_EVENT) {
        const i = ev.i32(2);
        if (ev.i32(3) !== mix(0, i) || (next >= 0 && i - next !== gap)) errors++;
        next = i + 1;
        gap = 0;
      } else if (st === READ_LOST) {
        gap += it.lost;
      } else {
        break;
      }
    }
    passes++;
  }
  await results<WriterResult>([writer], [wp]);
  assert.equal(errors, 0, 'torn, reordered or unannounced events seen by the iterator');
  assert.ok(passes > 0);
  // After the writer stops, the iterator sees exactly the ring's entries.
  const st = ringStats(ring);
  const it = iterateRing(ring);
  let n = 0;
  while (it.next() !== READ_EMPTY) n++;
  assert.equal(n, st.entries);
  assert.equal(st.written, count);
  assert.equal(st.overrun + st.entries, count);
}));
