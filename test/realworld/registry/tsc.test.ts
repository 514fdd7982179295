// The TypeScript compiler reformatted without semicolons (prettier,
// `semi: false`, over typescript's lib/_tsc.js: 6 MB of semicolon-free
// code full of lines that start with `(` and `[`), type-checking its own
// typescript.d.ts and a file with errors, in every mode (support.ts). The
// reformatted compiler is made once per run, beside a copy of the
// package's lib/ (it reads its lib.*.d.ts from its own directory).

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'prettier';
import { everyMode, root, Scratch } from './support.js';

const scratch = new Scratch();
after(scratch.done);
const ts = join(scratch.dir, 'typescript');
const tsc = join(ts, 'lib', '_tsc.js');

before(async () => {
  cpSync(join(root, 'node_modules', 'typescript'), ts, { recursive: true });
  const code = readFileSync(tsc, 'utf8');
  const semicolonFree = await format(code, { parser: 'babel', semi: false, filepath: tsc });
  // Only `for (;;)` heads split over lines keep a `;` at a line's end.
  const kept = semicolonFree.match(/;\n/g)?.length ?? 0;
  assert.ok(kept < 1000 && /\n\s*;[([]/.test(semicolonFree), `prettier did not remove the semicolons (${kept} lines end with one)`);
  writeFileSync(tsc, semicolonFree);
  writeFileSync(join(scratch.dir, 'bad.ts'), 'const n: number = "text"\nfunction f(a: string) { return a.size }\nf(1)\n');
});

test('semicolon-free tsc type-checks typescript.d.ts the same', { timeout: 1_800_000 }, async () => {
  await everyMode('tsc (semicolon-free) typescript.d.ts', [tsc, '--noEmit', '--lib', 'es2022', '--listFiles', join(ts, 'lib', 'typescript.d.ts')],
    { scratch, cwd: scratch.dir, minSites: 1000, expectStatus: 0, timeoutMs: 900_000 });
});

test('semicolon-free tsc reports the same errors', { timeout: 1_800_000 }, async () => {
  await everyMode('tsc (semicolon-free) errors', [tsc, '--noEmit', '--pretty', 'false', join(scratch.dir, 'bad.ts')],
    { scratch, cwd: scratch.dir, minSites: 500, expectStatus: 2, timeoutMs: 900_000 });
});
