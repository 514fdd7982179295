/**
 * The drain of a recorded process: a worker thread of jsftrace's own (it
 * runs no program code and is not traced) that moves every thread's ring
 * to the `jsftrace record` process over its Unix socket while the program
 * runs, as trace file chunks (tracefile/layout.ts).
 *
 * Owns: the consuming reader of every ring of this process, the process's
 * stream numbers, and what is sent. Invariants:
 * - every ring any thread announces is read to its end with a consuming
 *   reader (old buffer generations too), page images going straight into
 *   the chunk that carries them; a gap in serial numbers (overwritten) and
 *   the ring's refused events (DROPPED chunks) are how a loss is told, so
 *   nothing is lost without being counted;
 * - the socket is the only way out; when the recorder cannot take more
 *   (its socket is full), the drain waits for it, and the rings fill: the
 *   writers then wait (wait mode, bounded) and refuse, counted;
 * - at the end (S_STOP) it reads every ring until empty, sends each
 *   stream's and the process's end, and sets S_DONE once the last byte is
 *   handed to the kernel, so the main thread may let the process exit.
 * - when the OTLP export is on (options/otlp), the drain runs it: every
 *   page image it sends goes to the export as well (export-tee.ts), so the
 *   spans are made of exactly the events the trace file gets, and the rings
 *   never wait for the export;
 * Flight-recorder mode reads the rings only at the end (the export then
 * runs in its own worker, following the rings).
 */

import { connect, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { displayName, instance, recordCount } from '../core/names.js';
import { attachReader, countUnsaved, ringStats, type PipeReader, type Ring } from '../ring/index.js';
import {
  C_DOORBELL, C_DRAIN_SLEEPING, C_THRESH_US, C_TRACER, ctl, currentRings, eventRegistry, options, profileGeneration,
  profileTablesNow, setRingMode, setTracingOn, TRACER_FUNCTION, TRACER_GRAPH, watchRings, type ThreadRing,
} from '../tracers/session.js';
import { chunk, jsonChunk, namesChunks, PagesBuilder, profileChunk } from '../tracefile/encode.js';
import {
  CHUNK_DROPPED, CHUNK_PROCESS, CHUNK_PROCESS_END, CHUNK_STREAM_END, CHUNK_THREAD, type ProcessEnd, type ProcessInfo,
  type StreamInfo,
} from '../tracefile/layout.js';
import { EXIT_WAIT_MS } from '../tracers/otlp/messages.js';
import { ExportTee } from './export-tee.js';
import {
  CONNECTED, HOW_EXECVE, HOW_SIGNAL, NOT_CONNECTED, NOTE_AT, S_CODE, S_CONNECTED, S_DONE, S_HOW, S_NOTE_BYTES, S_STOP, STOP_BYTE, type DrainData,
  type FromDrain, type ToDrain,
} from './sync.js';
import { constants } from 'node:os';
import { workingDir } from '../shared/working-dir.js';

const data = workerData as DrainData;
const sync = new Int32Array(data.sync);
/** Pause reading rings while this much is queued on the socket. */
const HIGH_WATER = 8 << 20;
/** Longest sleep when nothing moves (writers ring the doorbell before the rings fill). */
const MAX_IDLE_MS = 50;

interface Stream {
  id: number;
  threadId: number;
  gen: number;
  ring: Ring;
  reader: PipeReader;
  builder: PagesBuilder;
  /** Refused events already reported in DROPPED chunks. */
  dropped: number;
  /** Its thread has a ring of a newer generation: once read to its end, it has no more events. */
  superseded: boolean;
  /** The export was told it has no more events. */
  exportClosed: boolean;
}

const streams: Stream[] = [];
/** (thread, generation) of the rings already read: a ring is announced again whenever a thread opens the session. */
const seen = new Set<string>();
let namesSent = 0;
/** The recorder asked to stop (its limit, or the disk): no more pages are sent. */
let stopped = false;
/** The connection is gone: nothing more can be sent. */
let lost = false;
let sock: Socket | null = null;

function post(m: FromDrain): void {
  parentPort?.postMessage(m);
}

const tee = new ExportTee({
  error: (message) => post({ kind: 'error', message }),
  notice: (message) => post({ kind: 'notice', message }),
});

function tracerName(): string {
  const t = Atomics.load(ctl, C_TRACER);
  return t === TRACER_GRAPH ? 'function_graph' : t === TRACER_FUNCTION ? 'function' : 'nop';
}

function send(b: Buffer): void {
  if (!lost && sock !== null) sock.write(b);
}

function addStream(r: ThreadRing): void {
  const key = `${r.threadId}:${r.gen}`;
  if (seen.has(key)) return;
  seen.add(key);
  const id = streams.length + 1;
  const info: StreamInfo = {
    process: 1, threadId: r.threadId, name: r.name, gen: r.gen, pageBytes: r.ring.geometry.pageBytes,
    clock: r.ring.clockName, tracer: tracerName(), options: options(), threshUs: Atomics.load(ctl, C_THRESH_US), anchor: r.ring.anchor,
  };
  send(jsonChunk(CHUNK_THREAD, id, info));
  for (const o of streams) if (o.ring !== r.ring && !o.superseded && o.threadId === r.threadId && o.gen < r.gen) o.superseded = true;
  streams.push({
    id, threadId: r.threadId, gen: r.gen, ring: r.ring, reader: attachReader(r.ring), builder: new PagesBuilder(id, r.ring.geometry.pageWords),
    dropped: 0, superseded: false, exportClosed: false,
  });
  tee.addStream(id, r.threadId, r.name, r.ring);
}

function sendNames(): void {
  const inst = instance();
  const n = recordCount(inst);
  if (n <= namesSent) return;
  const names: string[] = [];
  for (let id = namesSent; id < n; id++) names.push(displayName(inst, id));
  for (const c of namesChunks(1, namesSent, names)) send(c);
  namesSent = n;
}

/**
 * Reads every ring once to its current end, handing each chunk to the
 * export too; `sendPages` false: the pages are not sent (the recording
 * stopped) but the export still gets them. Returns the bytes read.
 */
function round(sendPages = true): number {
  let moved = 0;
  for (const s of streams) {
    for (;;) {
      const more = s.builder.fill(s.reader);
      const c = s.builder.take();
      if (c !== null) {
        if (sendPages) send(c);
        tee.pages(s.id, c);
        moved += c.length;
      }
      if (!more) break;
    }
    const d = s.ring.dropped;
    if (d > s.dropped) {
      send(chunk(CHUNK_DROPPED, s.id, d - s.dropped, new Uint8Array(0)));
      tee.refused(s.id, d - s.dropped);
      s.dropped = d;
    }
    if (s.superseded && !s.exportClosed) {
      s.exportClosed = true;
      tee.closeStream(s.id);
    }
  }
  sendNames();
  tee.pump();
  return moved;
}

async function sleep(ms: number): Promise<void> {
  const v = Atomics.load(ctl, C_DOORBELL);
  Atomics.store(ctl, C_DRAIN_SLEEPING, 1);
  try {
    const w = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string } })
      .waitAsync(ctl, C_DOORBELL, v, ms);
    if (w.async) await w.value;
  } finally {
    Atomics.store(ctl, C_DRAIN_SLEEPING, 0);
  }
}

