// A program sees itself as it is without jsftrace: each program here runs
// plain and under `--import` / `--require jsftrace/register` (the real
// transform, nothing attached) and must print exactly the same: the source
// text of its functions, its stack traces (default, through its own
// Error.prepareStackTrace, with eval origins, async frames and `[as alias]`),
// its globals and process listeners, Node's source-map state, how deep it
// can recurse, and how Node resolves a main module reached by a symlink.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENTRIES, inThreadHooks, REAL, registerCjs, registerJs, runNode, served, tempDir, threeWays, TRACING, pids, writeTree } from './support.js';
import { cleanEnv, run } from '../support/process.js';
import { USING_DECLARATIONS } from '../../src/instrument/transform-version.js';

const mainJs = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** The hooks a run can be given: the loader thread (module.register) always, in-thread hooks where jsftrace uses them. */
const HOOK_MODES = inThreadHooks ? ['async', 'sync'] : ['async'];

const SOURCE_TEXT = `
const out = [];
const o = { m(a) { return a }, get g() { return 1 }, set g(v) {}, async *ag() { yield 1 }, [\`k\${1}\`]: () => 2, arrow: async (x) => await x };
class C extends Object {
  #p() { return 1 }
  static s = () => 3;
  field = function () { return 4 };
  constructor(...a) { super(...a) }
  static /* c */ async st() {}
  get [Symbol.iterator]() { return null }
}
function named(a, b = () => 1) { return a + b() }
const d = Object.getOwnPropertyDescriptor(o, 'g');
for (const f of [o.m, d.get, d.set, o.ag, o.k1, o.arrow, C, C.s, new C().field, C.st, named, Math.max, Function.prototype.toString]) {
  out.push(Function.prototype.toString.call(f));
}
// A function serialised and made again elsewhere, as page.evaluate and
// workers with eval: true do.
const vm = require('node:vm');
function square(n) { return n * n }
out.push(vm.runInNewContext('(' + square.toString() + ')(7)'));
out.push(new Function('return ' + named.toString())()(2));
console.log(out.join('\\n'));
`;

test('Function.prototype.toString gives the original text of every kind of function and class', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, { 'main.cjs': SOURCE_TEXT, 'main.mjs': SOURCE_TEXT.replace("const vm = require('node:vm');", "import vm from 'node:vm';") });
    await threeWays(t.dir, 'main.cjs');
    await threeWays(t.dir, 'main.mjs');
  } finally {
    t.done();
  }
});

const STACKS = `
const lines = [];
function a1() { return a2() }
function a2() { return new Error('e').stack.split('\\n').slice(0, 3).join('|') }
lines.push(a1());
// The top level of a CommonJS module: the loader's frames below it, no other _compile.
lines.push(new Error('top').stack.split('\\n').filter((l) => l.includes('_compile')).join('\\n'));
const obj = { real() { return new Error('x').stack.split('\\n')[1] } };
obj.alias = obj.real;
lines.push(obj.alias());
function callsites() {
  const prev = Error.prepareStackTrace;
  Error.prepareStackTrace = (_, s) => s;
  const s = new Error().stack.slice(1);
  Error.prepareStackTrace = prev;
  return s;
}
function where() {
  const c = callsites()[0];
  return [c.getFileName(), c.getLineNumber(), c.getColumnNumber(), c.getFunctionName(), String(c), c.getEnclosingColumnNumber?.()].join(' ');
}
lines.push(where());
lines.push(eval('new Error("ev").stack.split("\\\\n").slice(1, 3).join("|")'));
lines.push(String(Error.prepareStackTrace));
async function deep1() { await null; return deep2() }
async function deep2() { await null; throw new Error('async') }
deep1().catch((e) => {
  lines.push(e.stack.split('\\n').slice(0, 4).join('|'));
  console.log(lines.join('\\n'));
});
`;

test("stack traces: default text, a program's own prepareStackTrace, eval origins, async frames, file URLs", { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    // A .js of a package with no "type", as most packages are: Node 22 and
    // later require it with no format, and detect its syntax.
    writeTree(t.dir, { 'main.cjs': STACKS, 'main.mjs': STACKS, 'untyped/package.json': '{"name":"untyped"}', 'untyped/main.js': STACKS });
    await threeWays(t.dir, 'main.cjs');
    await threeWays(t.dir, 'main.mjs');
    await threeWays(t.dir, 'untyped/main.js');
  } finally {
    t.done();
  }
});

const LISTENERS = `
const show = (tag, stack) => console.log(tag, stack.split('\\n').slice(1).join('|'));
const files = () => {
  const prev = Error.prepareStackTrace;
  Error.prepareStackTrace = (_, s) => s.map((c) => c.getFileName() + ':' + c.getLineNumber());
  const s = new Error().stack;
  Error.prepareStackTrace = prev;
  return s.join('|');
};
function emitFrom() { process.emit('custom', 1) }
process.on('custom', function onCustom() { show('custom', new Error('c').stack); console.log('sites', files()) });
emitFrom();
process.on('warning', (w) => show('warning', new Error('w').stack));
process.emitWarning('careful');
process.on('SIGUSR2', () => show('signal', new Error('s').stack));
process.kill(process.pid, 'SIGUSR2');
// The program's own formatter wrapped around the default it found.
const dflt = Error.prepareStackTrace;
console.log(typeof dflt, dflt.name, dflt.length, Object.getOwnPropertyNames(dflt).join(), Function.prototype.toString.call(dflt));
process.on('beforeExit', () => {
  Error.prepareStackTrace = (e, s) => dflt(e, s);
  show('beforeExit', new Error('b').stack);
  Error.prepareStackTrace = dflt;
});
process.on('exit', function atEnd(code) { show('exit ' + code, new Error('x').stack); console.log('sites', files()) });
setTimeout(() => {}, 20);
`;

// Node's default formatter, as the program can reach it: called with
// arrays of its own, failing inside, cleared.
const DEFAULT_FORMATTER = `
const d = Error.prepareStackTrace;
let proto;
Error.prepareStackTrace = (e, s) => { proto = Object.getPrototypeOf(s[0]); return 'x' };
new Error().stack;
Error.prepareStackTrace = d;
const attempt = (tag, f) => { try { console.log(tag, JSON.stringify(f())) } catch (e) { console.log(tag, 'threw', e.message, e.stack.split('\\n').slice(1).join('|')) } };
const fake = Object.create(proto);
fake.toString = () => 'FAKE';
attempt('inherits, assigned', () => d(new Error('m'), [fake]));
attempt('inherits, its own', () => d(new Error('m'), [Object.create(proto, { toString: { value: () => 'STR' } })]));
attempt('inherits, primitive', () => d(new Error('m'), [Object.create(proto, { [Symbol.toPrimitive]: { value: () => 'PRIM' } })]));
attempt('plain objects', () => d(new Error('m'), [{ toString: () => 'a' }, 'b']));
const reads = [];
const proxied = new Proxy(['p0', 'p1'], { get(t, k, r) { if (typeof k === 'string') reads.push(k); return Reflect.get(t, k, r) } });
attempt('proxy', () => d(new Error('m'), proxied));
console.log('reads', reads.join());
let gets = 0;
const getter = ['g1'];
Object.defineProperty(getter, 0, { get() { gets++; return 'g0' } });
attempt('getter', () => d(new Error('m'), getter));
console.log('gets', gets);
class BadName extends Error { get name() { throw new Error('bad name') } }
attempt('throws inside', () => new BadName('m').stack);
Error.prepareStackTrace = undefined;
process.on('custom', function onCustom() { console.log('cleared', new Error('c').stack.split('\\n').slice(1, 4).join('|')) });
process.emit('custom');
`;

const EXIT_THROWS = `
process.on('exit', function atEnd() { throw new TypeError('from exit') });
`;

