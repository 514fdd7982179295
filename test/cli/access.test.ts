// Who may reach a traced process (G8): a wrong pid is refused with one
// clear line; another user (nobody, uid 65534) cannot connect, neither
// through jsftrace (which checks the directory first) nor with a raw
// connect(), refused by the 0700 directory and, were that directory
// opened up, by the socket's own 0600. The user part needs root to switch
// users and is skipped otherwise.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, fixture, jsftrace, nodeForOtherUsers, readableClient, registerJs, run, Running, tempDir } from './support.js';

const NOBODY = 65534;

const isRoot = process.getuid?.() === 0;

test('a pid that is not a traced process is refused with one line and exit 1', { timeout: 30_000 }, async () => {
  const t = tempDir();
  const env = cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets });
  try {
    const gone = await run(process.execPath, ['-e', 'console.log(process.pid)']);
    const dead = gone.stdout.trim();
    const r = await jsftrace(['-P', dead, 'stat'], { env });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `jsftrace: no jsftrace process with pid ${dead} (jsftrace ps lists them) (ESRCH)\n`);
    assert.equal(r.stdout, '');
    // reset never attaches (other verbs would attach to this plain node process: test/attach).
    const mine = await jsftrace(['-P', String(process.pid), 'reset'], { env });
    assert.equal(mine.code, 1);
    assert.match(mine.stderr, new RegExp(`^jsftrace: process ${process.pid} is not traced by jsftrace: no control socket in .* \\(ESRCH\\)\\n$`));
    const usage = await jsftrace(['-P', 'abc', 'stop'], { env });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^jsftrace: -P "abc": a process id/);
    const none = await jsftrace(['stop'], { env });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^jsftrace stop: which process\? give -P <pid>/);
  } finally {
    t.done();
  }
});

test('another user cannot connect: the 0700 directory and the 0600 socket each refuse it', { skip: !isRoot && 'needs root to run a client as another user', timeout: 30_000 }, async () => {
  const t = tempDir();
  const env = cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets });
  const server = new Running(process.execPath, [`--import=${registerJs}`, fixture('server.mjs')], { env });
  try {
    await server.waitFor(/^port \d+$/m);
    const pid = String(server.pid);
    const sock = join(t.sockets, `${pid}.sock`);
    // Let nobody walk down to the socket directory, so what refuses it is that directory's mode.
    chmodSync(t.dir, 0o755);
    const asNobody = { uid: NOBODY, env: { ...env, HOME: '/' } };
    const node = nodeForOtherUsers(t.dir);
    const cli = await run(node, [readableClient(t.dir), '-P', pid, 'stat'], asNobody);
    assert.equal(cli.code, 1);
    assert.equal(cli.stderr, `jsftrace: socket directory ${t.sockets} belongs to uid 0, not to this user (uid ${NOBODY}) (EACCES)\n`);

    const connect = ['-e', `require('node:net').connect(process.argv[1]).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => console.log(e.code))`, sock];
    assert.equal((await run(node, connect, asNobody)).stdout, 'EACCES\n');
    // Were the directory opened up, the socket's own mode still refuses.
    chmodSync(t.sockets, 0o711);
    try {
      assert.equal(lstatSync(sock).mode & 0o777, 0o600);
      assert.equal((await run(node, connect, asNobody)).stdout, 'EACCES\n');
      // And jsftrace itself refuses a directory that is not 0700, even its own.
      const own = await jsftrace(['-P', pid, 'stat'], { env });
      assert.equal(own.code, 1);
      assert.equal(own.stderr, `jsftrace: socket directory ${t.sockets} has mode 0711, not 0700; refusing it (chmod 700 it or remove it) (EACCES)\n`);
    } finally {
      chmodSync(t.sockets, 0o700);
    }
    // The owner gets in.
    const root = await jsftrace(['-P', pid, 'fs', 'cat', 'current_tracer'], { env });
    assert.equal(root.stdout, 'nop\n');
  } finally {
    await server.stop('SIGKILL');
    t.done();
  }
});

test('a process whose socket directory is not private runs on without a server, with one warning', { timeout: 30_000 }, async () => {
  const t = tempDir();
  try {
    const env = cleanEnv({ JSFTRACE_SOCKET_DIR: t.dir }); // mkdtemp's directory is 0700: make it 0755
    chmodSync(t.dir, 0o755);
    const r = await run(process.execPath, [`--import=${registerJs}`, fixture('calls.mjs')], { env });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'sum 18\n');
    assert.equal(r.stderr, `jsftrace: control server not started: socket directory ${t.dir} has mode 0755, not 0700; refusing it (chmod 700 it or remove it) (EACCES); the program runs on without it\n`);
  } finally {
    t.done();
  }
});
