// Command-line programs from the npm registry, each run plain, idle,
// counted and under `jsftrace record -p function_graph` (support.ts):
// npm's own CLI (semicolon-free, the npm that ships with this node), eslint
// and prettier on a corpus, a yargs CLI over lodash's minified bundle,
// bluebird, date-fns and ajv (code generated with new Function), and mocha
// started through its node_modules/.bin symlink with --require and --import.

import { before, after, test } from 'node:test';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { app, ensureInstalled, everyMode, root, Scratch } from './support.js';

const scratch = new Scratch();
before(ensureInstalled);
after(scratch.done);

const npmCli = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
const noNpm = existsSync(npmCli) ? false : `this node has no npm beside it (${npmCli})`;

test('npm --version', { skip: noNpm }, async () => {
  await everyMode('npm --version', [npmCli, '--version'], { scratch, minSites: 100, expectStatus: 0 });
});

test('npm ls --all in a project with dependencies', { skip: noNpm }, async () => {
  await everyMode('npm ls', [npmCli, 'ls', '--all'], { scratch, minSites: 300, expectStatus: 0 });
});

test('npm pack --dry-run of a package', { skip: noNpm }, async () => {
  const pkg = join(scratch.dir, 'pack-me');
  mkdirSync(join(pkg, 'lib'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'pack-me', version: '1.2.3', main: 'lib/index.js', files: ['lib'] }, null, 2));
  writeFileSync(join(pkg, 'lib', 'index.js'), 'module.exports = () => 42\n');
  writeFileSync(join(pkg, 'README.md'), '# pack-me\n');
  await everyMode('npm pack --dry-run', [npmCli, 'pack', '--dry-run'], { scratch, cwd: pkg, minSites: 300, expectStatus: 0 });
});

test('eslint lints a corpus (with findings: exit 1)', async () => {
  await everyMode('eslint', [join(app, 'node_modules', 'eslint', 'bin', 'eslint.js'), 'lint-corpus'], { scratch, minSites: 500, expectStatus: 1 });
});

test('prettier formats a corpus without semicolons', async () => {
  const corpus = join(root, 'test', 'fixtures', 'transform', 'corpus');
  await everyMode('prettier --no-semi', [join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--no-config', '--no-semi', corpus],
    { scratch, minSites: 500, expectStatus: 0 });
});

test('a yargs CLI over lodash.min.js, bluebird, date-fns and ajv', async () => {
  for (const args of [['validate'], ['dates', '2024-02-27', '5'], ['group'], ['promises'], ['--help'], ['bogus']]) {
    await everyMode(`cli ${args.join(' ')}`, ['cli.js', ...args], { scratch, minSites: 20, env: { TZ: 'UTC' } });
  }
});

test('mocha through node_modules/.bin (a symlink), with --import and with --require', async () => {
  const mocha = join('node_modules', '.bin', 'mocha');
  for (const preload of ['import', 'require'] as const) {
    await everyMode(`mocha (--${preload})`, [mocha, '--reporter', 'tap', 'test/'], { scratch, minSites: 100, preload, expectStatus: 2 });
  }
});
