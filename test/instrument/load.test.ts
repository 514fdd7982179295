// load.ts, in process: scope, cache, fallback on failure with one counted
// warning, TypeScript passed on quietly, Node's format detection, the
// marker that keeps a module from being transformed twice, input maps.

import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  configure, extractInputMap, instrumentSource, instrumentStats, isInstrumented, MARKER, resetInstrumentStats, setTransform,
  type TransformFn,
} from '../../src/instrument/load.js';
import type { TransformInput } from '../../src/instrument/transform.js';
import { tempDir, writeTree } from './support.js';

const calls: TransformInput[] = [];
const seen: TransformFn = (input) => {
  calls.push(input);
  if (input.code.includes('FAIL_TRANSFORM')) throw new SyntaxError('Unexpected token');
  if (input.format === 'commonjs' && /^\s*(import|export)\b/m.test(input.code)) throw new SyntaxError("Cannot use 'import' outside a module");
  if (input.code.includes('BAD_OUTPUT')) return { code: `${input.code}\n}}}`, map: null, sites: 1 };
  return { code: `${input.code}\n/*seen ${input.format}*/`, map: null, sites: 2 };
};

const warnings: string[] = [];
process.on('warning', (w: Error & { code?: string }) => { if (w.code === 'JSFTRACE_TRANSFORM') warnings.push(w.message); });

beforeEach(() => {
  calls.length = 0;
  warnings.length = 0;
  setTransform(seen, 'test-seen');
  configure({ scope: { include: [], exclude: [], origin: 'test' }, cache: null });
  resetInstrumentStats();
});

const flush = () => new Promise((r) => setImmediate(r));

test('a module in scope is transformed once and marked; marked code passes through', () => {
  const out = instrumentSource('function f() {}', '/app/src/a.js', 'commonjs');
  assert.equal(out, `function f() {}\n/*seen commonjs*/${MARKER}`);
  assert.equal(isInstrumented(out), true);
  assert.equal(instrumentSource(out, '/app/src/a.js', 'commonjs'), out);
  assert.equal(calls.length, 1);
  const s = instrumentStats();
  assert.deepEqual([s.transformed, s.sites, s.failed, s.skipped], [1, 2, 0, 0]);
  assert.equal(calls[0]!.package, '');
});

test('out of scope: untouched and counted as skipped; jsftrace itself is not even counted', () => {
  configure({ scope: { include: [], exclude: ['vendor/*'], origin: 'test' } });
  const t = tempDir();
  try {
    writeTree(t.dir, { 'package.json': '{"name":"app"}' });
    const src = 'var x = 1';
    assert.equal(instrumentSource(src, join(t.dir, 'vendor/x.js'), 'commonjs'), src);
    const own = new URL('../../src/instrument/scope.js', import.meta.url).pathname;
    assert.equal(instrumentSource(src, own, 'module'), src);
    assert.equal(calls.length, 0);
    assert.equal(instrumentStats().skipped, 1);
  } finally {
    t.done();
  }
});

test('a failing transform: the untouched source loads, one warning per file, first error kept', async () => {
  const src = '/* FAIL_TRANSFORM */ var x = 1';
  const out = instrumentSource(src, '/app/bad.js', 'commonjs');
  assert.equal(out, src + MARKER, 'the source itself, marked so that no later stage tries again');
  assert.equal(instrumentSource(src, '/app/bad.js', 'commonjs'), src + MARKER);
  await flush();
  const s = instrumentStats();
  assert.equal(s.failed, 2, 'each load counts');
  assert.deepEqual(s.failures, [{ filename: '/app/bad.js', error: 'SyntaxError: Unexpected token' }]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /\/app\/bad\.js was not instrumented and loads untouched/);
});

test('output that does not compile is a failure, not a crash', async () => {
  const src = 'var y = 2 // BAD_OUTPUT';
  assert.equal(instrumentSource(src, '/app/bug.js', 'commonjs'), src + MARKER);
  assert.equal(instrumentSource('export const z = 1 // BAD_OUTPUT', '/app/bug.mjs', 'module'), `export const z = 1 // BAD_OUTPUT${MARKER}`);
  await flush();
  const s = instrumentStats();
  assert.equal(s.failed, 2);
  assert.match(s.failures[0]!.error, /^TransformOutputError: the transform produced code that does not compile/);
});

