// Edges of the ops lifecycle: no callback runs after unregister resolves,
// even for a call that entered before it and resumes after; a failed direct
// registration leaves no trampoline behind and keeps the ops' attributes;
// a module whose sites cannot be defined runs untraced instead of failing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
