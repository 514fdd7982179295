// The message of a failed assert(value) without a message of its own is
// made by Node of the call's source, found through V8's place for the
// call: Node 20 (and 22 before 22.21, 24 before 24.9) reads the file at the
// frame's line and column, later lines read the line V8 compiled. Under
// jsftrace the column and the line are the instrumented ones; the message,
// and the stack and uncaught printout made of it, must still be the plain
// run's. Each program runs plain and under jsftrace/register, by --import
// and --require, idle and traced.

import { test } from 'node:test';
import { tempDir, threeWays, writeTree } from './support.js';

const SHOW = `const show = (f) => { try { f() } catch (e) { console.log(e.name, JSON.stringify(e.message), e.generatedMessage, e.stack.split('\\n')[0]) } }`;

/** Calls whose source holds no function of its own: the same on every line. */
const PORTABLE = (imports: string): string => `${imports}
${SHOW}
const check = (x) => assert(x)
function f(v) { assert.ok(v, undefined); return v }
function g(v) {
  if (v) return 1
  assert(v && v.length > 3 &&
    v[0] === 'a')
}
const values = { zero: 0 }
function h(o) { return assert.strict(o.zero === 1), o }
show(() => check(0))
show(() => f(''))
show(() => g(''))
show(() => h(values))
show(() => assert.ok(null))
// Not assert.ok's own message: the program's, and assert.equal's.
const equal = (x) => assert.equal(x, true)
show(() => equal(0))
const own = (x) => assert(x, 'my own words')
show(() => own(false))
// A formatter of the program's is in place while the error is made.
Error.prepareStackTrace = (e, s) => e.message + ' @' + s.length
const viewed = (x) => assert(x)
show(() => viewed(undefined))
Error.prepareStackTrace = undefined
// And one that is not caught: its stack and the line above it printed.
const last = (x) => assert(x === 2)
last(1)
`;

/** Calls whose source holds an arrow or an await. */
const INLINE = `import assert from 'node:assert'
${SHOW}
const arr = [1, 2]
show(() => assert(arr.find((v) => v > 5)))
show(() => assert((() => 0)()))
show(() => assert.ok(arr.every(v => v > 1), undefined))
const later = async () => assert(await Promise.resolve(0))
later().catch((e) => console.log(JSON.stringify(e.message)))
`;

/** Calls whose source holds a function with a block body. */
const BLOCKS = `import assert from 'node:assert'
${SHOW}
show(() => { assert.ok(function () { return 0 }()) })
show(() => assert(typeof function named() {} === 'string'))
show(() => assert([1].every((v) => { v + 1 })))
show(() => assert([1].every((v) => { v + 1; })))
show(() => assert([0].find((v) => { if (v > 5) return true })))
show(() => assert([0].find((v) => { if (v > 5) return true; })))
show(() => assert([1].every((v) => { for (const a of [v]) a })))
show(() => assert([1].every((v) => { if (v) { v++ } })))
show(() => assert([1].every((v) => { while (v--) if (v > 9) break })))
show(() => assert([1].every(async function* (v) { yield v })))
show(() => assert([1].map(async (v) => { await v }).length === 0))
show(() => assert([1].map((v) => { try { v() } catch { return 1 } }).length === 0))
show(() => assert([1].map((v) => { try { return v } finally { v } }).length === 0))
show(() => assert([1].some(function (x) { var y = x })))
show(() => assert([1].some(function (x) { do { x++ } while (x < 3) })))
show(() => assert([1].some((x) => { return false /* c */ })))
`;

test("assert(value)'s generated message, its stack and its uncaught printout are the plain run's", { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'main.cjs': PORTABLE(`const assert = require('node:assert')`),
      'main.mjs': PORTABLE(`import assert from 'node:assert'`),
      'strict.mjs': PORTABLE(`import { strict as assert } from 'node:assert'`),
    });
    await threeWays(t.dir, 'main.cjs');
    await threeWays(t.dir, 'main.mjs');
    await threeWays(t.dir, 'strict.mjs');
  } finally {
    t.done();
  }
});

test("assert(value) of a call that holds an arrow or an await: the plain run's message (on Node 26 an AssertionError, not Node's TypeError)", { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, { 'inline.mjs': INLINE });
    await threeWays(t.dir, 'inline.mjs');
  } finally {
    t.done();
  }
});

// Node 26 throws a TypeError of its own where it reads no text up to the
// call's closing parenthesis (a `;` comes first), as plain for a body with
// a semicolon: the instrumented body must hold none where the plain one
// holds none (docs/transparency.md, difference 52).
test("assert(value) of a call that holds a function with a block body: the plain run's message", { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, { 'blocks.mjs': BLOCKS });
    await threeWays(t.dir, 'blocks.mjs');
  } finally {
    t.done();
  }
});
