// `trace` in pieces (output/stream.ts) is the one-string rendering, byte
// for byte, on traces far larger than one batch: two threads, the function
// tracer and function_graph with funcgraph-args and -retval (whose leaf
// and value lines look past the item they print, across batch bounds),
// markers, a ring that overwrote. Between two pieces the event loop turns, and
// no piece is much larger than its bound.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customClock } from '../../src/ring/index.js';
import { attach } from '../../src/public/index.js';
import * as T from '../../src/tracers/index.js';
import { currentRings, setOptionBits, OPT_GRAPH_ARGS, OPT_GRAPH_RETVAL } from '../../src/tracers/session.js';
import { functionTrace } from '../../src/tracers/output/function.js';
import { graphTrace } from '../../src/tracers/output/graph.js';
import { traceMarker } from '../../src/tracers/marker.js';
import { runWorker } from './support.js';

let now = 0;
T.setThreadClock(customClock('test', () => now));
const prog = {
  a(i: number): number { now += 1000; return prog.b(i) + (i % 3 === 0 ? prog.b(i + 1) : 0); },
  b(i: number): number { now += 2000; if (i % 5 === 0) traceMarker(`mark ${i}`); return i * 2; },
};
attach(prog, 'a', { name: 'mt:a' });
attach(prog, 'b', { name: 'mt:b' });

async function pieces(): Promise<{ text: string; sizes: number[]; turnsBetween: number[] }> {
  let turns = 0;
  let ticking = true;
  const tick = (): void => { turns++; if (ticking) setImmediate(tick); };
  setImmediate(tick);
  const sizes: number[] = [];
  const turnsBetween: number[] = [];
  let text = '';
  let last = turns;
  for await (const p of T.traceChunks()) {
    sizes.push(p.length);
    turnsBetween.push(turns - last);
    last = turns;
    text += p;
  }
  ticking = false;
  return { text, sizes, turnsBetween };
}

function checkPieces(r: { sizes: number[]; turnsBetween: number[] }): void {
  assert.ok(r.sizes.length > 5, `${r.sizes.length} pieces`);
  // 64 KiB, plus at most the line that crossed it.
  for (const s of r.sizes) assert.ok(s < 64 * 1024 + 1024, `a piece of ${s} characters`);
  // The event loop turned between every two pieces.
  assert.ok(r.turnsBetween.slice(1).every((n) => n >= 1), JSON.stringify(r.turnsBetween));
}

test('function and function_graph, 2 threads, ~30,000 events each: the pieces make the one-string text', { timeout: 120_000 }, async () => {
  T.setBufferSizeKb(4096);
  await T.setTracerFilter('mt:*');
  for (const tracer of ['function', 'function_graph'] as const) {
    await T.setCurrentTracer(tracer);
    if (tracer === 'function_graph') setOptionBits(OPT_GRAPH_ARGS | OPT_GRAPH_RETVAL, true);
    now = 1_000_000_000;
    for (let i = 0; i < 6000; i++) prog.a(i);
    await runWorker(1_000_000_500, 6000);
    const rings = await currentRings();
    const whole = tracer === 'function' ? functionTrace(tracer, rings) : graphTrace(rings);
    const r = await pieces();
    assert.equal(r.text, whole);
    assert.ok(whole.length > 1_000_000, `${whole.length} characters`);
    checkPieces(r);
    if (tracer === 'function_graph') setOptionBits(OPT_GRAPH_ARGS | OPT_GRAPH_RETVAL, false);
  }
  // A ring that overwrote: the header counts what it lost, the pieces start where the ring does.
  T.setBufferSizeKb(64);
  await T.setCurrentTracer('function');
  for (let i = 0; i < 20_000; i++) prog.a(i);
  const rings = await currentRings();
  assert.match(functionTrace('function', rings), /entries-written: \d+\/52000 /);
  assert.equal((await pieces()).text, functionTrace('function', rings));
  T.setBufferSizeKb(1408);
  await T.setCurrentTracer('nop');
});

test('trace_pipe: a read takes at most 4096 events a thread; in pieces, all that was there', { timeout: 60_000 }, async () => {
  T.setBufferSizeKb(4096);
  await T.setCurrentTracer('function');
  now = 2_000_000_000;
  for (let i = 0; i < 5000; i++) prog.a(i);
  const events = (text: string): number => text.split('\n').filter((l) => / mt:[ab](?: <-|$)| tracing_mark_write: /.test(l)).length;
  const all = events(await T.readTrace());
  assert.ok(all > 2 * 4096, `${all} events`);
  assert.equal(events(await T.readTracePipe()), 4096);
  let rest = 0;
  let n = 0;
  for await (const p of T.tracePipeChunks()) {
    rest += events(p);
    n++;
  }
  assert.equal(rest, all - 4096);
  assert.equal(n, Math.ceil((all - 4096) / 4096));
  assert.equal(await T.readTracePipe(), '');
  T.setBufferSizeKb(1408);
  await T.setCurrentTracer('nop');
});
