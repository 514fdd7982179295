// A CommonJS module's named exports, as an ES module imports them: Node
// finds them by lexing the module's text (cjs-module-lexer), which reads
// the getters transpilers write (Babel: `Object.defineProperty(exports,
// "parse", { enumerable: true, get: function () { return _p.parse; } })`)
// and their re-export loops (`Object.keys(_q).forEach(function (key) {
// ... })`). Where Node lexes the text it compiles (the in-thread hooks,
// Node 22 and later), a site in such a getter took the name away:
// `import { parse } from 'graphql'` failed. Those functions are left as
// written; every other function of the module keeps its site.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transformSource } from '../../src/instrument/transform.js';
import { hookModes, registerCjs, registerJs, REPORT_ESM, runNode, tempDir, transformWarnings, writeTree } from './support.js';

/** The lexer's forms, as Babel and TypeScript write them, and a getter it does not read. */
const GETTERS = [
  'get: function () {\n    return _p.parse;\n  }',
  'get: function get() { return _p["quoted"]; }',
  'get () { return plain }',
];
const LOOP = `function (key) {
  if (key === "default" || key === "__esModule") return;
  if (key in exports && exports[key] === _q[key]) return;
  Object.defineProperty(exports, key, {
    enumerable: true,
    get: function () {
      return _q[key];
    }
  });
}`;

const LIB = `"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
Object.defineProperty(exports, "parse", {
  enumerable: true,
  ${GETTERS[0]}
});
Object.defineProperty(exports, "quoted", { enumerable: true, ${GETTERS[1]} });
Object.defineProperty(module.exports, "plain", { enumerable: true, ${GETTERS[2]} });
let reads = 0;
Object.defineProperty(exports, "counted", { enumerable: true, get: function () { reads++; return _p.parse; } });
var _q = require("./q.js");
Object.keys(_q).forEach(${LOOP});
var _p = { parse: function parse(s) { return "parsed " + s; }, quoted: () => "quoted" };
function plain() { return "plain"; }
exports.work = function work(n) { return n < 2 ? n : work(n - 1) + work(n - 2); };
// An ordinary loop over keys keeps its sites, and so does what it holds.
const opts = { a: 1, b: 2 };
function helper(k) { return k.toUpperCase(); }
Object.keys(opts).forEach(function (key) {
  function inner(v) { return v * 2; }
  exports.seen = (exports.seen || '') + helper(key) + inner(opts[key]);
});
`;

const FILES = {
  'package.json': JSON.stringify({ name: 'app', type: 'commonjs' }),
  'lib.js': LIB,
  'q.js': 'exports.fromQ = function fromQ() { return "q"; };\n',
  'main.mjs': `import * as ns from './lib.js';
import { parse, quoted, plain, fromQ, work } from './lib.js';
import lib from './lib.js';
console.log(parse('x'), quoted(), plain(), fromQ(), work(10), Object.keys(ns).sort().join(), lib.seen);
${REPORT_ESM}`,
};

test('the functions Node lexes for a CommonJS module\'s exports are left as written, and only those', () => {
  const out = transformSource({ code: LIB, filename: '/app/lib.js', file: 'lib.js', package: '', format: 'commonjs' }).code;
  for (const text of [...GETTERS, LOOP]) assert.ok(out.includes(text), `changed:\n${text}`);
  // Sites: the counting getter, parse, the arrow, plain, work, helper, the
  // ordinary loop's callback and inner (not the three lexed getters, the
  // re-export loop or the getter inside it).
  const sites = transformSource({ code: LIB, filename: '/app/lib.js', file: 'lib.js', package: '', format: 'commonjs' }).sites;
  assert.equal(sites, 8);
  // An ES module is not lexed: its getters keep their sites.
  const esm = transformSource({ code: 'const _p = {}; export const o = { get: function () { return _p.parse; } };', filename: '/app/e.mjs', file: 'e.mjs', package: '', format: 'module' });
  assert.equal(esm.sites, 1);
});

for (const mode of hookModes) {
  for (const [entry, flag] of [['--import', registerJs], ['--require', registerCjs]] as const) {
    test(`an ES module imports a CommonJS module's getter exports and re-exports (${mode.label}, ${entry})`, { timeout: 60_000 }, async () => {
      const t = tempDir();
      try {
        writeTree(t.dir, FILES);
        const plain = await runNode(['main.mjs'], { cwd: t.dir, hooks: mode.hooks });
        assert.equal(plain.code, 0, plain.stderr);
        assert.match(plain.output, /^parsed x quoted plain q 55 /);
        const r = await runNode([entry, flag, 'main.mjs'], { cwd: t.dir, hooks: mode.hooks, env: { JSFTRACE_TRANSFORM_MODULE: undefined } });
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        assert.equal(r.output, plain.output);
        assert.equal(r.stderr, plain.stderr);
        // lib.js 8, q.js 1, main.mjs 1 (the report's exit listener).
        assert.deepEqual({ ...r.report!.stats, cached: 0 }, { transformed: 3, cached: 0, skipped: 0, failed: 0, ignored: 0, sites: 10, failures: [] });
        assert.deepEqual(transformWarnings(r.stderr), []);
      } finally {
        t.done();
      }
    });
  }
}