test("stack traces taken in listeners of the process's events (exit, beforeExit, a signal, a warning, the program's own), and by Node's default formatter as the program calls it, are the plain run's", { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, { 'main.cjs': LISTENERS, 'main.mjs': LISTENERS, 'throws.cjs': EXIT_THROWS, 'default.cjs': DEFAULT_FORMATTER });
    await threeWays(t.dir, 'main.cjs');
    await threeWays(t.dir, 'main.mjs');
    await threeWays(t.dir, 'throws.cjs');
    await threeWays(t.dir, 'default.cjs');
  } finally {
    t.done();
  }
});

test('a stack taken in a listener of the process\'s events keeps as many of the program\'s frames as without us at the default limit', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, { 'deep.cjs': readFileSync(fileURLToPath(new URL('../../../test/fixtures/cli/deep-listeners.cjs', import.meta.url)), 'utf8') });
    await threeWays(t.dir, 'deep.cjs', ['--import', '--require'], false);
  } finally {
    t.done();
  }
});

test('a CommonJS module that V8 does not compile either fails as without us: the line Node prints (its end, where the text ends early), no warning', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'eof.cjs': 'function f() {\n  return 1\n',
      'middle.cjs': 'console.log(1)\nlet x = ;\nconsole.log(2)\n',
      'required.cjs': "require('./eof.cjs')\n",
    });
    for (const main of ['eof.cjs', 'middle.cjs', 'required.cjs']) await threeWays(t.dir, main);
  } finally {
    t.done();
  }
});

test('a program with `using` declarations on a Node that does not compile them fails as without us: Node\'s message, its line and caret, no warning', {
  timeout: 60_000, skip: USING_DECLARATIONS && 'this Node compiles `using` declarations (the corpus\'s using.mjs runs there)',
}, async () => {
  const t = tempDir();
  try {
    const using = 'function f() {\n  using a = null\n  return 1\n}\nconsole.log(f())\n';
    writeTree(t.dir, { 'main.cjs': using, 'main.mjs': using, 'imports.mjs': "import './main.cjs'\n" });
    await threeWays(t.dir, 'main.cjs');
    await threeWays(t.dir, 'main.mjs');
    await threeWays(t.dir, 'imports.mjs');
  } finally {
    t.done();
  }
});

test('what V8 compiles and the specification refuses loads instrumented, with no warning: a call as an assignment\'s target, a CommonJS module\'s top-level `using`', { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    // V8 compiles a call as the target of an assignment, an update or a
    // for-in/of head, and throws a ReferenceError only if it runs; without
    // semicolons, \`--n\\n(f)\` is one (the decrement of a call).
    const calls = [
      'var n = 0',
      'function helper(x) { return x }',
      'function never() {',
      '  helper(1) = 2',
      '  helper(1) += 2',
      '  --n',
      '  (helper)',
      '  for (helper(1) in {}) ;',
      '}',
      'function tries(label, fn) { try { fn() } catch (e) { console.log(label, e.constructor.name, e.message) } }',
      'tries("assign", () => { helper(1) = 2 })',
      'tries("compound", () => { (helper(1)) *= 2 })',
      'tries("update", () => { helper(1)++ })',
      'tries("for-in", () => { for (helper(1) in { a: 1 }) ; })',
      'tries("for-of", () => { for (helper(1) of [1]) ; })',
      'console.log(typeof never, helper(3))',
      '',
    ].join('\n');
    writeTree(t.dir, { 'calls.cjs': calls, 'calls.mjs': calls });
    await threeWays(t.dir, 'calls.cjs');
    await threeWays(t.dir, 'calls.mjs');
    const mains = ['calls.cjs'];
    if (USING_DECLARATIONS) {
      writeTree(t.dir, {
        'using.cjs': [
          'const log = []',
          'class R { constructor(n) { this.n = n } [Symbol.dispose]() { log.push(`dispose ${this.n}`) } }',
          'function helper(n) { log.push(`make ${n}`); return new R(n) }',
          'using a = helper(1)',
          '{ using b = helper(2); log.push("block") }',
          "process.on('exit', () => console.log(log.join(', ')))",
          '',
        ].join('\n'),
      });
      await threeWays(t.dir, 'using.cjs');
      mains.push('using.cjs');
    }
    // And instrumented: helper's calls are in the trace.
    for (const main of mains) {
      const out = join(t.dir, `${main}.jsft`);
      const rec = await run(process.execPath, [mainJs, 'record', '-o', out, '--', process.execPath, main], { cwd: t.dir, env: cleanEnv() });
      assert.equal(rec.code, 0, rec.stderr);
      assert.doesNotMatch(rec.stderr, /JSFTRACE_TRANSFORM/);
      const report = await run(process.execPath, [mainJs, 'report', '-i', out], { cwd: t.dir, env: cleanEnv() });
      const helpers = report.stdout.split('\n').filter((l) => /\d: \S+\.cjs:helper( <-|$)/.test(l));
      assert.equal(helpers.length, main === 'calls.cjs' ? 6 : 2, report.stdout);
    }
  } finally {
    t.done();
  }
});

test("jsftrace's calls and exits call none of the program's replaced built-ins, and queue no async resource", { timeout: 180_000 }, async () => {
  const t = tempDir();
  try {
    // Every method of the built-in prototypes and of Math and Atomics
    // replaced by a counting wrapper (itself traced when every function is),
    // counting only while the program's arithmetic functions run.
    const probe = [
      'const counts = new Map()',
      'const apply = Reflect.apply, mapGet = Map.prototype.get, mapSet = Map.prototype.set',
      'let on = false',
      'function wrap(obj, key, label) {',
      '  const d = Object.getOwnPropertyDescriptor(obj, key)',
      "  if (!d || typeof d.value !== 'function' || !d.configurable) return",
      '  const orig = d.value',
      '  const w = { [key]: function (...a) { if (on) { on = false; apply(mapSet, counts, [label, (apply(mapGet, counts, [label]) || 0) + 1]); on = true } return apply(orig, this, a) } }[key]',
      '  Object.defineProperty(obj, key, { ...d, value: w })',
      '}',
      "const targets = [[Array.prototype, 'Array'], [Object.getPrototypeOf([][Symbol.iterator]()), 'ArrayIterator'], [Function.prototype, 'Function'],",
      "  [Object.getPrototypeOf(Uint8Array.prototype), 'TypedArray'], [Map.prototype, 'Map'], [Set.prototype, 'Set'], [Object.prototype, 'Object'],",
      "  [String.prototype, 'String'], [Promise.prototype, 'Promise'], [WeakMap.prototype, 'WeakMap'], [Math, 'Math'], [Atomics, 'Atomics'],",
      "  [Object.getPrototypeOf(function* () {}).prototype, 'Generator']]",
      'for (const [obj, name] of targets) for (const key of Reflect.ownKeys(obj)) {',
      "  if (key === 'constructor' || (obj === Function.prototype && (key === 'call' || key === 'apply'))) continue",
      '  wrap(obj, key, `${name}.${String(key)}`)',
      '}',
      'function leaf(n) { return n * 2 + 1 }',
      'function mid(n) { let s = 0; for (let i = 0; i < 3; i++) s += leaf(n + i); return s }',
      'function top(n) { let s = 0; for (let i = 0; i < 200; i++) s += mid(i); return s }',
      'async function asy(n) { await null; return leaf(n) }',
      'function* gen() { yield leaf(1); yield leaf(2) }',
      'async function main() {',
      '  on = true',
      '  let t = top(1)',
      '  for (const v of gen()) t += v',
      '  t += await asy(3)',
      '  on = false',
      "  console.log('result', t, JSON.stringify([...counts].sort()))",
      '}',
      'main()',
      '',
    ].join('\n');
    const hooks = [
      "const ah = require('node:async_hooks')",
      'let microtasks = 0',
      "ah.createHook({ init(id, type) { if (type === 'Microtask') microtasks++ } }).enable()",
      'function leaf(x) { return x + 1 }',
      'let s = 0',
      'for (let i = 0; i < 10; i++) s = leaf(s)',
      'setTimeout(() => { s = leaf(s); queueMicrotask(() => { s = leaf(s) }) }, 1)',
      "setTimeout(() => { console.log('microtasks', microtasks, s) }, 20)",
      '',
    ].join('\n');
    writeTree(t.dir, { 'probe.cjs': probe, 'hooks.cjs': hooks });
    await threeWays(t.dir, 'probe.cjs', ['--require']);
    await threeWays(t.dir, 'hooks.cjs', ['--require']);
    const plain = await runNode(['probe.cjs'], { cwd: t.dir, env: REAL });
    assert.match(plain.stdout, /^result 121215 \[\["Generator\.next",3\]\]\n$/);
    for (const tracer of ['function', 'function_graph']) {
      const rec = await run(process.execPath, [mainJs, 'record', '-p', tracer, '-o', join(t.dir, 'p.jsft'), '--', process.execPath, 'probe.cjs'], { cwd: t.dir, env: cleanEnv(), timeoutMs: 60_000 });
      assert.equal(rec.stdout, plain.stdout, `${tracer}: ${rec.stderr}`);
      assert.equal(rec.code, 0, rec.stderr);
    }
  } finally {
    t.done();
  }
});

