// Robustness: every JavaScript file of the packages installed beside
// jsftrace (the TypeScript compiler, prettier and its plugins, marked,
// acorn, tsx, esbuild's wrapper, ...; about 28 MB, hand-written and
// minified) transforms into code that parses again, and the transform
// defines one site per function it found.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'acorn';
import { transformSource } from '../../src/instrument/transform.js';

const modules = fileURLToPath(new URL('../../../node_modules/', import.meta.url));

function files(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) files(p, out);
    else if (/\.(c|m)?js$/.test(e.name)) out.push(p);
  }
  return out;
}

test('every installed package file transforms into code that parses', { timeout: 300_000 }, () => {
  const all = files(modules);
  assert.ok(all.length > 50, `only ${all.length} files found`);
  let sites = 0;
  let bytes = 0;
  for (const f of all) {
    const code = readFileSync(f, 'utf8');
    let format: 'module' | 'commonjs' = f.endsWith('.mjs') ? 'module' : 'commonjs';
    let out;
    try {
      out = transformSource({ code, filename: f, format, file: f, package: 'p' });
    } catch {
      // Some .js files are ES modules (their package says "type": "module").
      format = format === 'module' ? 'commonjs' : 'module';
      out = transformSource({ code, filename: f, format, file: f, package: 'p' });
    }
    bytes += code.length;
    sites += out.sites;
    assert.doesNotThrow(() => parse(out.code, {
      ecmaVersion: 'latest', sourceType: format === 'module' ? 'module' : 'script', allowHashBang: true,
      allowReturnOutsideFunction: format === 'commonjs', allowAwaitOutsideFunction: format === 'module',
    }), `${f}: the instrumented code does not parse`);
  }
  process.stdout.write(`# ${all.length} files, ${(bytes / 1e6).toFixed(1)} MB, ${sites} sites\n`);
  assert.ok(sites > 20_000);
});
