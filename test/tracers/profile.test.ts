// The function profiler: trace_stat/function<N> exact for a clock the test
// drives and for the counter clock; sorting, truncation of long names,
// variance in µs², tracing_thresh hiding rows, reset on enable.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadId } from 'node:worker_threads';
import { customClock } from '../../src/ring/index.js';
import { attach } from '../../src/public/index.js';
import * as T from '../../src/tracers/index.js';

let now = 0;
const prog = {
  a(): void { now += 1000; prog.b(1000); prog.c(); now += 500; },
  b(x: number): void { now += x; },
  c(): void { now += 1000; prog.b(2000); now += 20000; },
  long(): void { now += 6000; },
};
attach(prog, 'a', { name: 'pf:a' });
attach(prog, 'b', { name: 'pf:b' });
attach(prog, 'c', { name: 'pf:c' });
attach(prog, 'long', { name: 'pf:a_function_name_longer_than_thirty_characters' });

const HEAD = `  Function                               Hit    Time            Avg             s^2
  --------                               ---    ----            ---             ---
`;

test('function_profile_enabled, trace_stat exact under a driven clock', async () => {
  T.setThreadClock(customClock('test', () => now));
  assert.equal(T.readFunctionProfileEnabled(), '0\n');
  await T.setTracerFilter('pf:*');
  await T.setFunctionProfileEnabled(true);
  assert.equal(T.readFunctionProfileEnabled(), '1\n');
  prog.a(); // a 25.5 µs (b 1, c 23 with b 2)
  prog.b(6000);
  prog.long();
  assert.deepEqual(await T.traceStatFiles(), [`function${threadId}`]);
  // b: 1, 2, 6 µs: mean 3, s² = (3·41 − 81) / (3·2) = 7 µs².
  assert.equal(await T.readTraceStat(threadId), `${HEAD}`
    + '  pf:a                                     1    25.500 us       25.500 us       0.000 us    \n'
    + '  pf:c                                     1    23.000 us       23.000 us       0.000 us    \n'
    + '  pf:b                                     3    9.000 us        3.000 us        7.000 us    \n'
    + '  pf:a_function_name_longer_than           1    6.000 us        6.000 us        0.000 us    \n');
  T.setTracingThresh(4); // rows whose average is under 4 µs are hidden
  assert.equal(await T.readTraceStat(threadId), `${HEAD}`
    + '  pf:a                                     1    25.500 us       25.500 us       0.000 us    \n'
    + '  pf:c                                     1    23.000 us       23.000 us       0.000 us    \n'
    + '  pf:a_function_name_longer_than           1    6.000 us        6.000 us        0.000 us    \n');
  T.setTracingThresh(0);
  await assert.rejects(T.readTraceStat(9999), { code: 'ENOENT' });
});

test('enabling again resets (writing 1 while on does not); the counter clock gives exact counts', async () => {
  T.setThreadClock(null);
  T.setTraceClock('counter');
  const before = await T.readTraceStat(threadId);
  await T.setFunctionProfileEnabled(true); // already on: nothing changes, as ftrace_profile_write
  assert.equal(await T.readTraceStat(threadId), before, 'writing 1 while on keeps the counts');
  await T.setFunctionProfileEnabled(false);
  await T.setFunctionProfileEnabled(true); // off, then on: a reset
  assert.equal(await T.readTraceStat(threadId), HEAD, 'reset: no rows until a call');
  // Counter: one tick per clock read, two reads per call (entry, exit).
  // a: 1 .. 8 (7); c: 4 .. 7 (3); each b: 1 tick.
  prog.a();
  assert.equal(await T.readTraceStat(threadId), `${HEAD}`
    + '  pf:a                                     1    0.007 us        0.007 us        0.000 us    \n'
    + '  pf:c                                     1    0.003 us        0.003 us        0.000 us    \n'
    + '  pf:b                                     2    0.002 us        0.001 us        0.000 us    \n');
  await T.setFunctionProfileEnabled(false);
  assert.equal(T.readFunctionProfileEnabled(), '0\n');
  prog.a();
  assert.match(await T.readTraceStat(threadId), /pf:a {37}1 /, 'no counting once disabled');
  T.setTraceClock('local');
});
