// load.ts, in process: scope, cache, fallback on failure with one counted
// warning, TypeScript passed on quietly, Node's format detection, the
// marker that keeps a module from being transformed twice, input maps.

import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import {
  configure, instrumentSource, instrumentStats, isInstrumented, MARKER, resetInstrumentStats, setTransform,
  type TransformFn,
} from '../../src/instrument/load.js';
import { transformSource, type TransformInput } from '../../src/instrument/transform.js';
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

test('a byte-order mark reaches the transform as Node compiles it: kept (V8 counts it in the first line\'s columns)', () => {
  instrumentSource('\ufeffvar a', '/app/bom.js', 'commonjs');
  assert.equal(calls[0]!.code, '\ufeffvar a');
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

test('the output keeps the source\'s own source map comment and adds none of its own', () => {
  setTransform((i) => ({ code: `${i.code};`, sites: 1 }), 'plain-output');
  const src = 'var m\n//# sourceMappingURL=data:application/json;base64,e30=\n';
  const out = instrumentSource(src, '/app/m.js', 'commonjs');
  assert.equal(out, `${src};${MARKER}`);
  assert.equal(out.match(/sourceMappingURL/g)!.length, 1);
});


/** Whether V8 holds `s` two bytes a character (its serializer writes the representation: a one-byte string's tag is '"' at once). */
const twoByte = (s: string) => serialize(s)[2] !== 0x22;

test('the text V8 compiles is one byte a character when its characters are: two-byte pieces of ASCII are not kept so', () => {
  // V8 makes a concatenation two-byte when a piece is, whatever its
  // characters; a slice of a two-byte string is such a piece, as is a name
  // the transform used as a property key (V8's ThinString).
  const wide = ('\u0100' + 'wrapped(host, message)').slice(1);
  assert.equal(twoByte(wide), true, 'the piece is two-byte');
  setTransform((input) => ({ code: `${input.code}\n${wide}`, sites: 1 }), 'test-wide');
  const out = instrumentSource('var host, message; function wrapped() {}', '/app/wide.js', 'commonjs');
  assert.equal(out, `var host, message; function wrapped() {}\nwrapped(host, message)${MARKER}`);
  assert.equal(twoByte(out), false);
  // A character above U+00FF: the text is two-byte plain too, and kept as it is.
  const greek = 'var \u03b1 = 1; function f() {}';
  setTransform((input) => ({ code: `${input.code}\n${wide}`, sites: 1 }), 'test-wide-2');
  const kept = instrumentSource(greek, '/app/greek.js', 'commonjs');
  assert.equal(kept, `${greek}\nwrapped(host, message)${MARKER}`);
  // And with the real transform, whose joins of names made typescript.js's text two-byte (29 MB for 14.6 MB of text).
  setTransform(transformSource, 'test-real');
  let src = '"use strict";\nconst o = {}\n';
  for (let i = 0; i < 50; i++) src += `function f${i}(host, message, args) { o.host = host; const { message: m } = { message }; return class K${i} { host() { return args } } }\n`;
  const real = instrumentSource(src, '/app/real.js', 'commonjs');
  assert.match(real, /\$J/);
  assert.equal(twoByte(real), false);
});
