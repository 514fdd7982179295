// Installing jsftrace from a git URL, as `npm install git+https://...`
// does: npm clones the repository at a commit, installs its dev
// dependencies, runs its prepare script (which builds dist/) and packs it.
// Here the URL is git+file:// of this checkout at its HEAD commit, so what
// is tested is what is committed. The installed command must record a
// program, and the hook must load by --import and --require.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, run, scratchDir } from '../../support/process.js';
import { root } from './support.js';

test('npm install git+file://<this repository>#<HEAD> gives a working jsftrace', { timeout: 900_000 }, async () => {
  const t = scratchDir('jsftrace-git-install-');
  try {
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();
    assert.match(head, /^[0-9a-f]{40}$/);
    const app = join(t.dir, 'app');
    cpSync(join(root, 'test', 'fixtures', 'package'), app, { recursive: true });
    const env = cleanEnv({ npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' });
    const install = await run('npm', ['install', '--no-package-lock', `git+file://${root}#${head}`], { cwd: app, env, timeoutMs: 800_000 });
    assert.equal(install.code, 0, `npm install failed: ${install.stderr}`);
    const installed = join(app, 'node_modules', 'jsftrace');
    assert.deepEqual(readdirSync(installed).sort(), ['LICENSE', 'README.md', 'bin', 'dist', 'package.json']);

    const bin = join(app, 'node_modules', '.bin', 'jsftrace');
    const rec = await run(bin, ['record', '-p', 'function_graph', '-o', 'app.jsft', '--', process.execPath, 'app.mjs'], { cwd: app, env });
    assert.equal(rec.code, 0, rec.stderr);
    assert.equal(rec.stdout, 'total 30\n');
    assert.match(rec.stderr, /^jsftrace: recorded \d+ events from 1 thread to app\.jsft/);
    const rep = await run(bin, ['report', '-i', 'app.jsft'], { cwd: app, env });
    assert.equal(rep.code, 0, rep.stderr);
    assert.equal(rep.stdout.split('\n').filter((l) => /app\.mjs:square\(\);$/.test(l)).length, 4, rep.stdout);
    for (const entry of [['--import', 'jsftrace/register', 'app.mjs'], ['--require', 'jsftrace/register', 'app.cjs']]) {
      const r = await run(process.execPath, entry, { cwd: app, env: { ...env, JSFTRACE_CONTROL: '0' } });
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'total 30\n', ''], entry.join(' '));
    }
  } finally {
    t.done();
  }
});
