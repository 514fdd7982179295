// Every syntax form, run three ways: as written, transformed with nothing
// attached, and transformed with a counting ops on every function. The
// output must be identical, and the counted entries and exits must be the
// ones each fixture declares (`//@count <name> <entries> <exits>`), and so
// must the callers seen as parents (`//@parents <name> <p1,p2,...>`, `-`
// for none): a frame left on the stack by a throw or a suspension would
// show up as a wrong parent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSource } from '../../src/instrument/transform.js';

const corpus = fileURLToPath(new URL('../../../test/fixtures/transform/corpus/', import.meta.url));
const preload = fileURLToPath(new URL('../fixtures/transform/preload.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'jsftrace-corpus-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function run(file: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, [...args, file], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  assert.equal(r.status, 0, `${file} exited ${r.status}: ${r.stderr}`);
  return r.stdout.split(corpus).join('<dir>/').split(work + '/').join('<dir>/');
}

for (const name of readdirSync(corpus).sort()) {
  test(`corpus ${name}: same output idle and traced, declared counts`, () => {
    const src = join(corpus, name);
    const code = readFileSync(src, 'utf8');
    const format = name.endsWith('.mjs') ? 'module' : 'commonjs';
    const out = join(work, name);
    const t = transformSource({ code, filename: out, format, file: `corpus/${name}`, package: '' });
    assert.ok(t.sites > 0);
    writeFileSync(out, t.code);
    const plain = run(src, []);
    const idle = run(out, ['--import', preload]);
    assert.equal(idle, plain, 'instrumented and idle');
    const countsFile = join(work, `${name}.counts.json`);
    const traced = run(out, ['--import', preload], { JSFTRACE_TEST_COUNTS: countsFile });
    assert.equal(traced, plain, 'instrumented with a counting ops on every function');
    const counts = JSON.parse(readFileSync(countsFile, 'utf8')) as Record<string, [number, number, string[]]>;
    const expected = [...code.matchAll(/^\/\/@count (\S+) (\d+) (\d+)$/gm)];
    for (const [, fn, entries, exits] of expected) {
      assert.deepEqual(counts[fn!]?.slice(0, 2), [Number(entries), Number(exits)], `${fn}: [entries, exits]`);
    }
    for (const [, fn, list] of code.matchAll(/^\/\/@parents (\S+) (\S+)$/gm)) {
      assert.deepEqual(counts[fn!]?.[2], list!.split(',').sort(), `${fn}: parents`);
    }
    // Every entry is matched by an exit, except calls still suspended at exit.
    for (const [fn, [en, ex]] of Object.entries(counts)) assert.ok(ex <= en, `${fn}: ${ex} exits for ${en} entries`);
  });
}
