// Real programs nobody here wrote, run three ways: as shipped, started with
// jsftrace/register (every function instrumented, nothing attached), and
// with a counting ops on every function. Output must be identical.
//
// - the TypeScript compiler type-checking a file with errors and its own
//   typescript.d.ts (CommonJS, a 6 MB bundle);
// - prettier formatting a corpus of this repository's sources (ESM CLI);
// - marked, an ESM-only package, rendering a corpus of markdown.
// Each program is copied into a temporary directory first, so that it is
// instrumented as a user's dependency is.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const req = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const register = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
const countAll = fileURLToPath(new URL('../fixtures/realworld/count-all.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'jsftrace-real-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function pkgDir(name: string): string {
  return dirname(req.resolve(`${name}/package.json`));
}

function install(name: string): string {
  const dest = join(work, 'app', 'node_modules', name);
  cpSync(pkgDir(name), dest, { recursive: true });
  return dest;
}

interface Run { stdout: string; stderr: string; status: number | null }
function run(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, args, {
    cwd: join(work, 'app'), encoding: 'utf8', maxBuffer: 256 << 20, timeout: 240_000,
    env: { ...process.env, JSFTRACE_CACHE_DIR: join(work, 'cache'), NODE_OPTIONS: '', ...env },
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function threeWays(label: string, args: string[], minSites: number): void {
  const plain = run(args);
  const idle = run(['--import', register, ...args]);
  assert.equal(idle.status, plain.status, `${label}: exit status, idle`);
  assert.equal(idle.stdout, plain.stdout, `${label}: output, idle`);
  assert.doesNotMatch(idle.stderr, /JSFTRACE_TRANSFORM/, `${label}: a file failed to transform`);
  const counts = join(work, `${label}.counts.json`);
  const traced = run(['--import', register, '--import', countAll, ...args], { JSFTRACE_TEST_COUNTS: counts });
  assert.equal(traced.status, plain.status, `${label}: exit status, traced`);
  assert.equal(traced.stdout, plain.stdout, `${label}: output, traced`);
  const c = JSON.parse(readFileSync(counts, 'utf8')) as { sites: number; calls: number; exits: number };
  assert.ok(c.sites >= minSites, `${label}: only ${c.sites} functions were entered`);
  assert.ok(c.exits > c.calls * 0.9 && c.exits <= c.calls, `${label}: ${c.exits} exits for ${c.calls} calls`);
  process.stdout.write(`# ${label}: ${c.sites} functions entered, ${c.calls} calls, ${c.exits} exits\n`);
}

test('the TypeScript compiler type-checks the same instrumented', { timeout: 600_000 }, () => {
  const ts = install('typescript');
  const bad = join(work, 'app', 'bad.ts');
  writeFileSync(bad, 'const n: number = "text";\nfunction f(a: string) { return a.size; }\nf(1);\n');
  threeWays('tsc-errors', [join(ts, 'lib', '_tsc.js'), '--noEmit', '--pretty', 'false', bad], 500);
  threeWays('tsc-typescript.d.ts', [join(ts, 'lib', '_tsc.js'), '--noEmit', '--lib', 'es2022', '--listFiles', join(ts, 'lib', 'typescript.d.ts')], 1000);
});

test('prettier formats a corpus the same instrumented', { timeout: 600_000 }, () => {
  const prettier = install('prettier');
  const corpus = join(work, 'app', 'corpus');
  mkdirSync(corpus);
  for (const dir of ['src/core', 'src/instrument']) {
    for (const f of readdirSync(join(root, dir))) if (f.endsWith('.ts')) cpSync(join(root, dir, f), join(corpus, `${dir.replace('/', '-')}-${f}`));
  }
  const files = readdirSync(corpus).sort().map((f) => join(corpus, f));
  threeWays('prettier', [join(prettier, 'bin', 'prettier.cjs'), '--no-config', ...files], 500);
});

test('marked (ESM-only) renders markdown the same instrumented', { timeout: 600_000 }, () => {
  install('marked');
  const script = join(work, 'app', 'markdown.mjs');
  cpSync(fileURLToPath(new URL('../../../test/fixtures/realworld/markdown.mjs', import.meta.url)), script);
  const docs = ['README.md', 'docs/design.md', 'docs/ring-format.md'].map((f) => join(root, f));
  threeWays('marked', [script, ...docs], 50);
});
