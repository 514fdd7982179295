// --max-size as a bound, chunk by chunk: a Collector fed by a client that
// speaks the drain's protocol with chunks of chosen sizes, so that the last
// page chunk lands in the room kept for the closing chunks. The file fills
// up to that room with whole page images, never passes the size, still
// ends with its note and every end, and reads back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Collector } from '../../src/recorder/collector.js';
import { chunk, fileHeader, jsonChunk, namesChunks } from '../../src/tracefile/encode.js';
import { CHUNK_PAGES, CHUNK_PROCESS, CHUNK_PROCESS_END, CHUNK_STREAM_END, CHUNK_THREAD } from '../../src/tracefile/layout.js';
import { TraceFile } from '../../src/tracefile/read.js';
import { fileThreads } from '../../src/tracefile/threads.js';
import { ReplacingFile } from '../../src/tracefile/replace.js';
import { scratch } from './support.js';

const MAX = 64 * 1024;

let serial = 0;
/** A PAGES chunk of `n` page images of one event each (header words only): 16 + 32n bytes, serials in order. */
function pages(n: number): Buffer {
  const b = Buffer.alloc(32 * n);
  for (let k = 0; k < n; k++) {
    b.writeUInt32LE(1 << 16, 32 * k + 4); // one event, no data words
    b.writeUInt32LE(serial++, 32 * k + 16);
  }
  return chunk(CHUNK_PAGES, 1, n, b);
}

async function collect(send: (sock: Socket, written: () => number) => Promise<void>): Promise<{ c: Collector; out: string; bytes: number; done: () => void }> {
  const s = scratch();
  const out = join(s.dir, 'max.jsft');
  const file = ReplacingFile.create(out);
  file.write(fileHeader());
  const c = await Collector.start(file, { maxBytes: MAX });
  const sock = connect(c.socket);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  await send(sock, () => file.bytes);
  await new Promise<void>((r) => sock.end(() => r()));
  await c.idle(20);
  await c.close();
  const bytes = file.bytes;
  file.commit();
  return { c, out, bytes, done: s.done };
}

async function write(sock: Socket, ch: Buffer): Promise<void> {
  await new Promise<void>((r) => sock.write(ch, () => r()));
  // The collector appends as data arrives: let it.
  await new Promise((r) => setTimeout(r, 5));
}

function thread(id: number): Buffer {
  return jsonChunk(CHUNK_THREAD, id, { threadId: id - 1, name: id === 1 ? 'main' : `worker ${id}`, gen: 1, pageBytes: 4096, clock: 'counter', tracer: 'function', options: 0, threshUs: 0 });
}

const head = [
  jsonChunk(CHUNK_PROCESS, 1, { pid: 4242, ppid: 1, argv: ['node', 'app.js'], cwd: '/', started: new Date(0).toISOString(), node: process.version, events: [] }),
  thread(1),
  ...namesChunks(1, 0, ['app.js:leaf']),
];
const ends = [
  jsonChunk(CHUNK_STREAM_END, 1, { overrun: 0, dropped: 0, written: 0, unsaved: 0 }),
  jsonChunk(CHUNK_PROCESS_END, 1, { how: 'exit', code: 0, signal: null }),
];

// The room kept for the closing chunks here is an eighth of the size: 8 KiB.
const ROOM = 8 * 1024;
for (const short of [0, 16, 512, 8191, 8192, 8300, 20_000]) {
  test(`a page chunk ending ${short} bytes short of --max-size: the whole page images that fit in the room left are written, the file stays within the size with its note and ends`, async () => {
    serial = 0;
    let expected = 0;
    let sent = 0;
    const r = await collect(async (sock, written) => {
      for (const ch of head) await write(sock, ch);
      // Fill to about 40 KiB, then a chunk that ends about `short` bytes before the size, then 16 KiB more.
      const n1 = Math.floor((40 * 1024 - written() - 16) / 32);
      await write(sock, pages(n1));
      const room = MAX - ROOM - written();
      const n2 = Math.floor((MAX - short - written() - 16) / 32);
      const n3 = 512;
      await write(sock, pages(n2));
      await write(sock, pages(n3));
      for (const ch of ends) await write(sock, ch);
      sent = n1 + n2 + n3;
      // The rule: a chunk goes in whole while it leaves the room; the first one that would not
      // goes in as its leading images that do, and the recording stops.
      if (16 + 32 * n2 <= room) expected = n1 + n2 + Math.max(0, Math.min(n3, Math.floor((room - 16 - 32 * n2 - 16) / 32)));
      else expected = n1 + Math.max(0, Math.floor((room - 16) / 32));
    });
    try {
      assert.ok(r.bytes <= MAX, `${r.bytes} bytes`);
      assert.ok(r.bytes > MAX - ROOM - 48, `${r.bytes} bytes: filled up to the room kept`);
      assert.equal(statSync(r.out).size, r.bytes);
      assert.equal(r.c.stopped, `the trace reached --max-size (${MAX} bytes)`);
      assert.deepEqual(r.c.totals(), { events: expected, lost: 0, unrecorded: sent - expected, unsaved: 0 });
      assert.equal(r.c.leftOut, 0);
      const t = TraceFile.open(r.out);
      try {
        assert.deepEqual(t.notes, [`the recording stopped: the trace reached --max-size (${MAX} bytes)`]);
        assert.deepEqual(t.processes.map((p) => [p.info.pid, p.end?.how, p.end?.code]), [[4242, 'exit', 0]]);
      } finally {
        t.close();
      }
    } finally {
      r.done();
    }
  });
}

test('closing chunks that cannot fit are left out and counted, and the file still never passes --max-size', async () => {
  const r = await collect(async (sock, written) => {
    for (const ch of head) await write(sock, ch);
    await write(sock, pages(Math.floor((MAX - 8 * 1024 - written() - 16) / 32)));
    // 300 more threads of the process, then its profile-sized closing chunk: more than the room kept.
    for (let k = 2; k <= 300; k++) await write(sock, thread(k));
    await write(sock, pages(128));
    for (let k = 2; k <= 300; k++) await write(sock, jsonChunk(CHUNK_STREAM_END, k, { overrun: 0, dropped: 0, written: 0, unsaved: 0 }));
    for (const ch of ends) await write(sock, ch);
  });
  try {
    assert.ok(r.bytes <= MAX, `${r.bytes} bytes`);
    assert.ok(r.c.leftOut > 0);
    assert.equal(r.c.stopped, `the trace reached --max-size (${MAX} bytes)`);
    // record's summary counts the threads the file holds, not the 300 the process declared.
    const { summary } = await import('../../src/cli/record.js');
    const t = TraceFile.open(r.out);
    try {
      const inFile = fileThreads(t).length;
      assert.ok(inFile < 300, `${inFile} threads in the file`);
      assert.match(summary(r.c, 'out.jsft', r.bytes), new RegExp(`^jsftrace: recorded \\d+ events? from ${inFile} threads? to out\\.jsft `));
    } finally {
      t.close();
    }
  } finally {
    r.done();
  }
});

test('--max-size below 64 KiB is refused before the program starts', async () => {
  const { recordOptions } = await import('../../src/cli/record.js');
  assert.throws(() => recordOptions({ 'max-size': '0.01' }), /--max-size 0\.01: at least 0\.0625 \(64 KiB\)/);
  assert.equal(recordOptions({ 'max-size': '0.0625' }).maxBytes, 65_536);
});
