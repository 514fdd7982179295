/**
 * Cost of each trace clock, in ns per call, called through an object field
 * as the ring writer calls it, beside the raw Node sources they are built on.
 *
 * Owns: bench/results/clocks.json. Median of RUNS runs of CALLS calls each,
 * with min and max, and the same less the cost of calling a function that
 * returns a constant through the same loop (one call site serves every
 * source here, so it is megamorphic; the writer's is not, so the net figure
 * is the one that adds to a write). Allocation notes come from the sources, not measured
 * here: process.hrtime() returns a new array and hrtime.bigint() a new BigInt
 * per call; performance.now() and the counter allocate nothing the optimiser
 * cannot keep in registers.
 */

import { CLOCK_NAMES, globalClockError, makeClock } from '../../src/ring/index.js';
import { consume, nowNs, summarize, type Summary, writeResults } from '../harness.js';

const RUNS = 7;
const CALLS = 2_000_000;

interface Source {
  now: () => number;
}

function perCall(src: Source): number {
  let s = 0;
  const t0 = nowNs();
  for (let i = 0; i < CALLS; i++) s += src.now();
  const ns = nowNs() - t0;
  consume(s);
  return ns / CALLS;
}

function runs(src: Source): Summary {
  perCall(src); // warm-up
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) xs.push(perCall(src));
  return summarize(xs);
}

const raw: Record<string, Source> = {
  'performance.now()': { now: () => performance.now() },
  'process.hrtime()': { now: () => { const h = process.hrtime(); return h[0] * 1e9 + h[1]; } },
  'process.hrtime.bigint()': { now: () => Number(process.hrtime.bigint()) },
  'Date.now()': { now: () => Date.now() },
  'empty loop (a constant)': { now: () => 1 },
};

const results: Record<string, Summary> = {};
for (const name of CLOCK_NAMES) results[name] = runs(makeClock(name));
for (const [name, src] of Object.entries(raw)) results[name] = runs(src);

const empty = results['empty loop (a constant)']!.median;
process.stdout.write(`trace clocks, ns per call, median of ${RUNS} x ${CALLS / 1e6} M calls (min, max); net = less the empty call\n`);
const net: Record<string, number> = {};
for (const [k, v] of Object.entries(results)) {
  net[k] = v.median - empty;
  process.stdout.write(`${k.padEnd(26)} ${v.median.toFixed(1).padStart(6)} ns  (${v.min.toFixed(1)}, ${v.max.toFixed(1)})  `
    + `net ${net[k]!.toFixed(1).padStart(5)} ns\n`);
}
const err = globalClockError();
process.stdout.write(`global clock calibration error: +/- ${err} ns\n`);
process.stdout.write(`written to ${writeResults('clocks', { calls: CALLS, runs: RUNS, results, netNs: net, globalErrorNs: err })}\n`);
