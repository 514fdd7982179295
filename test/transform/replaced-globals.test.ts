// A module loaded while the program has replaced the globals a library
// shims (lodash's own tests load lodash this way, to check that it does
// without them): `Symbol` undefined, `Object.create` and
// `Object.getOwnPropertySymbols` removed, `Map` a function that counts its
// calls, `Set`, `Promise` and `WeakMap` that do nothing, `Buffer` a getter
// that counts its reads, `Date` a fake clock, and a wrapper of
// `Function.prototype.toString`. It loads and runs as plain, jsftrace calls
// none of them (each counts 0), and the program finds its own in place
// after each load, by require and by import, idle and counted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertSameOutcomes, outcomeOf } from '../support/difference.js';
import { run, scratchProgram } from '../support/process.js';

const register = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
const registerCjs = fileURLToPath(new URL('../../src/public/register.cjs', import.meta.url));
const count = fileURLToPath(new URL('../fixtures/transform/count.js', import.meta.url));

const LIB = `function answer(n) { return typeof Symbol + ' ' + (n + 1) }
module.exports = { answer, twice: (n) => answer(n) + answer(n) }
`;
const ESM_LIB = `export function esmAnswer(n) { return typeof Symbol + ' esm ' + (n * 2) }
`;
const MAIN = `const saved = { Symbol, Map, Set, Promise, WeakMap, Date, create: Object.create, syms: Object.getOwnPropertySymbols,
  toString: Function.prototype.toString, buffer: Object.getOwnPropertyDescriptor(globalThis, 'Buffer') }
let mapCalls = 0
let toStringCalls = 0
let bufferReads = 0
let dateCalls = 0
const FakeDate = function FakeDate() { dateCalls++; return new saved.Date(0) }
FakeDate.now = () => { dateCalls++; return 0 }
function shimmed() {
  return typeof Symbol === 'undefined' && Object.create === undefined && Object.getOwnPropertySymbols === undefined
    && globalThis.Map.name === 'FakeMap' && Date === FakeDate && typeof Object.getOwnPropertyDescriptor(globalThis, 'Buffer').get === 'function'
}
function shim() {
  Object.defineProperty(globalThis, 'Buffer', { configurable: true, enumerable: false, get() { bufferReads++; return saved.buffer.value } })
  globalThis.Date = FakeDate
  globalThis.Symbol = undefined
  globalThis.Map = function FakeMap() { mapCalls++; return {} }
  globalThis.Set = function () {}
  globalThis.Promise = function () {}
  globalThis.WeakMap = function () {}
  Object.create = undefined
  Object.getOwnPropertySymbols = undefined
  Function.prototype.toString = function wrapper() { toStringCalls++; return saved.toString.call(this) }
}
function restore() {
  Object.defineProperty(globalThis, 'Buffer', saved.buffer)
  Object.assign(globalThis, { Date: saved.Date })
  Object.assign(globalThis, { Symbol: saved.Symbol, Map: saved.Map, Set: saved.Set, Promise: saved.Promise, WeakMap: saved.WeakMap })
  Object.create = saved.create
  Object.getOwnPropertySymbols = saved.syms
  Function.prototype.toString = saved.toString
}
shim()
let lib
try { lib = require('./lib.cjs'); console.log('loaded', lib.answer(1), lib.twice(2)) } catch (e) { console.log('threw', String(e)) }
const sync = [mapCalls, toStringCalls, bufferReads, dateCalls, shimmed()]
import('./lib.mjs').then((m) => {
  const esm = m.esmAnswer(3)
  const seen = [mapCalls, toStringCalls, bufferReads, dateCalls, shimmed()]
  restore()
  console.log('esm', esm)
  console.log('calls of the replaced globals', JSON.stringify(sync), JSON.stringify(seen))
}, (e) => { restore(); console.log('import threw', String(e)) })
`;

test('a module loaded while the program has replaced Symbol, Map and others runs as plain', { timeout: 120_000 }, async () => {
  const w = scratchProgram('jsftrace-replaced-globals-', { 'lib.cjs': LIB, 'lib.mjs': ESM_LIB, 'main.cjs': MAIN });
  try {
    const { env, opts } = w;
    const counts = join(w.dir, 'counts.json');
    const plain = await run(process.execPath, ['main.cjs'], opts);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, 'loaded undefined 2 undefined 3undefined 3\nesm undefined esm 6\ncalls of the replaced globals [0,0,0,0,true] [0,0,0,0,true]\n');
    for (const [preload, reg] of [['--require', registerCjs], ['--import', register]] as const) {
      // The transform cache is cold for the first run and warm for the second.
      const idle = await run(process.execPath, [preload, reg, 'main.cjs'], opts);
      const traced = await run(process.execPath, [preload, reg, '--import', count, 'main.cjs'],
        { ...opts, env: { ...env, JSFTRACE_TEST_COUNTS: counts, JSFTRACE_TEST_FILE: 'lib.cjs' } });
      assertSameOutcomes(`main.cjs, ${preload}`, outcomeOf(plain), { idle: outcomeOf(idle), traced: outcomeOf(traced) });
      const seen = JSON.parse(readFileSync(counts, 'utf8')) as Record<string, [number, number, string[], number]>;
      assert.deepEqual(seen['answer']?.slice(0, 2), [3, 3], JSON.stringify(seen));
    }
  } finally {
    w.done();
  }
});
