// The control server over its socket, in this process, against a fake
// surface: the socket directory's and socket's modes, refusal of unsafe
// directories, each op, the protocol's error answers (bad JSON, unknown op,
// version mismatch, oversized frame) leaving the server serving, in-order
// answers, pipes with cancel and back-pressure, extract in chunks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startControlServer, serveControl } from '../../src/control/server.js';
import { MAX_REQUEST_BYTES } from '../../src/control/protocol.js';
import { FakeSurface, RawClient, tempSockets, type Frame } from './support.js';

const isRoot = process.getuid?.() === 0;

test('the directory is made 0700 and the socket is 0600; close removes the socket', async () => {
  const t = tempSockets();
  try {
    const server = await startControlServer(new FakeSurface(), { dir: t.dir });
    assert.equal(server.path, join(t.dir, `${process.pid}.sock`));
    const d = lstatSync(t.dir);
    assert.equal(d.mode & 0o777, 0o700);
    assert.equal(d.uid, process.getuid!());
    const s = lstatSync(server.path);
    assert.ok(s.isSocket());
    assert.equal(s.mode & 0o777, 0o600);
    await server.close();
    assert.equal(existsSync(server.path), false);
  } finally {
    t.done();
  }
});

test('a directory that is not private is refused and nothing listens', async () => {
  const t = tempSockets();
  try {
    mkdirSync(t.dir, { mode: 0o700 });
    chmodSync(t.dir, 0o755);
    await assert.rejects(startControlServer(new FakeSurface(), { dir: t.dir }), { code: 'EACCES', message: /has mode 0755, not 0700/ });
    assert.equal(existsSync(join(t.dir, `${process.pid}.sock`)), false);
    // A symlink to a good directory is refused too (lstat): it could be re-pointed.
    chmodSync(t.dir, 0o700);
    const link = join(t.root, 'link');
    symlinkSync(t.dir, link);
    await assert.rejects(startControlServer(new FakeSurface(), { dir: link }), { code: 'EACCES', message: /symbolic link/ });
    const file = join(t.root, 'file');
    writeFileSync(file, '');
    await assert.rejects(startControlServer(new FakeSurface(), { dir: file }), { code: 'EACCES', message: /not a directory|cannot create/ });
  } finally {
    t.done();
  }
});

test('a directory of another user is refused', { skip: !isRoot && 'needs root to chown' }, async () => {
  const t = tempSockets();
  try {
    mkdirSync(t.dir, { mode: 0o700 });
    chownSync(t.dir, 65534, 65534);
    await assert.rejects(startControlServer(new FakeSurface(), { dir: t.dir }), { code: 'EACCES', message: /belongs to uid 65534/ });
  } finally {
    t.done();
  }
});

test('serveControl warns once on stderr and resolves null when the server cannot start', async () => {
  const t = tempSockets();
  const lines: string[] = [];
  const write = process.stderr.write;
  try {
    mkdirSync(t.dir, { mode: 0o700 });
    chmodSync(t.dir, 0o777);
    process.stderr.write = ((s: string) => { lines.push(s); return true; }) as typeof process.stderr.write;
    const r = await serveControl(new FakeSurface(), { dir: t.dir });
    process.stderr.write = write;
    assert.equal(r, null);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^jsftrace: control server not started: socket directory .* has mode 0777, not 0700.* \(EACCES\); the program runs on without it\n$/);
  } finally {
    process.stderr.write = write;
    t.done();
  }
});

test('a leftover file with our pid is replaced', async () => {
  const t = tempSockets();
  try {
    mkdirSync(t.dir, { mode: 0o700 });
    writeFileSync(join(t.dir, `${process.pid}.sock`), 'stale');
    const server = await startControlServer(new FakeSurface(), { dir: t.dir });
    assert.ok(lstatSync(server.path).isSocket());
    await server.close();
  } finally {
    t.done();
  }
});

