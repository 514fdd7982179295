// `jsftrace record --otlp` with the default settings (a streaming record:
// the rings in wait mode, drained while the program runs, and the export
// run by that drain; only the writers' wait for the drain is made long
// enough for a starved machine, traced.ts): a burst of traced calls whose events are several
// times the ring's size loses no span. Every call is a span, every span is
// exported, nothing is lost, dropped or left waiting, and the trace file
// holds the same calls. Then the export turned on by `start --otlp` in a
// process that is being recorded: the same, from that moment on.
// Nothing waits on the clock: the counters are polled (bounded).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SIZE_KB } from '../../src/ring/index.js';
import { cleanEnv, fixture as cliFixture, jsftrace, tempDir } from '../cli/support.js';
import { Receiver } from './receiver.js';
import { fileCalls, get, RecordedApp, type Counters } from './traced.js';

const APP = 'test/fixtures/otlp/burst-app.mjs';
const app = cliFixture('../otlp/burst-app.mjs');
/** About 40 bytes of events a call: 60,000 calls are well over the default ring of 1,408 KiB. */
const BURST = 60_000;
const answer = (n: number): string => `${Array.from({ length: n }, (_, i) => i & 7).reduce((a, b) => a + b, 0)}\n`;

function assertNothingLost(c: Counters, spans: number): void {
  assert.equal(c['spans'], spans, JSON.stringify(c));
  assert.equal(c['exported'], spans, JSON.stringify(c));
  for (const k of ['export_failed', 'queue_full', 'events_lost', 'unmatched', 'end_unknown', 'below_thresh', 'not_sampled', 'rate_limited', 'queued', 'backlog']) {
    assert.equal(c[k], 0, `${k}: ${JSON.stringify(c)}`);
  }
}

test('record --otlp with the defaults: a burst of calls several times the ring loses no span', { timeout: 180_000 }, async () => {
  const t = tempDir('jsftrace-otlp-rec-');
  const rx = new Receiver();
  await rx.start();
  const out = join(t.dir, 't.jsft');
  const rec = new RecordedApp(['--otlp', rx.url, '-l', `${APP}:burst`, '-l', `${APP}:leaf`, '-o', out], app, [], cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets }));
  try {
    await rec.started();
    assert.equal(await get(rec.port, `/burst/${BURST}`), answer(BURST));
    const c = await rec.until((s) => s['exported'] === BURST + 1);
    assertNothingLost(c, BURST + 1);
    assert.ok(c['events_read']! >= 2 * (BURST + 1));
    assert.equal(c['roots_own'], 1);

    const fns = rx.of('jsftrace');
    assert.equal(fns.length, BURST + 1);
    const root = fns.filter((s) => s.name === `${APP}:burst`);
    assert.equal(root.length, 1);
    const leaves = fns.filter((s) => s.name === `${APP}:leaf`);
    assert.equal(leaves.length, BURST);
    assert.ok(leaves.every((s) => s.parentSpanId === root[0]!.spanId && s.traceId === root[0]!.traceId), 'every leaf under its burst');

    assert.equal(await get(rec.port, '/quit'), 'bye\n');
    const end = await rec.run.exited;
    assert.equal(end.code, 0, rec.run.stderr);
    assert.doesNotMatch(rec.run.stderr, /lost|not sent/);
    const file = fileCalls(out);
    assert.deepEqual([file.calls.get(`${APP}:burst`), file.calls.get(`${APP}:leaf`), file.lost], [1, BURST, 0], 'the trace file holds the same calls');
    assert.ok(statSync(out).size > 1.5 * DEFAULT_SIZE_KB * 1024, `the burst's events (${statSync(out).size} bytes) are more than the ring holds`);
  } finally {
    await rec.stop();
    await rx.close();
    t.done();
  }
});

test('start --otlp in a process being recorded: the recording\'s drain exports, nothing lost', { timeout: 180_000 }, async () => {
  const t = tempDir('jsftrace-otlp-rec-');
  const rx = new Receiver();
  await rx.start();
  const env = cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets });
  const out = join(t.dir, 't.jsft');
  const rec = new RecordedApp(['-p', 'function_graph', '-l', `${APP}:burst`, '-l', `${APP}:leaf`, '-o', out], app, [], env);
  try {
    await rec.started();
    const before = await rec.stat();
    assert.equal(before['spans'], 0);
    const on = await jsftrace(['-P', String(rec.pid), 'start', '--otlp', rx.url], { env });
    assert.equal(on.code, 0, on.stderr);
    const state = await jsftrace(['-P', String(rec.pid), 'fs', 'cat', 'trace_stat/otlp'], { env });
    assert.match(state.stdout, /^state: exporting \(read by the recording's drain\)$/m);
    const n = BURST / 2;
    assert.equal(await get(rec.port, `/burst/${n}`), answer(n));
    assertNothingLost(await rec.until((s) => s['exported'] === n + 1), n + 1);
    assert.equal(rx.of('jsftrace').length, n + 1);
    assert.equal(await get(rec.port, '/quit'), 'bye\n');
    assert.equal((await rec.run.exited).code, 0, rec.run.stderr);
    assert.equal(fileCalls(out).calls.get(`${APP}:leaf`), n);
  } finally {
    await rec.stop();
    await rx.close();
    t.done();
  }
});
