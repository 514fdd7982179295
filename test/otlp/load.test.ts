// Under load (bounded: 1,500 requests, 20 at a time, loopback only), the
// spans of a traced server are exported while it serves: once the export
// has caught up, every span made was exported and nothing was dropped.
// Then the receiver goes away: the server answers every request as before,
// and every span of that phase is accounted for in trace_stat/otlp as
// failed, dropped for a full queue, or still queued; none counts as
// exported. The added latency is a benchmark figure (bench/suites/otlp.ts),
// not asserted here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { cleanEnv, fixture as cliFixture, jsftrace, mainJs, Running, tempDir } from '../cli/support.js';
import { Receiver } from './receiver.js';

const APP = 'test/fixtures/otlp/load-app.mjs';
const N = 1500;
const AT_ONCE = 20;
const SPANS_PER_REQUEST = 3;

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve(body));
    });
    req.on('error', reject).end();
  });
}

/** `n` requests, `AT_ONCE` at a time; each answer checked. */
async function load(port: number, from: number, n: number): Promise<void> {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < from + n) {
      const k = next++;
      const want = String(k).split('').reduce((a, d) => a + Number(d), 0) * 2;
      assert.equal(await get(port, `/n/${k}`), `${want}\n`);
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
}

function counters(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^([a-z_]+) +(\d+)  /gm)) out[m[1]!] = Number(m[2]);
  return out;
}

test('spans exported under load with nothing dropped; with the receiver gone every span is accounted for and the server unaffected', { timeout: 120_000 }, async () => {
  const t = tempDir('jsftrace-otlp-load-');
  const rx = new Receiver();
  await rx.start();
  let app: Running | null = null;
  try {
    const env = cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets });
    app = new Running(process.execPath, [
      mainJs, 'record', '--otlp', rx.url, '-l', `${APP}:route`, '-l', `${APP}:compute`, '-l', `${APP}:digits`, '-o', join(t.dir, 't.jsft'), '--', process.execPath, cliFixture('../otlp/load-app.mjs'),
    ], { env, timeoutMs: 110_000 });
    const port = Number((await app.waitFor(/^port (\d+)$/m))[1]);
    const stat = async (): Promise<Record<string, number>> => {
      // The traced program is the record's child: find it by its socket.
      const ps = await jsftrace(['ps', '--json'], { env });
      const row = ps.stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { pid: number; argv: string[] })
        .find((r) => r.argv.some((a) => a.endsWith('load-app.mjs')));
      assert.ok(row !== undefined, ps.stdout + ps.stderr);
      const r = await jsftrace(['-P', String(row.pid), 'fs', 'cat', 'trace_stat/otlp'], { env });
      assert.equal(r.code, 0, r.stderr);
      return counters(r.stdout);
    };
    /** Polls (at most 40 times, 250 ms apart) until `done` holds of the counters. */
    const until = async (done: (c: Record<string, number>) => boolean): Promise<Record<string, number>> => {
      let c = await stat();
      for (let i = 0; i < 40 && !done(c); i++) {
        await new Promise((r) => setTimeout(r, 250));
        c = await stat();
      }
      return c;
    };

    await load(port, 1, N);
    const up = await until((c) => c['exported'] === N * SPANS_PER_REQUEST);
    assert.equal(up['spans'], N * SPANS_PER_REQUEST);
    assert.equal(up['exported'], N * SPANS_PER_REQUEST);
    for (const k of ['export_failed', 'queue_full', 'events_lost', 'unmatched', 'below_thresh', 'not_sampled', 'rate_limited', 'queued']) {
      assert.equal(up[k], 0, k);
    }
    assert.equal(rx.of('jsftrace').length, N * SPANS_PER_REQUEST);
    assert.equal(up['roots_own'], N, 'no OpenTelemetry here: one trace per request');

    await rx.close();
    await load(port, N + 1, N);
    const down = await until((c) => c['spans'] === 2 * N * SPANS_PER_REQUEST);
    assert.equal(down['spans'], 2 * N * SPANS_PER_REQUEST);
    assert.equal(down['exported'], N * SPANS_PER_REQUEST, 'nothing more was exported');
    assert.equal(down['export_failed']! + down['queue_full']! + down['queued']!, N * SPANS_PER_REQUEST, 'every span of the second phase accounted for');
    assert.ok(down['queue_full']! > 0, 'the queue stayed bounded: the excess was dropped and counted');
    assert.equal(down['events_lost'], 0);
    await get(port, '/quit');
    assert.equal((await app.exited).code, 0, app.stderr);
    assert.match(app.stderr, /^jsftrace: otlp: the last export did not finish within 2000 ms; \d+ spans were not sent/m);
  } finally {
    await app?.stop('SIGKILL');
    await rx.close();
    t.done();
  }
});
