// Which Node releases jsftrace trusts with in-thread module hooks
// (shared/in-thread-hooks.cts): the releases where registering any
// `module.registerHooks` hook makes Node run a CommonJS module imported by
// an ES module without its CommonJS loader are left to the loader thread.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { InThreadHooks } from '../../src/shared/in-thread-hooks.cjs';

const require = createRequire(import.meta.url);
const { soundRelease, inThreadHooksSound, inThreadHooksPresent } = require('../../src/shared/in-thread-hooks.cjs') as InThreadHooks;

test('releases before the fix of each line are not sound; the fix and later ones are', () => {
  const unsound = ['22.15.0', '22.20.0', '22.21.0', '22.22.0', '22.22.2', '23.5.0', '23.11.1', '24.0.0', '24.8.0', '24.10.0', '24.11.0', '25.0.0'];
  const sound = ['22.22.3', '22.23.0', '22.23.5', '24.11.1', '24.12.0', '24.22.3', '25.1.0', '25.9.0', '26.0.0', '26.12.1', '27.0.0', '20.20.2'];
  assert.deepEqual(unsound.filter(soundRelease), []);
  assert.deepEqual(sound.filter((v) => !soundRelease(v)), []);
});

test('this Node: sound only where module.registerHooks exists and the release is sound', () => {
  const present = typeof (require('node:module') as { registerHooks?: unknown }).registerHooks === 'function';
  assert.equal(inThreadHooksPresent(), present);
  assert.equal(inThreadHooksSound(), present && soundRelease(process.versions.node));
});