test('an uncaught error prints the same (a line without inserted code); with --require it is still an uncaught exception', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    const boom = 'function boom(x) {\n  if (x > 1)\n    throw new TypeError(`bad ${x}`)\n  return x\n}\n';
    writeTree(t.dir, {
      'main.cjs': `${boom}boom(2)\n`,
      'origin.cjs': `process.on('uncaughtException', (e, origin) => { console.log(origin, e.message); process.exitCode = 3 })\n`
        + `process.on('unhandledRejection', () => console.log('rejection'))\n${boom}boom(3)\n`,
    });
    await threeWays(t.dir, 'main.cjs');
    await threeWays(t.dir, 'origin.cjs');
  } finally {
    t.done();
  }
});

// A compiled module whose map is a file beside it (tsc's `sourceMap`,
// esbuild's `linked`), with a sourceRoot, and a bundle with an inline map:
// with source maps on, the frames are mapped through each, so jsftrace
// carries both through its insertions; findSourceMap still gives the
// program the module's own map (its payload, line lengths and lookups at
// the CallSites' positions are the plain run's).
const MAPPED_TS = `
interface Job { id: number }
export class Runner {
  constructor(private readonly jobs: Job[]) {}
  run(): string {
    return this.jobs.map((j) => this.one(j)).join(' | ');
  }
  private one(j: Job): string {
    if (j.id > 1) return frames(new Error('job ' + j.id));
    return 'ok';
  }
}
export function frames(e: Error): string { return e.stack!.split('\\n').slice(1, 4).map((l) => l.trim()).join(' < '); }
export function fails(): never { throw new RangeError('from TypeScript'); }
`;

test('stack traces through the program\'s own source maps (a .map file with a sourceRoot, an inline map) are the plain run\'s', { timeout: 60_000 }, async () => {
  const { transformSync } = await import('esbuild');
  const t = tempDir();
  try {
    const linked = transformSync(MAPPED_TS, { loader: 'ts', format: 'cjs', sourcemap: 'external', sourcefile: 'app.ts' });
    const { version, ...parsed } = JSON.parse(linked.map) as { version: number; sources: string[] };
    // A sourceRoot among the first keys, where tsc writes it: Node empties it in place.
    const map = { version, sourceRoot: '../src/', ...parsed };
    const inline = transformSync(MAPPED_TS, { loader: 'ts', format: 'cjs', sourcemap: 'inline', sourcefile: 'bundle.ts', minifyWhitespace: true });
    const use = (file: string): string => `{
      const m = require(${JSON.stringify(file)});
      console.log(new m.Runner([{ id: 1 }, { id: 2 }]).run());
      try { m.fails(); } catch (e) { console.log(e.stack.split('\\n').slice(0, 2).join(' | ')); }
      const { findSourceMap } = require('node:module');
      const sm = findSourceMap(require.resolve(${JSON.stringify(file)}));
      const { payload } = sm;
      console.log(payload.sources.map((s) => s.slice(s.lastIndexOf('/'))).join(), payload.file);
      // What a program that maps positions itself gets: the module's own
      // map and line lengths, looked up at the CallSites' positions.
      console.log(JSON.stringify(payload), JSON.stringify(sm.lineLengths), sm === findSourceMap(require.resolve(${JSON.stringify(file)})));
      const before = Error.prepareStackTrace;
      Error.prepareStackTrace = (_e, sites) => sites;
      const sites = [];
      try { m.fails(); } catch (e) { sites.push(...e.stack); }
      new m.Runner([{ id: 1 }, { id: 2 }]).run.call({ jobs: [{ id: 2 }], one: (j) => sites.push(...new Error(String(j.id)).stack) });
      Error.prepareStackTrace = before;
      for (const c of sites.filter((c) => c.getFileName() === require.resolve(${JSON.stringify(file)}))) {
        console.log(c.getLineNumber(), c.getColumnNumber(), JSON.stringify(sm.findEntry(c.getLineNumber() - 1, c.getColumnNumber() - 1)), JSON.stringify(sm.findOrigin(c.getLineNumber(), c.getColumnNumber())));
      }
    }`;
    writeTree(t.dir, {
      'out/app.js': `${linked.code}//# sourceMappingURL=app.js.map\n`,
      'out/app.js.map': JSON.stringify(map),
      'out/bundle.js': inline.code,
      // A byte-order mark: Node compiles a CommonJS file with it, and V8
      // counts it in the first line's columns (and Node in its length).
      'out/bom.js': `\uFEFF${inline.code}`,
      'main.cjs': `process.setSourceMapsEnabled(true);${use('./out/app.js')}${use('./out/bundle.js')}${use('./out/bom.js')}`,
    });
    await threeWays(t.dir, 'main.cjs');
    const plain = await runNode(['main.cjs'], { cwd: t.dir, env: REAL });
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /src\/app\.ts:9:\d+\) < .*src\/app\.ts:6:\d+\) < /, plain.stdout);
    // Each module's lookups: fails, one and run (one's frame, then run's).
    assert.equal(plain.stdout.match(/^\d+ \d+ \{"generatedLine":\d+,"generatedColumn":\d+,"originalSource":"file:[^"]*\/(app|bundle)\.ts"/gm)?.length, 9, plain.stdout);
    assert.match(plain.stdout, /^\{"version":3,"sourceRoot":"","sources":/m);
  } finally {
    t.done();
  }
});

