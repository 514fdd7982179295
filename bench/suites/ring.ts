/**
 * Ring buffer throughput, one thread: events written per second (by clock and
 * by write path), and events read and decoded per second (consuming reader,
 * non-consuming iterator).
 *
 * Owns: bench/results/ring.json. Each figure is the median of RUNS runs in
 * this process, with min and max. Events are 16 bytes as write2 makes them
 * (header, common word, two payload words). Writes go to a ring of the
 * default 1408 KB in overwrite mode (a flight recorder in steady state, in
 * cache) and to a 68 MB one (every run streams through memory); the baseline
 * stores the same four words per event into a plain Int32Array of 1408 KB,
 * wrapping, so the gap to it is the ring's own cost. Reads take EVENTS events
 * from the 68 MB ring, written beforehand, so they come from memory as they
 * would from another thread's ring. Targets (design brief, section 6):
 * >= 100 M/s written, >= 50 M/s read and decoded, per thread.
 */

import {
  attachReader, attachWriter, createRing, iterateRing, makeClock, READ_EMPTY, READ_EVENT, type RingWriter,
} from '../../src/ring/index.js';
import { consume, nowNs, summarize, type Summary, writeResults } from '../harness.js';

const RUNS = 7;
const EVENTS = 4_000_000;
/** Room for EVENTS events of 16 bytes plus page headers. */
const BIG_KB = 65536 + 4096;
const SMALL_KB = 1408;

function rate(events: number, ns: number): number {
  return events / (ns / 1e9);
}

const plain = new Int32Array((SMALL_KB * 1024) >> 2);

function baseline(): number {
  const w = plain;
  const end = w.length - 4;
  let p = 0;
  const t0 = nowNs();
  for (let i = 0; i < EVENTS; i++) {
    if (p > end) p = 0;
    w[p] = 3 << 5;
    w[p + 1] = 1;
    w[p + 2] = i;
    w[p + 3] = 7;
    p += 4;
  }
  const ns = nowNs() - t0;
  consume(w[2]);
  return rate(EVENTS, ns);
}

function writeRun(w: RingWriter): number {
  w.reset();
  const t0 = nowNs();
  for (let i = 0; i < EVENTS; i++) w.write2(1, i, 7);
  const ns = nowNs() - t0;
  w.flush();
  return rate(EVENTS, ns);
}

function reserveRun(w: RingWriter): number {
  w.reset();
  const words = w.words;
  const t0 = nowNs();
  for (let i = 0; i < EVENTS; i++) {
    const p = w.reserve(1, 2);
    if (p >= 0) {
      words[p] = i;
      words[p + 1] = 7;
    }
  }
  const ns = nowNs() - t0;
  w.flush();
  return rate(EVENTS, ns);
}

function fill(w: RingWriter): void {
  w.reset();
  for (let i = 0; i < EVENTS; i++) w.write2(1, i, 7);
  w.flush();
}

/** Consuming read: every event's timestamp, type and payload touched. */
function pipeRun(w: RingWriter): number {
  fill(w);
  const r = attachReader(w.ring);
  const ev = r.event;
  let n = 0;
  let sum = 0;
  const t0 = nowNs();
  for (;;) {
    const st = r.next();
    if (st === READ_EVENT) {
      sum += ev.ts + ev.type + ev.data[ev.at + 1]! + ev.data[ev.at + 2]!;
      n++;
    } else if (st === READ_EMPTY) {
      break;
    }
  }
  const ns = nowNs() - t0;
  if (n !== EVENTS) throw new Error(`read ${n} of ${EVENTS}`);
  consume(sum);
  return rate(n, ns);
}

function iterRun(w: RingWriter): number {
  const it = iterateRing(w.ring);
  const ev = it.event;
  let n = 0;
  let sum = 0;
  const t0 = nowNs();
  while (it.next() === READ_EVENT) {
    sum += ev.ts + ev.type + ev.data[ev.at + 1]! + ev.data[ev.at + 2]!;
    n++;
  }
  const ns = nowNs() - t0;
  if (n !== EVENTS) throw new Error(`iterated ${n} of ${EVENTS}`);
  consume(sum);
  return rate(n, ns);
}

/** ns per call of the local clock, through an object field as the writer calls it. */
function localClockNs(): number {
  const src = makeClock('local');
  const n = 2_000_000;
  let s = 0;
  const t0 = nowNs();
  for (let i = 0; i < n; i++) s += src.now();
  const ns = nowNs() - t0;
  consume(s);
  return ns / n;
}

function runs(fn: () => number): Summary {
  fn(); // warm-up: optimised code before the measured runs
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) xs.push(fn());
  return summarize(xs);
}

const small = attachWriter(createRing({ sizeKb: SMALL_KB, mode: 'overwrite', clock: 'counter' }));
const big = attachWriter(createRing({ sizeKb: BIG_KB, mode: 'producer', clock: 'counter' }));
const local = attachWriter(createRing({ sizeKb: SMALL_KB, mode: 'overwrite', clock: 'local' }));

const rates: Record<string, Summary> = {
  'baseline: plain stores, no ring': runs(baseline),
  'write2, counter, 1408 KB ring': runs(() => writeRun(small)),
  'write2, counter, 68 MB ring': runs(() => writeRun(big)),
  'reserve+fill, counter, 1408 KB': runs(() => reserveRun(small)),
  'write2, local clock, 1408 KB': runs(() => writeRun(local)),
  'read+decode, consuming (pipe)': runs(() => pipeRun(big)),
};
fill(big); // the iterator consumes nothing: one fill serves every run
rates['read+decode, iterator (trace)'] = runs(() => iterRun(big));
// The cost of a write above its clock: clock and writes measured in
// alternation, so that drifts of this shared machine hit both alike.
const clockXs: number[] = [];
const aboveXs: number[] = [];
localClockNs();
for (let i = 0; i < RUNS; i++) {
  const c = localClockNs();
  const wns = 1e9 / writeRun(local);
  clockXs.push(c);
  aboveXs.push(wns - c);
}
const clockNs = summarize(clockXs);
const above = summarize(aboveXs);

process.stdout.write(`ring, one thread, ${EVENTS / 1e6} M events of 16 bytes per run, median of ${RUNS} (min, max)\n`);
const m = (v: number): string => (v / 1e6).toFixed(1);
for (const [k, s] of Object.entries(rates)) {
  process.stdout.write(`${k.padEnd(34)} ${m(s.median).padStart(7)} M events/s  (${m(s.min)}, ${m(s.max)})\n`);
}
process.stdout.write(`local clock alone: ${clockNs.median.toFixed(1)} ns a call; a write with it costs `
  + `${above.median.toFixed(1)} ns above the clock (${above.min.toFixed(1)}, ${above.max.toFixed(1)})\n`);
const w = rates['write2, counter, 1408 KB ring']!;
const r = rates['read+decode, consuming (pipe)']!;
process.stdout.write(`targets: write >= 100 M/s: ${m(w.median)} ${w.median >= 1e8 ? 'met' : 'NOT met'}; `
  + `read+decode >= 50 M/s: ${m(r.median)} ${r.median >= 5e7 ? 'met' : 'NOT met'}\n`);
process.stdout.write(`written to ${writeResults('ring', {
  events: EVENTS, runs: RUNS, rates, localClockNs: clockNs, localWriteNsAboveClock: above,
})}\n`);
