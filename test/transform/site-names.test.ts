// Site names the transform gives where the code was compiled: esbuild's
// keepNames wrapper names a function, and a module whose own source map
// says it was compiled in place (tsx, ts-node) names its anonymous
// functions by where they were written. A map that names another file
// (tsc's dist/*.js -> src/*.ts) leaves the names in the module's own
// coordinates, and two functions written at one place do not share a name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { encode, type SourceMapSegment } from '@jridgewell/sourcemap-codec';
import { transformSource } from '../../src/instrument/transform.js';

const FILE = '/virtual/app/m.js';

/** The site names of a CommonJS module, in order. */
function names(code: string): string[] {
  const out = transformSource({ code, filename: FILE, format: 'commonjs', file: 'm.js', package: '' }).code;
  // The names and positions, in the comment of the function after the program's end.
  const m = /function [$\w]+n\(\)\{\/\*(\[.*?\])\*\/\}/.exec(out);
  assert.ok(m !== null, out.slice(-400));
  return (JSON.parse(m[1]!) as [string, string])[0].split('\n');
}

function withMap(code: string, sources: string[], line0: SourceMapSegment[]): string {
  const map = { version: 3, sources, names: [], mappings: encode([line0]) };
  return `${code}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
}

const HELPER = 'var __defProp = Object.defineProperty;\nvar __name = (target, value) => __defProp(target, "name", { value, configurable: true });\n';

test('__name(fn, "x") names fn x where the module defines esbuild\'s helper, which sets the name; not a helper of the program\'s', () => {
  const calls = 'const f = __name(() => 1, "f"); const g = __name(function () { return 2 }, "g"); __name(other, "no"); run(() => 3);';
  assert.deepEqual(names(HELPER + calls), ['__name', 'f', 'g', '<anonymous>@3:107']);
  // tsx's output, on one line.
  assert.deepEqual(names(HELPER.replace(/\s+/g, '').replace('var__', 'var __').replace(';var', ';var ') + calls).slice(1, 3), ['f', 'g']);
  // A function of the program's that happens to be called __name, and names nothing.
  assert.deepEqual(names('function __name(f, label) { return f }\n' + calls), ['__name', '<anonymous>@2:18', '<anonymous>@2:50', '<anonymous>@2:107']);
});

test('a map comment that cannot be rewritten exactly is left to Node: the module is instrumented and compiles', () => {
  const map = Buffer.from(JSON.stringify({ version: 3, sources: ['o.js'], names: [], mappings: 'AAAA;AACA' })).toString('base64');
  // A block comment with nothing before its end: the URL stops before `*/`.
  const block = `function f(){ return 1 }\nf()\n/*# sourceMappingURL=data:application/json;base64,${map}*/`;
  const out1 = transformSource({ code: block, filename: FILE, format: 'commonjs', file: 'm.js', package: '' }).code;
  assert.doesNotThrow(() => new vm.Script(out1));
  assert.match(out1, /\/\*# sourceMappingURL=data:application\/json;base64,[A-Za-z0-9+/]+=*\*\/\n/);
  // The text of a string that ends the module looks like the comment: not touched.
  const str = `function f(){ return 1 }\nconsole.log(f(), "//# sourceMappingURL=data:application/json;base64,${map}")`;
  const out2 = transformSource({ code: str, filename: FILE, format: 'commonjs', file: 'm.js', package: '' }).code;
  assert.doesNotThrow(() => new vm.Script(out2));
  assert.ok(out2.includes(`base64,${map}")`));
});

test('anonymous functions: named where the module\'s own map says they were written; another file\'s map changes nothing', () => {
  const code = 'run(x => x, y => y);';
  // `x` (column 4) was written at line 10, column 4; `y` (column 12) at line 12, column 0.
  const segments: SourceMapSegment[] = [[0, 0, 8, 0], [4, 0, 9, 3], [12, 0, 11, 0]];
  assert.deepEqual(names(withMap(code, ['m.js'], segments)), ['<anonymous>@10:4', '<anonymous>@12:1']);
  assert.deepEqual(names(withMap(code, ['/virtual/app/m.js'], segments)), ['<anonymous>@10:4', '<anonymous>@12:1']);
  assert.deepEqual(names(withMap(code, ['../src/m.ts'], segments)), ['<anonymous>@1:5', '<anonymous>@1:13']);
  // Both written at one place: the second keeps its place in the text.
  assert.deepEqual(names(withMap(code, ['m.js'], [[0, 0, 8, 0], [4, 0, 9, 3], [12, 0, 9, 3]])), ['<anonymous>@10:4', '<anonymous>@1:13']);
});
