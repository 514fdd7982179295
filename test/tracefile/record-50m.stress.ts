// `npm run test:stress`: the streaming proof at full size, 50 million
// traced calls over 4 threads with `jsftrace record`'s default settings:
// every call in the trace, every loss counter zero. Too long for `npm
// test` on two shared cores (its 6-million-call version runs there).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scratch } from './support.js';
import { recordEveryCall } from './stream-check.js';

test('record with the defaults: 4 threads, 50 million traced calls, every call in the trace, nothing lost', { timeout: 900_000 }, async (t) => {
  const s = scratch();
  try {
    const f = await recordEveryCall(s.dir, 4, 6_250_000, 880_000);
    t.diagnostic(`${f.events} events (${f.calls} calls) recorded in ${f.seconds.toFixed(1)} s, ${(f.bytes / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(f.calls >= 50_000_000);
  } finally {
    s.done();
  }
});
