// The function and nop tracers: available_tracers / current_tracer, the
// exact `trace` and `trace_pipe` text under a clock the test drives,
// tracing_on, clearing, and lost-event lines when a small ring overflows in
// overwrite and in producer mode.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customClock } from '../../src/ring/index.js';
import { attach } from '../../src/public/index.js';
import * as T from '../../src/tracers/index.js';

/** The context columns of the main thread: TASK-PID is the thread's comm and the process's pid. */
const NODE0 = `${'node'.padStart(16)}-${String(process.pid).padEnd(7)} [000]`;

let now = 0;
T.setThreadClock(customClock('test', () => now));

// a calls b and c; each call advances the clock by 1.5 µs.
const prog = {
  a(): void { now += 1500; prog.b(); prog.c(); },
  b(): void { now += 1500; },
  c(): void { now += 1500; prog.b(); },
};
attach(prog, 'a', { name: 'fn:a' });
attach(prog, 'b', { name: 'fn:b' });
attach(prog, 'c', { name: 'fn:c' });

const LEGEND = `#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
`;

test('available_tracers and current_tracer', async () => {
  assert.equal(T.readAvailableTracers(), 'function_graph function nop\n');
  assert.equal(T.readCurrentTracer(), 'nop\n');
  await assert.rejects(T.setCurrentTracer('wakeup'), { code: 'EINVAL' });
  assert.equal(T.readCurrentTracer(), 'nop\n');
});

test('function tracer: exact trace text, non-consuming', async () => {
  await T.setTracerFilter('fn:*');
  await T.setCurrentTracer('function');
  now = 1_000_000_000; // 1 s
  prog.a();
  const expected = `# tracer: function
#
# entries-in-buffer/entries-written: 4/4   #P:1
#
${LEGEND}${NODE0} .....     1.000000: fn:a
${NODE0} .....     1.000001: fn:b <-fn:a (nearest traced)
${NODE0} .....     1.000003: fn:c <-fn:a (nearest traced)
${NODE0} .....     1.000004: fn:b <-fn:c (nearest traced)
`;
  assert.equal(await T.readTrace(), expected);
  assert.equal(await T.readTrace(), expected, 'trace does not consume');
});

test('trace_pipe consumes; trace then shows what is left', async () => {
  const pipe = await T.readTracePipe();
  assert.equal(pipe, `${NODE0} .....     1.000000: fn:a
${NODE0} .....     1.000001: fn:b <-fn:a (nearest traced)
${NODE0} .....     1.000003: fn:c <-fn:a (nearest traced)
${NODE0} .....     1.000004: fn:b <-fn:c (nearest traced)
`);
  assert.equal(await T.readTracePipe(), '');
  now = 2_000_000_000;
  prog.b();
  assert.equal(await T.readTracePipe(), `${NODE0} .....     2.000000: fn:b\n`);
  assert.match(await T.readTrace(), /entries-in-buffer\/entries-written: 0\/0 {3}#P:1\n/);
});

test('tracing_on 0 stops writes; current_tracer clears the buffers', async () => {
  T.setTracingOn(false);
  prog.b();
  assert.equal(await T.readTracePipe(), '');
  T.setTracingOn(true);
  now = 3_000_000_000;
  prog.b();
  assert.equal(await T.readTracePipe(), `${NODE0} .....     3.000000: fn:b\n`);
  prog.b();
  await T.setCurrentTracer('nop');
  prog.b();
  assert.equal(await T.readTrace(), `# tracer: nop
#
# entries-in-buffer/entries-written: 0/0   #P:1
#
${LEGEND}`);
});

function lostOf(text: string): number[] {
  return [...text.matchAll(/^Thread:0 \[LOST (\d+) EVENTS\]$/gm)].map((m) => Number(m[1]));
}
function linesOf(text: string): string[] {
  return text.split('\n').filter((l) => l.includes('fn:b'));
}

test('a small ring overflowing in overwrite mode: entries line and LOST lines', async () => {
  T.setBufferSizeKb(1); // 2 pages of 4 KB: a few hundred events
  await T.setCurrentTracer('function');
  now = 5_000_000_000;
  for (let i = 0; i < 2000; i++) { now += 1000; prog.b(); }
  const trace = await T.readTrace();
  const m = /entries-in-buffer\/entries-written: (\d+)\/(\d+) {3}#P:1/.exec(trace)!;
  const inBuf = Number(m[1]);
  assert.equal(Number(m[2]), 2000);
  assert.ok(inBuf > 0 && inBuf < 2000);
  assert.equal(linesOf(trace).length, inBuf);
  // The oldest events were overwritten: the newest is the last call (each iteration takes 2.5 µs).
  assert.ok(trace.endsWith(`     5.004998: fn:b\n`), trace.slice(-200));
  const pipe = await T.readTracePipe();
  assert.deepEqual(lostOf(pipe), [2000 - inBuf]);
  assert.ok(pipe.startsWith('Thread:0 [LOST '), 'the notice comes before the events after the gap');
  assert.equal(linesOf(pipe).length, inBuf);
});

test('a small ring overflowing in producer mode: the refused events are reported as LOST', async () => {
  T.setOverwrite(false);
  T.clearBuffers();
  now = 8_000_000_000;
  for (let i = 0; i < 2000; i++) { now += 1000; prog.b(); }
  const trace = await T.readTrace();
  const m = /entries-in-buffer\/entries-written: (\d+)\/(\d+) {3}#P:1/.exec(trace)!;
  const kept = Number(m[1]);
  assert.equal(Number(m[2]), kept, 'nothing was overwritten');
  // The oldest events are kept: the first call is there.
  assert.match(trace, new RegExp(`\\n${NODE0.replace(/[[\]]/g, '\\$&')} \\.{5} {5}8\\.000001: fn:b\\n`));
  const pipe = await T.readTracePipe();
  assert.equal(linesOf(pipe).length, kept);
  assert.deepEqual(lostOf(pipe), [2000 - kept]);
  assert.ok(pipe.endsWith(`Thread:0 [LOST ${2000 - kept} EVENTS]\n`));
  T.setOverwrite(true);
  T.setBufferSizeKb(1408);
  await T.setCurrentTracer('nop');
});

test('trace_clock: the list, a bad name refused, counter timestamps print as counts', async () => {
  assert.equal(T.readTraceClock(), '[local] global counter mono\n');
  assert.throws(() => T.setTraceClock('jiffies'), { code: 'EINVAL' });
  await assert.rejects(T.setTracerFilter('fn:no-such-function'), { code: 'EINVAL' });
  T.setThreadClock(null);
  T.setTraceClock('counter');
  assert.equal(T.readTraceClock(), 'local global [counter] mono\n');
  await T.setCurrentTracer('function');
  prog.a();
  assert.equal((await T.readTracePipe()), `${NODE0} .....            1: fn:a
${NODE0} .....            2: fn:b <-fn:a (nearest traced)
${NODE0} .....            3: fn:c <-fn:a (nearest traced)
${NODE0} .....            4: fn:b <-fn:c (nearest traced)
`);
  await T.setCurrentTracer('nop');
  T.setTraceClock('local');
});
