// What a client may cost the program, over the socket, against a fake
// surface: a `read` answer is bounded (EMSGSIZE past it, the file then read
// as a stream); a streamed read sends its pieces and stops being made when
// its client goes away or cancels; extracts take one snapshot at a time,
// and one asked for by a client that has gone is never taken; pipes and
// streams per connection, and connections, are capped with EMFILE.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startControlServer, type ControlServer } from '../../src/control/server.js';
import { connect } from '../../src/control/client.js';
import { FakeSurface, RawClient, tempSockets, type Frame } from './support.js';

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 20_000) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function frames(c: RawClient, n: number): Promise<Frame[]> {
  const out: Frame[] = [];
  for (let i = 0; i < n; i++) out.push((await c.next())!);
  return out;
}

test('a read answer is bounded: a longer file is EMSGSIZE as a read, and comes whole as a stream', { timeout: 30_000 }, async () => {
  const t = tempSockets();
  const fs = new FakeSurface();
  const server = await startControlServer(fs, { dir: t.dir, maxReadChars: 5000 });
  try {
    const c = await RawClient.open(server.path);
    fs.bigPieces = 4; // 4004 characters: within the bound
    c.request({ id: 1, op: 'read', path: 'big' });
    assert.deepEqual(await c.next(), { v: 1, id: 1, ok: true, text: fs.bigPiece.repeat(4) });
    fs.bigPieces = 8; // 8008: beyond it
    c.request({ id: 2, op: 'read', path: 'big' });
    const refused = (await c.next())!;
    assert.equal(refused['code'], 'EMSGSIZE');
    assert.match(refused['message'] as string, /^big is more than 5000 characters, more than one answer carries: read it as a stream/);
    c.request({ id: 3, op: 'read', path: 'big', stream: true });
    const got = await frames(c, 10);
    assert.deepEqual(got[0], { v: 1, id: 3, ok: true });
    assert.deepEqual(got.slice(1, 9).map((f) => f['chunk']), new Array(8).fill(fs.bigPiece));
    assert.deepEqual(got[9], { v: 1, id: 3, end: true });
    // A file that is not there fails the request itself.
    c.request({ id: 4, op: 'read', path: 'nosuch', stream: true });
    assert.equal((await c.next())!['code'], 'ENOENT');
    c.request({ id: 5, op: 'read', path: 'big', stream: 'yes' });
    assert.equal((await c.next())!['code'], 'EINVAL');
    c.close();
  } finally {
    await server.close();
    t.done();
  }
});

test('a streamed read stops being made when its client goes away, or cancels', { timeout: 30_000 }, async () => {
  const t = tempSockets();
  const fs = new FakeSurface();
  fs.bigPieces = Infinity;
  const server = await startControlServer(fs, { dir: t.dir });
  try {
    const c = await RawClient.open(server.path);
    c.request({ id: 1, op: 'read', path: 'big', stream: true });
    await frames(c, 3);
    c.close();
    await until(() => fs.stopped, 'the stream to stop after its client closed');
    const made = fs.produced;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(fs.produced, made, 'no piece is made after it stopped');
    fs.stopped = false;
    // Cancel: the stream ends with its end frame, the connection serves on.
    const d = await RawClient.open(server.path);
    d.request({ id: 7, op: 'read', path: 'big', stream: true });
    await frames(d, 2);
    d.request({ id: 7, op: 'cancel' });
    let f: Frame;
    do f = (await d.next())!; while (f['end'] !== true);
    assert.deepEqual(f, { v: 1, id: 7, end: true });
    assert.equal(fs.stopped, true);
    d.request({ id: 9, op: 'read', path: 'current_tracer' });
    assert.deepEqual(await d.next(), { v: 1, id: 9, ok: true, text: 'nop\n' });
    d.close();
    // The client library: stream() with an abort signal.
    fs.stopped = false;
    const cl = await connect(process.pid, { dir: t.dir });
    const stop = new AbortController();
    let pieces = 0;
    await cl.stream('big', () => { if (++pieces === 5) stop.abort(); }, stop.signal);
    assert.ok(pieces >= 5);
    await until(() => fs.stopped, 'the stream to stop after the client aborted');
    await cl.close();
  } finally {
    await server.close();
    t.done();
  }
});

