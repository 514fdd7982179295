// Process trees: `jsftrace record -- npm run tree` follows every node
// process the script starts (a cluster primary, two child processes, two
// cluster workers) into one trace: each with its own pid, command line and
// calls; the text shows them apart (TASK-PID with the real pid), the
// Perfetto output gives each its own process track.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TraceFile } from '../../src/tracefile/read.js';
import { fileThreads } from '../../src/tracefile/threads.js';
import { cleanEnv, jsftrace } from '../cli/support.js';
import { render, scratch } from './support.js';

const tree = fileURLToPath(new URL('../../../test/fixtures/tracefile/tree/', import.meta.url));

test('record -- npm run: the primary, its two child processes and two cluster workers, each with its pid and its calls', { timeout: 120_000 }, async () => {
  const s = scratch();
  try {
    const out = join(s.dir, 'tree.jsft');
    // npm itself runs instrumented and is recorded as a process; the filter names only the fixture's functions.
    const r = await jsftrace(['record', '-l', '*Work', '-o', out, '--', 'npm', 'run', '--silent', 'tree'], {
      cwd: tree, env: cleanEnv({ JSFTRACE_SOCKET_DIR: join(s.dir, 'sockets') }), timeoutMs: 110_000,
    });
    assert.equal(r.code, 0, r.stderr);
    const pids = (kind: string): number[] => [...r.stdout.matchAll(new RegExp(`^${kind} (\\d+)$`, 'gm'))].map((m) => Number(m[1]));
    const [primary] = pids('primary');
    const children = pids('child');
    const workers = pids('worker');
    assert.ok(primary !== undefined && children.length === 2 && workers.length === 2, r.stdout);
    assert.match(r.stderr, /^jsftrace: recorded 27 events from 5 threads of \d+ processes to /);

    const t = TraceFile.open(out);
    try {
      // Every node process is in the trace (npm's too), with its command line; five made calls.
      const byPid = new Map(t.processes.map((p) => [p.info.pid, p]));
      for (const pid of [primary!, ...children, ...workers]) assert.ok(byPid.has(pid), `process ${pid} recorded`);
      assert.ok(t.processes.some((p) => p.info.argv.some((a) => a.includes('npm'))), 'npm itself is a recorded process');
      assert.ok(byPid.get(children[0]!)!.info.argv[1]!.endsWith('child.mjs'));
      assert.equal(byPid.get(primary!)!.info.ppid === byPid.get(children[0]!)!.info.ppid, false);
      assert.equal(byPid.get(children[0]!)!.info.ppid, primary);
      assert.equal(byPid.get(workers[0]!)!.info.ppid, primary);
      for (const p of t.processes) assert.deepEqual(p.end?.how, 'exit', `process ${p.info.pid} ended cleanly`);
      const calls = new Map<number, number>();
      for (const th of fileThreads(t)) calls.set(th.view.pid, (calls.get(th.view.pid) ?? 0) + th.streams.reduce((a, x) => a + x.events, 0));
      assert.deepEqual([...calls].sort((a, b) => a[0] - b[0]), [
        [primary!, 3], ...children.map((p) => [p, 5] as [number, number]), ...workers.map((p) => [p, 7] as [number, number]),
      ].sort((a, b) => a[0] - b[0]));
    } finally {
      t.close();
    }
    // The text: TASK-PID is each process's own pid.
    const text = render(out, 'text');
    const lines = text.split('\n').filter((l) => /Work(?: <-|$)/.test(l));
    const count = (pid: number, fn: string): number => lines.filter((l) => new RegExp(`^ +node-${pid} +\\[000\\] .*: tree\\.mjs:${fn}(?: <-|$)|^ +node-${pid} +\\[000\\] .*: child\\.mjs:${fn}(?: <-|$)`).test(l)).length;
    assert.equal(count(primary!, 'primaryWork'), 3);
    for (const c of children) assert.equal(count(c, 'childWork'), 5);
    for (const w of workers) assert.equal(count(w, 'workerWork'), 7);
    assert.equal(lines.length, 27);
    // Perfetto: a process per pid that made calls, each with its name.
    const json = JSON.parse(render(out, 'perfetto-json')) as { traceEvents: { name: string; ph: string; pid: number; args?: { name?: string } }[] };
    const procs = json.traceEvents.filter((e) => e.name === 'process_name');
    assert.deepEqual(procs.map((e) => e.pid).sort((a, b) => a - b), [primary!, ...children, ...workers].sort((a, b) => a - b));
    assert.deepEqual(procs.map((e) => e.args!.name).sort(), ['child.mjs', 'child.mjs', 'tree.mjs', 'tree.mjs', 'tree.mjs']);
  } finally {
    s.done();
  }
});
