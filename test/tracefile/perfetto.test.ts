// report --format perfetto, checked with Perfetto's own schema (the
// messages we write, as Perfetto defines them, in
// test/fixtures/tracefile/perfetto-trace-subset.proto) and protobufjs, a
// decoder made for protobuf: every byte decodes to a known field (decoding
// and encoding again gives the same length), and what it says is what the
// JSON says: one process track, a thread track per thread under it, one
// slice per call (BEGIN and END balanced and nested per track), names
// interned once before use on one sequence whose first packet clears the
// incremental state.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { TraceFile } from '../../src/tracefile/read.js';
import { fixtures, recordProgram, render, renderBytes, scratch, tracerFixtures } from './support.js';

interface Packet {
  timestamp?: number | { toNumber(): number };
  trustedPacketSequenceId?: number;
  sequenceFlags?: number;
  internedData?: { eventNames?: { iid: number; name: string }[] };
  trackEvent?: { type?: number; trackUuid?: number; nameIid?: number; debugAnnotations?: { name?: string; stringValue?: string }[] };
  trackDescriptor?: {
    uuid: number; parentUuid?: number;
    process?: { pid: number; cmdline?: string[]; processName?: string };
    thread?: { pid: number; tid: number; threadName?: string };
  };
}

const num = (v: unknown): number => (typeof v === 'object' && v !== null && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : Number(v));

test('perfetto protobuf: decoded with Perfetto\'s schema, every byte known, the same calls as the JSON, tracks per process and thread', async () => {
  const s = scratch();
  try {
    const out = join(s.dir, 'w.jsft');
    const r = await recordProgram({
      args: ['worker-prog.mjs'], cwd: tracerFixtures, out,
      init: [['write', 'set_ftrace_filter', '*worker-prog.mjs:*'], ['write', 'current_tracer', 'function_graph']],
    });
    assert.equal(r.code, 0, r.stderr);
    const pid = TraceFile.open(out).processes[0]!.info.pid;
    const bytes = renderBytes(out, 'perfetto');
    const root = await protobuf.load(join(fixtures, 'perfetto-trace-subset.proto'));
    const Trace = root.lookupType('perfetto.protos.Trace');
    const decoded = Trace.decode(bytes);
    assert.equal(Trace.encode(decoded).finish().length, bytes.length, 'every field is one Perfetto defines, with its wire type');
    const packets = (Trace.toObject(decoded, { longs: Number }) as { packet: Packet[] }).packet;
    assert.ok(packets.every((p) => p.trustedPacketSequenceId === 1));

    const procs = packets.filter((p) => p.trackDescriptor?.process !== undefined).map((p) => p.trackDescriptor!);
    const threads = packets.filter((p) => p.trackDescriptor?.thread !== undefined).map((p) => p.trackDescriptor!);
    assert.equal(procs.length, 1);
    assert.equal(procs[0]!.process!.pid, pid);
    assert.equal(procs[0]!.process!.processName, 'worker-prog.mjs');
    assert.equal(threads.length, 2);
    for (const t of threads) assert.equal(t.parentUuid, procs[0]!.uuid);
    assert.deepEqual(threads.map((t) => [t.thread!.pid, t.thread!.threadName]), [[pid, 'node-0'], [pid, threads[1]!.thread!.threadName]]);
    assert.equal(threads[0]!.thread!.tid, pid, 'the main thread\'s tid is the pid');
    assert.ok(threads[1]!.thread!.tid >= 2 ** 30, 'a worker has a tid of its own');

    // Names: interned once, before their first use; the first event packet clears the sequence's state.
    const events = packets.filter((p) => p.trackEvent !== undefined);
    assert.equal(events[0]!.sequenceFlags, 3);
    assert.ok(events.slice(1).every((p) => p.sequenceFlags === 2));
    const names = new Map<number, string>();
    const slices: string[] = [];
    const stacks = new Map<number, { name: string; ts: number }[]>();
    const trackIds = new Set(threads.map((t) => num(t.uuid)));
    for (const p of events) {
      for (const n of p.internedData?.eventNames ?? []) {
        assert.ok(!names.has(num(n.iid)), 'a name is interned once');
        names.set(num(n.iid), n.name);
      }
      const e = p.trackEvent!;
      const track = num(e.trackUuid);
      assert.ok(trackIds.has(track), 'events are on a thread track');
      const st = stacks.get(track) ?? [];
      stacks.set(track, st);
      const ts = num(p.timestamp);
      if (e.type === 1) {
        assert.ok(names.has(num(e.nameIid)), 'a name is interned before it is used');
        st.push({ name: names.get(num(e.nameIid))!, ts });
      } else {
        assert.equal(e.type, 2);
        const open = st.pop();
        assert.ok(open !== undefined, 'an END closes a BEGIN on its track');
        assert.ok(ts >= open.ts);
        slices.push(open.name);
      }
    }
    for (const st of stacks.values()) assert.equal(st.length, 0, 'every slice ends');
    const json = JSON.parse(render(out, 'perfetto-json')) as { traceEvents: { ph: string; name: string }[] };
    assert.deepEqual(slices.sort(), json.traceEvents.filter((e) => e.ph === 'X').map((e) => e.name).sort());
    assert.equal(slices.filter((n) => n.endsWith(':wtick')).length, 3);
    assert.equal(slices.filter((n) => n.endsWith(':mtick')).length, 1);
  } finally {
    s.done();
  }
});
