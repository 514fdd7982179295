// The runtime's own events (events/gc, events/loop_delay, events/async_hook):
// a program that makes garbage, blocks its event loop and arms a timer,
// recorded with them on. Its trace holds its collections with the
// durations perf_hooks reported to the program itself (the same numbers,
// in the same order); the blocked loop shows as a delay sample at least as
// long; the timer's hops are there; every output shows them; they are off
// by default; and the program sees the same process with them on or off.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TraceFile } from '../../src/tracefile/read.js';
import { fileThreads } from '../../src/tracefile/threads.js';
import { EV_ASYNC, EV_GC, EV_LOOP_DELAY } from '../../src/tracers/session.js';
import { fixtures, recordProgram, render, scratch } from './support.js';
import type { Item } from '../../src/tracers/output/common.js';

interface Seen { t: number; gc: number[]; before: string; after: string }

async function record(out: string, events: string[], env?: Record<string, string>): Promise<Seen> {
  const r = await recordProgram({
    args: ['runtime.mjs'], cwd: fixtures, out, ...(env === undefined ? {} : { env }),
    init: [...events.map((e): [string, string, string] => ['write', `events/${e}/enable`, '1']), ['write', 'current_tracer', 'function_graph']],
  });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Seen;
}

function items(file: string, type: number): Item[] {
  const t = TraceFile.open(file);
  try {
    const out: Item[] = [];
    for (const th of fileThreads(t)) {
      const src = th.open();
      for (let it = src.next(); it !== null; it = src.next()) if (it.lost === 0 && it.type === type) out.push(it);
    }
    return out;
  } finally {
    t.close();
  }
}

test('gc, loop_delay, async_hook: the collections perf_hooks reported, the blocked loop, the timer\'s hops; in every output', async () => {
  const s = scratch();
  try {
    const out = join(s.dir, 'on.jsft');
    // With the control server on, as `jsftrace record` runs a program.
    const seen = await record(out, ['gc', 'loop_delay', 'async_hook'], { JSFTRACE_CONTROL: '1', JSFTRACE_SOCKET_DIR: s.dir });
    assert.ok(seen.gc.length >= 3, `the program made garbage: ${seen.gc.length} collections`);
    // The trace saw every collection the program saw, with the same durations, in order; it may
    // have seen more before the program's observer began and after its last look.
    const gcs = items(out, EV_GC.id);
    const durations = gcs.map((it) => it.d!);
    const at = durations.indexOf(seen.gc[0]!);
    assert.ok(at >= 0, 'the program\'s first collection is in the trace');
    assert.deepEqual(durations.slice(at, at + seen.gc.length), seen.gc);
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    assert.equal(sum(durations.slice(at, at + seen.gc.length)), sum(seen.gc), 'durations add up to what perf_hooks reports');
    for (const g of gcs) assert.ok(g.c <= g.ts && g.c + g.d! <= g.ts, 'a collection is written after it ended, with its start');

    // The three times the program blocked its loop for 150 ms: each is in the sample that follows
    // it, whatever the offset between the block and the sampler's period (the turn that sees a
    // delay writes its sample; a histogram reset between the two loses it).
    const loops = items(out, EV_LOOP_DELAY.id);
    const long = loops.filter((l) => l.d! >= 140e6);
    assert.ok(long.length >= 3, `three delays of 150 ms: ${loops.map((l) => l.d).join(', ')}`);
    // The timer: made (init, its type), then its callback run (before, after).
    const hops = items(out, EV_ASYNC.id);
    const timeout = hops.find((h) => h.a === 1 && h.text === 'Timeout');
    assert.ok(timeout !== undefined, 'the timer\'s init');
    assert.ok(hops.some((h) => h.a === 2 && h.c === timeout.c) && hops.some((h) => h.a === 3 && h.c === timeout.c), 'its before and after');
    // What jsftrace made before the program's first line (the recording's drain worker, its
    // signal handlers) and its control server, which listens beside the program, are not the
    // program's: the program makes no worker, no signal handler, no server.
    const foreign = ['WORKER', 'SIGNALWRAP', 'PIPESERVERWRAP', 'PIPEWRAP'];
    assert.deepEqual(hops.filter((h) => h.a === 1 && foreign.includes(h.text!)).map((h) => h.text), []);
    // jsftrace's own delay timer is not among the program's hops: each of its turns (the samples'
    // counts, some 50 here) would be a callback of one resource; none here runs half as many. (On
    // a machine so busy that the timer hardly turned, the two cannot be told apart: not asked.)
    const turns = loops.reduce((a, l) => a + l.a, 0);
    const runs = new Map<number, number>();
    for (const h of hops) if (h.a === 2) runs.set(h.c, (runs.get(h.c) ?? 0) + 1);
    if (turns >= 24) assert.ok(Math.max(...runs.values()) < turns / 2, `callbacks per resource: ${[...runs.values()].join(' ')}; the timer's turns: ${turns}`);

    // Every output: text lines, Perfetto tracks, marks in the timeline, the flame graph's line.
    const text = render(out, 'text');
    assert.equal(text.split('\n').filter((l) => /\/\* gc: kind=\w+ flags=-?\d+ start=\s*\d+\.\d{6} duration=\d+\.\d{3} us \*\/$/.test(l)).length, gcs.length);
    assert.match(text, /\/\* loop_delay: count=\d+ mean=\d+\.\d{3} us max=\d+\.\d{3} us period=100 ms \*\//);
    assert.match(text, /\/\* async_hook: init id=\d+ trigger=\d+ type=Timeout \*\//);
    const fn = render(out, 'function');
    assert.equal(fn.split('\n').filter((l) => / gc: kind=/.test(l)).length, gcs.length);
    const json = JSON.parse(render(out, 'perfetto-json')) as { traceEvents: { ph: string; cat?: string; dur?: number; name: string; args?: { name?: string } }[] };
    const jsonGc = json.traceEvents.filter((e) => e.cat === 'gc');
    assert.equal(jsonGc.length, gcs.length);
    assert.ok(json.traceEvents.some((e) => e.ph === 'C' && e.name === 'event-loop delay'));
    assert.equal(json.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name?.startsWith('GC ') === true).length, 1);
    const svg = render(out, 'svg');
    assert.equal((svg.match(/<g class="gc">/g) ?? []).length, gcs.length);
    assert.equal((svg.match(/<g class="loop">/g) ?? []).length, loops.length);
    const page = render(out, 'html');
    assert.match(page, new RegExp(`<span id="fg-runtime">GC: ${gcs.length} collections \\(`));
    const perfetto = render(out, 'perfetto');
    assert.ok(perfetto.includes('GC (minor)'), 'the protobuf names the collections');

    // Off by default: the same program recorded without them has none; and it saw the same process.
    const off = join(s.dir, 'off.jsft');
    const plain = await record(off, []);
    for (const type of [EV_GC.id, EV_LOOP_DELAY.id, EV_ASYNC.id]) assert.equal(items(off, type).length, 0);
    assert.equal(seen.before, plain.before, 'listeners and resources at the start');
    assert.equal(seen.after, plain.after, 'listeners and resources at the end');
  } finally {
    s.done();
  }
});