test('a source map file rewritten beside an unchanged module is the one applied, with the disk cache on', { timeout: 60_000 }, async () => {
  const { encode } = await import('@jridgewell/sourcemap-codec');
  const t = tempDir();
  try {
    // The module's line 2 (the throw) written at line `at` of lib.ts; and
    // a source named by an absolute path with `#`, `%` and a space, which
    // Node turns into a file URL as pathToFileURL does.
    const odd = join(t.dir, 'src dir', 'a #1%.ts');
    const map = (at: number): string => JSON.stringify({ version: 3, sources: ['lib.ts', odd], names: [],
      mappings: encode([[[0, 1, 0, 0]], [[2, 0, at - 1, 4]], [[0, 0, at, 0]]]) });
    writeTree(t.dir, {
      'lib.js': "exports.fail = function fail() {\n  throw new Error('x')\n}\n//# sourceMappingURL=lib.js.map\n",
      'lib.js.map': map(10),
      'main.cjs': "try { require('./lib.js').fail() } catch (e) { console.log(e.stack.split('\\n')[1].trim()) }\n"
        + "const sm = require('node:module').findSourceMap(require.resolve('./lib.js'))\n"
        + "console.log(sm.payload.sources.join(), JSON.stringify(sm.findEntry(0, 0)))\n",
    });
    const cached = { ...REAL, JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(t.dir, 'cache') };
    for (const at of [10, 20]) {
      writeTree(t.dir, { 'lib.js.map': map(at) });
      const plain = await runNode(['--enable-source-maps', 'main.cjs'], { cwd: t.dir, env: REAL });
      assert.match(plain.stdout, new RegExp(`lib\\.ts:${at}:5\\)$`, 'm'), plain.stdout);
      assert.match(plain.stdout, /src%20dir\/a%20%231%25\.ts/, plain.stdout);
      for (const flags of [['--require', registerCjs], ['--import', registerJs]]) {
        const r = await runNode(['--enable-source-maps', ...flags, 'main.cjs'], { cwd: t.dir, env: cached });
        assert.equal(r.stdout, plain.stdout, `${flags[0]}, map at line ${at}`);
      }
    }
  } finally {
    t.done();
  }
});

// Errors thrown through the module hooks: a module that cannot be found
// (imported, required, a package), an import attribute missing, and
// registering hooks Node refuses (through our stand-in). Their
// stacks must name no file of jsftrace's; where the hooks are in-thread,
// no resolve hook of ours remains after the start, so a failed resolve is
// reported exactly as plain (a load still passes through Node's own hook
// machinery, nextStep and loadWithHooks, as with any loader).
const MISSING = `
import module, { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const show = (label, e) => console.log(label, e.code, e.stack.split('\\n').slice(0, 6).join(' | '));
try { await import('./nope.mjs'); } catch (e) { show('import', e); }
try { await import('not-a-package'); } catch (e) { show('package', e); }
try { require('./nope.cjs'); } catch (e) { show('require', e); }
try { await import('./data.json'); } catch (e) { console.log('json', e.code, /instrument\\/hooks/.test(e.stack)); }
try { (module.registerHooks ?? module.register).call(module, 5); } catch (e) { show('register', e); }
`;

// A program's own Object.getOwnPropertyDescriptor and defineProperty (a
// mock, a spy) are not called by jsftrace when an error passes through its
// hooks: plain, Node calls neither.
const MOCKED = `
let calls = 0;
const gopd = Object.getOwnPropertyDescriptor;
const dp = Object.defineProperty;
Object.getOwnPropertyDescriptor = function (...a) { calls++; return gopd(...a); };
Object.defineProperty = function (...a) { calls++; return dp(...a); };
try { await import('./data.json'); } catch (e) { console.log(e.code); }
Object.getOwnPropertyDescriptor = gopd;
Object.defineProperty = dp;
console.log(calls);
`;

const LATE = `
import module from 'node:module';
const errors = [];
try { await import('./data.json'); } catch (e) { errors.push(e); }
try { module.registerHooks({ load: 5 }); } catch (e) { errors.push(e); }
let calls = 0;
let ours = false;
Error.prepareStackTrace = (e, cs) => {
  calls++;
  if (cs.some((c) => String(c.getFileName()).includes('instrument/hooks'))) ours = true;
  return 'custom:' + e.code;
};
console.log(errors.map((e) => e.stack).join(' '), calls, ours);
`;

test('a module that cannot be found, an import attribute missing: no frame of jsftrace\'s in the error, and Node\'s own line above it uncaught', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, { 'main.mjs': MISSING, 'data.json': '{"a":1}' });
    const plain = await runNode(['main.mjs'], { cwd: t.dir, env: REAL });
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^json ERR_IMPORT_\w+ false$/m);
    for (const flags of [['--require', registerCjs], ['--import', registerJs]]) {
      const r = await runNode([...flags, 'main.mjs'], { cwd: t.dir, env: REAL });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /instrument\/hooks/, r.stdout);
      const codes = (text: string): string[] => text.split('\n').map((l) => l.split(' ').slice(0, 2).join(' '));
      assert.deepEqual(codes(r.stdout), codes(plain.stdout));
      if (inThreadHooks) assert.equal(r.stdout, plain.stdout, flags.join(' '));
    }
    writeTree(t.dir, { 'mocked.mjs': MOCKED });
    const mockedPlain = await runNode(['mocked.mjs'], { cwd: t.dir, env: REAL });
    assert.match(mockedPlain.stdout, /^ERR_IMPORT_\w+\n0\n$/, mockedPlain.stderr);
    for (const flags of [['--require', registerCjs], ['--import', registerJs]]) {
      const r = await runNode([...flags, 'mocked.mjs'], { cwd: t.dir, env: REAL });
      assert.equal(r.stdout, mockedPlain.stdout, `${flags.join(' ')}: ${r.stderr}`);
    }
    // A main module or a require that cannot be found, uncaught: Node
    // prints the line it threw from, its own, not one of jsftrace's file
    // (below it, Node's frames of the hooks' chain, which any registered
    // hook adds, differ).
    writeTree(t.dir, { 'noop.cjs': '', 'requires.cjs': `require('./not-there.cjs')\n` });
    for (const main of ['not-there.js', 'requires.cjs']) {
      const head = (text: string): string => text.split('\n').slice(0, 5).join('\n');
      const p = await runNode(['--require', './noop.cjs', main], { cwd: t.dir, env: REAL });
      assert.equal(p.code, 1, p.stderr);
      const r = await runNode(['--require', registerCjs, main], { cwd: t.dir, env: REAL });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(head(r.stderr), head(p.stderr), main);
      assert.doesNotMatch(r.stderr, /jsftrace(?:-later)?\.cjs|dist\/src\//, main);
    }
    if (!inThreadHooks) return;
    // The stack is formatted when the program first reads it, by the
    // formatter it has then, with no frame of ours among the ones it gets.
    writeTree(t.dir, { 'late.mjs': LATE });
    const late = await runNode(['late.mjs'], { cwd: t.dir, env: REAL });
    assert.match(late.stdout, /^custom:ERR_IMPORT_\w+ custom:ERR_INVALID_ARG_TYPE 2 false$/m, late.stderr);
    for (const flags of [['--require', registerCjs], ['--import', registerJs]]) {
      const r = await runNode([...flags, 'late.mjs'], { cwd: t.dir, env: REAL });
      assert.equal(r.stdout, late.stdout, flags.join(' '));
    }
  } finally {
    t.done();
  }
});

const FOOTPRINT = `
const { findSourceMap } = require('node:module');
console.log(Object.keys(globalThis).join(','));
console.log(Object.getOwnPropertyNames(globalThis).filter((k) => k.includes('jsf') || k.startsWith('$')).length <= 1);
console.log(['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'warning', 'uncaughtException'].map((e) => process.listenerCount(e)).join(','));
console.log(process.eventNames().filter((e) => typeof e === 'string').sort().join(','));
console.log(process.sourceMapsEnabled, typeof findSourceMap(__filename));
for (let i = 0; i < 10; i++) process.on('exit', () => {});
process.on('warning', (w) => console.log('warning', w.name));
// The require cache as the program sees it: its own modules only (the
// plain run's preloads, noop.cjs, and noop.mjs, which Node 24.8 lists
// there, left out), at the start and once the
// start's later work is done.
const cached = () => Object.keys(require.cache).map((k) => require('node:path').basename(k)).filter((k) => k !== 'noop.cjs' && k !== 'noop.mjs').join(',');
console.log('cache', cached());
setTimeout(() => { console.log('cache', cached()); for (const k in require.cache) delete require.cache[k]; console.log('done') }, 10);
//# sourceMappingURL=data:application/json;base64,eyJ2ZXJzaW9uIjozLCJzb3VyY2VzIjpbXSwibmFtZXMiOltdLCJtYXBwaW5ncyI6IiJ9
`;

