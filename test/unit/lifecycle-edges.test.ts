// Edges of the ops lifecycle: no callback runs after unregister resolves,
// even for a call that entered before it and resumes after; a failed direct
// registration leaves no trampoline behind and keeps the ops' attributes;
// a module whose sites cannot be defined runs untraced instead of failing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { instance, resume, suspend } from '../../src/core/index.js';
import {
  createOps, defineSite, ftraceSetFilter, leave, registerFtraceDirect, registerFtraceFunction, siteAbi,
  unregisterFtraceDirect, unregisterFtraceFunction, OPS_FL,
} from '../../src/public/index.js';
import { transformSource } from '../../src/instrument/transform.js';

test('a call suspended across unregister calls no callback after it resolves', async () => {
  const site = defineSite({ name: 'edge:susp' });
  const log: string[] = [];
  const ops = createOps({
    name: 'edge', func: () => { log.push('entry'); },
    retfunc: () => { log.push('exit'); }, suspend: () => { log.push('suspend'); }, resume: () => { log.push('resume'); },
  });
  await ftraceSetFilter(ops, 'edge:susp');
  await registerFtraceFunction(ops);
  const { words, handlers: H, targetBase } = siteAbi();
  const tok = H[words[targetBase + site]!]!(site, undefined, null);
  const saved = suspend(tok);
  await unregisterFtraceFunction(ops);
  leave(resume(saved), 1);
  assert.deepEqual(log, ['entry', 'suspend']);
});

function readyTramps(): number {
  const { i32, L } = instance();
  let n = 0;
  for (let t = 0; t < L.maxTramps; t++) if (i32[L.tramps + t * 16] === 1) n++;
  return n;
}

test('a failed registerFtraceDirect leaves no trampoline and keeps the attributes', async () => {
  defineSite({ name: 'edge:direct' });
  const owner = createOps({ name: 'owner' });
  await ftraceSetFilter(owner, 'edge:direct');
  const ownerTramp = (): void => {};
  await registerFtraceDirect(owner, ownerTramp);
  const before = readyTramps();
  const declared = createOps({ name: 'declared', flags: OPS_FL.DIRECT });
  await ftraceSetFilter(declared, 'edge:direct');
  for (let i = 0; i < 3; i++) await assert.rejects(registerFtraceDirect(declared, () => i), { code: 'EBUSY' });
  assert.equal(declared.flags & OPS_FL.DIRECT, OPS_FL.DIRECT, 'an attribute given at creation stays');
  await unregisterFtraceDirect(owner, ownerTramp);
  assert.equal(owner.flags & OPS_FL.DIRECT, 0, 'DIRECT added by registration goes with it');
  assert.ok(readyTramps() <= before, `trampolines: ${before} before, ${readyTramps()} after`);
});

test('a module whose sites cannot be defined runs untraced, with one warning', () => {
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-edge-'));
  try {
    const fns = Array.from({ length: 1100 }, (_, k) => `function f${k}(x) { return x + ${k}; }`).join('\n');
    const code = `${fns}\nlet s = 0; for (let k = 0; k < 1100; k++) s = globalThis['f' + k] ? 0 : s; console.log('sum', f1099(1) + f0(2));\n`;
    const t = transformSource({ code, filename: join(work, 'big.cjs'), format: 'commonjs', file: 'big.cjs', package: '' });
    writeFileSync(join(work, 'big.cjs'), t.code);
    const preload = fileURLToPath(new URL('../fixtures/transform/preload.js', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', preload, join(work, 'big.cjs')], {
      encoding: 'utf8', env: { ...process.env, JSFTRACE_MAX_SITES: '1024', NODE_OPTIONS: '' }, timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'sum 1102\n');
    assert.equal(r.stderr.match(/JSFTRACE_SITES/g)?.length, 1, r.stderr);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('with every function traced, a module whose sites cannot be defined is counted as no other module\'s function', () => {
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-edge-'));
  try {
    // small.cjs takes the first sites; big.cjs does not fit. An entry of
    // big.cjs computes its site from a base that must index no word: read
    // as site 0 + k, its calls would be counted as small.cjs's functions.
    const small = 'function one(x) { return x + 1 }\nfunction two(x) { return one(x) * 2 }\nmodule.exports = { one, two }\n';
    const fns = Array.from({ length: 1100 }, (_, k) => `function f${k}(x) { return x + ${k}; }`).join('\n');
    // Every function is called: the site keys of some of them are the ones
    // small.cjs's functions turn on.
    const all = Array.from({ length: 1100 }, (_, k) => `f${k}`).join(',');
    const big = `${fns}\nmodule.exports = () => { let s = 0; for (const f of [${all}]) s += f(1); return s; };\n`;
    for (const [name, code] of [['small.cjs', small], ['big.cjs', big]] as const) {
      writeFileSync(join(work, name), transformSource({ code, filename: join(work, name), format: 'commonjs', file: name, package: '' }).code);
    }
    writeFileSync(join(work, 'main.cjs'), "const s = require('./small.cjs')\nconst b = require('./big.cjs')\nconsole.log(s.two(1) + s.two(2), b())\n");
    const counts = join(work, 'counts.json');
    const preload = fileURLToPath(new URL('../fixtures/transform/preload.js', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', preload, join(work, 'main.cjs')], {
      encoding: 'utf8', env: { ...process.env, JSFTRACE_MAX_SITES: '1024', JSFTRACE_TEST_COUNTS: counts, NODE_OPTIONS: '' }, timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '10 605550\n');
    assert.equal(r.stderr.match(/JSFTRACE_SITES/g)?.length, 1, r.stderr);
    const seen = JSON.parse(readFileSync(counts, 'utf8')) as Record<string, [number, number, string[]]>;
    assert.deepEqual(seen, { one: [2, 2, ['two']], two: [2, 2, ['-']] });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
