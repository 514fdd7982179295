/**
 * Clocks: names and ids, monotonic integer readings, the global clock on the
 * process monotonic timebase, and how timestamps print. No assertion on how
 * fast any of them is (bench/suites/clocks.ts measures that).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLOCK_NAMES, clockListText, clockNameOf, customClock, formatTimestamp, globalClockError, makeClock, UNIT_COUNT,
  UNIT_NS,
} from '../../src/ring/index.js';
import { JsftraceError } from '../../src/shared/errors.js';

test('every clock reads non-decreasing integers', () => {
  for (const name of CLOCK_NAMES) {
    const c = makeClock(name);
    assert.equal(clockNameOf(c.id), name);
    assert.equal(c.unit, name === 'counter' ? UNIT_COUNT : UNIT_NS);
    let prev = c.now();
    for (let i = 0; i < 10_000; i++) {
      const v = c.now();
      assert.ok(Number.isSafeInteger(v) && v >= prev, `${name}: ${v} after ${prev}`);
      prev = v;
    }
  }
});

test('counter counts from 1 for each source', () => {
  const a = makeClock('counter');
  const b = makeClock('counter');
  assert.deepEqual([a.now(), a.now(), b.now()], [1, 2, 1]);
});

test('global and mono share a timebase: a global reading falls between two mono readings, within the error', () => {
  const g = makeClock('global');
  const m = makeClock('mono');
  const err = globalClockError();
  assert.ok(err >= 0);
  let worst = 0;
  for (let i = 0; i < 100; i++) {
    const before = m.now();
    const v = g.now();
    const after = m.now();
    worst = Math.max(worst, before - v - err, v - after - err);
  }
  // Each bound is checked against the calibration error plus one microsecond of slack for
  // performance.now()'s rounding; a scheduling pause between the readings only widens the bracket.
  assert.ok(worst <= 1000, `global strays ${worst} ns beyond its error`);
});

test('trace_clock text and unknown names', () => {
  assert.equal(clockListText('mono'), 'local global counter [mono]\n');
  assert.throws(() => makeClock('tai'), (e: unknown) => e instanceof JsftraceError && e.code === 'EINVAL');
  assert.equal(clockNameOf(customClock('x', () => 0).id), 'custom');
});

test('timestamps print as seconds.microseconds, counts as they are', () => {
  assert.equal(formatTimestamp(17284993652123, UNIT_NS), '17284.993652');
  assert.equal(formatTimestamp(1500, UNIT_NS), '    0.000001');
  assert.equal(formatTimestamp(42, UNIT_COUNT), '42');
});
