// The package as a user gets it: what `npm pack` puts in the tarball,
// installed with npm into a fresh project, gives a working `jsftrace`
// command and `jsftrace/register` (--import and --require), and nothing of
// the checkout beyond the published files is needed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, run, scratchDir } from '../support/process.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

test('npm pack, then npm install of the tarball: jsftrace --version, record, report, --import and --require', { timeout: 180_000 }, async () => {
  const t = scratchDir('jsftrace-pkg-');
  try {
    // Pack from a copy holding what a build leaves, without running the
    // build again in the checkout under test (prepare is checked by the
    // git install of test:realworld).
    const src = join(t.dir, 'src');
    for (const f of ['package.json', 'README.md', 'LICENSE', 'bin']) cpSync(join(root, f), join(src, f), { recursive: true });
    cpSync(join(root, 'dist', 'src'), join(src, 'dist', 'src'), { recursive: true });
    const env = cleanEnv({ npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' });
    const pack = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', t.dir], { cwd: src, env, timeoutMs: 60_000 });
    assert.equal(pack.code, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    const files = info!.files.map((f) => f.path);
    // The published files: the compiled library, its types, the command, the licence. No maps, sources or tests.
    for (const f of ['LICENSE', 'README.md', 'package.json', 'bin/jsftrace.js', 'dist/src/public/register.js', 'dist/src/public/register.cjs', 'dist/src/public/index.d.ts', 'dist/src/cli/main.js']) {
      assert.ok(files.includes(f), `${f} is not in the package`);
    }
    assert.deepEqual(files.filter((f) => !/^(dist\/src\/.*\.(js|cjs|d\.ts|d\.cts)|bin\/jsftrace\.js|LICENSE|README\.md|package\.json)$/.test(f)), []);

    const app = join(t.dir, 'app');
    cpSync(join(root, 'test', 'fixtures', 'package'), app, { recursive: true });
    const install = await run(npm, ['install', '--prefer-offline', '--no-package-lock', join(t.dir, info!.filename)], { cwd: app, env, timeoutMs: 120_000 });
    assert.equal(install.code, 0, install.stderr);
    assert.deepEqual(readdirSync(join(app, 'node_modules', 'jsftrace')).sort(), ['LICENSE', 'README.md', 'bin', 'dist', 'package.json']);

    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string;
    const npx = await run(npm, ['exec', '--', 'jsftrace', '--version'], { cwd: app, env });
    assert.equal(npx.stdout, `jsftrace ${version}\n`, npx.stderr);

    const plain = await run(process.execPath, ['app.mjs'], { cwd: app, env });
    assert.equal(plain.stdout, 'total 30\n');
    for (const entry of [['--import', 'jsftrace/register', 'app.mjs'], ['--require', 'jsftrace/register', 'app.cjs']]) {
      const r = await run(process.execPath, entry, { cwd: app, env: { ...env, JSFTRACE_CONTROL: '0' } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'total 30\n', `${entry.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '');
    }

    const bin = join(app, 'node_modules', '.bin', 'jsftrace');
    const rec = await run(bin, ['record', '-p', 'function_graph', '-o', 'app.jsft', '--', process.execPath, 'app.mjs'], { cwd: app, env });
    assert.equal(rec.code, 0, rec.stderr);
    assert.equal(rec.stdout, 'total 30\n');
    const rep = await run(bin, ['report', '-i', 'app.jsft'], { cwd: app, env });
    assert.equal(rep.code, 0, rep.stderr);
    // square() is called 4 times from total(), under main().
    assert.equal(rep.stdout.split('\n').filter((l) => /app\.mjs:square\(\);$/.test(l)).length, 4, rep.stdout);
    assert.match(rep.stdout, /app\.mjs:total\(\) \{$/m);
  } finally {
    t.done();
  }
});