test("no enumerable global, no listener, no entry in the require cache, no MaxListeners warning, Node's source maps as the program left them", { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, { 'main.cjs': FOOTPRINT });
    await threeWays(t.dir, 'main.cjs');
  } finally {
    t.done();
  }
});

// jsftrace's one global binding, as the program can find it: every own
// name of the global object that mentions jsftrace, whether each is
// enumerable, and the same in a worker (one started with an environment
// of its own naming another cache directory too).
const BINDING = `
const { Worker } = require('node:worker_threads');
const ours = () => Object.getOwnPropertyNames(globalThis).filter((k) => /jsf/i.test(k));
const names = ours();
const inWorker = (env) => new Promise((resolve) => new Worker(
  "require('node:worker_threads').parentPort.postMessage(Object.getOwnPropertyNames(globalThis).filter((k) => /jsf/i.test(k)))",
  { eval: true, env }).on('message', resolve));
(async () => {
  const worker = await inWorker(process.env);
  const other = await inWorker({ ...process.env, JSFTRACE_CACHE_DIR: process.env.OTHER_CACHE_DIR });
  console.log(JSON.stringify({
    names, enumerable: names.map((k) => Object.getOwnPropertyDescriptor(globalThis, k).enumerable),
    worker, other, fixed: '$jsftrace' in globalThis,
  }));
})();
`;

test('the one global binding: not enumerable, a random name, one per cache directory, the same in every thread; a kept name that cannot be used turns the cache off', { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, { 'main.cjs': BINDING });
    const once = async (env: Record<string, string | undefined>): Promise<string> => {
      const r = await runNode(['--require', registerCjs, 'main.cjs'], { cwd: t.dir, env: { ...REAL, OTHER_CACHE_DIR: join(t.dir, 'other'), ...env } });
      assert.equal(r.code, 0, r.stderr);
      const seen = JSON.parse(r.stdout) as { names: string[]; enumerable: boolean[]; worker: string[]; other: string[]; fixed: boolean };
      assert.equal(seen.names.length, 1, r.stdout);
      assert.match(seen.names[0]!, /^\$jsftrace_[0-9a-z]{12}$/);
      assert.deepEqual(seen.enumerable, [false]);
      assert.deepEqual(seen.worker, seen.names, 'a worker has the same name');
      assert.deepEqual(seen.other, seen.names, 'a worker whose environment names another cache directory has the same name');
      assert.equal(seen.fixed, false);
      return seen.names[0]!;
    };
    const a = await once({ JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(t.dir, 'a') });
    assert.equal(await once({ JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(t.dir, 'a') }), a, 'a cache directory keeps its name: its entries name it');
    assert.equal(readFileSync(join(t.dir, 'a', 'binding'), 'latin1'), a);
    // A kept name that cannot be used (a file others can read, as a copy
    // with a default umask makes): the transform cache is off, said once,
    // rather than filled with entries of a name no later process has.
    const entries = (): number => readdirSync(join(t.dir, 'a', 'v2')).length;
    const had = entries();
    assert.ok(had > 0);
    chmodSync(join(t.dir, 'a', 'binding'), 0o640);
    const refused = await runNode(['--require', registerCjs, 'main.cjs'], { cwd: t.dir, env: { ...REAL, OTHER_CACHE_DIR: join(t.dir, 'other'), JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(t.dir, 'a') } });
    assert.equal(refused.code, 0, refused.stderr);
    assert.match(refused.stderr, /\[JSFTRACE_CACHE\] Warning: the transform cache is off for this process: \S+\/binding can be read or written by others \(mode 640\); remove it, and jsftrace makes another /);
    assert.equal(refused.stderr.match(/\[JSFTRACE_CACHE\]/g)!.length, 1, refused.stderr);
    assert.notEqual((JSON.parse(refused.stdout) as { names: string[] }).names[0], a);
    assert.equal(entries(), had, 'no entry written');
    const b = await once({ JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(t.dir, 'b') });
    assert.notEqual(b, a);
    // No cache: a name of the process's own.
    const c1 = await once({ JSFTRACE_CACHE: '0' });
    const c2 = await once({ JSFTRACE_CACHE: '0' });
    assert.notEqual(c1, c2);
    assert.ok(c1 !== a && c1 !== b);
  } finally {
    t.done();
  }
});

// Loading a module calls and changes nothing of the program's: what a
// program did to Error, Function.prototype, Object or fs before a require
// is seen by no code of jsftrace's, and the module compiled is the source
// Node read (a file system of the program's serving a file once, a named
// pipe, a handler called with another file than the module's).
const LOADS = `
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const out = [];
const file = (name, text) => fs.writeFileSync(path.join(__dirname, 'mods', name), text);
fs.mkdirSync(path.join(__dirname, 'mods'), { recursive: true });
let n = 0;
const mod = (text) => { const name = 'm' + (++n) + '.js'; file(name, text); return './mods/' + name; };
// Spies on what a load might call.
const calls = [];
const spy = (holder, key) => { const f = holder[key]; holder[key] = function (...a) { calls.push(key); return Reflect.apply(f, this, a); }; return () => { holder[key] = f; }; };
const undo = [spy(Function.prototype, 'bind'), spy(Object, 'getOwnPropertySymbols'), spy(Object, 'getOwnPropertyDescriptor'), spy(Reflect, 'apply')];
out.push('spied ' + require(mod('module.exports = 1')));
for (const u of undo) u();
out.push('calls ' + JSON.stringify(calls));
// A file system of the program's that serves a module's text once.
const read = fs.readFileSync;
let served = 0;
fs.readFileSync = function (p, ...rest) {
  if (typeof p === 'string' && p.endsWith('virtual.js')) { served++; return 'module.exports = "virtual"'; }
  return Reflect.apply(read, this, [p, ...rest]);
};
file('virtual.js', 'module.exports = "disk"');
out.push('virtual ' + require('./mods/virtual.js') + ' reads ' + served);
fs.readFileSync = read;
// A handler called with another file than the module's filename.
file('real.js', 'module.exports = "real"');
file('other.js', 'module.exports = "other"');
const m = new Module('x', module);
m.filename = path.join(__dirname, 'mods', 'real.js');
m.paths = Module._nodeModulePaths(__dirname);
Module._extensions['.js'](m, path.join(__dirname, 'mods', 'other.js'));
out.push('handler ' + m.exports);
// Error as the program left it: a counting subclass, a limit it set itself.
const Orig = Error;
let made = 0;
globalThis.Error = class Error extends Orig { constructor(...a) { super(...a); made++; } };
out.push('subclass ' + require(mod('module.exports = 2')) + ' made ' + made);
globalThis.Error = Orig;
const sets = [];
let limit = 10;
Object.defineProperty(Error, 'stackTraceLimit', { configurable: true, enumerable: false, get() { return limit; }, set(v) { sets.push(v); limit = v; } });
out.push('accessor ' + require(mod('module.exports = 3')) + ' sets ' + JSON.stringify(sets));
delete Error.stackTraceLimit;
out.push('deleted ' + require(mod('module.exports = 4')) + ' ' + ('stackTraceLimit' in Error));
Object.defineProperty(Error, 'stackTraceLimit', { value: 10, writable: false, configurable: true, enumerable: true });
out.push('read-only ' + require(mod('module.exports = 5')));
Object.freeze(Error);
out.push('frozen ' + require(mod('module.exports = 6')) + ' ' + Object.isFrozen(Error));
console.log(out.join('\\n'));
`;

