// The values of awaits and yields pass through the static key's holder
// (docs/design.md, "Suspension"): kept before the suspend or the resume,
// read back after. The handlers those call may run the program's code,
// whose own awaits use the holder too: the program's values come through
// whole. And a throw out of an async function ends its call with the value
// thrown, which the wrapper's catch clause hands on the same way. Plain,
// idle and with such handlers: the same output.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertSameOutcomes, outcomeOf } from '../support/difference.js';
import { run, scratchProgram } from '../support/process.js';
import { transformSource } from '../../src/instrument/transform.js';

const register = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
const registerCjs = fileURLToPath(new URL('../../src/public/register.cjs', import.meta.url));
const heldOps = fileURLToPath(new URL('../fixtures/transform/held-ops.js', import.meta.url));

const LIB = `async function churn() { await 7 }
exports.churn = churn
exports.outer = async function outer() { const a = await 41; const b = await Promise.resolve(1); return a + b }
exports.gen = function* gen() { const x = yield 5; return x * 2 }
exports.bad = async function bad() { await Promise.reject(new RangeError('no')) }
exports.called = async function called(f) { return (await f)('x') }
`;
const MAIN = `const lib = require('./lib.cjs')
;(async () => {
  console.log(await lib.outer())
  const g = lib.gen()
  console.log(g.next().value, g.next(21).value)
  try { await lib.bad() } catch (e) { console.log('caught', e.message) }
  console.log(await lib.called(Promise.resolve(function (s) { return s + (this === globalThis) })))
})()
`;

test('await and yield values come through handlers that run the program\'s awaits; a thrown value ends its call', { timeout: 120_000 }, async () => {
  const w = scratchProgram('jsftrace-held-', { 'lib.cjs': LIB, 'main.cjs': MAIN });
  try {
    const { env, opts } = w;
    const exits = join(w.dir, 'exits.json');
    const plain = await run(process.execPath, ['main.cjs'], opts);
    const idle = await run(process.execPath, ['--import', register, 'main.cjs'], opts);
    const traced = await run(process.execPath, ['--import', register, '--import', heldOps, 'main.cjs'],
      { ...opts, env: { ...env, JSFTRACE_TEST_EXITS: exits } });
    assert.equal(plain.stdout, '42\n5 42\ncaught no\nxtrue\n', plain.stderr);
    assertSameOutcomes('held values', outcomeOf(plain), { idle: outcomeOf(idle), traced: outcomeOf(traced) });
    assert.deepEqual(JSON.parse(readFileSync(exits, 'utf8')), { thrown: ['RangeError: no'], callbacks: true });
  } finally {
    w.done();
  }
});

// Where no runtime runs (instrumented code in a thread jsftrace did not
// start), the module's prologue makes the key a holder of its own. Its
// parts are inherited, as the key object's are: `delete (await x)`
// deletes `K.v`, which must delete nothing.
const ALONE = `async function f(x) { return delete (await x) }
async function g(x) { return await x }
function* h() { const a = yield 1; return a }
;(async () => {
  const it = h()
  it.next()
  console.log(await f(1), await g(2), it.next(3).value, (await Promise.resolve(function named() {})).name)
})()
`;

test('instrumented code with no runtime in its thread: awaits and yields pass their values through the holder its prologue makes', { timeout: 60_000 }, async () => {
  const w = scratchProgram('jsftrace-held-alone-', { 'plain.cjs': ALONE });
  try {
    const out = transformSource({ code: ALONE, filename: join(w.dir, 'alone.cjs'), format: 'commonjs', file: 'alone.cjs', package: '' });
    assert.ok(out.sites > 0);
    writeFileSync(join(w.dir, 'alone.cjs'), out.code);
    const plain = await run(process.execPath, ['plain.cjs'], w.opts);
    const alone = await run(process.execPath, ['alone.cjs'], w.opts);
    assert.equal(plain.stdout, 'true 2 3 named\n', plain.stderr);
    assertSameOutcomes('no runtime', outcomeOf(plain), { alone: outcomeOf(alone) });
  } finally {
    w.done();
  }
});

// A key object an older copy of jsftrace made, with no holder, found when
// jsftrace starts (two copies in one process): given a holder of its own.
test('a key object made before, with no holder: awaits and yields still pass their values', { timeout: 60_000 }, async () => {
  const w = scratchProgram('jsftrace-held-older-', { 'lib.cjs': LIB, 'main.cjs': MAIN });
  try {
    const name = await run(process.execPath, ['--require', registerCjs, '-e', 'console.log(Object.getOwnPropertyNames(globalThis).find((k) => k.startsWith("$jsftrace_")))'], w.opts);
    const key = name.stdout.trim();
    assert.match(key, /^\$jsftrace_[0-9a-z]{12}$/, name.stderr);
    writeFileSync(join(w.dir, 'older.cjs'), `Object.defineProperty(globalThis, ${JSON.stringify(key)}, { value: { on: false, k0: false }, enumerable: false })\n`);
    const plain = await run(process.execPath, ['main.cjs'], w.opts);
    const older = await run(process.execPath, ['--require', './older.cjs', '--require', registerCjs, 'main.cjs'], w.opts);
    assertSameOutcomes('older key', outcomeOf(plain), { older: outcomeOf(older) });
  } finally {
    w.done();
  }
});
