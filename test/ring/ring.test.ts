/**
 * Exact behaviour of one ring in one thread: capacity, producer and
 * overwrite accounting, when events become visible, time extends and stamps,
 * long events, reset, clock change, resize, mode change, and the errors.
 *
 * The small ring used throughout: pages of 128 bytes (24 data words), four of
 * them; a write1 event is 3 words (header, common word, one word), so a page
 * holds 8 of them and the ring 32.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { code } from './support.js';
import {
  attachReader, attachWriter, clockListText, createRing, customClock, iterateRing, openRing, READ_EMPTY, READ_EVENT,
  READ_LOST, READ_RETIRED, countUnsaved, formatStats, ringStats, unpublishedEvents, type PipeReader, type Ring, type RingOptions, type TraceIterator,
} from '../../src/ring/index.js';
import { LOCK_FREE, LOCK_HELD, R_LOCK, R_WRITER } from '../../src/ring/layout.js';
import { lockWord, unlockWord } from '../../src/ring/lock.js';

const SMALL: RingOptions = { pageBytes: 128, sizeKb: 0.5, clock: 'counter' };

type Item = { lost: number } | { ts: number; type: number; flags: number; words: number[]; serial: number };

/** Everything a reader returns until READ_EMPTY (or READ_RETIRED), as plain data. */
function drain(r: PipeReader | TraceIterator, limit = 1e6): Item[] {
  const out: Item[] = [];
  for (let n = 0; n < limit; n++) {
    const st = r.next();
    if (st === READ_EVENT) {
      const e = r.event;
      const words: number[] = [];
      for (let i = 1; i < e.words; i++) words.push(e.data[e.at + i]!);
      out.push({ ts: e.ts, type: e.type, flags: e.flags, words, serial: e.serial });
    } else if (st === READ_LOST) {
      out.push({ lost: r.lost });
    } else {
      break;
    }
  }
  return out;
}

/** The first payload word of each event, and `L<n>` for each loss notice. */
function values(items: Item[]): (number | string)[] {
  return items.map((it) => ('lost' in it ? `L${it.lost}` : it.words[0]!));
}

function range(from: number, to: number): number[] {
  const a: number[] = [];
  for (let i = from; i < to; i++) a.push(i);
  return a;
}

function balanced(ring: Ring): void {
  const s = ringStats(ring);
  assert.equal(s.written, s.entries + s.read + s.overrun, 'written = entries + read + overrun');
}

test('geometry: buffer_size_kb rounds up to whole pages, at least two', () => {
  assert.equal(createRing(SMALL).geometry.nrPages, 4);
  assert.equal(createRing({ ...SMALL, sizeKb: 0.3 }).geometry.nrPages, 3);
  assert.equal(createRing({ ...SMALL, sizeKb: 0.01 }).geometry.nrPages, 2);
  assert.equal(createRing({ ...SMALL, sizeKb: 0.3 }).sizeKb, 0.375);
  assert.equal(createRing().sizeKb, 1408);
  assert.equal(code(() => createRing({ pageBytes: 100 })), 'EINVAL');
  assert.equal(code(() => createRing({ pageBytes: 65536 })), 'EINVAL');
  assert.equal(code(() => createRing({ sizeKb: 0 })), 'EINVAL');
  assert.equal(code(() => createRing({ sizeKb: 1e9 })), 'ENOMEM');
  assert.equal(code(() => createRing({ mode: 'sometimes' as never })), 'EINVAL');
  assert.equal(code(() => createRing({ clock: 'sundial' as never })), 'EINVAL');
});

test('producer mode: exactly the capacity fits, the next event is dropped and counted', () => {
  const ring = createRing({ ...SMALL, mode: 'producer' });
  const w = attachWriter(ring);
  for (let i = 0; i < 32; i++) w.write1(1, i);
  w.flush();
  let s = ringStats(ring);
  assert.deepEqual([s.entries, s.written, s.dropped, s.overrun, s.bytes], [32, 32, 0, 0, 32 * 12]);
  w.write1(1, 32);
  w.write1(1, 33);
  s = ringStats(ring);
  assert.deepEqual([s.entries, s.dropped], [32, 2]);
  const r = attachReader(ring);
  assert.deepEqual(values(drain(r)), range(0, 32));
  // Space is free again, also the slot of the page drained while it was the tail.
  for (let i = 100; i < 133; i++) w.write1(1, i);
  w.flush();
  s = ringStats(ring);
  assert.deepEqual([s.entries, s.dropped, s.read, s.written], [32, 3, 32, 64]);
  assert.deepEqual(values(drain(r)), range(100, 132));
  balanced(ring);
});

