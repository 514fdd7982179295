/**
 * The `jsftrace record` side of a recording: a Unix socket in a private
 * directory that every traced process of the command connects to (its
 * drain, drain.ts), and one trace file that their chunks are appended to.
 *
 * Owns: process and stream numbering in the file, the file's growth and
 * where the recording stops. Invariants:
 * - the socket lives in a fresh directory made by mkdtemp (mode 0700, a
 *   name no one can guess): only this user reaches it;
 * - each connection is one process; its chunks are checked (type, size,
 *   ids declared before use) and renumbered into the file's numbering
 *   before they are appended whole, so processes never overwrite or mix
 *   each other's data; a connection that breaks the protocol is closed
 *   and the file keeps what it had;
 * - the recording stops at the user's limit (--max-size, --duration) or
 *   when the disk is full: page chunks are no longer written, each process
 *   is told to stop tracing, the file says why (a NOTE), and a failed
 *   write is cut back so the file ends at a whole chunk;
 * - under --max-size the file never passes the size: pages leave room for
 *   the chunks that close the recording (the note, each stream's and
 *   process's end), the pages that would pass into it go in as the whole
 *   page images that fit, and a chunk that still does not fit after the
 *   stop is left out and counted, with every chunk that refers to it;
 * - events are counted per stream as they arrive (the chunks' counts),
 *   and so are losses: gaps in the page images' serial numbers and the
 *   rings' refused events.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunk, jsonChunk } from '../tracefile/encode.js';
import {
  CHUNK_DROPPED, CHUNK_HEAD_BYTES, CHUNK_NAMES, CHUNK_NOTE, CHUNK_PAGES, CHUNK_PROCESS, CHUNK_PROCESS_END, CHUNK_PROFILE, CHUNK_PROFILE_ROWS,
  CHUNK_STREAM_END, CHUNK_THREAD, MAX_CHUNK_BYTES, MAX_JSON_BYTES, padded, type ProcessEnd, type StreamEnd,
} from '../tracefile/layout.js';
import type { ReplacingFile } from '../tracefile/replace.js';
import { STOP_BYTE } from './sync.js';

export interface CollectorOptions {
  /** Stop writing pages once the file would pass this many bytes, less the closing chunks' room; no chunk takes the file past it. */
  maxBytes?: number;
}

/**
 * The room pages leave under --max-size for the chunks that close the
 * recording: a note and, per stream and process, an end of about a hundred
 * bytes, so some hundred threads' ends. An eighth of the size at most, so a
 * small limit still holds pages.
 */
const TAIL_ROOM = 16 * 1024;

export interface StreamTally {
  /** The recording's process (ProcessTally.id): a pid can be two processes, before and after a process.execve. */
  process: number;
  pid: number;
  threadId: number;
  name: string;
  events: number;
  /** Overwritten (serial gaps) and refused events. */
  lost: number;
  /** Events that arrived after the recording stopped, not written. */
  unrecorded: number;
  /** Events the thread wrote and could not publish (stopped mid-event, or running at the end): its StreamEnd's unsaved. */
  unsaved: number;
  nextSerial: number;
  refused: number;
  end: StreamEnd | null;
}

export interface ProcessTally {
  id: number;
  pid: number;
  argv: string[];
  end: ProcessEnd | null;
}

class Conn {
  pending: Buffer = Buffer.alloc(0);
  process = 0;
  readonly streams = new Map<number, number>();
  readonly sock: Socket;
  constructor(sock: Socket) {
    this.sock = sock;
  }
}

export class Collector {
  readonly socket: string;
  readonly processes: ProcessTally[] = [];
  readonly streams = new Map<number, StreamTally>();
  /** Why the recording stopped early, or null. */
  stopped: string | null = null;
  /** Chunks left out because they would have taken the file past --max-size, or refer to one that was. */
  leftOut = 0;

  /** The filter patterns that no recorded process matched (each process says which it did not). */
  unmatched(): string[] {
    const lists = this.processes.map((p) => p.end?.unmatched).filter((l): l is string[] => Array.isArray(l));
    if (lists.length === 0) return [];
    return lists[0]!.filter((u) => lists.every((l) => l.includes(u)));
  }
  private readonly dir: string;
  private readonly server: Server;
  private readonly conns = new Set<Conn>();
  private nextStream = 1;
  private diskFull = false;
  private idleWaiters: (() => void)[] = [];
  private readonly file: ReplacingFile;
  private readonly opts: CollectorOptions;
  private readonly tailRoom: number;
  /** Processes (file numbering) whose PROCESS chunk, and streams whose THREAD chunk, the file holds: what later chunks may refer to. */
  private readonly processesInFile = new Set<number>();
  private readonly streamsInFile = new Set<number>();