async function withServer(fn: (path: string, surface: FakeSurface) => Promise<void>, opts: { snapshot?: () => Promise<Uint8Array> } = {}): Promise<void> {
  const t = tempSockets();
  const surface = new FakeSurface();
  const server = await startControlServer(surface, { dir: t.dir, pollMs: 5, ...opts });
  try {
    await fn(server.path, surface);
  } finally {
    await server.close();
    t.done();
  }
}

test('each op answers with its fields; surface errors keep their code', () => withServer(async (path, surface) => {
  const c = await RawClient.open(path);
  c.request({ id: 1, op: 'hello' });
  const h = await c.next() as { v: number; id: number; ok: boolean; hello: Record<string, unknown> };
  assert.deepEqual([h.v, h.id, h.ok], [1, 1, true]);
  assert.equal(h.hello['pid'], process.pid);
  assert.equal(h.hello['ppid'], process.ppid);
  assert.deepEqual(h.hello['argv'], process.argv);
  assert.equal(h.hello['node'], process.version);
  assert.deepEqual(h.hello['protocol'], { major: 1, minor: 1 });
  assert.equal(h.hello['socket'], path);
  assert.equal(typeof h.hello['jsftrace'], 'string');
  assert.ok(Math.abs((h.hello['startTime'] as number) - performance.timeOrigin) < 1);

  c.request({ id: 2, op: 'list' });
  assert.deepEqual(await c.next(), { v: 1, id: 2, ok: true, files: await surface.list() });
  c.request({ id: 3, op: 'write', path: 'current_tracer', text: 'function' });
  assert.deepEqual(await c.next(), { v: 1, id: 3, ok: true });
  c.request({ id: 4, op: 'append', path: 'current_tracer', text: 'x' });
  assert.deepEqual(await c.next(), { v: 1, id: 4, ok: false, code: 'EINVAL', message: 'current_tracer: no tracer "x"' });
  c.request({ id: 5, op: 'read', path: 'current_tracer' });
  assert.deepEqual(await c.next(), { v: 1, id: 5, ok: true, text: 'function\n' });
  c.request({ id: 6, op: 'write', path: 'ro', text: '1' });
  assert.deepEqual(await c.next(), { v: 1, id: 6, ok: false, code: 'EPERM', message: 'ro is read-only' });
  c.request({ id: 7, op: 'read', path: 'nope' });
  assert.deepEqual(await c.next(), { v: 1, id: 7, ok: false, code: 'ENOENT', message: 'no control file nope' });
  c.request({ id: 8, op: 'read' });
  assert.deepEqual(await c.next(), { v: 1, id: 8, ok: false, code: 'EINVAL', message: 'op read: "path" must be a string' });
  c.request({ id: 9, op: 'bye' });
  assert.deepEqual(await c.next(), { v: 1, id: 9, ok: true });
  await c.closedByServer();
  assert.deepEqual(surface.calls, ['write current_tracer function', 'append current_tracer x', 'read current_tracer', 'write ro 1', 'read nope']);
}));

test('bad JSON, a non-object and an unknown op get an error answer; the connection goes on', () => withServer(async (path) => {
  const c = await RawClient.open(path);
  c.send('{"v":1,"id":1,\n');
  const bad = await c.next() as Frame;
  assert.deepEqual([bad['id'], bad['ok'], bad['code']], [null, false, 'EINVAL']);
  assert.match(bad['message'] as string, /^bad frame: not JSON/);
  c.send('[1,2]\n');
  assert.deepEqual(await c.next(), { v: 1, id: null, ok: false, code: 'EINVAL', message: 'bad frame: not a JSON object' });
  c.request({ id: 2, op: 'frobnicate' });
  assert.deepEqual(await c.next(), {
    v: 1, id: 2, ok: false, code: 'EINVAL',
    message: 'unknown op "frobnicate" (ops: hello, list, read, write, append, pipe, cancel, extract, bye)',
  });
  c.request({ id: -1, op: 'list' });
  assert.deepEqual(await c.next(), { v: 1, id: null, ok: false, code: 'EINVAL', message: 'bad frame: "id" must be a non-negative integer' });
  c.request({ id: 3, op: 'read', path: 'tracing_on' });
  assert.deepEqual(await c.next(), { v: 1, id: 3, ok: true, text: '1\n' });
  c.close();
}));

