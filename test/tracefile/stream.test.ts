// Streaming record: with its default settings but a writer's wait for the
// reader long enough for a starved machine (the default second is what
// `npm run test:stress` and the benchmarks hold to), `jsftrace record` keeps
// every call of a program whose worker threads make millions of them
// (their own counts equal the trace's, every loss counter zero; the
// 50-million-call run is `npm run test:stress`); and with a reader slowed
// on purpose (the recorder stopped by SIGSTOP while the program runs),
// every event that could not be kept is counted, per thread: kept + lost =
// the calls made, exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TraceFile } from '../../src/tracefile/read.js';
import { fileThreads, fileTotals } from '../../src/tracefile/threads.js';
import { cleanEnv, mainJs, Running } from '../cli/support.js';
import { scratch } from './support.js';
import { many, MANY, recordEveryCall } from './stream-check.js';

test('record with the defaults and --wait 60000: 4 threads, 6 million traced calls, every call in the trace, nothing lost', { timeout: 180_000 }, async (t) => {
  const s = scratch();
  try {
    const f = await recordEveryCall(s.dir, 4, 750_000, 170_000, 60_000);
    t.diagnostic(`${f.events} events (${f.calls} calls) recorded in ${f.seconds.toFixed(1)} s, ${(f.bytes / 2 ** 20).toFixed(0)} MiB`);
    assert.equal(f.events >= f.calls, true);
  } finally {
    s.done();
  }
});

test('a slowed reader: the recorder stopped while 2 threads make 1.5 million calls; every event not kept is counted, per thread', { timeout: 120_000 }, async () => {
  const s = scratch();
  const out = join(s.dir, 'slow.jsft');
  const calls = 750_000;
  const rec = new Running(process.execPath, [mainJs, 'record', '-l', `${MANY}:leaf`, '--wait', '200', '-o', out, '--', process.execPath, many, '2', String(calls), 'slow'], {
    cwd: s.dir, env: cleanEnv({ JSFTRACE_SOCKET_DIR: join(s.dir, 'sockets') }), timeoutMs: 110_000,
  });
  try {
    await rec.waitFor(/^ready$/m);
    // The recorder (its collector) stops reading: the drain's socket fills, then the rings.
    process.kill(rec.pid, 'SIGSTOP');
    rec.child.stdin.write('go\n');
    await rec.waitFor(/^done$/m);
    process.kill(rec.pid, 'SIGCONT');
    rec.child.stdin.write('exit\n');
    const end = await rec.exited;
    assert.equal(end.code, 0, rec.stderr);
    const m = /^jsftrace: recorded (\d+) events from 2 threads to \S+ \([\d.]+ MiB\); (\d+) events lost \((.*)\): the recorder fell behind/m.exec(rec.stderr);
    assert.ok(m !== null, rec.stderr);
    const [kept, lost] = [Number(m[1]), Number(m[2])];
    assert.equal(kept + lost, 2 * calls, 'every leaf call is kept or counted as lost');
    assert.ok(lost > 0 && kept > 0);
    // The file says the same, per thread: each worker's kept + refused = its calls.
    const t = TraceFile.open(out);
    try {
      const threads = fileThreads(t).filter((th) => th.view.threadId !== 0);
      assert.equal(threads.length, 2);
      for (const th of threads) {
        const kept1 = th.streams.reduce((a, x) => a + x.events, 0);
        const lost1 = th.streams.reduce((a, x) => a + (x.end?.dropped ?? 0) + (x.end?.overrun ?? 0), 0);
        assert.equal(kept1 + lost1, calls, `thread ${th.view.threadId}`);
      }
      assert.deepEqual(fileTotals(fileThreads(t)), { entries: kept, written: 2 * calls, threads: 2, lost });
    } finally {
      t.close();
    }
  } finally {
    await rec.stop('SIGKILL');
    s.done();
  }
});
