// The recording's limits and its flight-recorder mode, through the CLI:
// --max-size stops writing pages when the file would pass it (the program
// runs on, the file says why, record says how many events were not
// recorded); --duration does the same after a time; --flight-recorder keeps
// only what each thread's ring holds at the end, the rest counted as
// overwritten; -b beyond the ring's maximum is refused before the program
// starts, with the real maximum.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { TraceFile } from '../../src/tracefile/read.js';
import { fileThreads, fileTotals } from '../../src/tracefile/threads.js';
import { cleanEnv, jsftrace } from '../cli/support.js';
import { scratch } from './support.js';
import { many, MANY } from './stream-check.js';

function open(path: string): { totals: ReturnType<typeof fileTotals>; notes: string[] } {
  const t = TraceFile.open(path);
  try {
    return { totals: fileTotals(fileThreads(t)), notes: t.notes };
  } finally {
    t.close();
  }
}

test('--max-size stops the recording at its size, the program runs on, what was not recorded is counted', { timeout: 60_000 }, async () => {
  const s = scratch();
  try {
    const out = join(s.dir, 'max.jsft');
    // A minute's wait for a starved drain (stream.test.ts says why): the loss this test allows is the size limit's alone.
    const r = await jsftrace(['record', '--max-size', '1', '--wait', '60000', '-l', `${MANY}:leaf`, '-o', out, '--', process.execPath, many, '1', '400000'], {
      cwd: s.dir, env: cleanEnv({ JSFTRACE_SOCKET_DIR: join(s.dir, 'sockets') }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /counts mid=400000 leaf=400000 loop=1/);
    const m = /^jsftrace: recorded (\d+) events from 1 thread to \S+ \([\d.]+ [KM]iB\)\njsftrace: the trace reached --max-size \(1048576 bytes\); (\d+) later events were not recorded\n$/.exec(r.stderr);
    assert.ok(m !== null, r.stderr);
    assert.ok(statSync(out).size <= 1 << 20);
    const { totals, notes } = open(out);
    assert.equal(totals.entries, Number(m[1]));
    assert.deepEqual(notes, ['the recording stopped: the trace reached --max-size (1048576 bytes)']);
    // What was recorded and what arrived after the stop are all the calls the drain sent;
    // calls made once the process had stopped tracing are not events at all.
    assert.ok(Number(m[1]) + Number(m[2]) <= 400_000 && Number(m[1]) > 0);
  } finally {
    s.done();
  }
});

test('--duration stops the recording after its time; the program runs to its end', { timeout: 60_000 }, async () => {
  const s = scratch();
  try {
    const out = join(s.dir, 'dur.jsft');
    const prog = 'function tick(){ return 1 } let n = 0; const t = setInterval(() => { tick(); if (++n === 40) { clearInterval(t); console.log("ticks", n) } }, 10)';
    const r = await jsftrace(['record', '--duration', '0.1', '-l', '*:tick', '-o', out, '--', process.execPath, '--input-type=module', '-e', prog], {
      cwd: s.dir, env: cleanEnv({ JSFTRACE_SOCKET_DIR: join(s.dir, 'sockets') }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ticks 40\n');
    assert.match(r.stderr, /\njsftrace: --duration 0\.1 s passed; \d+ later events? (was|were) not recorded\n$/);
    const { totals, notes } = open(out);
    assert.ok(totals.entries < 40, `${totals.entries} ticks recorded`);
    assert.deepEqual(notes, ['the recording stopped: --duration 0.1 s passed']);
  } finally {
    s.done();
  }
});

test('--flight-recorder keeps the newest events of each thread, the older ones counted as overwritten; -b beyond the maximum is refused first', { timeout: 60_000 }, async () => {
  const s = scratch();
  try {
    const out = join(s.dir, 'flight.jsft');
    const env = cleanEnv({ JSFTRACE_SOCKET_DIR: join(s.dir, 'sockets') });
    const r = await jsftrace(['record', '--flight-recorder', '-b', '64', '-l', `${MANY}:leaf`, '-o', out, '--', process.execPath, many, '2', '200000'], { cwd: s.dir, env });
    assert.equal(r.code, 0, r.stderr);
    const m = /^jsftrace: recorded (\d+) events from 2 threads to \S+ \([\d.]+ KiB\); (\d+) events lost /.exec(r.stderr);
    assert.ok(m !== null, r.stderr);
    assert.equal(Number(m[1]) + Number(m[2]), 400_000);
    const { totals } = open(out);
    assert.deepEqual([totals.entries, totals.written], [Number(m[1]), 400_000]);
    assert.ok(totals.entries <= 2 * (64 * 1024) / 16, 'no more than the rings hold');

    const big = await jsftrace(['record', '-b', '600000', '-o', out, '--', process.execPath, many, '1', '1'], { cwd: s.dir, env });
    assert.equal(big.code, 2);
    assert.match(big.stderr, /^jsftrace record: -b 600000: at most 524288 KiB per thread\n/);
  } finally {
    s.done();
  }
});
