/**
 * A running process's buffers as a trace file (`jsftrace extract`): every
 * thread's current ring, copied without consuming it, with the process's
 * names and profiler tables.
 *
 * Owns: the snapshot's chunks. Invariants: the file has the layout of a
 * recording of one process (layout.ts), so `report` reads both alike;
 * snapshotting never stops or slows writers (the rings are read by the
 * non-consuming iterator, which shows what was committed when it began);
 * page chunks are stored compressed, since a buffer is mostly repetition;
 * the threads are first asked to publish what they wrote (settledRings), and
 * the event loop turns after each chunk, so a large buffer costs the program
 * bounded time per turn (docs/control.md, "Bounded costs").
 */

import { displayName, instance, recordCount } from '../core/index.js';
import { iterateRing, ringStats } from '../ring/index.js';
import {
  C_THRESH_US, C_TRACER, ctl, currentProfileTables, eventRegistry, options, profileGeneration, settledRings, TRACER_FUNCTION,
  TRACER_GRAPH,
} from '../tracers/session.js';
import { compressed, fileHeader, jsonChunk, namesChunks, PagesBuilder, profileChunk } from './encode.js';
import {
  CHUNK_PROCESS, CHUNK_STREAM_END, CHUNK_THREAD, type ProcessInfo, type StreamInfo,
} from './layout.js';
import { PerformanceOfStart, SetImmediate } from '../shared/builtins.js';
import { workingDir } from '../shared/working-dir.js';

function tracerName(): string {
  const t = Atomics.load(ctl, C_TRACER);
  return t === TRACER_GRAPH ? 'function_graph' : t === TRACER_FUNCTION ? 'function' : 'nop';
}

/** This process's trace, every thread's current buffer and profile, as a trace file. */
export async function snapshotTrace(): Promise<Uint8Array> {
  const rings = await settledRings();
  const tables = (await currentProfileTables()).filter((t) => t.gen === profileGeneration());
  const out: Buffer[] = [fileHeader()];
  const info: ProcessInfo = {
    pid: process.pid, ppid: process.ppid, argv: process.argv, cwd: workingDir(), started: new Date(PerformanceOfStart.timeOrigin).toISOString(),
    node: process.version,
    events: eventRegistry().all().map((e) => ({ name: e.name, id: e.id, fields: e.fields.map((f) => `${f.kind} ${f.name}`) })),
  };
  out.push(jsonChunk(CHUNK_PROCESS, 1, info));
  const inst = instance();
  const n = recordCount(inst);
  const names: string[] = [];
  for (let id = 0; id < n; id++) names.push(displayName(inst, id));
  out.push(...namesChunks(1, 0, names));
  const turn = (): Promise<void> => new Promise((resolve) => SetImmediate(resolve));
  for (const [k, r] of rings.entries()) {
    const id = k + 1;
    const s: StreamInfo = {
      process: 1, threadId: r.threadId, name: r.name, gen: r.gen, pageBytes: r.ring.geometry.pageBytes, clock: r.ring.clockName,
      tracer: tracerName(), options: options(), threshUs: Atomics.load(ctl, C_THRESH_US), anchor: r.ring.anchor,
    };
    const it = iterateRing(r.ring);
    const st = ringStats(r.ring);
    // What readers consumed is not this file's: its first event is the ring's oldest unconsumed one.
    out.push(jsonChunk(CHUNK_THREAD, id, { ...s, from: st.written - st.entries }));
    const b = new PagesBuilder(id, r.ring.geometry.pageWords);
    for (;;) {
      const more = b.fill(it);
      const c = b.take();
      if (c !== null) out.push(compressed(c));
      if (!more) break;
      await turn();
    }
    out.push(jsonChunk(CHUNK_STREAM_END, id, { overrun: st.overrun, dropped: st.dropped, written: st.written + st.dropped, unsaved: st.unsaved }));
  }
  for (const t of tables) out.push(profileChunk(1, t.threadId, t.name, t.sab));
  return Buffer.concat(out);
}
