// The profiler's table in a trace file: a 2.1 file's PROFILE_ROWS chunk
// (optional, so a 2.0 reader skips it) carries its row width and only the
// rows in use, and reads back word for word; a 2.0 file's PROFILE (rows of
// 4 words) still gives trace_stat, and no profile (it has no self or
// running time); a width no table has is refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chunk, fileHeader, jsonChunk, namesChunks, profileChunk } from '../../src/tracefile/encode.js';
import { CHUNK_PROCESS, CHUNK_PROCESS_END, CHUNK_PROFILE, CHUNK_PROFILE_ROWS, FLAG_OPTIONAL, padded } from '../../src/tracefile/layout.js';
import { eventRegistry } from '../../src/tracers/session.js';
import { TraceFile } from '../../src/tracefile/read.js';
import { renderFile } from '../../src/tracefile/report.js';
import { ROW_F64, TABLE_ROWS } from '../../src/tracers/profile-layout.js';
import { scratch } from './support.js';
import { syntheticTrace } from './synthetic.js';

/** A one-process, one-thread synthetic file with `table` as its thread's PROFILE chunk. */
function fileWith(dir: string, table: Buffer): string {
  const chunks = syntheticTrace({ processes: 1, threads: 1, calls: 4, sites: 3, maxDepth: 2, tracer: 'function', random: () => 0.25 });
  const at = chunks.findIndex((c) => c.length > 2 && (c.readUInt16LE(0) === CHUNK_PROFILE || c.readUInt16LE(0) === CHUNK_PROFILE_ROWS));
  chunks[at] = table;
  const path = join(dir, 't.jsft');
  writeFileSync(path, Buffer.concat(chunks));
  return path;
}

function render(path: string, format: 'stat' | 'profile'): string | null {
  const t = TraceFile.open(path);
  try {
    let s = '';
    return renderFile(t, format, { write: (d) => { s += String(d); } }, {}) ? s : null;
  } finally {
    t.close();
  }
}

/** A 2.0 PROFILE chunk: u32 name bytes, name, padding, rows of 4 words. */
function v1Chunk(rows: number[][]): Buffer {
  const name = Buffer.from('node');
  const head = padded(4 + name.length);
  const payload = Buffer.alloc(head + (rows.length + 1) * 32);
  payload.writeUInt32LE(name.length, 0);
  name.copy(payload, 4);
  rows.forEach((r, k) => r.forEach((v, w) => payload.writeDoubleLE(v, head + (k + 1) * 32 + w * 8)));
  return chunk(CHUNK_PROFILE, 1, 0, payload);
}

test('a 2.1 table: row 0 and the rows in use, 8 words each, read back word for word; profile and trace_stat both read it', () => {
  const s = scratch();
  try {
    const live = new Float64Array((TABLE_ROWS + 1) * ROW_F64);
    live[0] = 2; // refused calls
    live[1] = 0; // ns
    // Site 1 at row 77, site 2 at row 9000: {key, hits, time, time², self, waiting, returned, open running}.
    live.set([2, 3, 600, 130_000, 450, 100, 3, 0], 77 * ROW_F64);
    live.set([3, 1, 900, 810_000, 100, 700, 1, 0], 9000 * ROW_F64);
    const c = profileChunk(1, 0, 'node', live.buffer);
    assert.equal(c.readUInt16LE(0), CHUNK_PROFILE_ROWS);
    assert.equal(c.readUInt16LE(2) & FLAG_OPTIONAL, FLAG_OPTIONAL, 'a 2.0 reader may skip it');
    assert.equal(c.readUInt32LE(16 + 4), ROW_F64);
    const path = fileWith(s.dir, c);
    const t = TraceFile.open(path);
    try {
      assert.equal(t.profiles.length, 1);
      assert.equal(t.profiles[0]!.rowWords, ROW_F64);
      assert.deepEqual([...t.profileTable(t.profiles[0]!)], [2, 0, 0, 0, 0, 0, 0, 0, 2, 3, 600, 130_000, 450, 100, 3, 0, 3, 1, 900, 810_000, 100, 700, 1, 0]);
    } finally {
      t.close();
    }
    assert.match(render(path, 'stat')!, /app1\.js:f2 +1 +0\.900 us +0\.900 us +0\.000 us[\s\S]*app1\.js:f1 +3 +0\.600 us +0\.200 us +0\.005 us/);
    const rows = render(path, 'profile')!.split('\n').filter((l) => l.includes('app1.js')).map((l) => l.trim().split(/\s+/));
    // Calls, total, self, running (time − waiting + open running), waiting, avg; sorted by self.
    assert.deepEqual(rows, [
      ['3', '600', 'ns', '450', 'ns', '500', 'ns', '100', 'ns', '200', 'ns', 'app1.js:f1'],
      ['1', '900', 'ns', '100', 'ns', '200', 'ns', '700', 'ns', '900', 'ns', 'app1.js:f2'],
    ]);
  } finally {
    s.done();
  }
});