function writable(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      s.off('drain', done);
      s.off('close', done);
      resolve();
    };
    s.on('drain', done);
    s.on('close', done);
  });
}

/** Stops the recording in this process: tracing off, and writers never wait for a drain that sends nothing more. */
function stopRecording(): void {
  if (stopped) return;
  stopped = true;
  setTracingOn(false);
  setRingMode('overwrite');
}

function connectTo(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

function processInfo(): ProcessInfo {
  return {
    pid: process.pid, ppid: process.ppid, argv: data.argv, cwd: workingDir(), started: new Date(performance.timeOrigin).toISOString(),
    node: process.version,
    events: eventRegistry().all().map((e) => ({ name: e.name, id: e.id, fields: e.fields.map((f) => `${f.kind} ${f.name}`) })),
  };
}

function signalName(n: number): string | null {
  for (const [name, num] of Object.entries(constants.signals)) if (num === n) return name;
  return null;
}

async function finish(): Promise<void> {
  // A ring made just before the end may still be on its way: wait (bounded) for every ring the
  // session's thread rows say exists.
  for (const r of await currentRings(1000)) addStream(r);
  // Everything the threads published; a thread still writing could keep this going: bounded.
  for (let k = 0; k < 10_000 && round() > 0; k++) {
    if (sock !== null && sock.writableLength > HIGH_WATER) await writable(sock);
  }
  // What a thread still running has not published is lost with the
  // process: counted here for the rings the ending thread had not heard of
  // yet (their announcements travel apart from the program's messages), once.
  for (const s of streams) countUnsaved(s.ring);
  for (const s of streams) {
    const st = ringStats(s.ring);
    send(jsonChunk(CHUNK_STREAM_END, s.id, { overrun: st.overrun, dropped: st.dropped, written: st.written + st.dropped, unsaved: st.unsaved }));
  }
  sendNames();
  const gen = profileGeneration();
  for (const t of profileTablesNow()) if (t.gen === gen) send(profileChunk(1, t.threadId, t.name, t.sab));
  const how = Atomics.load(sync, S_HOW);
  const code = Atomics.load(sync, S_CODE);
  const end: ProcessEnd = how === HOW_SIGNAL ? { how: 'signal', code: null, signal: signalName(code) }
    : how === HOW_EXECVE ? { how: 'exit', code: null, signal: null, execve: true } : { how: 'exit', code, signal: null };
  const n = Atomics.load(sync, S_NOTE_BYTES);
  if (n > 0) {
    try {
      end.unmatched = JSON.parse(Buffer.from(sync.buffer, NOTE_AT * 4, n).toString('utf8')) as string[];
    } catch {
      // a note that does not parse is left out
    }
  }
  send(jsonChunk(CHUNK_PROCESS_END, 1, end));
  // The export's last spans: sent as the receiver takes them, within the time a process's exit waits for it.
  await tee.finish(EXIT_WAIT_MS);
  if (sock !== null && !lost) await new Promise<void>((resolve) => sock!.end(() => resolve()));
}

/** The export's switches from the main thread (recorder.ts: the export's host). */
function onMessage(m: ToDrain): void {
  if (m.kind === 'otlp-start') {
    tee.start(m.stats, m.settings).then(() => post({ kind: 'otlp-started' }), (e: unknown) => post({ kind: 'otlp-started', error: (e as Error).message }));
  } else if (m.kind === 'otlp-settings') {
    tee.settings(m.settings).catch((e: unknown) => post({ kind: 'error', message: (e as Error).message }));
  } else {
    // What the rings hold now (the main thread published its last events) is the export's last.
    if (!data.flight && Atomics.load(sync, S_STOP) === 0) round(!stopped && !lost);
    tee.stop().catch((e: unknown) => post({ kind: 'error', message: (e as Error).message })).finally(() => post({ kind: 'otlp-stopped' }));
  }
}

function done(): void {
  Atomics.store(sync, S_DONE, 1);
  Atomics.notify(sync, S_DONE);
}

async function main(): Promise<void> {
  try {
    sock = await connectTo(data.socket);
  } catch (e) {
    process.stderr.write(`jsftrace: this process (${process.pid}) is not recorded: cannot reach the recorder at ${data.socket} (${(e as Error).message})\n`);
    Atomics.store(sync, S_CONNECTED, NOT_CONNECTED);
    Atomics.notify(sync, S_CONNECTED);
    setRingMode('overwrite');
    done();
    return;
  }
  sock.on('data', (b: Buffer) => {
    if (b.includes(STOP_BYTE)) stopRecording();
  });
  const gone = (): void => {
    if (lost) return;
    lost = true;
    stopRecording();
  };
  sock.on('error', gone);
  sock.on('close', gone);
  send(jsonChunk(CHUNK_PROCESS, 1, processInfo()));
  watchRings(addStream);
  parentPort?.on('message', onMessage);
  if (data.otlp !== null) {
    // Before the program runs, as the export's own worker would be.
    await tee.start(data.otlp.stats, data.otlp.settings).catch((e: unknown) => post({ kind: 'error', message: `the OTLP export did not start: ${(e as Error).message}` }));
  }
  Atomics.store(sync, S_CONNECTED, CONNECTED);
  Atomics.notify(sync, S_CONNECTED);
  let idle = 1;
  while (Atomics.load(sync, S_STOP) === 0) {
    const moved = data.flight || ((stopped || lost) && !tee.active) ? 0 : round(!stopped && !lost);
    tee.tick();
    if (!lost && sock.writableLength > HIGH_WATER) await writable(sock);
    if (moved > 0) {
      idle = 1;
      await new Promise((r) => setImmediate(r));
      continue;
    }
    if (!data.flight) sendNames();
    idle = Math.min(idle * 2, MAX_IDLE_MS);
    await sleep(idle);
  }
  if (stopped && !lost) {
    // Pages after the stop are not recorded (the export still gets them); the ends still are.
    round(false);
  }
  await finish();
  parentPort?.off('message', onMessage);
}

main().then(done, (e: unknown) => {
  process.stderr.write(`jsftrace: the recording of process ${process.pid} failed: ${(e as Error).stack ?? String(e)}\n`);
  setRingMode('overwrite');
  done();
});
