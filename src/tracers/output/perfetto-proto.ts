/**
 * The function_graph trace in Perfetto's native format (`report --format
 * perfetto`): a `Trace` protobuf (perfetto/trace/trace.proto), one
 * TracePacket after another, which ui.perfetto.dev and trace_processor
 * load at gigabyte scale. Several times smaller than the JSON: names are
 * interned (written once, then referred to by number).
 *
 * Owns: the encoding (protobuf wire format, written by hand: it is the hot
 * path of the report) and the packets' shape:
 * - one TrackDescriptor per process (pid, command line, name) and one per
 *   thread under it (pid, tid, thread name); the main thread's tid is the
 *   pid, a worker's a number of its own above 2^30 (JavaScript cannot read
 *   a worker's system tid), so no two threads of the trace share one;
 * - per call a TYPE_SLICE_BEGIN at its entry and a TYPE_SLICE_END at its
 *   end on its thread's track, all on one packet sequence whose incremental
 *   state (the interned event names) is cleared by its first packet; a
 *   call that did not return says how in a debug annotation `exit` on its
 *   END (threw, unwound, suspended, open), one whose entry was not in the
 *   buffer gets `entry` = "not in the buffer" and its BEGIN when its end is
 *   read (trace_processor sorts packets by time);
 * - timestamps are the events' own (ns; counts under the `counter` clock).
 * Invariant: one pass over each thread's events, memory bounded by the
 * call depth and the distinct names; the same events give the same bytes.
 *
 * Field numbers are Perfetto's (protos/perfetto/trace/...): Trace.packet 1;
 * TracePacket timestamp 8, trusted_packet_sequence_id 10, track_event 11,
 * interned_data 12, sequence_flags 13, track_descriptor 60; TrackEvent
 * debug_annotations 4, type 9, name_iid 10, track_uuid 11; InternedData
 * event_names 2; EventName iid 1, name 2; TrackDescriptor uuid 1, name 2,
 * process 3, thread 4, parent_uuid 5; ProcessDescriptor pid 1, cmdline 2,
 * process_name 6; ThreadDescriptor pid 1, tid 2, thread_name 5;
 * DebugAnnotation name 10, string_value 6.
 */

import { CallWalker } from './calls.js';
import { EXIT_NOTES } from './perfetto.js';
import type { ThreadEvents } from './common.js';

export interface ByteSink {
  write(b: Uint8Array): void;
}

export interface ProtoProcess {
  pid: number;
  argv: readonly string[];
  name: string;
}

const SEQ = 1;
const SEQ_INCREMENTAL_STATE_CLEARED = 1;
const SEQ_NEEDS_INCREMENTAL_STATE = 2;
const TYPE_SLICE_BEGIN = 1;
const TYPE_SLICE_END = 2;
const FLUSH_AT = 60 << 10;
const WORKER_TID_BASE = 2 ** 30;

