// Under load (bounded: 1,500 requests, 20 at a time, loopback only), the
// spans of a traced server are exported while it serves, under
// `jsftrace record --otlp` (the drain of the streaming record runs the
// export): once the export has caught up, every span made was exported and
// nothing was dropped or lost. Then the receiver goes away: the server
// answers every request as before, and every span of that phase is
// accounted for in trace_stat/otlp as failed, dropped for a full queue, or
// still queued; none counts as exported, no event is lost. The added
// latency is a benchmark figure (bench/suites/otlp.ts), not asserted here.
// Nothing waits on the clock: the counters are polled (bounded) until they
// say what is awaited.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cleanEnv, fixture as cliFixture, tempDir } from '../cli/support.js';
import { Receiver } from './receiver.js';
import { get, RecordedApp } from './traced.js';

const APP = 'test/fixtures/otlp/load-app.mjs';
const N = 1500;
const AT_ONCE = 20;
const SPANS_PER_REQUEST = 3;

/** `n` requests, `AT_ONCE` at a time; each answer checked; no new request once `signal` is aborted (the test timed out). */
async function load(port: number, from: number, n: number, signal: AbortSignal): Promise<void> {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < from + n) {
      signal.throwIfAborted();
      const k = next++;
      const want = String(k).split('').reduce((a, d) => a + Number(d), 0) * 2;
      assert.equal(await get(port, `/n/${k}`), `${want}\n`);
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
}

test('spans exported under load with nothing dropped; with the receiver gone every span is accounted for and the server unaffected', { timeout: 180_000 }, async (tc) => {
  const t = tempDir('jsftrace-otlp-load-');
  const rx = new Receiver();
  await rx.start();
  const env = cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets });
  const app = new RecordedApp([
    '--otlp', rx.url, '-l', `${APP}:route`, '-l', `${APP}:compute`, '-l', `${APP}:digits`, '-o', join(t.dir, 't.jsft'),
  ], cliFixture('../otlp/load-app.mjs'), [], env);
  try {
    await app.started();
    await load(app.port, 1, N, tc.signal);
    const up = await app.until((c) => c['exported'] === N * SPANS_PER_REQUEST);
    assert.equal(up['spans'], N * SPANS_PER_REQUEST, JSON.stringify(up));
    assert.equal(up['exported'], N * SPANS_PER_REQUEST);
    for (const k of ['export_failed', 'queue_full', 'events_lost', 'unmatched', 'below_thresh', 'not_sampled', 'rate_limited', 'queued', 'backlog']) {
      assert.equal(up[k], 0, `${k}: ${JSON.stringify(up)}`);
    }
    assert.equal(rx.of('jsftrace').length, N * SPANS_PER_REQUEST);
    assert.equal(up['roots_own'], N, 'no OpenTelemetry here: one trace per request');

    await rx.close();
    await load(app.port, N + 1, N, tc.signal);
    // Every call of the second phase is read and made a span (none waits in the backlog), none exported.
    const down = await app.until((c) => c['spans'] === 2 * N * SPANS_PER_REQUEST && c['backlog'] === 0);
    tc.diagnostic(`receiver gone: ${JSON.stringify(down)}`);
    assert.equal(down['spans'], 2 * N * SPANS_PER_REQUEST, JSON.stringify(down));
    assert.equal(down['exported'], N * SPANS_PER_REQUEST, 'nothing more was exported');
    assert.equal(down['export_failed']! + down['queue_full']! + down['queued']!, N * SPANS_PER_REQUEST, 'every span of the second phase accounted for');
    assert.ok(down['queued']! <= 2048 + 2 * 512, 'the queue stayed bounded (what it cannot take waits as events in the bounded backlog)');
    assert.equal(down['events_lost'], 0);
    await get(app.port, '/quit');
    const end = await app.run.exited;
    assert.equal(end.code, 0, app.run.stderr);
    assert.match(app.run.stderr, /^jsftrace: recorded \d+ events from 1 thread to /m);
    assert.doesNotMatch(app.run.stderr, / lost /);
  } finally {
    await app.stop();
    await rx.close();
    t.done();
  }
});