test('another protocol version gets EPROTO and the connection closes; the server serves on', () => withServer(async (path) => {
  const c = await RawClient.open(path);
  c.send(`${JSON.stringify({ v: 2, id: 1, op: 'hello' })}\n`);
  assert.deepEqual(await c.next(), {
    v: 1, id: 1, ok: false, code: 'EPROTO', message: 'protocol version 2 not supported: this process speaks 1.1',
  });
  assert.equal(await c.next(), null);
  const d = await RawClient.open(path);
  d.request({ id: 1, op: 'read', path: 'tracing_on' });
  assert.deepEqual(await d.next(), { v: 1, id: 1, ok: true, text: '1\n' });
  d.close();
}));

test('an oversized frame gets EMSGSIZE and the connection closes; the server serves on', () => withServer(async (path, surface) => {
  const c = await RawClient.open(path);
  // No newline: the server must not hold more than its bound waiting for one.
  c.send(`{"v":1,"id":1,"op":"write","path":"tracing_on","text":"${'x'.repeat(MAX_REQUEST_BYTES + 10)}`);
  assert.deepEqual(await c.next(), {
    v: 1, id: null, ok: false, code: 'EMSGSIZE', message: `frame longer than ${MAX_REQUEST_BYTES} bytes; closing the connection`,
  });
  assert.equal(await c.next(), null);
  assert.deepEqual(surface.calls, []);
  const d = await RawClient.open(path);
  d.request({ id: 1, op: 'read', path: 'tracing_on' });
  assert.deepEqual(await d.next(), { v: 1, id: 1, ok: true, text: '1\n' });
  d.close();
}));

test('a frame just under the bound is accepted', () => withServer(async (path, surface) => {
  const c = await RawClient.open(path);
  const head = '{"v":1,"id":1,"op":"write","path":"tracing_on","text":"';
  c.send(`${head}${'y'.repeat(MAX_REQUEST_BYTES - head.length - 2)}"}\n`);
  assert.deepEqual(await c.next(), { v: 1, id: 1, ok: true });
  assert.equal(surface.files.get('tracing_on')!.length, MAX_REQUEST_BYTES - head.length - 1);
  c.close();
}));

test('requests on one connection are answered in order, a slow one holding back the next', () => withServer(async (path, surface) => {
  const c = await RawClient.open(path);
  const lines = [
    { id: 10, op: 'read', path: 'slow' },
    { id: 11, op: 'write', path: 'tracing_on', text: '0' },
    { id: 12, op: 'read', path: 'tracing_on' },
  ].map((f) => JSON.stringify({ v: 1, ...f })).join('\n');
  c.send(`${lines}\n`);
  // The slow read holds the queue: the write has not run.
  while (!surface.calls.includes('read slow')) await new Promise((r) => setImmediate(r));
  assert.deepEqual(surface.calls, ['read slow']);
  surface.release();
  assert.deepEqual(await c.next(), { v: 1, id: 10, ok: true, text: 'slow\n' });
  assert.deepEqual(await c.next(), { v: 1, id: 11, ok: true });
  assert.deepEqual(await c.next(), { v: 1, id: 12, ok: true, text: '0\n' });
  c.close();
}));

test('a pipe streams what arrives until cancelled; its end frame answers the cancel', () => withServer(async (path, surface) => {
  const c = await RawClient.open(path);
  surface.feed('a\n');
  c.request({ id: 5, op: 'pipe' });
  assert.deepEqual(await c.next(), { v: 1, id: 5, ok: true });
  assert.deepEqual(await c.next(), { v: 1, id: 5, chunk: 'a\n' });
  surface.feed('b\n');
  surface.feed('c\n');
  assert.deepEqual(await c.next(), { v: 1, id: 5, chunk: 'b\nc\n' });
  // Other requests go on while the pipe runs.
  c.request({ id: 6, op: 'read', path: 'tracing_on' });
  assert.deepEqual(await c.next(), { v: 1, id: 6, ok: true, text: '1\n' });
  c.request({ id: 5, op: 'cancel' });
  assert.deepEqual(await c.next(), { v: 1, id: 5, end: true });
  // After the end, nothing more is read for it.
  const reads = surface.calls.length;
  surface.feed('d\n');
  c.request({ id: 7, op: 'read', path: 'tracing_on' });
  assert.deepEqual(await c.next(), { v: 1, id: 7, ok: true, text: '1\n' });
  assert.deepEqual(surface.calls.slice(reads), ['read tracing_on']);
  assert.equal(surface.unread(), 'd\n');
  c.close();
}));