test("loading a module calls and changes nothing of the program's, and compiles the source Node read", { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, { 'loads.cjs': LOADS });
    await threeWays(t.dir, 'loads.cjs');
    const plain = await runNode(['loads.cjs'], { cwd: t.dir, env: REAL });
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^spied 1\ncalls \[\]\nvirtual virtual reads 1\nhandler other\nsubclass 2 made 0\naccessor 3 sets \[\]\ndeleted 4 false\nread-only 5\nfrozen 6 true\n$/);
    if (process.platform === 'win32') return;
    // A module that is a named pipe gives its text once.
    writeTree(t.dir, {
      'pipe.cjs': `const { execFileSync, spawn } = require('node:child_process');
const path = require('node:path');
const fifo = path.join(__dirname, 'fifo.js');
execFileSync('mkfifo', [fifo]);
spawn('sh', ['-c', 'printf "module.exports = 41 + 1" > "$0"', fifo], { stdio: 'inherit' });
console.log('pipe', require('./fifo.js'));
require('node:fs').unlinkSync(fifo);
`,
    });
    await threeWays(t.dir, 'pipe.cjs');
  } finally {
    t.done();
  }
});

test('a main module reached through a symlink resolves its relative requires (as node_modules/.bin does)', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'pkg/cli.js': "const { v } = require('./lib.js'); console.log('cli', v, __filename.endsWith('pkg/cli.js'));",
      'pkg/lib.js': 'exports.v = 42;',
      'pkg/esm.mjs': "import { v } from './lib.mjs'; console.log('esm', v);",
      'pkg/lib.mjs': 'export const v = 43;',
    });
    symlinkSync(join(t.dir, 'pkg', 'cli.js'), join(t.dir, 'cli'));
    symlinkSync(join(t.dir, 'pkg', 'esm.mjs'), join(t.dir, 'esm.mjs'));
    await threeWays(t.dir, 'cli');
    await threeWays(t.dir, 'esm.mjs');
  } finally {
    t.done();
  }
});

test('deprecation flags: --no-deprecation and --throw-deprecation change nothing, whichever hooks run', { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'noop.mjs': '', 'noop.cjs': '',
      'main.mjs': `
        import { dep } from './dep.mjs';
        import util from 'node:util';
        import module from 'node:module';
        const mine = util.deprecate(() => 1, 'a deprecation of the program', 'DEP_PROGRAM');
        let r;
        try { r = mine(); } catch (e) { r = e.code; }
        // Deprecated on Node 26: the program's own call warns (or throws) as without jsftrace's call before it.
        let registered = 'registered';
        try { module.register('data:text/javascript,export async function resolve(s, c, n) { return n(s, c); }'); } catch (e) { registered = e.code; }
        console.log(dep(), r, registered, process.noDeprecation, process.throwDeprecation, Object.getOwnPropertyNames(process).includes('noDeprecation'));`,
      'dep.mjs': 'export function dep() { return "dep"; }',
    });
    // The loader thread (module.register) is where jsftrace touched the flag.
    for (const options of [[], ['--no-deprecation'], ['--throw-deprecation']]) {
      for (const [flag, ours, none] of ENTRIES) {
        const plain = await runNode([...options, flag, none, 'main.mjs'], { cwd: t.dir, env: REAL });
        for (const hooks of HOOK_MODES) {
          const r = await runNode([...options, flag, ours, 'main.mjs'], { cwd: t.dir, env: REAL, hooks });
          const what = `${options.join(' ')} ${flag} ${hooks}`;
          assert.equal(r.stdout, plain.stdout, `${what}: stdout\n${r.stderr}`);
          assert.equal(pids(r.stderr), pids(plain.stderr), `${what}: stderr`);
          assert.equal(r.code, plain.code, `${what}: exit code`);
        }
      }
    }
  } finally {
    t.done();
  }
});

test('--frozen-intrinsics and the permission model: the program runs as without jsftrace, with a warning for what jsftrace cannot do there', { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'noop.mjs': '', 'noop.cjs': '',
      'main.mjs': `
        import { dep } from './dep.mjs';
        import { createRequire } from 'node:module';
        const { cjs } = createRequire(import.meta.url)('./cjs.cjs');
        function outer() { return dep() + cjs(); }
        console.log(outer());
        console.log(new Error('e').stack.split('\\n').length);`,
      'dep.mjs': 'export function dep() { return "dep"; }',
      'cjs.cjs': 'exports.cjs = function cjs() { return "cjs"; };',
    });
    const warnings = (text: string): string[] => pids(text).split('\n').filter((l) => l.includes('[JSFTRACE_'));
    const permission = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
    for (const options of [['--frozen-intrinsics'], [permission, '--allow-fs-read=*']]) {
      for (const [flag, ours, none] of ENTRIES) {
        const plain = await runNode([...options, flag, none, 'main.mjs'], { cwd: t.dir, env: REAL });
        assert.match(plain.stdout, /^depcjs\n\d+\n$/, plain.stderr);
        for (const hooks of HOOK_MODES) {
          const what = `${options.join(' ')} ${flag} ${hooks}`;
          const r = await runNode([...options, flag, ours, 'main.mjs'], { cwd: t.dir, env: REAL, hooks });
          // Frozen before an --import preload runs, stack traces are not
          // given the original view (the warning says so); and with a
          // loader thread, the frozen intrinsics' warning no longer holds
          // an ES module main in the tick queue on Node 22, with any
          // loader (a pass-through `module.register` does the same).
          const viewless = options[0] === '--frozen-intrinsics' && (flag === '--import' || hooks === 'async');
          assert.equal(viewless ? r.stdout.split('\n')[0] : r.stdout, viewless ? 'depcjs' : plain.stdout, `${what}: stdout\n${r.stderr}`);
          assert.equal(r.code, 0, what);
          // What jsftrace says it cannot do here, and nothing else.
          const expected: string[] = [];
          // Frozen before an --import preload runs: no view of the original text.
          if (options[0] === '--frozen-intrinsics' && flag === '--import') expected.push('JSFTRACE_ORIGINAL');
          // Node's module loader thread is a worker, which the permission model forbids.
          if (options[0] === permission && hooks === 'async') expected.push('JSFTRACE_HOOKS');
          assert.deepEqual(warnings(r.stderr).map((l) => /\[(JSFTRACE_\w+)\]/.exec(l)![1]), expected, `${what}\n${r.stderr}`);
        }
      }
    }
  } finally {
    t.done();
  }
});

test('a Worker that Node refuses at once throws as without jsftrace: no frame of its Proxy, as many of the program\'s', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'main.cjs': `const { Worker } = require('node:worker_threads');
function make(file, opts) { return new Worker(file, opts); }
function deeper(n, file, opts) { return n === 0 ? make(file, opts) : deeper(n - 1, file, opts); }
for (const [file, opts] of [['no-prefix.js', {}], ['./w.js', { execArgv: ['--no-such-option'] }], ['./w.js', { env: 1 }], ['no-prefix.js', { env: {} }]]) {
  try { deeper(12, file, opts); } catch (e) { console.log(e.stack); }
}
// No frame at all, as asked.
Error.stackTraceLimit = 0;
try { make('no-prefix.js', { env: {} }); } catch (e) { console.log(e.stack); }
`,
      'w.js': '',
    });
    await threeWays(t.dir, 'main.cjs');
  } finally {
    t.done();
  }
});

