// G7: an inconsistency found by the engine turns every site back to nop,
// records why, and the program runs on; the API then answers ENODEV.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attach, createOps, ftraceSetFilter, registerFtraceFunction, siteAbi, stoppedReason, unregisterFtraceFunction,
  readEnabledFunctions, kill,
} from '../../src/public/index.js';

test('a corrupted target word stops tracing: every site nop, reason kept, program unaffected', async () => {
  const obj = { a(x: number): number { return x + 1; }, b(x: number): number { return x * 2; } };
  const sa = attach(obj, 'a', { name: 'fs:a' });
  attach(obj, 'b', { name: 'fs:b' });
  let hits = 0;
  const ops = createOps({ func: () => { hits++; }, name: 'fsops' });
  await ftraceSetFilter(ops, 'fs:*');
  await registerFtraceFunction(ops);
  assert.equal(obj.a(1) + obj.b(2), 6);
  assert.equal(hits, 2);
  const warnings: string[] = [];
  process.on('warning', (w: Error & { code?: string }) => { if (w.code === 'JSFTRACE_KILLED') warnings.push(w.message); });
  // Something other than the engine wrote a site's word (a stray write).
  const { words, targetBase } = siteAbi();
  words[targetBase + sa] = 2; // LIST, which the flags do not say
  assert.equal(stoppedReason(), null);
  const other = createOps({ func: () => undefined, name: 'fsother' });
  await ftraceSetFilter(other, 'fs:a');
  await registerFtraceFunction(other).catch(() => undefined);
  const reason = stoppedReason();
  assert.match(reason ?? '', /^site \d+: target word 2 does not match flags 0x[0-9a-f]+$/);
  // Every site is nop; the program runs on with the same results.
  assert.equal(words[targetBase + sa], 0);
  hits = 0;
  assert.equal(obj.a(1) + obj.b(2), 6);
  assert.equal(hits, 0);
  assert.equal(readEnabledFunctions().split('\n').filter((l) => l.startsWith('fs:') && !/\(\d+\)/.test(l)).length, 0);
  await assert.rejects(registerFtraceFunction(createOps({ func: () => undefined })), { code: 'ENODEV' });
  await assert.rejects(ftraceSetFilter(createOps({ func: () => undefined }), 'fs:a'), { code: 'ENODEV' });
  // Unregistering still works, so callers can clean up.
  await unregisterFtraceFunction(ops);
  await new Promise((r) => setImmediate(r));
  assert.equal(warnings.length, 1);
  // A second stop keeps the first reason.
  kill('again');
  assert.equal(stoppedReason(), reason);
});
