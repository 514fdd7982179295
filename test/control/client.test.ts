// The control client against a server in this process (fake surface):
// each call, server errors as JsftraceError with the server's code, pipes
// and extract; and discovery: a wrong pid, a live but untraced pid, a
// socket left by a killed process, an unsafe directory, listTraced.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startControlServer } from '../../src/control/server.js';
import { connect } from '../../src/control/client.js';
import { listTraced } from '../../src/control/discovery.js';
import { FakeSurface, tempSockets } from './support.js';

/** A process that listens on `<dir>/<its pid>.sock` and is then killed with SIGKILL, leaving its socket file: its pid. */
async function killedListener(dir: string): Promise<number> {
  const child = spawn(process.execPath, ['-e', `
    const path = require('node:path').join(process.argv[1], process.pid + '.sock');
    require('node:net').createServer().listen(path, () => console.log('up'));
  `, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGKILL');
  await closed;
  return child.pid!;
}

test('calls, errors with the server code, pipe and extract', async () => {
  const t = tempSockets();
  const surface = new FakeSurface();
  const bytes = randomBytes(700_000);
  const server = await startControlServer(surface, { dir: t.dir, pollMs: 5, snapshot: async () => new Uint8Array(bytes) });
  try {
    const c = await connect(process.pid, { dir: t.dir });
    assert.equal(c.pid, process.pid);
    assert.equal(c.hello.pid, process.pid);
    assert.equal(c.hello.socket, server.path);
    assert.deepEqual(await c.list(), await surface.list());
    await c.write('current_tracer', 'function');
    assert.equal(await c.read('current_tracer'), 'function\n');
    await c.append('current_tracer', 'nop');
    assert.equal(await c.read('current_tracer'), 'function\nnop\n');
    await assert.rejects(c.write('current_tracer', 'bogus'), { name: 'JsftraceError', code: 'EINVAL', errno: -22, message: 'current_tracer: no tracer "bogus"' });
    await assert.rejects(c.read('missing'), { code: 'ENOENT' });
    await assert.rejects(c.pipe('trace', () => undefined), { code: 'EINVAL' });

    const got: string[] = [];
    const stop = new AbortController();
    surface.feed('one\n');
    const piping = c.pipe('trace_pipe', (text) => {
      got.push(text);
      if (got.length === 1) surface.feed('two\n');
      else stop.abort();
    }, stop.signal);
    assert.equal(await piping, 'cancelled');
    assert.deepEqual(got, ['one\n', 'two\n']);

    const progress: [number, number][] = [];
    const out = await c.extract((received, total) => progress.push([received, total]));
    assert.ok(Buffer.from(out).equals(bytes));
    assert.deepEqual(progress, [[524_288, 700_000], [700_000, 700_000]]);
    // The connection serves on after all that.
    assert.equal(await c.read('tracing_on'), '1\n');
    await c.close();
    await assert.rejects(c.read('tracing_on'), { code: 'ESRCH' });
  } finally {
    await server.close();
    t.done();
  }
});

test('a pipe ends with "ended" when the process goes away', async () => {
  const t = tempSockets();
  const server = await startControlServer(new FakeSurface(), { dir: t.dir, pollMs: 5 });
  try {
    const c = await connect(process.pid, { dir: t.dir });
    const piping = c.pipe('trace_pipe', () => undefined);
    await c.read('tracing_on'); // the pipe's answer came before this one's
    await server.close();
    assert.equal(await piping, 'ended');
    await assert.rejects(c.read('tracing_on'), { code: 'ESRCH', message: `process ${process.pid} ended (its control connection closed)` });
  } finally {
    await server.close();
    t.done();
  }
});

test('a wrong pid, an untraced pid and a socket left by a killed process are ESRCH', async () => {
  const t = tempSockets();
  const server = await startControlServer(new FakeSurface(), { dir: t.dir });
  try {
    const dead = await killedListener(t.dir);
    const left = join(t.dir, `${dead}.sock`);
    assert.ok(existsSync(left));
    await assert.rejects(connect(dead, { dir: t.dir }), { code: 'ESRCH', message: `no jsftrace process with pid ${dead} (jsftrace ps lists them)` });
    assert.equal(existsSync(left), false, 'the stale socket is removed');
    await assert.rejects(connect(dead, { dir: t.dir }), { code: 'ESRCH', message: `no jsftrace process with pid ${dead} (jsftrace ps lists them)` });
    await assert.rejects(connect(process.ppid, { dir: t.dir }), { code: 'ESRCH', message: new RegExp(`^process ${process.ppid} is not traced by jsftrace: no control socket in `) });
    await assert.rejects(connect(0, { dir: t.dir }), { code: 'EINVAL' });
    await assert.rejects(connect(dead, { dir: join(t.root, 'absent') }), { code: 'ESRCH', message: `no jsftrace process with pid ${dead} (jsftrace ps lists them)` });
    await assert.rejects(connect(process.pid, { dir: join(t.root, 'absent') }), { code: 'ESRCH', message: /^process \d+ is not traced by jsftrace: no control socket in .*absent/ });
  } finally {
    await server.close();
    t.done();
  }
});

test('the client refuses a socket directory that is not private', async () => {
  const t = tempSockets();
  const server = await startControlServer(new FakeSurface(), { dir: t.dir });
  try {
    chmodSync(t.dir, 0o755);
    await assert.rejects(connect(process.pid, { dir: t.dir }), { code: 'EACCES', message: /has mode 0755, not 0700/ });
    assert.throws(() => listTraced(t.dir), { code: 'EACCES' });
  } finally {
    chmodSync(t.dir, 0o700);
    await server.close();
    t.done();
  }
});

test('listTraced lists live sockets by pid and removes those of dead processes', async () => {
  const t = tempSockets();
  assert.deepEqual(listTraced(t.dir), [], 'no directory, no process');
  mkdirSync(t.dir, { mode: 0o700 });
  const server = await startControlServer(new FakeSurface(), { dir: t.dir });
  try {
    const dead = await killedListener(t.dir);
    writeFileSync(join(t.dir, 'notes.txt'), '');
    writeFileSync(join(t.dir, '1.sock'), ''); // not a socket: not ours to judge or remove
    assert.deepEqual(listTraced(t.dir), [{ pid: process.pid, socket: server.path }]);
    assert.equal(existsSync(join(t.dir, `${dead}.sock`)), false);
    assert.ok(existsSync(join(t.dir, '1.sock')));
  } finally {
    await server.close();
    t.done();
  }
});

test('a pipe whose onChunk is busy holds the connection, and the process stops reading for it', async () => {
  const t = tempSockets();
  const surface = new FakeSurface();
  const server = await startControlServer(surface, { dir: t.dir, pollMs: 5 });
  try {
    const c = await connect(process.pid, { dir: t.dir });
    const piece = 'y'.repeat(1 << 20);
    surface.endless = piece;
    let got = 0;
    let release!: () => void;
    const busy = new Promise<void>((r) => { release = r; });
    const stop = new AbortController();
    let first!: () => void;
    const started = new Promise<void>((r) => { first = r; });
    const piping = c.pipe('trace_pipe', (text) => {
      got += text.length;
      first();
      return busy;
    }, stop.signal);
    await started;
    // Sixty polls' time: a pipe that ignored its reader would have read sixty MiB by now.
    await new Promise((r) => setTimeout(r, 300));
    const reads = surface.calls.filter((x) => x === 'read trace_pipe').length;
    assert.ok(reads <= 4, `${reads} reads while the reader was busy`);
    surface.endless = null;
    release();
    stop.abort();
    assert.equal(await piping, 'cancelled');
    assert.equal(got, surface.piped);
    await c.close();
  } finally {
    await server.close();
    t.done();
  }
});