test('a 2.0 table (rows of 4 words) still gives trace_stat; the profile, which needs self and running time, is not made from it', () => {
  const s = scratch();
  try {
    const path = fileWith(s.dir, v1Chunk([[2, 3, 600, 130_000]]));
    const t = TraceFile.open(path);
    try {
      assert.equal(t.profiles[0]!.rowWords, 4);
    } finally {
      t.close();
    }
    assert.match(render(path, 'stat')!, /app1\.js:f1 +3 +0\.600 us +0\.200 us +0\.005 us/);
    assert.equal(render(path, 'profile'), null);
  } finally {
    s.done();
  }
});

test('a PROFILE chunk with a row width no table has is refused as damaged', () => {
  const s = scratch();
  try {
    const bad = profileChunk(1, 0, 'node', new Float64Array(4 * ROW_F64).buffer);
    bad.writeUInt32LE(6, 16 + 4);
    const path = fileWith(s.dir, bad);
    assert.throws(() => TraceFile.open(path), /a profiler table with rows of 6 words/);
  } finally {
    s.done();
  }
});

test('a file with tables and no streams (recorded with no tracer): stat and profile read them; --pid and --thread select by the tables\' own', () => {
  const s = scratch();
  try {
    const events = eventRegistry().all().map((e) => ({ name: e.name, id: e.id, fields: e.fields.map((f) => `${f.kind} ${f.name}`) }));
    const live = new Float64Array(4 * ROW_F64);
    live.set([1, 2, 50, 1300, 40, 0, 2, 0], ROW_F64);
    const path = join(s.dir, 'tables.jsft');
    writeFileSync(path, Buffer.concat([
      fileHeader(),
      jsonChunk(CHUNK_PROCESS, 1, { pid: 77, ppid: 1, argv: ['node', 'a.js'], cwd: '/', started: new Date(0).toISOString(), node: 'v20', events }),
      ...namesChunks(1, 0, ['a.js:only']),
      profileChunk(1, 3, 'worker', live.buffer),
      jsonChunk(CHUNK_PROCESS_END, 1, { how: 'exit', code: 0, signal: null }),
    ]));
    const read = (format: 'stat' | 'profile', filter?: { pids?: number[]; threads?: number[] }): string | null => {
      const t = TraceFile.open(path);
      try {
        let out = '';
        return renderFile(t, format, { write: (d) => { out += String(d); } }, filter === undefined ? {} : { filter }) ? out : null;
      } finally {
        t.close();
      }
    };
    assert.match(read('stat')!, /^function3 \(worker\):\n[\s\S]*a\.js:only +2 +0\.050 us/);
    assert.match(read('profile')!, /\n +2 +50 ns +40 ns +50 ns +0 ns +25 ns  a\.js:only\n/);
    assert.match(read('profile', { pids: [77], threads: [3] })!, /a\.js:only/);
    assert.equal(read('stat', { pids: [78] }), null);
    assert.equal(read('profile', { threads: [4] }), null);
  } finally {
    s.done();
  }
});
