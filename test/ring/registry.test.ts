/**
 * The event registry: ids shared by every thread, a name's format fixed once
 * given, and texts any thread can read back.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { createEventRegistry, eventFormatText, openEventRegistry } from '../../src/ring/index.js';
import { workerPath, code } from './support.js';

test('registering: ids from 1, the same name and fields give the same id, other fields EEXIST', () => {
  const reg = createEventRegistry({ maxTypes: 3 });
  const a = reg.register('fn_entry', [{ name: 'fn', kind: 'u32' }]);
  const b = reg.register('fn_exit', [{ name: 'fn', kind: 'u32' }, { name: 'ret', kind: 's32' }]);
  assert.deepEqual([a.id, b.id], [1, 2]);
  assert.equal(reg.register('fn_entry', [{ name: 'fn', kind: 'u32' }]), a);
  assert.equal(code(() => reg.register('fn_entry', [{ name: 'fn', kind: 'u64' }])), 'EEXIST');
  assert.equal(reg.lookup(2), b);
  assert.equal(reg.find('fn_exit'), b);
  assert.equal(reg.lookup(9), undefined);
  assert.equal(reg.formatText(1), eventFormatText(a));
  assert.equal(code(() => reg.formatText(9)), 'ENOENT');
  reg.register('third', []);
  assert.equal(code(() => reg.register('fourth', [])), 'ENOSPC');
  assert.equal(code(() => openEventRegistry(new SharedArrayBuffer(64))), 'EINVAL');
});

test('another thread sees the same ids and adds its own', { timeout: 30_000 }, async () => {
  const reg = createEventRegistry();
  reg.register('fn_entry', [{ name: 'fn', kind: 'u32' }]);
  const worker = new Worker(workerPath, {
    workerData: {
      role: 'register', sab: reg.sab, types: [
        { name: 'fn_entry', fields: [{ name: 'fn', kind: 'u32' }] },
        { name: 'fn_entry', fields: [{ name: 'fn', kind: 's32' }] },
        { name: 'marker', fields: [{ name: 'text', kind: 'string' }] },
      ],
    },
  });
  const [ids] = await once(worker, 'message') as [(number | string)[]];
  assert.deepEqual(ids, [1, 'EEXIST', 2]);
  assert.equal(reg.lookup(2)?.name, 'marker');
  assert.deepEqual(openEventRegistry(reg.sab).all().map((e) => e.name), ['fn_entry', 'marker']);
});
