// The function_graph tracer: exact text for nesting, leaves, throws and
// abandoned frames (UNWOUND), max_graph_depth, set_graph_function,
// set_graph_notrace, tracing_thresh, trace_pipe, and ftrace's duration
// column (widths and overhead marks).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customClock } from '../../src/ring/index.js';
import { attach, defineSites, leave, siteAbi } from '../../src/public/index.js';
import * as T from '../../src/tracers/index.js';
import { durationMark, graphDuration } from '../../src/tracers/output/common.js';

let now = 0;
T.setThreadClock(customClock('test', () => now));

const prog = {
  a(): void { now += 1000; prog.b(); prog.c(); now += 500; },
  b(): void { now += 2000; },
  c(): void { now += 1000; prog.b(); now += 20000; },
  t(): void { now += 100; prog.u(); },
  u(): void { prog.b(); throw new Error('u failed'); },
};
for (const k of ['a', 'b', 'c', 't', 'u'] as const) attach(prog, k, { name: `gr:${k}` });
const P = defineSites('gr:raw', [{ name: 'gr:p' }, { name: 'gr:q' }]);
const Q = P + 1;

const HEADER = `# tracer: function_graph
#
# CPU  DURATION                  FUNCTION CALLS
# |     |   |                     |   |   |   |
`;

function enter(id: number): number {
  const { words, targetBase, handlers } = siteAbi();
  const t = words[targetBase + id]!;
  return t !== 0 ? handlers[t]!(id, undefined, null) : 0;
}

test('duration column: ftrace widths and overhead marks', () => {
  assert.equal(graphDuration(0), '0.000 us    ');
  assert.equal(graphDuration(1382), '1.382 us    ');
  assert.equal(graphDuration(14237), '14.237 us   ');
  assert.equal(graphDuration(1234567), '1234.567 us ');
  assert.equal(graphDuration(12345678), '12345.67 us ');
  assert.equal(graphDuration(123456789), '123456.7 us ');
  assert.equal(graphDuration(1234567890), '1234567 us  ');
  assert.deepEqual([10000, 10001, 100001, 1000001, 10000001, 100000001, 1000000001].map(durationMark), [' ', '+', '!', '#', '*', '@', '$']);
});

test('nesting, leaves and durations', async () => {
  await T.setTracerFilter('gr:*');
  await T.setCurrentTracer('function_graph');
  prog.a();
  assert.equal(await T.readTrace(), `${HEADER} 0)               |  gr:a() {
 0)   2.000 us    |    gr:b();
 0)               |    gr:c() {
 0)   2.000 us    |      gr:b();
 0) + 23.000 us   |    }
 0) + 26.500 us   |  }
`);
});

test('a throw: returns of calls that threw are marked; abandoned frames print as unwound', async () => {
  T.clearBuffers();
  assert.throws(() => prog.t(), /u failed/);
  const tp = enter(P);
  now += 1000;
  enter(Q); // never left: abandoned when p leaves
  now += 1000;
  leave(tp, undefined);
  assert.equal(await T.readTrace(), `${HEADER} 0)               |  gr:t() {
 0)               |    gr:u() {
 0)   2.000 us    |      gr:b();
 0)   2.000 us    |    } /* gr:u threw */
 0)   2.100 us    |  } /* gr:t threw */
 0)               |  gr:p() {
 0)   1.000 us    |    gr:q(); /* unwound */
 0)   2.000 us    |  }
`);
});

test('max_graph_depth', async () => {
  T.clearBuffers();
  T.setMaxGraphDepth(1);
  assert.equal(T.readMaxGraphDepth(), '1\n');
  prog.a();
  T.setMaxGraphDepth(2);
  prog.a();
  T.setMaxGraphDepth(0);
  assert.equal(await T.readTrace(), `${HEADER} 0) + 26.500 us   |  gr:a();
 0)               |  gr:a() {
 0)   2.000 us    |    gr:b();
 0) + 23.000 us   |    gr:c();
 0) + 26.500 us   |  }
`);
});

test('set_graph_function and set_graph_notrace', async () => {
  await assert.rejects(T.setGraphFunction('gr:nothing-like-this'), { code: 'EINVAL' });
  assert.equal(T.readGraphFunction(), '#### all functions enabled ####\n');
  await T.setGraphFunction('gr:c');
  assert.equal(T.readGraphFunction(), 'gr:c\n');
  T.clearBuffers();
  prog.a();
  assert.equal(await T.readTrace(), `${HEADER} 0)               |  gr:c() {
 0)   2.000 us    |    gr:b();
 0) + 23.000 us   |  }
`);
  await T.setGraphFunction('');
  await T.setGraphNotrace('gr:c');
  assert.equal(T.readGraphNotrace(), 'gr:c\n');
  T.clearBuffers();
  prog.a();
  assert.equal(await T.readTrace(), `${HEADER} 0)               |  gr:a() {
 0)   2.000 us    |    gr:b();
 0) + 26.500 us   |  }
`);
  await T.setGraphNotrace([]);
  assert.equal(T.readGraphNotrace(), '#### no functions disabled ####\n');
});

test('tracing_thresh: only returns that took longer, closing braces name their function', async () => {
  T.clearBuffers();
  T.setTracingThresh(10);
  prog.a();
  T.setTracingThresh(0);
  assert.equal(await T.readTrace(), `${HEADER} 0) + 23.000 us   |    } /* gr:c */
 0) + 26.500 us   |  } /* gr:a */
`);
});

test('trace_pipe: an entry consumed by one read, its return by the next; an await sweeps frames left open', async () => {
  T.clearBuffers();
  enter(P);
  now += 3000;
  // Reading awaits, and a frame still open when the stack empties is
  // abandoned by the core (docs/design.md, exits): its return is UNWOUND.
  assert.equal(await T.readTracePipe(), ' 0)               |  gr:p() {\n');
  prog.b();
  assert.equal(await T.readTracePipe(), ` 0)   3.000 us    |  } /* gr:p unwound */
 0)   2.000 us    |  gr:b();
`);
  assert.equal(await T.readTracePipe(), '');
  await T.setCurrentTracer('nop');
});
