// The source line and caret Node prints above an uncaught exception are the
// plain run's, also where the exception is placed on a line where the
// transform inserted code (a one-line function, a return, the module's
// first statement): each program runs plain and under jsftrace/register,
// by --import (where Node reports a CommonJS main's exception as a
// rejection) and by --require, idle and traced, and must print, and end,
// exactly the same. The programs where Node itself prints the line (code
// that is not instrumented threw what the program made on such a line)
// must not get it twice.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerJs, runNode, tempDir, threeWays, tsxLoader, writeTree } from './support.js';

/** name -> program; each ends with an uncaught exception (or says why not). */
const PROGRAMS: Record<string, string> = {
  // A throw statement on a one-line function's line (its entry is there).
  'one-line.cjs': `function check(x) { if (!x) throw new TypeError('bad ' + x) }\ncheck(1)\ncheck(0)\n`,
  // The module's first statement, where its prologue goes.
  'first.cjs': `throw new Error('at the top'); function unused() {}\n`,
  'first.mjs': `throw new Error('at the top'); function unused() {}\n`,
  // V8's own error, on a return line and in an arrow's body.
  'fault.cjs': `function get(o) {\n  return o.a.b\n}\nconst deep = (o) => o.x.y.z\nconsole.log(get({ a: { b: 1 } }))\ndeep({ x: {} })\n`,
  // A builtin throws: V8 places it at the call.
  'json.cjs': `const parse = (s) => JSON.parse(s)\nparse('{')\n`,
  // A value that is not an error, on a marked line: Node prints the line first.
  'string.cjs': `function fail(n) { throw 'failed ' + n }\nfail(3)\n`,
  'object.cjs': `function fail(n) { throw { code: n } }\nfail(4)\n`,
  // Made on a marked line, thrown by Node's events module: Node prints its own line.
  'emitted.cjs': `const { EventEmitter } = require('node:events')\nconst e = new EventEmitter()\nfunction fail() { return e.emit('error', new Error('no listener')) }\nfail()\n`,
  // V8's error, caught and handed on, then thrown by Node's events module.
  'emitted-fault.cjs': `const { EventEmitter } = require('node:events')\nconst e = new EventEmitter()\nfunction read(o) { try { return o.a.b } catch (err) { e.emit('error', err) } }\nread({})\n`,
  // Thrown on a marked line, caught, thrown again from a line of its own.
  'rethrow.cjs': `function check(x) { if (!x) throw new RangeError('zero') }\ntry {\n  check(0)\n} catch (err) {\n  console.log('caught', err.message)\n  throw err\n}\n`,
  // A throw on a marked line that a catch elsewhere on it takes, then one that is not taken.
  'caught-first.cjs': `function f(n) { try { if (n) throw new Error('inner') } catch (e) { console.log(e.message) } throw new Error('outer ' + n) }\nf(1)\n`,
  // Rejections: placed where the error was made.
  'async.cjs': `async function load(n) { await null; throw new Error('async ' + n) }\nload(5)\n`,
  'async.mjs': `async function load(n) { await null; return JSON.parse(n) }\nawait load('{')\n`,
  'async-fault.mjs': `async function load(o) { await null; return o.a.b }\nawait load({})\n`,
  // A sync generator's exception leaves through jsftrace's catch at its end.
  'generator.cjs': `function* g(t) { for (const c of t) { if (c === '!') throw new SyntaxError('at ' + c); yield c } }\nfor (const c of g('ab!')) console.log(c)\n`,
  'generator-fault.cjs': `function* g(o) {\n  yield 1\n  yield o.a.b\n}\nfor (const v of g({})) console.log(v)\n`,
  // A tab and a character of more than one byte before the column.
  'tabs.cjs': `function f(s) {\n\tconst t = 'é€' + s; return t.x.y\n}\nf('z')\n`,
  // Lines ended by CR LF.
  'crlf.cjs': `function f(s) { return s.a.b }\r\nconsole.log('crlf')\r\nf({})\r\n`,
  // A V8 error handed on by a promise, thrown again later from a line of its own.
  'later.cjs': `function f(o) { return o.a.b }\nPromise.resolve().then(() => f({})).catch((e) => {\n  setTimeout(() => {\n    throw e\n  })\n})\n`,
  // An error made without \`new\` on a marked line, thrown at the top level.
  'made.cjs': `function make(m) { return Error(m) }\nconst e = make('x')\nthrow e\n`,
  // Thrown on a marked line inside a stream's read(), which the stream
  // catches and emits as 'error' (no listener): Node prints its own line.
  'stream.cjs': `const { Readable } = require('node:stream')\nconst r = new Readable({ read() { throw new Error('boom') } })\nr.on('data', () => {})\n`,
  // Node's assert, called on a marked line, throws from its own.
  'assert.cjs': `const assert = require('node:assert')\nfunction check(x) { assert.strictEqual(x, 1) }\ncheck(2)\n`,
  // Thrown on a marked line, caught by a catch without a binding, thrown again.
  'unbound-catch.cjs': `const err = new Error('x')\nfunction f() { throw err }\ntry { f() } catch {}\nthrow err\n`,
  // A finally that throws and catches while the try's exception passes.
  'finally-catch.cjs': `function f() { try { throw new Error('a') } finally { try { throw 1 } catch (x) {} } }\nf()\n`,
  // An exit listener that throws and catches before Node prints.
  'exit-catch.cjs': `process.on('exit', () => {\n  try {\n    JSON.parse('{')\n  } catch (err) {}\n})\nfunction fail(msg) { throw new Error(msg) }\nfail('boom')\n`,
  // The program emits 'uncaughtException' itself, then exits 0: nothing to print.
  'own-emit.cjs': `function get(o) { return o.a.b }\nPromise.resolve().then(() => get({})).catch((e) => {\n  process.emit('uncaughtException', e)\n  process.exit(0)\n})\n`,
  // A catch inside \`with\`, whose object answers every name.
  'with.cjs': `const scope = new Proxy({}, { has(t, k) { return k !== 'console' && k !== 'JSON' }, get(t, k) { return k === Symbol.unscopables ? undefined : {} } })\nwith (scope) {\n  try { JSON.parse('{') } catch (e) { console.log('caught', e.name) }\n}\nconsole.log('done')\n`,
  // A generator over lines: its exception leaves through jsftrace's catch on the closing line.
  'generator-lines.cjs': `function* g(t) {\n  for (const c of t) {\n    if (c === '!') throw new SyntaxError('at ' + c)\n    yield c\n  }\n}\nfor (const c of g('ab!')) console.log(c)\n`,
  // Lines V8 ends at a \\r alone, and at U+2028 in a string.
  'cr.cjs': `function get(o) {\r  return o.a.b }\rget({})\r`,
  'ls.cjs': `const s = "a\u2028b"; function get(o) { return o.a.b }\nget({})\n`,
  // A sourceURL comment, then another comment.
  'source-url.cjs': `function f(o) { return o.a.b }\nf({})\n//# sourceURL=named.js\n//# sourceMappingURL=nothing.map\n`,
  // Listeners: an exit listener prints first; a handled exception prints nothing.
  'listeners.cjs': `process.on('exit', (c) => console.error('exit', c))\nfunction f() { throw new Error('after exit listeners') }\nf()\n`,
  'handled.cjs': `process.on('uncaughtException', (e) => { console.log('handled', e.message) })\nfunction f() { throw new Error('handled') }\nf()\nconsole.log('after')\n`,
};

