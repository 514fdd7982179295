// V8's code coverage of a traced program is the plain run's: the files
// NODE_V8_COVERAGE collects hold each instrumented module's functions and
// block ranges in the module's own offsets, none of the transform's and
// none of jsftrace's own modules, and Node's test runner reports the same
// coverage. jsftrace runs as an installed package (in node_modules), as
// users have it.

import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cleanEnv, run } from '../support/process.js';
import { tempDir } from './support.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const corpus = join(repo, 'test/fixtures/transform/corpus');
const GRAPH = JSON.stringify([['write', 'current_tracer', 'function_graph']]);

// Corpus programs whose coverage comes back exactly (docs/transparency.md,
// difference 26, lists the shapes that do not yet).
const FIXTURES = ['arrows.mjs', 'asi.cjs', 'classes.mjs', 'directives.cjs', 'strict.cjs', 'tostring.cjs'];

// A library in the style of many: no semicolons, early returns, a returned
// conditional, an async function and a function never called.
const LIB = `function classify(n) {
  if (n < 0) return 'negative'
  if (n === 0) {
    return 'zero'
  }
  return n > 100 ? 'big' : 'small'
}
async function later(x) {
  await null
  return x * 2
}
function pick(o) {
  return o.a ?? o.b
}
function unused() {
  return 1
}
module.exports = { classify, later, pick, unused }
`;

const LIB_TEST = `const test = require('node:test')
const assert = require('node:assert')
const { classify, later, pick } = require('./lib.js')
test('classify', async () => {
  assert.equal(classify(-1), 'negative')
  assert.equal(classify(5), 'small')
  assert.equal(await later(2), 4)
  assert.equal(pick({ b: 2 }), 2)
})
`;

const LIB_MAIN = `const { classify, later, pick } = require('./lib.js')
console.log(classify(-1), classify(5), pick({ b: 2 }))
later(2).then(console.log)
`;

interface Range { startOffset: number; endOffset: number; count: number }
interface Fn { functionName: string; ranges: Range[]; isBlockCoverage: boolean }
interface Script { url: string; functions: Fn[] }
interface CoverageFile { result: Script[]; 'source-map-cache'?: Record<string, unknown> }

let project: { dir: string; done: () => void };
let ownUrl: string;

before(() => {
  project = tempDir('jsftrace-coverage-');
  // The package as npm installs it: its files under node_modules, its
  // dependencies beside it.
  const pkg = join(project.dir, 'node_modules', 'jsftrace');
  mkdirSync(pkg, { recursive: true });
  cpSync(join(repo, 'package.json'), join(pkg, 'package.json'));
  cpSync(join(repo, 'dist', 'src'), join(pkg, 'dist', 'src'), { recursive: true });
  symlinkSync(join(repo, 'node_modules'), join(pkg, 'node_modules'));
  ownUrl = pathToFileURL(pkg).href + '/';
  for (const f of FIXTURES) cpSync(join(corpus, f), join(project.dir, f));
  writeFileSync(join(project.dir, 'lib.js'), LIB);
  writeFileSync(join(project.dir, 'lib.test.js'), LIB_TEST);
  writeFileSync(join(project.dir, 'main.js'), LIB_MAIN);
});

after(() => project.done());

/** Runs `file` with coverage into a fresh directory; the files of its main thread. */
async function covered(file: string, args: string[], env: Record<string, string>, out: string): Promise<{ stdout: string; code: number | null; files: CoverageFile[] }> {
  mkdirSync(out);
  const r = await run(process.execPath, [...args, file], { cwd: project.dir, env: cleanEnv({ NODE_V8_COVERAGE: out, JSFTRACE_CONTROL: '0', ...env }) });
  const files = readdirSync(out).filter((n) => n.endsWith('-0.json')).map((n) => JSON.parse(readFileSync(join(out, n), 'utf8')) as CoverageFile);
  return { stdout: r.stdout, code: r.code, files };
}

function entryOf(files: CoverageFile[], name: string): Fn[] {
  const url = pathToFileURL(join(project.dir, name)).href;
  const found = files.flatMap((f) => f.result).filter((s) => s.url === url);
  assert.equal(found.length, 1, `${name}: listed ${found.length} times`);
  return found[0]!.functions;
}

describe('V8 coverage (NODE_V8_COVERAGE)', () => {
  let n = 0;
  for (const name of [...FIXTURES, 'main.js']) {
    test(`${name}: the instrumented module's coverage is the plain run's, idle and traced`, async () => {
      const plain = await covered(name, [], {}, join(project.dir, `cov-${n++}`));
      for (const [mode, env] of [['idle', {}], ['traced', { JSFTRACE_CONTROL_INIT: GRAPH }]] as const) {
        const ours = await covered(name, ['--import', 'jsftrace/register'], env, join(project.dir, `cov-${n++}`));
        assert.equal(ours.code, plain.code, `${mode}: exit code`);
        assert.equal(ours.stdout, plain.stdout, `${mode}: output`);
        assert.deepStrictEqual(entryOf(ours.files, name), entryOf(plain.files, name), `${mode}: functions and ranges`);
        for (const f of ours.files) {
          for (const s of f.result) {
            assert.ok(!s.url.startsWith(ownUrl), `${mode}: jsftrace's ${s.url} listed`);
            // Only the scripts of jsftrace's last steps, named by no file, may remain.
            if (s.url.startsWith('jsftrace:')) assert.ok(s.functions.every((fn) => fn.ranges[0]!.count === 0 || /^jsftrace:(coverage-tail|exit-hooks)$/.test(s.url)), s.url);
          }
          if (f.result.some((s) => s.url.startsWith('file:'))) {
            for (const key of Object.keys(f['source-map-cache'] ?? {})) assert.ok(!key.startsWith(ownUrl), `${mode}: jsftrace's map of ${key} listed`);
          }
        }
      }
    });
  }
});

describe("Node's test runner (--experimental-test-coverage)", () => {
  test('reports the same coverage with jsftrace loaded in NODE_OPTIONS', async () => {
    const report = async (options: string | undefined): Promise<string[]> => {
      const r = await run(process.execPath, ['--test', '--experimental-test-coverage', '--test-reporter=tap', 'lib.test.js'], {
        cwd: project.dir, env: cleanEnv({ NODE_OPTIONS: options, JSFTRACE_CONTROL: '0' }),
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const lines = r.stdout.split('\n');
      const from = lines.findIndex((l) => l.includes('start of coverage report'));
      const to = lines.findIndex((l) => l.includes('end of coverage report'));
      assert.ok(from >= 0 && to > from, `no coverage report:\n${r.stdout}`);
      return lines.slice(from, to + 1);
    };
    const plain = await report(undefined);
    assert.ok(plain.some((l) => /lib\.js\s*\|/.test(l)), plain.join('\n'));
    assert.deepStrictEqual(await report('--import jsftrace/register'), plain);
    assert.deepStrictEqual(await report('--require jsftrace/register'), plain);
  });
});
