// Trace files and another user (root the victim, nobody, uid 65534, the
// attacker, as test/cli/access.test.ts): in a directory both may write (a
// sticky, world-writable one, as /tmp), the attacker plants symlinks to a
// root-only file at the trace's name and at every name the old writer
// would have used for its temporary file; `record` and `report -o` still
// write only their own files (created exclusively, unguessable names,
// renamed into place), the root-only file is untouched, and the trace and
// the report are 0600, which the attacker cannot read. Needs root to switch
// users; skipped otherwise.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, fixture, jsftrace, nodeForOtherUsers, run, tempDir } from '../cli/support.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

test('another user\'s symlinks make record and report -o overwrite nothing; the trace and the report are the owner\'s only', { skip: !isRoot && 'needs root to act as another user', timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    chmodSync(t.dir, 0o755);
    const shared = join(t.dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const secret = join(t.dir, 'secret');
    writeFileSync(secret, 'root only\n', { mode: 0o600 });
    const asNobody = { uid: NOBODY, env: { ...cleanEnv(), HOME: '/' } };
    // This line's node, or a copy another user can run (other lines' binaries sit in a private cache).
    const node = nodeForOtherUsers(t.dir);
    // The attacker plants a symlink at the trace's name, the report's, and at the
    // temporary names the old writer made from them (`.<name>.<pid>.tmp`) for the next pids.
    const plant = `
      const fs = require('node:fs'), path = require('node:path');
      const [dir, secret, from] = process.argv.slice(1);
      for (const n of ['trace.jsft', 'flame.html']) {
        fs.symlinkSync(secret, path.join(dir, n));
        for (let p = Number(from); p < Number(from) + 3000; p++) fs.symlinkSync(secret, path.join(dir, '.' + n + '.' + p + '.tmp'));
      }
      console.log('planted');`;
    const planted = await run(node, ['-e', plant, shared, secret, String(process.pid)], asNobody);
    assert.equal(planted.stdout, 'planted\n', planted.stderr);

    const env = cleanEnv({ JSFTRACE_SOCKET_DIR: join(t.dir, 'sockets') });
    const rec = await jsftrace(['record', '-o', join(shared, 'trace.jsft'), '--', process.execPath, fixture('calls.mjs')], { cwd: t.dir, env });
    assert.equal(rec.code, 0, rec.stderr);
    const rep = await jsftrace(['report', '-i', join(shared, 'trace.jsft'), '--format', 'html', '-o', join(shared, 'flame.html')], { cwd: t.dir, env });
    assert.equal(rep.code, 0, rep.stderr);

    assert.equal(readFileSync(secret, 'utf8'), 'root only\n', 'the root-only file is untouched');
    for (const n of ['trace.jsft', 'flame.html']) {
      const st = lstatSync(join(shared, n));
      assert.ok(st.isFile(), `${n} is the owner's own file, not the planted link`);
      assert.equal(st.mode & 0o777, 0o600, n);
      assert.equal(st.uid, 0, n);
    }
    assert.equal(statSync(secret).mode & 0o777, 0o600);
    // No temporary file of ours is left behind (the planted links are all that remain).
    assert.deepEqual(readdirSync(shared).filter((n) => n.startsWith('.') && !lstatSync(join(shared, n)).isSymbolicLink()), []);

    // The attacker cannot read the trace nor the report.
    const read = `try { require('node:fs').readFileSync(process.argv[1]); console.log('read'); } catch (e) { console.log(e.code); }`;
    for (const n of ['trace.jsft', 'flame.html']) {
      assert.equal((await run(node, ['-e', read, join(shared, n)], asNobody)).stdout, 'EACCES\n', n);
    }
  } finally {
    t.done();
  }
});
