// Nothing a worker wrote is lost at its end (G6): workers that end by
// process.exit(), by an uncaught throw, by worker.terminate() (while busy,
// so they never publish their last events themselves), and unref'd workers
// still running when the program ends (one idle, one busy in a loop that
// never lets it publish) each call tick 997 times under the function
// tracer, recorded. The recording has all 997 events of each, or, for the
// busy one the process ends with, every event either in the file or counted
// as unsaved: in its stream's end, in the header's entries-written and in
// record's summary. The program ends by itself and by process.exit().

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { recordProgram, render, scratch, tracerFixtures } from '../tracefile/support.js';

const CALLS = 997;
const INIT: [string, string, string][] = [
  ['write', 'trace_clock', 'counter'], ['write', 'set_ftrace_filter', '*:tick'], ['write', 'current_tracer', 'function'],
];

for (const end of ['natural', 'exit'] as const) {
  test(`every event of workers that end in each of the four ways is in the recording, or counted (program ends: ${end})`, { timeout: 60_000 }, async () => {
    const s = scratch();
    try {
      const out = join(s.dir, 'w.jsft');
      const r = await recordProgram({ args: ['worker-exit.mjs', end], cwd: tracerFixtures, init: INIT, out });
      assert.equal(r.code, 0, r.stderr);
      const ids = JSON.parse(r.stdout) as Record<'exit' | 'throw' | 'terminate' | 'idle' | 'busy', number>;
      const text = render(out, 'text');
      const events = new Map<number, number>();
      for (const line of text.split('\n')) {
        const m = / \[(\d+)\] .*worker-exit\.mjs:tick(?: <-|$)/.exec(line);
        if (m !== null) events.set(Number(m[1]), (events.get(Number(m[1])) ?? 0) + 1);
      }
      for (const how of ['exit', 'throw', 'terminate', 'idle'] as const) assert.equal(events.get(ids[how]), CALLS, `${how}: events in the recording`);
      const tally = (id: number): { unsaved: number } => [...r.collector.streams.values()].find((t) => t.threadId === id)!;
      for (const how of ['exit', 'throw', 'terminate', 'idle'] as const) assert.equal(tally(ids[how]).unsaved, 0, `${how}: nothing unsaved`);
      const busy = tally(ids.busy).unsaved;
      assert.equal((events.get(ids.busy) ?? 0) + busy, CALLS, 'busy: every event recorded or counted');
      // Its last quarter page was never published: it is what the count is for.
      assert.ok(busy > 0);
      // The header says what was written, the unsaved ones too.
      const header = /entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(text)!;
      assert.equal(Number(header[2]) - Number(header[1]), busy);
    } finally {
      s.done();
    }
  });
}