test('Node options that queue nothing at the start leave the main module and a worker started as without jsftrace', { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'main.cjs': `const { Worker } = require('node:worker_threads');
console.log('main', new Error('top').stack.split('\\n').slice(-1)[0].trim());
new Worker(__dirname + '/w.cjs');
`,
      'w.cjs': "console.log('worker', new Error('top').stack.split('\\n').slice(-1)[0].trim());\n",
    });
    const options = ['--experimental-vm-modules', '--disable-proto=delete', '--no-experimental-global-navigator', '--experimental-strip-types', '--experimental-addon-modules']
      .filter((o) => process.allowedNodeEnvironmentFlags.has(o.replace(/=.*/, '')));
    for (const option of options) {
      const plain = await runNode([option, 'main.cjs'], { cwd: t.dir, env: REAL });
      const r = await runNode([option, '--require', registerCjs, 'main.cjs'], { cwd: t.dir, env: { ...REAL, ...TRACING } });
      assert.equal(r.stdout, plain.stdout, option);
      assert.equal(r.stderr, plain.stderr, option);
    }
    // And where options do queue a warning at the start, an idle start
    // leaves it queued: the program's first line comes first, and its
    // listener sees it.
    writeTree(t.dir, { 'listen.cjs': "process.on('warning', (w) => console.log('warning', w.name));\nconsole.log('first line');\n" });
    const permission = process.allowedNodeEnvironmentFlags.has('--permission')
      ? ['--permission', '--allow-fs-read=*', '--allow-worker']
      : ['--experimental-permission', '--allow-fs-read=*', '--allow-worker'];
    for (const queuing of [['--frozen-intrinsics'], permission]) {
      const plain = await runNode([...queuing, 'listen.cjs'], { cwd: t.dir, env: REAL });
      assert.match(plain.stdout, /^first line\nwarning \w+Warning\n/, queuing.join(' '));
      const r = await runNode([...queuing, '--require', registerCjs, 'listen.cjs'], { cwd: t.dir, env: REAL });
      assert.equal(r.stdout, plain.stdout, queuing.join(' '));
    }
  } finally {
    t.done();
  }
});

test('the main module starts in the same tick as without jsftrace, and the control socket is there, 0600, by its first turn of the event loop', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    const probe = (load: string): string => `${load}
const sock = require('node:path').join(process.env.JSFTRACE_SOCKET_DIR, process.pid + '.sock');
const ticks = (s) => s.split('\\n').filter((l) => l.includes('processTicksAndRejections')).length;
console.log(ticks(new Error('top').stack));
(async () => { await null; await null; console.log(ticks(new Error('after await').stack)); })();
setImmediate(() => {
  const st = fs.lstatSync(sock, { throwIfNoEntry: false });
  console.log(st === undefined ? 'no socket' : [st.isSocket(), (st.mode & 0o777).toString(8)].join(' '));
});
`;
    writeTree(t.dir, {
      'main.cjs': probe("const fs = require('node:fs');"),
      'main.mjs': probe("import fs from 'node:fs';\nimport { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);"),
    });
    writeTree(t.dir, { 'noop.mjs': '', 'noop.cjs': '' });
    for (const main of ['main.cjs', 'main.mjs']) {
      for (const [flag, ours, none] of ENTRIES) {
        const plain = await runNode([flag, none, main], { cwd: t.dir, env: served(t.dir) });
        const r = await runNode([flag, ours, main], { cwd: t.dir, env: served(t.dir) });
        assert.equal(r.stderr, '', `${flag} ${main}: stderr`);
        assert.equal(r.stdout, plain.stdout.replace('no socket', 'true 600'), `${flag} ${main}`);
        assert.equal(r.code, 0);
      }
    }
  } finally {
    t.done();
  }
});

test('a cold recursion goes at least 90% as deep instrumented as plain', { timeout: 240_000 }, async () => {
  const t = tempDir();
  // The ways a return is written decide what the transform inserts, and
  // so the registers a frame gains (docs/design.md, "Load-time sites").
  const shapes: Record<string, string> = {
    sum: 'function sum(n) { return n === 0 ? 0 : n + sum(n - 1) }\nmodule.exports = sum',
    early: 'function g(n) { if (n === 0) return 0; return g(n - 1) + 1 }\nmodule.exports = g',
    arrow: 'const h = (n) => n === 0 ? 0 : 1 + h(n - 1)\nmodule.exports = h',
    logical: 'function f(n, o) {\n  if (n === 0) return 0\n  const r = f(n - 1, o)\n  return o.a || o.b\n}\nmodule.exports = (n) => f(n, { a: 0, b: 1 })',
    // Every expression holds one temporary at most (calls whose arguments
    // are the function's own locals), and an early return of a literal, as
    // in a recursive-descent parser.
    descent: 'function list(p) {\n  if (p.left === 0) return null\n  p.left--\n  return item(p)\n}\n'
      + 'function item(p) {\n  return list(p)\n}\nmodule.exports = (n) => list({ left: n })',
    // A call broken over lines, as prettier writes a long one: too long to
    // be written twice.
    wrapped: 'function build(n, acc) {\n  if (n === 0) return acc\n  return build(\n    n - 1,\n    acc + 1,\n  )\n}\nmodule.exports = (n) => build(n, 0)',
  };
  try {
    // On Node 20 any `--import` runs a CommonJS main through the ES module
    // loader, which starts it about 2% deeper: plain has an empty one.
    const files: Record<string, string> = { 'empty.mjs': '' };
    for (const [name, code] of Object.entries(shapes)) {
      files[`${name}.cjs`] = `${code}\n`;
      files[`probe-${name}.cjs`] = `const f = require('./${name}.cjs')\ntry { f(Number(process.argv[2])); console.log("ok") } catch { console.log("overflow") }\n`;
    }
    writeTree(t.dir, files);
    // Each probe is a fresh process: the depth of cold code, as a program
    // that recurses once meets it.
    const deepest = async (entry: string[], name: string): Promise<number> => {
      let lo = 1000;
      let hi = 40_000;
      while (hi - lo > 50) {
        const mid = (lo + hi) >> 1;
        const r = await runNode([...entry, `probe-${name}.cjs`, String(mid)], { cwd: t.dir, env: REAL });
        if (r.stdout.trim() === 'ok') lo = mid;
        else hi = mid;
      }
      return lo;
    };
    const report: string[] = [];
    for (const name of Object.keys(shapes)) {
      const plain = await deepest(['--import', './empty.mjs'], name);
      const instrumented = await deepest(['--import', registerJs], name);
      assert.ok(instrumented >= plain * 0.9, `${name}: plain ${plain}, instrumented ${instrumented}`);
      report.push(`${name} ${plain} → ${instrumented} (${(instrumented / plain * 100).toFixed(1)}%)`);
    }
    process.stdout.write(`# recursion depth: ${report.join(', ')}\n`);
  } finally {
    t.done();
  }
});

test('an async recursion goes at least 88% as deep instrumented as plain (82% on Node 24 and later)', { timeout: 240_000 }, async () => {
  const t = tempDir();
  // Its frames until the first real await: the token local and the try
  // that ends the call on a rejection are two registers more than plain,
  // whose frame V8 12 and later (Node 24) make smaller; nothing of ours
  // holds a register while the awaited value is computed (docs/design.md,
  // "Suspension"). 77.8% (Node 20) and 73.6% (Node 24) before.
  const floor = Number(process.versions.v8.split('.')[0]) >= 13 ? 0.82 : 0.88;
  try {
    writeTree(t.dir, {
      'empty.mjs': '',
      'down.cjs': 'async function down(n) { if (n === 0) return 0; return (await down(n - 1)) + 1 }\nmodule.exports = down\n',
      'probe.cjs': 'const f = require(\'./down.cjs\')\nconst say = (r) => console.log(r instanceof RangeError ? "overflow" : r instanceof Error ? "error " + r.message : "ok")\n'
        + 'Promise.resolve(Number(process.argv[2])).then(f).then(say, say)\n',
    });
    const deepest = async (entry: string[]): Promise<number> => {
      let lo = 1000;
      let hi = 40_000;
      while (hi - lo > 50) {
        const mid = (lo + hi) >> 1;
        const r = await runNode([...entry, 'probe.cjs', String(mid)], { cwd: t.dir, env: REAL });
        const out = r.stdout.trim();
        assert.ok(out === 'ok' || out === 'overflow', `at ${mid}: ${out} ${r.stderr}`);
        if (out === 'ok') lo = mid;
        else hi = mid;
      }
      return lo;
    };
    const plain = await deepest(['--import', './empty.mjs']);
    const instrumented = await deepest(['--import', registerJs]);
    assert.ok(instrumented >= plain * floor, `plain ${plain}, instrumented ${instrumented}`);
    process.stdout.write(`# async recursion depth: ${plain} → ${instrumented} (${(instrumented / plain * 100).toFixed(1)}%)\n`);
  } finally {
    t.done();
  }
});

