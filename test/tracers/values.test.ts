// How funcgraph-args / -retval show a value, and that showing one never runs
// program code: no getter, no Proxy trap (on the value, its prototype or its
// constructor), no patched built-in. The stack capture of func_stack_trace
// sets a program's Error.prepareStackTrace aside.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retvalText, showValue } from '../../src/tracers/values.js';
import { captureStack } from '../../src/tracers/stack.js';

test('plain values, exactly', () => {
  assert.equal(showValue(42), '42');
  // funcgraph-retval-hex: a negative int as the kernel prints it (its 32-bit two's complement).
  assert.equal(showValue(-5, true), '0xfffffffb');
  assert.equal(showValue(-(2 ** 40), true), '0xffffff0000000000');
  assert.equal(retvalText('-5', true), '0xfffffffb');
  assert.equal(retvalText('threw -1', true), 'threw 0xffffffff');
  assert.equal(retvalText('-5', false), '-5');
  assert.equal(retvalText('"-5"', true), '"-5"');
  assert.equal(retvalText('-3n', true), '0xfffffffffffffffdn');
  assert.equal(showValue(255, true), '0xff');
  assert.equal(showValue(1.5, true), '1.5');
  assert.equal(showValue(10n), '10n');
  assert.equal(showValue(255n, true), '0xffn');
  assert.equal(showValue('ok'), '"ok"');
  assert.equal(showValue(true), 'true');
  assert.equal(showValue(undefined), 'undefined');
  assert.equal(showValue(null), 'null');
  assert.equal(showValue(Symbol('s')), 'Symbol(s)');
  assert.equal(showValue(function named() {}), '[Function named]');
  assert.equal(showValue(() => 1), '[Function (anonymous)]');
  assert.equal(showValue([1, 2, 3]), 'Array(3)');
  assert.equal(showValue(Promise.resolve()), 'Promise');
  assert.equal(showValue(new TypeError('bad')), '[TypeError: bad]');
  assert.equal(showValue(new Map()), 'Map');
  assert.equal(showValue(Object.create(null)), 'Object: null prototype');
  class Order {}
  assert.equal(showValue(new Order()), 'Order');
});

test('long strings are cut at 48 characters, never inside a surrogate pair, without quoting all of them', () => {
  const s = showValue('x'.repeat(1_000_000));
  assert.equal(s.length, 48);
  assert.ok(s.startsWith('"xxx') && s.endsWith('…'));
  const emoji = showValue('a'.repeat(45) + '😀😀😀');
  assert.ok(!/[\ud800-\udbff]…$/.test(emoji), emoji);
});

test('showing a value runs no program code', () => {
  const ran: string[] = [];
  const trap = (what: string): ProxyHandler<object> => ({
    get(t, k, r) { ran.push(`${what} get ${String(k)}`); return Reflect.get(t, k, r); },
    getOwnPropertyDescriptor(t, k) { ran.push(`${what} gopd ${String(k)}`); return Reflect.getOwnPropertyDescriptor(t, k); },
    getPrototypeOf(t) { ran.push(`${what} proto`); return Reflect.getPrototypeOf(t); },
  });
  assert.equal(showValue(new Proxy({}, trap('object'))), 'Proxy');
  assert.equal(showValue(new Proxy(function f() {}, trap('function'))), 'Proxy');
  assert.equal(showValue(Object.create(new Proxy({}, trap('prototype')))), 'Object');
  function C(): void {}
  C.prototype.constructor = new Proxy(C, trap('constructor'));
  assert.equal(showValue(new (C as unknown as new () => object)()), 'Object');
  const e = new Error('x');
  Object.defineProperty(e, 'message', { get() { ran.push('message getter'); return 'x'; } });
  assert.equal(showValue(e), '[Error]');
  const getterName = function g(): void {};
  Object.defineProperty(getterName, 'name', { get() { ran.push('name getter'); return 'n'; } });
  assert.equal(showValue(getterName), '[Function (anonymous)]');
  const saved = { n: Number.prototype.toString, b: BigInt.prototype.toString, s: Symbol.prototype.toString };
  Number.prototype.toString = function () { ran.push('Number toString'); return 'patched'; };
  BigInt.prototype.toString = function () { ran.push('BigInt toString'); return 'patched'; };
  Symbol.prototype.toString = function () { ran.push('Symbol toString'); return 'patched'; };
  try {
    assert.equal(showValue(255, true), '0xff');
    assert.equal(showValue(7), '7');
    assert.equal(showValue(255n, true), '0xffn');
    assert.equal(showValue(Symbol('q')), 'Symbol(q)');
  } finally {
    Number.prototype.toString = saved.n;
    BigInt.prototype.toString = saved.b;
    Symbol.prototype.toString = saved.s;
  }
  assert.deepEqual(ran, []);
});

test('stack capture sets the program\'s prepareStackTrace aside and keeps its own frames out', () => {
  let calls = 0;
  const saved = Error.prepareStackTrace;
  Error.prepareStackTrace = (_e, frames) => { calls++; return frames; };
  try {
    const frames = (function tracedHere(): string { return captureStack(); })().split('\n');
    assert.equal(calls, 0);
    assert.match(frames[0]!, /^tracedHere /);
    assert.ok(frames.every((f) => !/tracers\/stack\.[jt]s/.test(f)), frames.join('\n'));
    assert.equal(Error.prepareStackTrace !== undefined, true, 'the hook is back');
  } finally {
    Error.prepareStackTrace = saved;
  }
});
