// A corrupted ring (a damaged trace file, memory written by something
// else): every reader either reads it or fails with an errno-coded
// JsftraceError, never a RangeError or TypeError, and never walks more
// events than a ring of its size can hold. Seeded: 600 rings with 1 to 8
// words overwritten anywhere but the reader lock (whose only failure mode is
// a bounded wait, EBUSY after 5 s) each, read by the iterator (`trace`),
// the consuming reader (`trace_pipe`) and the stats, with string fields
// decoded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attachReader, attachWriter, createEventRegistry, createRing, iterateRing, ringStats, READ_EMPTY, READ_EVENT,
  writeStringField,
} from '../../src/ring/index.js';
import { JsftraceError } from '../../src/shared/errors.js';
import { between, prng } from './support.js';

const R_LOCK = 12;
const reg = createEventRegistry();
const PLAIN = reg.register('plain', [{ name: 'a', kind: 'u32' }, { name: 'b', kind: 'u32' }]);
const TEXT = reg.register('text', [{ name: 's', kind: 'string' }]);
const enc = new TextEncoder();

function filledRing(rand: () => number): ReturnType<typeof createRing> {
  const ring = createRing({ sizeKb: 4 + between(rand, 0, 12), pageBytes: 1024, clock: 'counter' });
  const w = attachWriter(ring);
  const n = between(rand, 10, 3000);
  for (let i = 0; i < n; i++) {
    if (i % 7 === 3) {
      const bytes = enc.encode(`text ${i} ${'x'.repeat(i % 40)}`);
      const p = w.reserve(TEXT.id, TEXT.words - 1 + Math.ceil(bytes.length / 4));
      if (p >= 0) writeStringField(w.words, p - 1, TEXT.fields[2]!, TEXT.words * 4, bytes);
    } else {
      w.write2(PLAIN.id, i, i * 3);
    }
  }
  w.flush();
  return ring;
}

/** Reads everything three ways; returns the events seen, or the error's code. */
function readAll(ring: ReturnType<typeof createRing>, bound: number): string {
  try {
    let events = 0;
    const it = iterateRing(ring);
    for (let st = it.next(); st !== READ_EMPTY; st = it.next()) {
      if (st === READ_EVENT) {
        events++;
        if (it.event.type === TEXT.id) it.event.string(TEXT.fields[2]!);
        else it.event.u32(1);
      }
      assert.ok(events <= bound, `the iterator walked ${events} events in a ring that holds at most ${bound}`);
    }
    ringStats(ring);
    const rd = attachReader(ring);
    let consumed = 0;
    for (let st = rd.next(); st !== READ_EMPTY && consumed <= bound; st = rd.next()) {
      if (st === READ_EVENT) {
        consumed++;
        if (rd.event.type === TEXT.id) rd.event.string(TEXT.fields[2]!);
      }
    }
    assert.ok(consumed <= bound, `the consuming reader took ${consumed} events`);
    return 'read';
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assert.ok(e instanceof JsftraceError, `not an errno-coded error: ${String(e)}`);
    return e.code;
  }
}

test('a corrupted ring is read or refused with an errno code, within its size', () => {
  const rand = prng(0xc0ffee);
  const outcomes: Record<string, number> = {};
  for (let k = 0; k < 600; k++) {
    const ring = filledRing(rand);
    const i32 = ring.i32;
    const hits = between(rand, 1, 9);
    for (let h = 0; h < hits; h++) {
      // Header words (where the positions live) as often as page words.
      let at = rand() < 0.5 ? between(rand, 0, 64) : between(rand, 64, i32.length);
      if (at === R_LOCK) at++;
      i32[at] = (rand() * 2 ** 32) | 0;
    }
    const g = ring.geometry;
    const outcome = readAll(ring, g.nrPages * g.dataWords);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  // The seed fixes the draw; both outcomes occur.
  assert.ok((outcomes['read'] ?? 0) > 300, JSON.stringify(outcomes));
  assert.ok((outcomes['EINVAL'] ?? 0) > 20, JSON.stringify(outcomes));
  for (const code of Object.keys(outcomes)) assert.ok(['read', 'EINVAL', 'EBUSY'].includes(code), JSON.stringify(outcomes));
});