test("what a preload before jsftrace's queued runs when it would without jsftrace; Node's own options are heeded", { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      // A tick, a microtask, a warning and a tick that throws, queued by an earlier preload.
      'pre.cjs': `process.nextTick(() => console.log('pre tick'))
Promise.resolve().then(() => console.log('pre micro'))
process.emitWarning('from the preload')
process.nextTick(() => { throw new Error('pre throw') })
`,
      'main.cjs': `process.removeAllListeners('warning')
process.on('warning', (w) => console.log('program saw', w.message))
process.on('uncaughtException', (e) => console.log('program caught', e.message))
console.log('main')
process.nextTick(() => console.log('main tick'))
console.log(new Error('top').stack.split('\\n').slice(-1)[0].trim())
`,
      'gc.cjs': "console.log(new Error('top').stack.split('\\n').slice(-1)[0].trim())\n",
    });
    const tracing = { ...served(t.dir), ...TRACING };
    // (Not on Node 20, whose module.register loader thread runs every
    // --require preload again, and this one's throw there: docs/instrumentation.md.
    // With a tracer configured, such a start holds the program, whose first
    // line then comes after the preload's ticks: the same page.)
    if (inThreadHooks) {
      const plain = await runNode(['--require', './pre.cjs', 'main.cjs'], { cwd: t.dir, env: REAL });
      assert.match(plain.stdout, /^main\n.*\npre tick\nprogram saw from the preload\nprogram caught pre throw\nmain tick\npre micro\n$/);
      const r = await runNode(['--require', './pre.cjs', '--require', registerCjs, 'main.cjs'], { cwd: t.dir, env: served(t.dir) });
      assert.equal(r.stdout, plain.stdout);
      assert.equal(r.stderr, plain.stderr);
      assert.equal(r.code, plain.code);
    }
    // --pending-deprecation: the start does not use what it would warn about (DEP0134).
    const dep = await runNode(['--pending-deprecation', '--require', registerCjs, 'gc.cjs'], { cwd: t.dir, env: tracing });
    assert.equal(dep.stderr, '');
    // A runtime event turned on at the start does not hold the program either.
    const gcPlain = await runNode(['gc.cjs'], { cwd: t.dir, env: REAL });
    const gc = await runNode(['--require', registerCjs, 'gc.cjs'], {
      cwd: t.dir, env: { ...served(t.dir), JSFTRACE_CONTROL_INIT: JSON.stringify([['write', 'events/gc/enable', '1'], ['write', 'current_tracer', 'function']]) },
    });
    assert.equal(gc.stdout, gcPlain.stdout);
  } finally {
    t.done();
  }
});

test('a program started in a working directory that was removed runs as without jsftrace', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'main.cjs': "function f(n) { return n + 1 }\nconsole.log('ran', f(1))\nprocess.exitCode = 3\n",
      'main.mjs': "function f(n) { return n + 1 }\nconsole.log('ran', f(1))\n",
    });
    // The shell enters a directory, removes it, then starts node there:
    // process.cwd() throws in that process, and the program is named by its absolute path.
    const inRemoved = (args: string[]) => run('/bin/sh', ['-c', 'mkdir gone && cd gone && rmdir ../gone && exec "$@"', 'sh', process.execPath, ...args],
      { cwd: t.dir, env: cleanEnv({ JSFTRACE_CACHE_DIR: join(t.dir, 'cache'), JSFTRACE_CACHE: undefined, JSFTRACE_CONTROL: '0' }), timeoutMs: 30_000 });
    for (const main of ['main.cjs', 'main.mjs']) {
      const file = join(t.dir, main);
      const plain = await inRemoved([file]);
      assert.equal(plain.stdout, 'ran 2\n');
      for (const preload of [['--require', registerCjs], ['--import', registerJs]]) {
        const r = await inRemoved([...preload, file]);
        assert.deepEqual([r.code, r.signal, r.stdout], [plain.code, plain.signal, plain.stdout], `${main} ${preload[0]}: ${r.stderr}`);
        // Where jsftrace's hooks would be a loader thread (Node 20), Node's
        // never answers in a removed directory: jsftrace registers none and says so.
        const said = r.stderr.split('\n').filter((l) => l.includes('[JSFTRACE_HOOKS]'));
        assert.equal(said.length, inThreadHooks ? 0 : 1, r.stderr);
      }
      // `jsftrace record` there: the program runs as plain, and is recorded
      // (its drain, a worker, is started the one way Node starts one there).
      const out = join(t.dir, `${main}.jsft`);
      const rec = await inRemoved([mainJs, 'record', '-o', out, '--', process.execPath, file]);
      assert.equal(rec.stdout, plain.stdout, rec.stderr);
      assert.equal(rec.code, plain.code, rec.stderr);
      assert.doesNotMatch(rec.stderr, /Invalid URL|uv_cwd|stopped/);
      // f's call (the function tracer, record's default), but not in an ES
      // module where jsftrace's hooks would be a loader thread (Node 20:
      // none is registered there, see above).
      if (main === 'main.cjs' || inThreadHooks) assert.match(rec.stderr, /^jsftrace: recorded 1 event from 1 thread to /m, rec.stderr);
    }
    // A worker the program starts there, from its file. Node starts one
    // there only with a preload (without, it fails: ENOENT), so the plain
    // run has an empty one. The worker's process.cwd() gives '' rather
    // than throwing: jsftrace took the directory for present and registered
    // a loader thread, and the worker hung before its first line.
    writeTree(t.dir, {
      'noop.cjs': '',
      'noop.mjs': '',
      'worker.cjs': "const { Worker, isMainThread, parentPort } = require('node:worker_threads')\nfunction f(n) { return n + 1 }\n"
        + "if (isMainThread) new Worker(__filename).on('message', (m) => console.log('worker said', m)).on('exit', (c) => console.log('worker exit', c))\n"
        + 'else parentPort.postMessage(f(1))\n',
    });
    const worker = join(t.dir, 'worker.cjs');
    for (const [flag, ours, none] of [['--require', registerCjs, 'noop.cjs'], ['--import', registerJs, 'noop.mjs']] as const) {
      const plain = await inRemoved([flag, join(t.dir, none), worker]);
      // (By --require the worker runs; by --import Node fails it in the worker's start, resolving the preload.)
      if (flag === '--require') assert.equal(plain.stdout, 'worker said 2\nworker exit 0\n', plain.stderr);
      const r = await inRemoved([flag, ours, worker]);
      assert.deepEqual([r.code, r.signal, r.stdout], [plain.code, plain.signal, plain.stdout], `worker.cjs ${flag}: ${r.stderr}`);
      // Said by each thread that got as far, where the hooks would be a loader thread.
      assert.equal(r.stderr.split('\n').filter((l) => l.includes('[JSFTRACE_HOOKS]')).length, inThreadHooks ? 0 : flag === '--require' ? 2 : 1, r.stderr);
    }
  } finally {
    t.done();
  }
});
