/**
 * Shared pieces of the ring tests: a seeded PRNG, the payload check word the
 * stress writers put in every event, and the worker fixture's path.
 *
 * Owns nothing of the ring. Loaded as a test file by `node --test` too; it
 * defines no tests, so that run passes and does nothing.
 */

import assert from 'node:assert/strict';
import { JsftraceError } from '../../src/shared/errors.js';
import { fileURLToPath } from 'node:url';

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi). */
export function between(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo));
}

/** The check word of event `i` of writer `id`: a torn event would not match it. */
export function mix(id: number, i: number): number {
  return Math.imul(i ^ (id << 24), 0x9e3779b1) | 0;
}

export const workerPath = fileURLToPath(new URL('./ring-worker.js', import.meta.url));

/** The errno code `fn` throws (a JsftraceError), or 'no error'. */
export function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof JsftraceError, `not a JsftraceError: ${String(e)}`);
    return e.code;
  }
  return 'no error';
}