test('overwrite mode: the oldest page goes, its events counted in overrun and announced', () => {
  const ring = createRing({ ...SMALL, mode: 'overwrite' });
  const w = attachWriter(ring);
  for (let i = 0; i < 40; i++) w.write1(1, i);
  w.flush();
  const s = ringStats(ring);
  assert.deepEqual([s.entries, s.written, s.overrun, s.dropped], [32, 40, 8, 0]);
  const r = attachReader(ring);
  assert.deepEqual(values(drain(r)), ['L8', ...range(8, 40)]);
  assert.deepEqual([ringStats(ring).read, ringStats(ring).entries], [32, 0]);
  balanced(ring);
});

test('overwrite after a partial read counts only the unread part of the page', () => {
  const ring = createRing({ ...SMALL, mode: 'overwrite' });
  const w = attachWriter(ring);
  const r = attachReader(ring);
  for (let i = 0; i < 3; i++) w.write1(1, i);
  w.flush();
  assert.deepEqual(values(drain(r)), [0, 1, 2]);
  for (let i = 3; i < 33; i++) w.write1(1, i); // page 0 full, three more, then page 0's slot again
  w.flush();
  const s = ringStats(ring);
  assert.deepEqual([s.written, s.read, s.overrun, s.entries], [33, 3, 5, 25]);
  assert.deepEqual(values(drain(r)), ['L5', ...range(8, 33)]);
  balanced(ring);
});

test('an event is published by the next commit: commitWords, a full page, or flush', () => {
  const ring = createRing({ ...SMALL, mode: 'producer' });
  const w = attachWriter(ring, { commitWords: 1 });
  const r = attachReader(ring);
  w.write1(1, 0);
  assert.equal(r.next(), READ_EMPTY, 'not yet committed');
  assert.equal(ringStats(ring).written, 0);
  w.write1(1, 1); // commits the first
  assert.deepEqual(values(drain(r)), [0]);
  w.flush();
  assert.deepEqual(values(drain(r)), [1]);

  const ring2 = createRing({ ...SMALL, mode: 'producer' });
  const w2 = attachWriter(ring2, { commitWords: 1000 });
  const r2 = attachReader(ring2);
  for (let i = 0; i < 8; i++) w2.write1(1, i);
  assert.equal(r2.next(), READ_EMPTY, 'a page not yet full and no flush');
  w2.write1(1, 8); // the page is full: it is closed, all eight published
  assert.deepEqual(values(drain(r2)), range(0, 8));
  w2.flush();
  assert.deepEqual(values(drain(r2)), [8]);
});

test('timestamps: deltas, the largest delta, time extends, clock going back (absolute stamps)', () => {
  const script = [5, 5, 6, 6 + 2 ** 27 - 1, 6 + 2 ** 27 - 1 + 2 ** 27, 2 ** 45, 2 ** 45 + 3, 1000, 1001, 2 ** 52];
  const feed = [0, ...script]; // the first reading is the ring's clock anchor
  let k = 0;
  const ring = createRing({ pageBytes: 1024, sizeKb: 8, mode: 'producer' });
  const w = attachWriter(ring, { clock: customClock('script', () => feed[k++]!) });
  for (let i = 0; i < script.length; i++) w.write1(7 | (i << 16), i);
  w.flush();
  const got = drain(attachReader(ring));
  assert.deepEqual(got.map((e) => ('ts' in e ? e.ts : -1)), script);
  assert.deepEqual(got.map((e) => ('ts' in e ? e.flags : -1)), range(0, script.length));
  assert.deepEqual(got.map((e) => ('ts' in e ? e.type : -1)), script.map(() => 7));
  // Extends and stamps are not events: serial numbers run on.
  assert.deepEqual(got.map((e) => ('ts' in e ? e.serial : -1)), range(0, script.length));
});

test('every payload size, including long events (type_len 0), decodes intact', () => {
  const ring = createRing({ pageBytes: 1024, sizeKb: 64, mode: 'producer', clock: 'counter' });
  const w = attachWriter(ring);
  w.write0(1);
  w.write1(2, -1);
  w.write2(3, 1, 2);
  w.write3(4, 1, 2, 3);
  w.write4(5, 1, 2, 3, 4);
  w.writeWords(6, range(0, 27), 0, 27); // 28 payload words: largest short form
  w.writeWords(7, range(0, 100), 0, 100); // long form
  const p = w.reserve(8, 2);
  w.words[p] = 0x7fffffff;
  w.words[p + 1] = -0x80000000;
  w.flush();
  const got = drain(attachReader(ring)).map((e) => ('ts' in e ? [e.type, e.words] : e));
  assert.deepEqual(got, [
    [1, []], [2, [-1]], [3, [1, 2]], [4, [1, 2, 3]], [5, [1, 2, 3, 4]], [6, range(0, 27)], [7, range(0, 100)],
    [8, [0x7fffffff, -0x80000000]],
  ]);
  assert.equal(code(() => w.reserve(1, 1024)), 'EINVAL');
  assert.equal(code(() => w.reserve(1, -1)), 'EINVAL');
  assert.equal(code(() => w.reserve(1, -7)), 'EINVAL');
});