  /** Whether the file declares this process (file numbering); one that --max-size kept out is counted nowhere. */
  hasProcess(id: number): boolean {
    return this.processesInFile.has(id);
  }

  /** Whether the file declares this stream. */
  hasStream(id: number): boolean {
    return this.streamsInFile.has(id);
  }

  private constructor(file: ReplacingFile, opts: CollectorOptions) {
    this.file = file;
    this.opts = opts;
    this.tailRoom = opts.maxBytes === undefined ? 0 : Math.min(TAIL_ROOM, Math.floor(opts.maxBytes / 8));
    this.dir = mkdtempSync(join(tmpdir(), 'jsftrace-rec-'));
    this.socket = join(this.dir, 'r.sock');
    this.server = createServer((s) => this.accept(s));
  }

  static async start(file: ReplacingFile, opts: CollectorOptions = {}): Promise<Collector> {
    const c = new Collector(file, opts);
    await new Promise<void>((resolve, reject) => {
      c.server.once('error', reject);
      c.server.listen(c.socket, () => resolve());
    });
    return c;
  }

  /** Events written, and lost, over all streams. */
  totals(): { events: number; lost: number; unrecorded: number; unsaved: number } {
    let events = 0;
    let lost = 0;
    let unrecorded = 0;
    let unsaved = 0;
    for (const s of this.streams.values()) {
      events += s.events;
      lost += s.lost;
      unrecorded += s.unrecorded;
      unsaved += s.unsaved;
    }
    return { events, lost, unrecorded, unsaved };
  }