test('a pipe of a file that is not a pipe is refused, and of a missing thread fails with the surface code', () => withServer(async (path) => {
  const c = await RawClient.open(path);
  c.request({ id: 1, op: 'pipe', path: 'trace' });
  assert.deepEqual(await c.next(), {
    v: 1, id: 1, ok: false, code: 'EINVAL', message: 'op pipe: "trace" is not trace_pipe or per_thread/<N>/trace_pipe',
  });
  c.request({ id: 2, op: 'pipe', path: 'per_thread/9/trace_pipe' });
  assert.deepEqual(await c.next(), { v: 1, id: 2, ok: false, code: 'ENOENT', message: 'no control file per_thread/9/trace_pipe' });
  c.request({ id: 3, op: 'pipe', path: 'per_thread/1/trace_pipe' });
  assert.deepEqual(await c.next(), { v: 1, id: 3, ok: true });
  c.request({ id: 3, op: 'pipe', path: 'per_thread/1/trace_pipe' });
  assert.deepEqual(await c.next(), { v: 1, id: 3, ok: false, code: 'EBUSY', message: 'a pipe with id 3 is already running on this connection' });
  c.request({ id: 3, op: 'cancel' });
  assert.deepEqual(await c.next(), { v: 1, id: 3, end: true });
  c.close();
}));

test('a pipe whose reader does not read stops reading the surface, and loses nothing', () => withServer(async (path, surface) => {
  const c = await RawClient.open(path);
  const piece = 'x'.repeat(1 << 20);
  surface.endless = piece;
  c.request({ id: 1, op: 'pipe' });
  c.socket.pause();
  // Sixty polls' time: an unthrottled pipe would have read sixty MiB by now.
  await new Promise((r) => setTimeout(r, 300));
  const reads = surface.calls.filter((x) => x === 'read trace_pipe').length;
  assert.ok(reads <= 3, `${reads} reads while the reader was paused`);
  surface.endless = null;
  c.socket.resume();
  assert.deepEqual(await c.next(), { v: 1, id: 1, ok: true });
  c.request({ id: 1, op: 'cancel' });
  let got = 0;
  for (;;) {
    const f = await c.next() as Frame;
    if (f['end'] === true) break;
    got += (f['chunk'] as string).length;
  }
  assert.equal(got, surface.piped);
  assert.ok(got >= piece.length);
  c.close();
}));

test('extract sends the snapshot in base64 chunks and an end frame', async () => {
  const bytes = randomBytes(1_300_000);
  await withServer(async (path) => {
    const c = await RawClient.open(path);
    c.request({ id: 1, op: 'extract' });
    assert.deepEqual(await c.next(), { v: 1, id: 1, ok: true, bytes: bytes.length });
    const parts: Buffer[] = [];
    for (;;) {
      const f = await c.next() as Frame;
      if (f['end'] === true) break;
      parts.push(Buffer.from(f['data'] as string, 'base64'));
    }
    assert.equal(parts.length, 3);
    assert.ok(Buffer.concat(parts).equals(bytes));
    c.close();
  }, { snapshot: async () => new Uint8Array(bytes) });
});

test('a failing snapshot is an error answer', () => withServer(async (path) => {
  const c = await RawClient.open(path);
  c.request({ id: 1, op: 'extract' });
  assert.deepEqual(await c.next(), { v: 1, id: 1, ok: false, code: 'EIO', message: 'internal error: disk on fire' });
  c.close();
}, { snapshot: async () => { throw new Error('disk on fire'); } }));