test('one writer per ring; a second one is refused until the first detaches', () => {
  const ring = createRing(SMALL);
  const w = attachWriter(ring);
  assert.equal(code(() => attachWriter(ring)), 'EBUSY');
  w.detach();
  assert.doesNotThrow(() => attachWriter(ring).detach());
  assert.equal(code(() => attachWriter(ring, { clock: 'sundial' })), 'EINVAL');
  assert.doesNotThrow(() => attachWriter(ring), 'a refused attach leaves the ring unclaimed');
  const ring2 = createRing(SMALL);
  Atomics.store(ring2.i32, R_WRITER, 12345); // claimed by a thread that died
  assert.equal(code(() => attachWriter(ring2)), 'EBUSY');
  assert.doesNotThrow(() => attachWriter(ring2, { force: true }));
});

test('a writer attaching to a ring with events continues it, with an absolute timestamp', () => {
  const ring = createRing({ pageBytes: 1024, sizeKb: 8, mode: 'producer', clock: 'counter' });
  const w = attachWriter(ring);
  for (let i = 0; i < 5; i++) w.write1(1, i);
  w.detach();
  const w2 = attachWriter(ring); // counter clock restarts at 1
  w2.write1(1, 5);
  w2.flush();
  const got = drain(attachReader(ring));
  assert.deepEqual(values(got), range(0, 6));
  assert.deepEqual(got.map((e) => ('ts' in e ? e.ts : -1)), [1, 2, 3, 4, 5, 1]);
});

test('the trace iterator consumes nothing and stops at what was published when it began', () => {
  const ring = createRing({ ...SMALL, mode: 'producer' });
  const w = attachWriter(ring);
  for (let i = 0; i < 20; i++) w.write1(1, i);
  w.flush();
  const it = iterateRing(ring);
  assert.deepEqual(values(drain(it, 5)), range(0, 5));
  for (let i = 20; i < 25; i++) w.write1(1, i);
  w.flush();
  assert.deepEqual(values(drain(it)), range(5, 20));
  assert.deepEqual(values(drain(iterateRing(ring))), range(0, 25));
  const r = attachReader(ring);
  assert.deepEqual(values(drain(r, 3)), range(0, 3));
  // The pipe took the whole first page (a run); the iterator starts after what it consumed.
  assert.deepEqual(values(drain(iterateRing(ring))), range(8, 25));
  assert.equal(ringStats(ring).entries, 17);
});

test('reset empties the ring and zeroes the counters; iterators of before stop', () => {
  const ring = createRing({ ...SMALL, mode: 'producer' });
  const w = attachWriter(ring);
  for (let i = 0; i < 40; i++) w.write1(1, i);
  w.flush();
  const it = iterateRing(ring);
  assert.deepEqual(values(drain(it, 2)), [0, 1]);
  w.reset();
  const s = ringStats(ring);
  assert.deepEqual([s.entries, s.written, s.dropped, s.overrun, s.read, s.bytes], [0, 0, 0, 0, 0, 0]);
  assert.ok(Number.isNaN(s.oldestTs) && Number.isNaN(s.nowTs));
  // The rest of the first image is already copied out; after it, nothing.
  assert.deepEqual(values(drain(it)), range(2, 8));
  w.write1(1, 99);
  w.flush();
  assert.deepEqual(values(drain(attachReader(ring))), [99]);
});

test('changing the clock resets the ring, and trace_clock shows the current one', () => {
  const ring = createRing({ ...SMALL, clock: 'local' });
  assert.equal(clockListText(ring.clockName), '[local] global counter mono\n');
  const w = attachWriter(ring);
  w.write1(1, 1);
  w.flush();
  w.setClock('counter');
  assert.equal(ring.clockName, 'counter');
  assert.equal(clockListText(ring.clockName), 'local global [counter] mono\n');
  assert.equal(ringStats(ring).written, 0);
  w.write1(1, 2);
  w.flush();
  const got = drain(attachReader(ring));
  assert.deepEqual(got.map((e) => ('ts' in e ? [e.ts, e.words[0]] : e)), [[1, 2]]);
  assert.equal(code(() => w.setClock('hourglass')), 'EINVAL');
});