  private accept(sock: Socket): void {
    const c = new Conn(sock);
    this.conns.add(c);
    sock.on('data', (b: Buffer) => {
      try {
        this.feed(c, b);
      } catch (e) {
        process.stderr.write(`jsftrace: a traced process (${this.pidOf(c)}) broke the recording protocol: ${(e as Error).message}; its connection is closed\n`);
        sock.destroy();
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => this.closed(c));
    if (this.stopped !== null) sock.write(Buffer.of(STOP_BYTE));
  }

  private pidOf(c: Conn): number | string {
    return this.processes[c.process - 1]?.pid ?? 'unknown';
  }

  private closed(c: Conn): void {
    this.conns.delete(c);
    const p = this.processes[c.process - 1];
    if (p !== undefined && p.end === null) {
      // It ended without its last chunks (killed, or its drain gave up).
      p.end = { how: 'lost', code: null, signal: null };
      if (this.processesInFile.has(p.id)) this.closing(jsonChunk(CHUNK_PROCESS_END, p.id, p.end));
    }
    if (this.conns.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves once no traced process is connected (waiting `graceMs` for late ones). */
  async idle(graceMs = 100): Promise<void> {
    for (;;) {
      if (this.conns.size > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
      await new Promise((r) => setTimeout(r, graceMs));
      if (this.conns.size === 0) return;
    }
  }

  /** Stops the recording: no more pages are written, every process stops tracing, the file says why. */
  stop(reason: string): void {
    if (this.stopped !== null) return;
    this.stopped = reason;
    if (!this.diskFull) this.closing(jsonChunk(CHUNK_NOTE, 0, { text: `the recording stopped: ${reason}` }));
    for (const c of this.conns) c.sock.write(Buffer.of(STOP_BYTE));
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.sock.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private feed(c: Conn, b: Buffer): void {
    let buf = c.pending.length === 0 ? b : Buffer.concat([c.pending, b]);
    let at = 0;
    while (buf.length - at >= CHUNK_HEAD_BYTES) {
      const bytes = buf.readUInt32LE(at + 4);
      if (bytes > MAX_CHUNK_BYTES) throw new Error(`a chunk of ${bytes} bytes`);
      const whole = CHUNK_HEAD_BYTES + padded(bytes);
      if (buf.length - at < whole) break;
      this.chunkFrom(c, buf.subarray(at, at + whole));
      at += whole;
    }
    buf = buf.subarray(at);
    // Keep only what is pending, not the buffer it came in.
    c.pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
  }

  private json<T>(ch: Buffer): T {
    const bytes = ch.readUInt32LE(4);
    if (bytes > MAX_JSON_BYTES) throw new Error('a JSON chunk beyond its limit');
    return JSON.parse(ch.toString('utf8', CHUNK_HEAD_BYTES, CHUNK_HEAD_BYTES + bytes)) as T;
  }

  private stream(c: Conn, local: number): StreamTally & { id: number } {
    const g = c.streams.get(local);
    if (g === undefined) throw new Error(`stream ${local} used before it was declared`);
    return Object.assign(this.streams.get(g)!, { id: g });
  }

  private chunkFrom(c: Conn, ch: Buffer): void {
    const type = ch.readUInt16LE(0);
    const id = ch.readUInt32LE(8);
    const count = ch.readUInt32LE(12);
    if (type !== CHUNK_PROCESS && c.process === 0) throw new Error('a chunk before the process was declared');
    switch (type) {
      case CHUNK_PROCESS: {
        if (c.process !== 0) throw new Error('the process declared twice');
        const info = this.json<{ pid: number; argv: string[] }>(ch);
        c.process = this.processes.length + 1;
        this.processes.push({ id: c.process, pid: Number(info.pid), argv: Array.isArray(info.argv) ? info.argv.map(String) : [], end: null });
        ch.writeUInt32LE(c.process, 8);
        if (this.declaring(ch)) this.processesInFile.add(c.process);
        return;
      }
      case CHUNK_THREAD: {
        if (c.streams.has(id)) throw new Error(`stream ${id} declared twice`);
        const info = this.json<Record<string, unknown>>(ch);
        const g = this.nextStream++;
        c.streams.set(id, g);
        this.streams.set(g, {
          process: c.process, pid: this.processes[c.process - 1]!.pid, threadId: Number(info['threadId']), name: String(info['name']), events: 0, lost: 0, unsaved: 0,
          unrecorded: 0, nextSerial: 0, refused: 0, end: null,
        });
        if (this.processesInFile.has(c.process) ? this.declaring(jsonChunk(CHUNK_THREAD, g, { ...info, process: c.process })) : this.orphan()) this.streamsInFile.add(g);
        return;
      }
      case CHUNK_PAGES: {
        const s = this.stream(c, id);
        ch.writeUInt32LE(s.id, 8);
        if (this.stopped === null && !this.room(ch.length, this.tailRoom)) {
          // The whole page images that still fit go in first: the file fills up to the size.
          const part = this.streamsInFile.has(s.id) ? this.fittingPages(ch) : null;
          if (part !== null && this.append(part.chunk)) {
            s.events += part.events;
            s.unrecorded += count - part.events;
            this.countGaps(s, part.chunk);
          } else {
            s.unrecorded += count;
          }
          this.stop(`the trace reached --max-size (${this.opts.maxBytes} bytes)`);
          return;
        }
        if (this.stopped !== null || !this.streamsInFile.has(s.id) || !this.append(ch)) {
          s.unrecorded += count;
          return;
        }
        s.events += count;
        this.countGaps(s, ch);
        return;
      }
      case CHUNK_DROPPED: {
        const s = this.stream(c, id);
        s.refused += count;
        s.lost += count;
        ch.writeUInt32LE(s.id, 8);
        if (this.streamsInFile.has(s.id)) this.closing(ch);
        else this.orphan();
        return;
      }
      case CHUNK_STREAM_END: {
        const s = this.stream(c, id);
        s.end = this.json<StreamEnd>(ch);
        // What the ring lost after its last page was read (overwritten at the end) is in its own counters.
        const ringLost = Number(s.end.overrun) + Number(s.end.dropped);
        if (this.stopped === null && ringLost > s.lost) s.lost = ringLost;
        s.unsaved = Number(s.end.unsaved ?? 0);
        ch.writeUInt32LE(s.id, 8);
        if (this.streamsInFile.has(s.id)) this.closing(ch);
        else this.orphan();
        return;
      }
      case CHUNK_PROCESS_END:
        this.processes[c.process - 1]!.end = this.json<ProcessEnd>(ch);
        ch.writeUInt32LE(c.process, 8);
        if (this.processesInFile.has(c.process)) this.closing(ch);
        else this.orphan();
        return;
      case CHUNK_NAMES:
        // After the stop no page uses them, but a profiler table may: written if they fit.
        ch.writeUInt32LE(c.process, 8);
        if (this.processesInFile.has(c.process)) this.declaring(ch);
        else this.orphan();
        return;
      case CHUNK_PROFILE:
      case CHUNK_PROFILE_ROWS:
        ch.writeUInt32LE(c.process, 8);
        if (this.processesInFile.has(c.process)) this.closing(ch);
        else this.orphan();
        return;
      default:
        throw new Error(`a chunk of type ${type}`);
    }
  }

  /**
   * The leading whole page images of a PAGES chunk that fit under
   * --max-size (the closing chunks' room kept), as a chunk of their own
   * with their events counted; null when none does or the chunk is
   * compressed. An image is its 8 header words and `commit & 0xffff` data
   * words, and holds `commit >>> 16` events (docs/ring-format.md).
   */
  private fittingPages(ch: Buffer): { chunk: Buffer; events: number } | null {
    if (ch.readUInt16LE(2) !== 0 || this.opts.maxBytes === undefined) return null;
    const avail = this.opts.maxBytes - this.tailRoom - this.file.bytes - CHUNK_HEAD_BYTES;
    const end = CHUNK_HEAD_BYTES + ch.readUInt32LE(4);
    let at = CHUNK_HEAD_BYTES;
    let events = 0;
    while (at + 32 <= end) {
      const commit = ch.readUInt32LE(at + 4);
      const size = 32 + (commit & 0xffff) * 4;
      if (at + size > end || at - CHUNK_HEAD_BYTES + size > avail) break;
      events += commit >>> 16;
      at += size;
    }
    if (at === CHUNK_HEAD_BYTES) return null;
    return { chunk: chunk(CHUNK_PAGES, ch.readUInt32LE(8), events, ch.subarray(CHUNK_HEAD_BYTES, at)), events };
  }

  /** Whether `bytes` more fit under --max-size with `keep` bytes left over. */
  private room(bytes: number, keep: number): boolean {
    return this.opts.maxBytes === undefined || this.file.bytes + bytes + keep <= this.opts.maxBytes;
  }

  /**
   * A chunk that later ones refer to (a process, a thread, names): while
   * recording, it must leave the closing chunks' room like pages, else the
   * recording stops; once stopped, it is written if it fits at all. False
   * when it is not in the file.
   */
  private declaring(ch: Buffer): boolean {
    if (this.stopped === null && !this.room(ch.length, this.tailRoom)) this.stop(`the trace reached --max-size (${this.opts.maxBytes} bytes)`);
    return this.closing(ch);
  }

  /** A chunk written if it fits under --max-size; else the recording stops (if it had not) and the chunk is left out, counted. */
  private closing(ch: Buffer): boolean {
    if (!this.room(ch.length, 0)) {
      if (this.stopped === null) this.stop(`the trace reached --max-size (${this.opts.maxBytes} bytes)`);
      this.leftOut++;
      return false;
    }
    return this.append(ch);
  }

  /** A chunk whose process or stream is not in the file: left out, counted. */
  private orphan(): false {
    this.leftOut++;
    return false;
  }

  /** Overwritten events show as gaps in the serial numbers of a stream's page images. */
  private countGaps(s: StreamTally, ch: Buffer): void {
    const end = CHUNK_HEAD_BYTES + ch.readUInt32LE(4);
    let at = CHUNK_HEAD_BYTES;
    while (at + 32 <= end) {
      const commit = ch.readUInt32LE(at + 4);
      const serial = ch.readUInt32LE(at + 16) + ch.readUInt32LE(at + 20) * 0x100000000;
      if (serial > s.nextSerial) s.lost += serial - s.nextSerial;
      s.nextSerial = serial + (commit >>> 16);
      at += 32 + (commit & 0xffff) * 4;
    }
  }

  /** Appends a whole chunk; false (and the recording stopped) when the disk refuses it. */
  private append(ch: Buffer): boolean {
    if (this.diskFull) return false;
    const before = this.file.bytes;
    try {
      this.file.write(ch);
      return true;
    } catch (e) {
      this.diskFull = true;
      try {
        this.file.truncate(before);
      } catch {
        // the file keeps a partial chunk at its end; readers stop before it
      }
      const code = (e as NodeJS.ErrnoException).code;
      this.stop(code === 'ENOSPC' ? 'the disk is full' : `the trace file cannot be written (${code ?? (e as Error).message})`);
      return false;
    }
  }
}