/** Only as `node main.js` starts them (by --require): by --import they are rejections, placed as the notes below say. */
const REQUIRED: Record<string, string> = {
  // The stack was formatted before the exception went uncaught (a
  // rejection's frames are then gone, and no line is printed for it).
  'formatted.cjs': `function f(o) { try { return o.a.b } catch (e) { console.log(e.stack.split('\\n')[0]); throw e } }\nf({})\n`,
};

/** TypeScript that Node strips itself (22.18 and later): a required and an imported module. */
const TYPESCRIPT: Record<string, string> = {
  'main.cts': `const { check } = require('./lib.cts')\nfunction run(n: number): void { check(n) }\nrun(0)\n`,
  'lib.cts': `function check(n: number): void { if (n < 1) throw new RangeError(\`low \${n}\`) }\nmodule.exports = { check }\n`,
  'main.mts': `import { get } from './get.mts'\nconsole.log(get({ a: { b: 2 } }))\nget({})\n`,
  'get.mts': `interface O { a?: { b: number } }\nexport function get(o: O): number { return o.a!.b }\n`,
};

const stripsTypes = (process.features as { typescript?: unknown }).typescript === 'strip';

for (const main of ['main.cts', 'main.mts']) {
  test(`uncaught exception printout: TypeScript Node strips, ${main}`, { timeout: 120_000, skip: !stripsTypes && 'this Node does not strip TypeScript' }, async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, TYPESCRIPT);
      await threeWays(t.dir, main);
    } finally {
      t.done();
    }
  });
}

for (const [name, code] of [...Object.entries(PROGRAMS), ...Object.entries(REQUIRED)]) {
  test(`uncaught exception printout: ${name}`, { timeout: 120_000 }, async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, { [name]: code });
      await threeWays(t.dir, name, name in REQUIRED ? ['--require'] : undefined);
    } finally {
      t.done();
    }
  });
}

// TypeScript served by tsx, which turns source maps on: Node prints the
// line from the module's map, as plain (a module with a map of its own
// gets no mark; the first version marked it and printed no line).
test('uncaught exception printout: TypeScript through tsx', { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'app.ts': `interface P { v: string }\nfunction fail(p: P): never { throw new TypeError(\`bad \${p.v}\`) }\nconst ps: P[] = [{ v: 'a' }]\nfor (const p of ps) fail(p)\n`,
      'noop.mjs': '',
      // An ES module: a CommonJS one tsx compiles through its require hook
      // shows jsftrace's _compile frame in its stack (docs/transparency.md,
      // difference 9), which is not what this compares.
      'package.json': '{"type":"module"}',
    });
    const env = { JSFTRACE_TRANSFORM_MODULE: undefined, JSFTRACE_CONTROL: '0' };
    const plain = await runNode(['--import', './noop.mjs', '--import', tsxLoader, 'app.ts'], { cwd: t.dir, env });
    const ours = await runNode(['--import', registerJs, '--import', tsxLoader, 'app.ts'], { cwd: t.dir, env });
    assert.match(plain.stderr, /app\.ts:2\n.*throw new TypeError/);
    assert.equal(ours.stderr, plain.stderr);
    assert.equal(ours.code, plain.code);
  } finally {
    t.done();
  }
});