test('resize: a new ring; unread events are discarded and counted; counters and serials carry on', () => {
  const ring = createRing({ ...SMALL, mode: 'producer' });
  const w = attachWriter(ring);
  for (let i = 0; i < 10; i++) w.write1(1, i);
  w.flush();
  const old = attachReader(ring);
  assert.deepEqual(values(drain(old)), range(0, 10));
  for (let i = 10; i < 16; i++) w.write1(1, i);
  w.write1(1, 999); // left uncommitted on purpose: resize publishes, then discards it with the rest
  assert.equal(code(() => w.resize(-1)), 'EINVAL');
  assert.equal(ring.retired, false, 'a refused resize changes nothing');
  const fresh = w.resize(1);
  assert.equal(fresh.sizeKb, 1);
  assert.equal(fresh.geometry.nrPages, 8);
  assert.equal(ring.retired, true);
  assert.equal(old.next(), READ_RETIRED);
  assert.equal(code(() => attachWriter(ring)), 'EINVAL');
  for (let i = 20; i < 23; i++) w.write1(1, i);
  w.flush();
  const s = ringStats(fresh);
  assert.deepEqual([s.written, s.read, s.overrun, s.entries, s.dropped], [20, 10, 7, 3, 0]);
  // A reader moving to the new ring learns how many it missed.
  assert.deepEqual(values(drain(attachReader(openRing(fresh.sab)))), ['L7', 20, 21, 22]);
  balanced(fresh);
});

test('mode switches at the next page boundary, from any thread', () => {
  const ring = createRing({ ...SMALL, mode: 'producer' });
  const w = attachWriter(ring);
  for (let i = 0; i < 33; i++) w.write1(1, i);
  assert.equal(ringStats(ring).dropped, 1);
  openRing(ring.sab).setMode('overwrite');
  assert.equal(ring.mode, 'overwrite');
  w.write1(1, 33);
  w.flush();
  const s = ringStats(ring);
  assert.deepEqual([s.dropped, s.overrun, s.written, s.entries], [1, 8, 33, 25]);
  assert.deepEqual(values(drain(attachReader(ring))), ['L8', ...range(8, 32), 33]);
});

test('stats: oldest and newest timestamps, bytes, and the text of per_thread/N/stats', () => {
  let now = 2_000_000_000 - 1500; // the first reading is the ring's clock anchor
  const ring = createRing({ ...SMALL, mode: 'overwrite' });
  const w = attachWriter(ring, { clock: customClock('step', () => (now += 1500)) });
  for (let i = 0; i < 10; i++) w.write1(1, i);
  w.flush();
  const s = ringStats(ring);
  assert.equal(s.oldestTs, 2_000_001_500);
  assert.equal(s.nowTs, 2_000_015_000);
  assert.equal(s.bytes, 120);
  attachReader(ring).next(); // takes the first page (8 events)
  const t = ringStats(ring);
  assert.equal(t.oldestTs, 2_000_013_500);
  assert.equal(t.bytes, 24);
  assert.equal(formatStats(t), [
    'entries: 2', 'overrun: 0', 'commit overrun: 0', 'bytes: 24', 'oldest event ts:     2.000013',
    'now ts:     2.000015', 'dropped events: 0', 'read events: 8', 'unsaved events: 0', '',
  ].join('\n'));
});

test('openRing refuses what is not a ring of this format', () => {
  const ring = createRing(SMALL);
  assert.equal(code(() => openRing(new SharedArrayBuffer(16))), 'EINVAL');
  const copy = new SharedArrayBuffer(ring.sab.byteLength);
  new Int32Array(copy).set(ring.i32);
  new Int32Array(copy)[1] = 99; // format major
  assert.equal(code(() => openRing(copy)), 'EINVAL');
  new Int32Array(copy)[0] = 0; // magic
  assert.equal(code(() => openRing(copy)), 'EINVAL');
});

test('a reader lock left held (its thread died) gives EBUSY after the timeout, not a hang', () => {
  const ring = createRing(SMALL);
  Atomics.store(ring.i32, R_LOCK, LOCK_HELD);
  assert.equal(code(() => lockWord(ring.i32, R_LOCK, 'ring reader', 30)), 'EBUSY');
  Atomics.store(ring.i32, R_LOCK, LOCK_FREE);
  lockWord(ring.i32, R_LOCK, 'ring reader', 30);
  unlockWord(ring.i32, R_LOCK);
  assert.equal(Atomics.load(ring.i32, R_LOCK), LOCK_FREE);
});

test('at process exit, a running writer\'s unpublished events are counted as unsaved once, whoever counts them', () => {
  // Each of the ending thread and the drain of a streaming record counts
  // the rings it knows; a ring known to both must not count twice.
  const ring = createRing(SMALL);
  const w = attachWriter(ring);
  w.write1(1, 7);
  assert.equal(unpublishedEvents(ring), 1, 'published every quarter page: not yet');
  assert.equal(countUnsaved(ring), 1);
  assert.equal(countUnsaved(ring), 0, 'counted once');
  assert.equal(countUnsaved(openRing(ring.sab)), 0, 'also through another view of the ring');
  assert.equal(ringStats(ring).unsaved, 1);
  assert.deepEqual(values(drain(attachReader(ring))), [], 'it is not shown');
});