/** A growable byte buffer with protobuf's varint and length-delimited writes. */
class Bytes {
  buf = new Uint8Array(256);
  n = 0;

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
  }

  varint(v: number): void {
    this.room(10);
    const b = this.buf;
    let n = this.n;
    // Exact up to 2^53: split into 7-bit groups with arithmetic, not 32-bit shifts.
    while (v >= 0x80) {
      b[n++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[n++] = v;
    this.n = n;
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  uint(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.room(data.length);
    this.buf.set(data, this.n);
    this.n += data.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, Buffer.from(s, 'utf8'));
  }

  /** Appends `m` as a length-delimited field. */
  message(field: number, m: Bytes): void {
    this.bytes(field, m.buf.subarray(0, m.n));
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }
}

/** Writes a Trace to `sink`. */
export class PerfettoProtoWriter {
  private readonly out = new Bytes();
  private readonly packet = new Bytes();
  private readonly event = new Bytes();
  private readonly inner = new Bytes();
  private readonly interned = new Map<string, number>();
  private pendingNames: [number, string][] = [];
  private first = true;
  private nextUuid = 1;
  private nextWorkerTid = WORKER_TID_BASE;
  private readonly sink: ByteSink;

  constructor(sink: ByteSink) {
    this.sink = sink;
  }

  private emit(p: Bytes): void {
    this.out.message(1, p);
    if (this.out.n >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.out.n === 0) return;
    this.sink.write(this.out.view().slice());
    this.out.n = 0;
  }

  /** A process's track; returns its uuid. */
  process(p: ProtoProcess): number {
    const uuid = this.nextUuid++;
    const d = new Bytes();
    d.uint(1, p.pid);
    for (const a of p.argv) d.string(2, a);
    d.string(6, p.name);
    const t = new Bytes();
    t.uint(1, uuid);
    t.message(3, d);
    const pk = new Bytes();
    pk.message(60, t);
    pk.uint(10, SEQ);
    this.emit(pk);
    return uuid;
  }

  /** A thread's track under its process's; returns its uuid. */
  thread(pid: number, threadId: number, name: string, parent: number): number {
    const uuid = this.nextUuid++;
    const d = new Bytes();
    d.uint(1, pid);
    d.uint(2, threadId === 0 ? pid : this.nextWorkerTid++);
    d.string(5, name);
    const t = new Bytes();
    t.uint(1, uuid);
    t.uint(5, parent);
    t.message(4, d);
    const pk = new Bytes();
    pk.message(60, t);
    pk.uint(10, SEQ);
    this.emit(pk);
    return uuid;
  }

  private iid(name: string): number {
    let id = this.interned.get(name);
    if (id === undefined) {
      id = this.interned.size + 1;
      this.interned.set(name, id);
      this.pendingNames.push([id, name]);
    }
    return id;
  }

  private slice(ts: number, type: number, track: number, name: string | null, notes: [string, string][]): void {
    const e = this.event;
    e.n = 0;
    e.uint(9, type);
    e.uint(11, track);
    if (name !== null) e.uint(10, this.iid(name));
    for (const [k, v] of notes) {
      const a = this.inner;
      a.n = 0;
      a.string(10, k);
      a.string(6, v);
      e.message(4, a);
    }
    const p = this.packet;
    p.n = 0;
    p.uint(8, Math.max(0, Math.round(ts)));
    p.uint(10, SEQ);
    p.uint(13, this.first ? SEQ_INCREMENTAL_STATE_CLEARED | SEQ_NEEDS_INCREMENTAL_STATE : SEQ_NEEDS_INCREMENTAL_STATE);
    this.first = false;
    if (this.pendingNames.length > 0) {
      const d = new Bytes();
      for (const [id, n] of this.pendingNames) {
        const en = new Bytes();
        en.uint(1, id);
        en.string(2, n);
        d.message(2, en);
      }
      this.pendingNames = [];
      p.message(12, d);
    }
    p.message(11, e);
    this.emit(p);
  }

  begin(ts: number, track: number, name: string): void {
    this.slice(ts, TYPE_SLICE_BEGIN, track, name, []);
  }

  end(ts: number, track: number, notes: [string, string][] = []): void {
    this.slice(ts, TYPE_SLICE_END, track, null, notes);
  }
}

/**
 * The threads' calls as a Perfetto trace: processes first (in the order
 * of their first thread), each thread's track, then each thread's slices.
 */
export function perfettoProtoTo(threads: readonly ThreadEvents[], processes: ReadonlyMap<number, ProtoProcess>, sink: ByteSink): void {
  const w = new PerfettoProtoWriter(sink);
  const procTracks = new Map<number, number>();
  for (const t of threads) {
    const pid = t.view.pid;
    if (!procTracks.has(pid)) procTracks.set(pid, w.process(processes.get(pid) ?? { pid, argv: [], name: 'node' }));
  }
  const tracks = threads.map((t) => w.thread(t.view.pid, t.view.threadId, `${t.view.name}-${t.view.threadId}`, procTracks.get(t.view.pid)!));
  threads.forEach((t, i) => {
    const track = tracks[i]!;
    const v = t.view;
    const walker = new CallWalker();
    walker.onEnter = (site, ts) => w.begin(ts, track, v.site(site));
    walker.onCall = (c) => {
      const notes: [string, string][] = [];
      if (c.exit !== 'return') notes.push(['exit', c.exit], ['note', EXIT_NOTES[c.exit]]);
      if (!c.entrySeen) {
        notes.push(['entry', 'not in the buffer: starts at exit - duration']);
        w.begin(c.start, track, v.site(c.site));
      }
      w.end(c.end, track, notes);
    };
    const items = t.open();
    for (let it = items.next(); it !== null; it = items.next()) walker.push(it);
    walker.end();
  });
  w.flush();
}
