// Several threads: each writes its own ring, any thread reads them all.
// The function trace merges threads by timestamp, names workers `worker`
// (or the name a worker chose)
// and counts threads in #P; function_graph widens its CPU column to the
// largest thread id; a worker's profile is readable as trace_stat/function<id>.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customClock } from '../../src/ring/index.js';
import { attach } from '../../src/public/index.js';
import * as T from '../../src/tracers/index.js';
import { runWorker } from './support.js';

/** The context columns of the main thread: TASK-PID is the thread's comm and the process's pid. */
const NODE0 = `${'node'.padStart(16)}-${String(process.pid).padEnd(7)} [000]`;

let now = 0;
T.setThreadClock(customClock('test', () => now));
const prog = {
  a(): void { now += 1000; prog.b(); },
  b(): void { now += 2000; },
};
attach(prog, 'a', { name: 'mt:a' });
attach(prog, 'b', { name: 'mt:b' });


test('function tracer: two threads, merged by time', async () => {
  await T.setTracerFilter('mt:*');
  await T.setCurrentTracer('function');
  now = 1_000_000_000;
  prog.a();
  const id = await runWorker(1_000_002_000, 1); // its a at 1.000002, b at 1.000003
  const id2 = await runWorker(1_000_005_000, 1, 'resizer');
  now = 1_000_010_000;
  prog.a();
  const c = String(id).padStart(3, '0');
  const wctx = `          worker-${String(id).padEnd(7)} [${c}] .....`;
  const nctx = `         resizer-${String(id2).padEnd(7)} [${String(id2).padStart(3, '0')}] .....`;
  const trace = await T.readTrace();
  assert.equal(trace.split('\n').slice(2, 3).join(''), '# entries-in-buffer/entries-written: 8/8   #P:3');
  assert.equal(trace.split('\n').slice(12).join('\n'), `${NODE0} .....     1.000000: mt:a
${NODE0} .....     1.000001: mt:b <-mt:a (nearest traced)
${wctx}     1.000002: mt:a
${wctx}     1.000003: mt:b <-mt:a (nearest traced)
${nctx}     1.000005: mt:a
${nctx}     1.000006: mt:b <-mt:a (nearest traced)
${NODE0} .....     1.000010: mt:a
${NODE0} .....     1.000011: mt:b <-mt:a (nearest traced)
`);
});

test('function_graph: a worker and the main thread, CPU column as wide as the largest thread id', async () => {
  await T.setCurrentTracer('function_graph');
  now = 2_000_000_000;
  prog.a();
  const id = await runWorker(2_000_100_000, 2);
  const w = String(id).length;
  const cpu = (n: number): string => ` ${String(n).padStart(w)}) `;
  const trace = await T.readTrace();
  assert.equal(trace.split('\n').slice(4).join('\n'), `${cpu(0)}              |  mt:a() {
${cpu(0)}  2.000 us    |    mt:b();
${cpu(0)}  3.000 us    |  }
${cpu(id)}              |  mt:a() {
${cpu(id)}  2.000 us    |    mt:b();
${cpu(id)}  3.000 us    |  }
${cpu(id)}              |  mt:a() {
${cpu(id)}  2.000 us    |    mt:b();
${cpu(id)}  3.000 us    |  }
`);
  await T.setCurrentTracer('nop');
});

test('profiler: a worker\'s table is rendered by the main thread', async () => {
  await T.setFunctionProfileEnabled(true);
  const id = await runWorker(0, 3);
  assert.ok((await T.traceStatFiles()).includes(`function${id}`));
  assert.equal(await T.readTraceStat(id), `  Function                               Hit    Time            Avg             s^2
  --------                               ---    ----            ---             ---
  mt:a                                     3    9.000 us        3.000 us        0.000 us    
  mt:b                                     3    6.000 us        2.000 us        0.000 us    
`);
  await T.setFunctionProfileEnabled(false);
});

test('a worker overflows its small ring: LOST line with its thread id, stats per thread', async () => {
  T.setBufferSizeKb(1);
  await T.setCurrentTracer('function');
  const id = await runWorker(3_000_000_000, 1000); // 2000 events, a few hundred fit
  const stats = await T.readThreadStats(id);
  const entries = Number(/^entries: (\d+)$/m.exec(stats)![1]);
  const overrun = Number(/^overrun: (\d+)$/m.exec(stats)![1]);
  assert.equal(entries + overrun, 2000);
  assert.ok(overrun > 0);
  const pipe = await T.readTracePipe();
  const lines = pipe.split('\n').filter((l) => l !== '');
  assert.equal(lines[0], `Thread:${id} [LOST ${overrun} EVENTS]`);
  assert.equal(lines.length, entries + 1);
  assert.ok(lines.slice(1).every((l) => l.startsWith(`          worker-${String(id).padEnd(7)} [${String(id).padStart(3, '0')}] ..... `)));
  await assert.rejects(T.readThreadStats(9999), { code: 'ENOENT' });
  T.setBufferSizeKb(1408);
  await T.setCurrentTracer('nop');
});
