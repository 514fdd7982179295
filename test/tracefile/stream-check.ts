// What the streaming tests check, shared by the exact-count test in
// `npm test` and the 50-million-call run of `npm run test:stress`:
// `jsftrace record` with its default settings of a program whose worker
// threads count their own calls; the trace must hold every call (counts
// per function equal the program's) with every loss counter at zero.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TraceFile } from '../../src/tracefile/read.js';
import { fileThreads, fileTotals } from '../../src/tracefile/threads.js';
import { cleanEnv, jsftrace } from '../cli/support.js';
import { render } from './support.js';

export const many = fileURLToPath(new URL('../../../test/fixtures/tracefile/many.mjs', import.meta.url));
export const MANY = 'test/fixtures/tracefile/many.mjs';

export interface StreamFigures {
  calls: number;
  events: number;
  seconds: number;
  bytes: number;
}

/**
 * Records many.mjs (threads × calls) with the defaults into `dir` and checks
 * every call is there. `waitMs`, when given, is record's `--wait`: how long a
 * writer whose ring is full waits for the reader before it refuses (and
 * counts) an event; on a shared machine the reader can be starved for longer
 * than the default second, which is a loss the recording counts, not a defect.
 */
export async function recordEveryCall(dir: string, threads: number, calls: number, timeoutMs: number, waitMs?: number): Promise<StreamFigures> {
  const out = join(dir, 'many.jsft');
  const t0 = performance.now();
  const wait = waitMs === undefined ? [] : ['--wait', String(waitMs)];
  const r = await jsftrace(['record', ...wait, '-o', out, '--', process.execPath, many, String(threads), String(calls)], {
    cwd: dir, env: cleanEnv({ JSFTRACE_SOCKET_DIR: join(dir, 'sockets') }), timeoutMs,
  });
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(r.code, 0, r.stderr);
  const own = /counts mid=(\d+) leaf=(\d+) loop=(\d+)/.exec(r.stdout);
  assert.ok(own !== null, r.stdout);
  assert.deepEqual(own.slice(1).map(Number), [threads * calls, threads * calls, threads]);
  // The summary says nothing was lost.
  assert.match(r.stderr, /^jsftrace: recorded (\d+) events from (\d+) threads to \S+ \([\d.]+ [KMG]iB\)\n$/);
  const t = TraceFile.open(out);
  let totals;
  try {
    totals = fileTotals(fileThreads(t));
    for (const s of t.streams) {
      assert.deepEqual(s.end === null ? null : [s.end.overrun, s.end.dropped], [0, 0], `thread ${s.info.threadId}: every loss counter is zero`);
      assert.equal(s.dropped, 0);
    }
  } finally {
    t.close();
  }
  assert.equal(totals.lost, 0);
  assert.equal(totals.threads, threads + 1);
  // Counts per function, from the trace: the function tracer's caller;callee pairs.
  const folded = new Map(render(out, 'folded').trim().split('\n').map((l) => {
    const i = l.lastIndexOf(' ');
    return [l.slice(0, i), Number(l.slice(i + 1))] as const;
  }));
  assert.equal(folded.get(`${MANY}:loop;${MANY}:mid`), threads * calls);
  assert.equal(folded.get(`${MANY}:mid;${MANY}:leaf`), threads * calls);
  assert.equal(folded.get(`${MANY}:loop`), threads);
  const { size } = await import('node:fs').then((fs) => fs.statSync(out));
  return { calls: 2 * threads * calls + threads, events: totals.entries, seconds, bytes: size };
}
