// Site names the transform gives where the code was compiled: esbuild's
// keepNames wrapper names a function, and a module whose own source map
// says it was compiled in place (tsx, ts-node) names its anonymous
// functions by where they were written. A map that names another file
// (tsc's dist/*.js -> src/*.ts) leaves the names in the module's own
// coordinates, and two functions written at one place do not share a name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, type SourceMapSegment } from '@jridgewell/sourcemap-codec';
import { transformSource } from '../../src/instrument/transform.js';

const FILE = '/virtual/app/m.js';

/** The site names of a CommonJS module, in order. */
function names(code: string): string[] {
  const out = transformSource({ code, filename: FILE, format: 'commonjs', file: 'm.js', package: '' }).code;
  const m = /\.D\("(?:[^"\\]|\\.)*","(?:[^"\\]|\\.)*","(?:[^"\\]|\\.)*",("(?:[^"\\]|\\.)*")/.exec(out);
  assert.ok(m !== null, out.slice(0, 400));
  return (JSON.parse(m[1]!) as string).split('\n');
}

function withMap(code: string, sources: string[], line0: SourceMapSegment[]): string {
  const map = { version: 3, sources, names: [], mappings: encode([line0]) };
  return `${code}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
}

test('__name(fn, "x") names fn x, as the declaration it came from would', () => {
  assert.deepEqual(
    names('const f = __name(() => 1, "f"); const g = __name(function () { return 2 }, "g"); __name(other, "no"); run(() => 3);'),
    ['f', 'g', '<anonymous>@1:107'],
  );
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