test('TypeScript that no loader has compiled yet is passed on quietly', async () => {
  const ts = 'const x: number = FAIL_TRANSFORM';
  assert.equal(instrumentSource(ts, '/app/a.ts', 'module'), ts);
  await flush();
  const s = instrumentStats();
  assert.deepEqual([s.ignored, s.failed, warnings.length], [1, 0, 0]);
});

test('an undecided format is tried as CommonJS, then as an ES module, as Node does', () => {
  const out = instrumentSource('import x from "y";\nx();', '/app/detect.js', undefined);
  assert.match(out, /seen module/);
  assert.deepEqual(calls.map((c) => c.format), ['commonjs', 'module']);
  calls.length = 0;
  assert.match(instrumentSource('module.exports = 1', '/app/detect2.js', undefined), /seen commonjs/);
  assert.equal(calls.length, 1);
});

test('a byte-order mark is dropped before the transform', () => {
  instrumentSource('\ufeffvar a', '/app/bom.js', 'commonjs');
  assert.equal(calls[0]!.code, 'var a');
});

test('the cache serves a second load and counts it; a failure is cached and still warned', async () => {
  const t = tempDir();
  try {
    configure({ cache: { dir: t.dir, maxBytes: 1 << 20 } });
    const a = instrumentSource('var a = 1', '/app/c.js', 'commonjs');
    const b = instrumentSource('var a = 1', '/app/c.js', 'commonjs');
    assert.equal(a, b);
    assert.equal(calls.length, 1);
    let s = instrumentStats();
    assert.deepEqual([s.transformed, s.cached, s.sites], [1, 1, 4]);
    // Another source, file name, format or transform is another key.
    instrumentSource('var a = 2', '/app/c.js', 'commonjs');
    instrumentSource('var a = 1', '/app/d.js', 'commonjs');
    instrumentSource('var a = 1', '/app/c.js', 'module');
    setTransform(seen, 'another-transform');
    instrumentSource('var a = 1', '/app/c.js', 'commonjs');
    assert.equal(calls.length, 5);
    const bad = '/* FAIL_TRANSFORM */';
    instrumentSource(bad, '/app/f.js', 'commonjs');
    await flush();
    resetInstrumentStats();
    warnings.length = 0;
    calls.length = 0;
    assert.equal(instrumentSource(bad, '/app/f.js', 'commonjs'), bad + MARKER);
    await flush();
    s = instrumentStats();
    assert.equal(calls.length, 0, 'served from the cache');
    assert.deepEqual([s.failed, warnings.length], [1, 1]);
  } finally {
    t.done();
  }
});

test('an inline or file input map is found and handed to the transform', () => {
  const t = tempDir();
  try {
    const map = { version: 3, sources: ['a.ts'], names: [], mappings: 'AAAA' };
    const inline = `var a;\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
    assert.deepEqual(extractInputMap(inline, '/x/a.js')!.map, map);
    writeTree(t.dir, { 'a.js.map': JSON.stringify(map) });
    const r = extractInputMap('var a;\n//# sourceMappingURL=a.js.map', join(t.dir, 'a.js'))!;
    assert.deepEqual(r.map, map);
    assert.match(r.stamp, /a\.js\.map@/);
    assert.equal(extractInputMap('var a;\n//# sourceMappingURL=missing.map', join(t.dir, 'a.js')), null);
    assert.equal(extractInputMap('var a;\n//# sourceMappingURL=https://x/y.map', join(t.dir, 'a.js')), null);
    instrumentSource(inline, join(t.dir, 'a.js'), 'commonjs');
    assert.deepEqual(calls[0]!.inputMap, map);
  } finally {
    t.done();
  }
});

test('a transform map is appended as an inline source map before the marker', () => {
  setTransform((i) => ({ code: `${i.code};`, map: { version: 3, sources: [i.filename], names: [], mappings: 'AAAA' }, sites: 1 }), 'with-map');
  const out = instrumentSource('var m', '/app/m.js', 'commonjs');
  const m = /\n\/\/# sourceMappingURL=data:application\/json;charset=utf-8;base64,([A-Za-z0-9+/=]+)\n/.exec(out);
  assert.ok(m !== null, out);
  assert.deepEqual(JSON.parse(Buffer.from(m[1]!, 'base64').toString()).sources, ['/app/m.js']);
  assert.ok(out.endsWith(MARKER));
});
