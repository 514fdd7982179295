// Nothing a worker wrote is lost at its end (G6): workers that end by
// process.exit(), by an uncaught throw, by worker.terminate() (while busy,
// so they never publish their last events themselves), and unref'd workers
// still running when the program ends (one idle, one busy in a loop that
// never lets it publish) each call tick 997 times under the function
// tracer. The recording has all 997 events of each, or, for the busy one
// the process ends with, every event either in the file or counted as
// unsaved in its stats and in the header's entries-written. The program
// ends by itself (the recording is taken asynchronously) and by
// process.exit() (synchronously, in the exit handler).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTrace, renderTrace } from '../../src/tracers/tracefile.js';
import { ringStats } from '../../src/ring/index.js';

const register = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
const fixtures = fileURLToPath(new URL('../../../test/fixtures/tracers/', import.meta.url));
const CALLS = 997;

for (const end of ['natural', 'exit'] as const) {
  test(`every event of workers that end in each of the four ways is in the recording, or counted (program ends: ${end})`, { timeout: 60_000 }, () => {
    const work = mkdtempSync(join(tmpdir(), 'jsftrace-wexit-'));
    try {
      const out = join(work, 'w.jsft');
      const init = JSON.stringify([['write', 'trace_clock', 'counter'], ['write', 'set_ftrace_filter', '*:tick'], ['write', 'current_tracer', 'function']]);
      const r = spawnSync(process.execPath, ['--import', register, 'worker-exit.mjs', end], {
        cwd: fixtures, encoding: 'utf8', timeout: 50_000,
        env: { ...process.env, NODE_OPTIONS: '', JSFTRACE_CACHE: '0', JSFTRACE_CONTROL: '0', JSFTRACE_CONTROL_INIT: init, JSFTRACE_RECORD: out },
      });
      assert.equal(r.status, 0, r.stderr);
      const ids = JSON.parse(r.stdout) as Record<'exit' | 'throw' | 'terminate' | 'idle' | 'busy', number>;
      const t = loadTrace(readFileSync(out));
      const events = new Map<number, number>();
      for (const line of renderTrace(t, 'text').split('\n')) {
        const m = /^ *worker-(\d+) .*worker-exit\.mjs:tick <-/.exec(line);
        if (m !== null) events.set(Number(m[1]), (events.get(Number(m[1])) ?? 0) + 1);
      }
      const stats = new Map(t.rings.map((ring) => [ring.threadId, ringStats(ring.ring)]));
      for (const how of ['exit', 'throw', 'terminate', 'idle'] as const) assert.equal(events.get(ids[how]), CALLS, `${how}: events in the recording`);
      for (const how of ['exit', 'throw', 'terminate', 'idle'] as const) assert.equal(stats.get(ids[how])!.unsaved, 0, `${how}: nothing unsaved`);
      const busy = stats.get(ids.busy)!;
      assert.equal((events.get(ids.busy) ?? 0) + busy.unsaved, CALLS, 'busy: every event recorded or counted');
      // Its last quarter page was never published: it is what the count is for.
      assert.ok(busy.unsaved > 0);
      assert.equal(busy.entries, events.get(ids.busy) ?? 0);
      // The header says what was written, the unsaved ones too.
      const header = /entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(renderTrace(t, 'text'))!;
      assert.equal(Number(header[2]) - Number(header[1]), busy.unsaved);
      assert.equal(Number(header[1]), 4 * CALLS + busy.entries);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}
