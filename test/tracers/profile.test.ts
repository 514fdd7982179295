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

test('the profile words: self, waiting, returned and open running across suspensions, a lost exit, a stale callback and a reset', async () => {
  const { profileEntry: enter, profileReturn, profileSuspend: suspend, profileResume: resume } = await import('../../src/tracers/profile.js');
  const { profileTablesNow } = await import('../../src/tracers/session.js');
  const { P_HITS, P_OPEN_RUNNING, P_RETURNED, P_SELF, P_TIME, P_WAITING, ROW_F64 } = await import('../../src/tracers/profile-layout.js');
  const exit = (site: number, data: unknown): void => profileReturn(site, null, undefined, false, data);
  let t = 0;
  T.setThreadClock(customClock('driven', () => t));
  const SITE = 1_000_000; // far from every attached site
  /** site offset -> [hits, time, self, waiting, returned, open running] of this thread's table. */
  const words = (): Record<number, number[]> => {
    const table = profileTablesNow().find((x) => x.threadId === threadId)!;
    const f = new Float64Array(table.sab);
    const out: Record<number, number[]> = {};
    for (let b = ROW_F64; b < f.length; b += ROW_F64) {
      const site = f[b]! - 1 - SITE;
      if (site >= 0) out[site] = [f[b + P_HITS]!, f[b + P_TIME]!, f[b + P_SELF]!, f[b + P_WAITING]!, f[b + P_RETURNED]!, f[b + P_OPEN_RUNNING]!];
    }
    return out;
  };
  await T.setFunctionProfileEnabled(false);
  await T.setFunctionProfileEnabled(true);
  // a calls b, which suspends after 20; a calls c (5), returns at 50.
  t = 0; const a = enter(SITE + 1);
  t = 10; const b = enter(SITE + 2);
  t = 30; suspend(SITE + 2, null, b);
  t = 40; const c = enter(SITE + 3);
  t = 45; exit(SITE + 3, c);
  t = 50; exit(SITE + 1, a);
  // b resumes from an empty stack, runs 30 more, returns: total 120, running 50, waiting 70.
  t = 100; resume(SITE + 2, null, b);
  t = 130; exit(SITE + 2, b);
  // e never exits: d's return drops it; e's late exit is stale.
  t = 200; const d = enter(SITE + 4);
  t = 210; const e = enter(SITE + 5);
  t = 230; exit(SITE + 4, d);
  t = 240; exit(SITE + 5, e);
  // f suspends and never returns: its part is open running.
  t = 250; const f = enter(SITE + 6);
  t = 254; suspend(SITE + 6, null, f);
  assert.deepEqual(words(), {
    1: [1, 50, 25, 0, 1, 0],
    2: [1, 120, 50, 70, 1, 0],
    3: [1, 5, 5, 0, 1, 0],
    4: [1, 30, 30, 0, 1, 0],
    5: [1, 0, 0, 0, 0, 0],
    6: [1, 0, 4, 0, 0, 4],
  });
  // A reset between g's entry and its exit: the new table has h alone; g's exit is stale.
  t = 300; const g = enter(SITE + 7);
  await T.setFunctionProfileEnabled(false);
  await T.setFunctionProfileEnabled(true);
  t = 310; const h = enter(SITE + 8);
  t = 320; exit(SITE + 7, g);
  t = 330; exit(SITE + 8, h);
  assert.deepEqual(words(), { 8: [1, 20, 20, 0, 1, 0] });
  // Every slot taken by a call left suspended (a generator never finished):
  // the next call gives those up (not returned, open running) and is counted.
  for (let k = 0; k < 65_536; k++) {
    t = 1000 + k;
    suspend(SITE + 9, null, enter(SITE + 9));
  }
  t = 100_000; const last = enter(SITE + 10);
  t = 100_003; exit(SITE + 10, last);
  const w = words();
  assert.deepEqual(w[9], [65_536, 0, 0, 0, 0, 0]);
  assert.deepEqual(w[10], [1, 3, 3, 0, 1, 0]);
  const table = profileTablesNow().find((x) => x.threadId === threadId)!;
  assert.equal(new Float64Array(table.sab)[0], 0, 'no call refused');
  await T.setFunctionProfileEnabled(false);
  T.setThreadClock(null);
});
