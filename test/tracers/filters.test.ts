// Filtering by context: set_ftrace_pid / set_ftrace_notrace_pid over
// threads, and the async-context filter that keeps one request's calls
// (everything run from traceContext(), across awaits) and nothing else.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadId } from 'node:worker_threads';
import { customClock } from '../../src/ring/index.js';
import { attach } from '../../src/public/index.js';
import * as T from '../../src/tracers/index.js';

let now = 0;
T.setThreadClock(customClock('test', () => now));

const prog = {
  handle(id: number): Promise<number> { now += 1000; return prog.step(id); },
  async step(id: number): Promise<number> { now += 1000; await null; return prog.leaf(id); },
  leaf(id: number): number { now += 1000; return id; },
};
attach(prog, 'handle', { name: 'flt:handle' });
attach(prog, 'step', { name: 'flt:step' });
attach(prog, 'leaf', { name: 'flt:leaf' });

/** The function names of the trace, in order. */
async function names(): Promise<string[]> {
  const text = await T.readTrace();
  return text.split('\n').filter((l) => !l.startsWith('#') && l !== '').map((l) => l.replace(/^.*: (\S+)(?: <-.*)?$/, '$1'));
}

test('set_ftrace_pid: only the listed threads; notrace wins', async () => {
  await T.setTracerFilter('flt:*');
  await T.setCurrentTracer('function');
  T.setTracePids([threadId + 1000]); // another thread only
  await prog.handle(1);
  assert.deepEqual(await names(), []);
  T.setTracePids([threadId]);
  assert.deepEqual(T.tracePids(), [threadId]);
  await prog.handle(2);
  assert.deepEqual(await names(), ['flt:handle', 'flt:step', 'flt:leaf']);
  T.clearBuffers();
  T.setTracePids([threadId], { notrace: true });
  await prog.handle(3);
  assert.deepEqual(await names(), [], 'a thread in both lists is not traced');
  T.setTracePids([], { notrace: true });
  T.setTracePids([]);
  assert.throws(() => T.setTracePids([-1]), { code: 'EINVAL' });
  assert.throws(() => T.setTracePids(Array.from({ length: 65 }, (_, k) => k)), { code: 'ENOSPC' });
  await T.setCurrentTracer('nop');
});

test('async-context filter: one request and what it calls, across awaits', async () => {
  for (const tracer of ['function', 'function_graph'] as const) {
    await T.setTracerFilter('flt:*');
    await T.setCurrentTracer(tracer);
    T.setContextFilter(true);
    const outside = prog.handle(10);
    const inside = T.traceContext(() => prog.handle(20));
    const outside2 = prog.handle(30);
    assert.deepEqual(await Promise.all([outside, inside, outside2]), [10, 20, 30]);
    const text = await T.readTrace();
    const calls = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    if (tracer === 'function') {
      assert.deepEqual(calls.map((l) => l.replace(/^.*: (\S+)(?: <-.*)?$/, '$1')), ['flt:handle', 'flt:step', 'flt:leaf']);
    } else {
      // One request only. These sites are attach() wrappers, which return
      // with the promise: leaf runs after handle has returned.
      assert.deepEqual(calls.map((l) => l.replace(/^.*\|\s*/, '')), ['flt:handle() {', 'flt:step();', '}', 'flt:leaf();'], text);
    }
    T.setContextFilter(false);
    T.clearBuffers();
  }
  await T.setCurrentTracer('nop');
});
