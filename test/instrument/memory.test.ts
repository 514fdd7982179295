// What an instrumented module keeps alive: its instrumented text, once,
// one byte a character when its characters allow it, and nothing of its
// original text. Read from a heap snapshot of a real run, with the cache
// cold (the transform ran in the process) and then warm.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerCjs, runNode, tempDir, writeTree } from './support.js';

/** A module of `mark`: a long comment (so that its text's size is known to a few percent), names used as keys, long regular expression literals. */
function library(mark: string, format: 'commonjs' | 'module'): string {
  let s = `// ${mark}\n"use strict";\n/*${' the library keeps this comment.'.repeat(4000)}*/\nconst o = {};\n`;
  // Made as the module runs, as most modules make theirs.
  s += `const patterns = [${Array.from({ length: 50 }, (_, i) => `/^(?:alpha|beta|gamma)+\\d{${i + 1}}$/`).join(', ')}];\n`;
  for (let i = 0; i < 50; i++) {
    s += `function f${i}(host, message, args) { o.host = host; const { message: m } = { message }; `
      + `return patterns[${i}].test(args) ? class K${i} { host() { return m } } : null }\n`;
  }
  return s + (format === 'module' ? 'export default f0;\n' : 'module.exports = f0;\n');
}

const MAIN = `
const { writeHeapSnapshot } = require('node:v8');
const f = require('./lib.cjs');
import('./lib.mjs').then((m) => {
  if (f(0, 0, 'alphabeta1') === null || m.default(0, 0, 'gamma1') === null) throw new Error('the libraries do not work');
  // What the module keeps, not what the load holds for a moment: the
  // snapshot is taken a turn later (Node 26 once showed a second copy of
  // the ES module's text when it was taken in the import's own callback).
  setTimeout(() => {
    globalThis.gc(); globalThis.gc();
    writeHeapSnapshot(process.argv[2]);
  }, 20);
});
`;

interface StringNode { size: number; text: string }

/** The strings of a heap snapshot that begin with `prefix` (V8 names a string by its first 1024 characters). */
function stringsStartingWith(file: string, prefix: string): StringNode[] {
  const s = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[];
  };
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const types = s.snapshot.meta.node_types[0];
  const out: StringNode[] = [];
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]!]!;
    if (type !== 'string' && type !== 'concatenated string' && type !== 'sliced string') continue;
    const text = s.strings[s.nodes[i + nameAt]!]!;
    if (text.startsWith(prefix)) out.push({ size: s.nodes[i + sizeAt]!, text });
  }
  return out;
}

test('an instrumented module keeps its instrumented text once, one byte a character, and none of its original text', async () => {
  const t = tempDir('jsftrace-memory-');
  try {
    const cjs = library('LIBRARY-CJS', 'commonjs');
    const esm = library('LIBRARY-ESM', 'module');
    writeTree(t.dir, { 'lib.cjs': cjs, 'lib.mjs': esm, 'main.cjs': MAIN });
    for (const run of ['cold', 'warm']) {
      const snapshot = join(t.dir, `${run}.heapsnapshot`);
      const r = await runNode(['--expose-gc', '--require', registerCjs, 'main.cjs', snapshot], {
        cwd: t.dir, timeoutMs: 60_000,
        env: { JSFTRACE_TRANSFORM_MODULE: undefined, JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(t.dir, 'cache'), JSFTRACE_CONTROL: '0' },
      });
      assert.equal(r.code, 0, r.stderr);
      for (const [mark, original] of [['// LIBRARY-CJS', cjs], ['// LIBRARY-ESM', esm]] as const) {
        const found = stringsStartingWith(snapshot, mark);
        // The instrumented text is a few kilobytes longer than the original
        // (the comment is most of it): one byte a character it takes less
        // than 1.25 times the original, two bytes more than twice.
        assert.equal(found.length, 1, `${run} ${mark}: ${found.length} texts of the module (${found.map((f) => f.size).join(', ')} bytes)`);
        assert.ok(found[0]!.text.includes('$J'), `${run} ${mark}: the text kept is the instrumented one`);
        assert.ok(found[0]!.size < original.length * 1.25, `${run} ${mark}: ${found[0]!.size} bytes for ${original.length} characters of source`);
      }
    }
  } finally {
    t.done();
  }
});