test('extracts take one snapshot at a time, and one whose client has gone is never taken', { timeout: 30_000 }, async () => {
  const t = tempSockets();
  let taken = 0;
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => { release = r; });
  const snapshot = async (): Promise<Uint8Array> => {
    taken++;
    await held;
    return new Uint8Array([1, 2, 3]);
  };
  const server: ControlServer = await startControlServer(new FakeSurface(), { dir: t.dir, snapshot });
  try {
    const keeper = await RawClient.open(server.path);
    keeper.request({ id: 1, op: 'extract' });
    await until(() => taken === 1, 'the first snapshot to start');
    // Twenty clients ask, then go away before their turn.
    const leavers = await Promise.all(Array.from({ length: 20 }, () => RawClient.open(server.path)));
    // Accepted first: else the count below could be 1 before the server has seen them.
    await until(() => server.connections === 21, 'the twenty connections to be accepted');
    // Each request reaches the server before its client's end, on the same stream.
    for (const l of leavers) l.request({ id: 1, op: 'extract' });
    for (const l of leavers) l.close();
    await until(() => server.connections === 1, 'the twenty connections to close');
    release();
    const got = await frames(keeper, 3);
    assert.deepEqual(got[0], { v: 1, id: 1, ok: true, bytes: 3 });
    assert.deepEqual(got[2], { v: 1, id: 1, end: true });
    // A later extract is taken as usual: the chain of snapshots is not stuck.
    keeper.request({ id: 2, op: 'extract' });
    assert.deepEqual((await frames(keeper, 3))[0], { v: 1, id: 2, ok: true, bytes: 3 });
    assert.equal(taken, 2, 'only the snapshots of clients still there were taken');
    keeper.close();
  } finally {
    await server.close();
    t.done();
  }
});

test('pipes and streams per connection, and connections, are capped with EMFILE', { timeout: 30_000 }, async () => {
  const t = tempSockets();
  const server = await startControlServer(new FakeSurface(), { dir: t.dir, maxStreams: 16, maxConnections: 4, pollMs: 5 });
  try {
    const c = await RawClient.open(server.path);
    for (let id = 1; id <= 16; id++) {
      c.request({ id, op: 'pipe', path: 'trace_pipe' });
      assert.deepEqual(await c.next(), { v: 1, id, ok: true });
    }
    c.request({ id: 17, op: 'pipe', path: 'trace_pipe' });
    const refused = (await c.next())!;
    assert.deepEqual(refused, {
      v: 1, id: 17, ok: false, code: 'EMFILE', message: 'at most 16 pipes and streams run on one connection; cancel one first',
    });
    // Cancelling one makes room.
    c.request({ id: 3, op: 'cancel' });
    let f: Frame;
    do f = (await c.next())!; while (f['end'] !== true);
    assert.equal(f['id'], 3);
    c.request({ id: 18, op: 'pipe', path: 'trace_pipe' });
    assert.deepEqual(await c.next(), { v: 1, id: 18, ok: true });

    // Connections: three more fit (four in all), the fifth is told why and closed.
    const others = await Promise.all([1, 2, 3].map(() => RawClient.open(server.path)));
    for (const o of others) {
      o.request({ id: 1, op: 'hello' });
      assert.equal((await o.next())!['ok'], true);
    }
    const extra = await RawClient.open(server.path);
    assert.deepEqual(await extra.next(), {
      v: 1, id: null, ok: false, code: 'EMFILE', message: 'this process serves at most 4 control connections at a time; close one first',
    });
    await extra.closedByServer();
    others[0]!.close();
    await until(() => server.connections === 3, 'a connection to close');
    const again = await RawClient.open(server.path);
    again.request({ id: 1, op: 'hello' });
    assert.equal((await again.next())!['ok'], true);
    again.close();
    for (const o of others.slice(1)) o.close();
    c.close();
  } finally {
    await server.close();
    t.done();
  }
});
