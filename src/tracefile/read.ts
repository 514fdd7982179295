/**
 * Reading a trace file (layout.ts) in bounded memory: a first pass over
 * the chunk headers learns the processes, their threads' streams, names,
 * counts and ends; each stream's page images are then read on demand, one
 * chunk at a time, by as many cursors as a rendering needs.
 *
 * Owns: every check a file must pass. Invariants:
 * - only a regular file is read (a device, a FIFO or a directory is
 *   refused before a byte is read; opened without blocking);
 * - every declared size is checked against the limits in layout.ts and
 *   against the bytes the file has before a buffer is allocated for it; a
 *   compressed payload inflates to at most the size it declares, and must
 *   inflate to exactly that;
 * - JSON chunks are checked field by field; ids must be declared before
 *   use and declared once; a page image must fit its chunk and its page
 *   size; anything else is EINVAL with the offset and the reason;
 * - a file that ends inside a chunk (a recording cut short) is read up to
 *   its last whole chunk, and says so (`truncated`).
 */

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { fail } from '../shared/errors.js';
import { eventRegistry } from '../tracers/session.js';
import { ROW_F64, ROW_F64_V1 } from '../tracers/profile-layout.js';
import {
  CHUNK_DROPPED, CHUNK_HEAD_BYTES, CHUNK_NAMES, CHUNK_NOTE, CHUNK_PAGES, CHUNK_PROCESS, CHUNK_PROCESS_END, CHUNK_PROFILE, CHUNK_PROFILE_ROWS,
  CHUNK_STREAM_END, CHUNK_THREAD, FLAG_COMPRESSED, FLAG_OPTIONAL, HEADER_BYTES, MAX_CHUNK_BYTES, MAX_JSON_BYTES,
  MAX_NAME_BYTES, MAX_NAME_CHARS, MAX_PROCESSES, MAX_PROFILE_ROWS, MAX_SITES, MAX_STREAMS, padded, TRACEFILE_MAGIC,
  TRACEFILE_MAJOR, type Note, type ProcessEnd, type ProcessInfo, type StreamEnd, type StreamInfo,
} from './layout.js';

export interface FileProcess {
  id: number;
  info: ProcessInfo;
  /** Site names by id (`site#id` when a name is missing). */
  names: string[];
  end: ProcessEnd | null;
  streams: FileStream[];
}

export interface FileStream {
  id: number;
  info: StreamInfo;
  process: FileProcess;
  /** Events the file holds for it (the PAGES chunks' counts). */
  events: number;
  /** Events its ring refused, as DROPPED chunks counted them. */
  dropped: number;
  /** The ring's own counters at its end, when the stream ended cleanly. */
  end: StreamEnd | null;
  /** Offset of its THREAD chunk: its chunks come after. */
  at: number;
}

export interface FileProfile {
  process: FileProcess;
  threadId: number;
  name: string;
  /** Float64 words per row: ROW_F64, or ROW_F64_V1 in a 2.0 file (no self or running time). */
  rowWords: number;
  /** Where the rows begin in the payload. */
  rowsAt: number;
  at: number;
  bytes: number;
  flags: number;
}

interface Head {
  type: number;
  flags: number;
  bytes: number;
  id: number;
  count: number;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isText = (v: unknown): v is string => typeof v === 'string';
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function processProblem(v: unknown): string | null {
  if (!isObj(v)) return 'not an object';
  if (!isCount(v['pid']) || !isInt(v['ppid'])) return 'pid or ppid is malformed';
  if (!Array.isArray(v['argv']) || !v['argv'].every(isText)) return 'argv is malformed';
  if (!isText(v['cwd']) || !isText(v['started']) || !isText(v['node'])) return 'cwd, started or node is malformed';
  const ev = v['events'];
  if (!Array.isArray(ev) || !ev.every((e) => isObj(e) && isText(e['name']) && isCount(e['id'])
    && Array.isArray(e['fields']) && (e['fields'] as unknown[]).every(isText))) return 'events is malformed';
  return null;
}

function streamProblem(v: unknown): string | null {
  if (!isObj(v)) return 'not an object';
  if (!isCount(v['process']) || !isCount(v['threadId']) || !isInt(v['gen'])) return 'process, threadId or gen is malformed';
  if (!isText(v['name']) || !isText(v['clock']) || !isText(v['tracer'])) return 'name, clock or tracer is malformed';
  const pb = v['pageBytes'];
  if (!isCount(pb) || pb < 64 || pb > 32768 || (pb & (pb - 1)) !== 0) return 'pageBytes is not a ring page size';
  if (!isInt(v['options']) || !isCount(v['threshUs'])) return 'options or threshUs is malformed';
  if (v['from'] !== undefined && !isCount(v['from'])) return 'from is malformed';
  const a = v['anchor'];
  if (a !== undefined && (!isObj(a) || !Number.isFinite(a['clock']) || !Number.isFinite(a['wallMs']))) return 'anchor is malformed';
  return null;
}

function endProblem(v: unknown): string | null {
  if (!isObj(v)) return 'not an object';
  return isCount(v['overrun']) && isCount(v['dropped']) && isCount(v['written']) && (v['unsaved'] === undefined || isCount(v['unsaved']))
    ? null : 'a counter is malformed';
}

function processEndProblem(v: unknown): string | null {
  if (!isObj(v)) return 'not an object';
  const how = v['how'];
  if (how !== 'exit' && how !== 'signal' && how !== 'lost') return 'how is malformed';
  if (v['execve'] !== undefined && v['execve'] !== true) return 'execve is malformed';
  if (!(v['code'] === null || isInt(v['code'])) || !(v['signal'] === null || isText(v['signal']))) return 'code or signal is malformed';
  if (v['unmatched'] !== undefined && !(Array.isArray(v['unmatched']) && v['unmatched'].every(isText))) return 'unmatched is malformed';
  return null;
}

function noteProblem(v: unknown): string | null {
  return isObj(v) && isText(v['text']) ? null : 'not a note';
}

function cutName(n: string): string {
  return n.length > MAX_NAME_CHARS ? `${n.slice(0, MAX_NAME_CHARS - 1)}…` : n;
}

export class TraceFile {
  readonly path: string;
  readonly size: number;
  readonly processes: FileProcess[] = [];
  readonly streams: FileStream[] = [];
  readonly profiles: FileProfile[] = [];
  readonly notes: string[] = [];
  /** The file ends inside a chunk (a recording cut short): read up to its last whole chunk. */
  truncated = false;
  /** Where the last whole chunk ends. */
  end = HEADER_BYTES;
  private fd: number;
  private readonly byProcess = new Map<number, FileProcess>();
  private readonly byStream = new Map<number, FileStream>();
  private nameBytes = 0;
  private readonly head = Buffer.alloc(CHUNK_HEAD_BYTES);

  private constructor(path: string, fd: number, size: number) {
    this.path = path;
    this.fd = fd;
    this.size = size;
  }

  /** Opens and scans `path`; EINVAL (with the reason) for anything that is not a trace file this build reads. */
  static open(path: string): TraceFile {
    // O_NONBLOCK: opening a FIFO must not wait for a writer before it is refused.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) fail('EINVAL', `${path} is not a regular file`);
      const t = new TraceFile(path, fd, st.size);
      t.scan();
      return t;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private bad(at: number, why: string): never {
    return fail('EINVAL', `${this.path}: damaged trace file at byte ${at}: ${why}`);
  }

  /** Reads exactly `n` bytes at `at` (n was checked against the file's size). */
  private read(at: number, n: number, into?: Buffer): Buffer {
    const b = into ?? Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const k = readSync(this.fd, b, got, n - got, at + got);
      if (k === 0) this.bad(at, 'the file ended while it was read (changed under the reader?)');
      got += k;
    }
    return b;
  }

  /** The chunk header at `at`, or null when no whole chunk starts there. */
  headAt(at: number): Head | null {
    if (at + CHUNK_HEAD_BYTES > this.size) return null;
    const b = this.read(at, CHUNK_HEAD_BYTES, this.head);
    const h: Head = { type: b.readUInt16LE(0), flags: b.readUInt16LE(2), bytes: b.readUInt32LE(4), id: b.readUInt32LE(8), count: b.readUInt32LE(12) };
    if (h.bytes > MAX_CHUNK_BYTES) this.bad(at, `a chunk of ${h.bytes} bytes (at most ${MAX_CHUNK_BYTES})`);
    if ((h.flags & ~(FLAG_COMPRESSED | FLAG_OPTIONAL)) !== 0) this.bad(at, `unknown chunk flags ${h.flags}`);
    if (at + CHUNK_HEAD_BYTES + padded(h.bytes) > this.size) return null;
    return h;
  }

  /** A chunk's payload, inflated if it was stored compressed (at most the size it declares). */
  payload(at: number, h: { flags: number; bytes: number }, limit = MAX_CHUNK_BYTES): Buffer {
    if (h.bytes > limit && (h.flags & FLAG_COMPRESSED) === 0) this.bad(at, `a payload of ${h.bytes} bytes where at most ${limit} may be`);
    const raw = this.read(at + CHUNK_HEAD_BYTES, h.bytes);
    if ((h.flags & FLAG_COMPRESSED) === 0) return raw;
    if (raw.length < 8) this.bad(at, 'a compressed payload without its size');
    const inflated = raw.readUInt32LE(0);
    if (inflated > limit) this.bad(at, `a payload that would inflate to ${inflated} bytes (at most ${limit})`);
    let out: Buffer;
    try {
      out = inflateRawSync(raw.subarray(8), { maxOutputLength: Math.max(1, inflated) });
    } catch {
      return this.bad(at, `a compressed payload that does not inflate to the ${inflated} bytes it declares`);
    }
    if (out.length !== inflated) this.bad(at, `a compressed payload that inflates to ${out.length} bytes, not the ${inflated} it declares`);
    return out;
  }

  private json(at: number, h: Head, problem: (v: unknown) => string | null, what: string): unknown {
    const text = this.payload(at, h, MAX_JSON_BYTES).toString('utf8');
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return this.bad(at, `${what} is not JSON`);
    }
    const p = problem(v);
    if (p !== null) this.bad(at, `${what}: ${p}`);
    return v;
  }

  private processOf(at: number, id: number): FileProcess {
    return this.byProcess.get(id) ?? this.bad(at, `process ${id} used before it was declared`);
  }

  streamOf(at: number, id: number): FileStream {
    return this.byStream.get(id) ?? this.bad(at, `stream ${id} used before it was declared`);
  }

  private scan(): void {
    if (this.size < HEADER_BYTES) fail('EINVAL', `${this.path}: not a jsftrace trace file (too short)`);
    const h = this.read(0, HEADER_BYTES);
    if (h.toString('latin1', 0, 8) !== TRACEFILE_MAGIC) fail('EINVAL', `${this.path}: not a jsftrace trace file (bad magic)`);
    const major = h.readUInt32LE(8);
    if (major !== TRACEFILE_MAJOR) fail('EINVAL', `${this.path}: trace file version ${major}.x; this jsftrace reads ${TRACEFILE_MAJOR}.x`);
    const headerBytes = h.readUInt32LE(16);
    if (headerBytes < HEADER_BYTES || headerBytes > 4096 || headerBytes > this.size) this.bad(16, `a header of ${headerBytes} bytes`);
    let at = headerBytes;
    const reg = eventRegistry();
    for (;;) {
      const c = this.headAt(at);
      if (c === null) {
        this.truncated = at !== this.size;
        this.end = at;
        return;
      }
      switch (c.type) {
        case CHUNK_PROCESS: {
          if (c.id === 0 || c.id > MAX_PROCESSES || this.byProcess.has(c.id)) this.bad(at, `process number ${c.id} is out of range or declared twice`);
          const info = this.json(at, c, processProblem, 'a process') as ProcessInfo;
          for (const e of info.events) {
            const mine = reg.find(e.name);
            const same = mine !== undefined && mine.id === e.id && mine.fields.map((f) => `${f.kind} ${f.name}`).join(',') === e.fields.join(',');
            if (!same) fail('EINVAL', `${this.path}: event "${e.name}" differs from this jsftrace's; report it with the jsftrace that recorded it`);
          }
          const p: FileProcess = { id: c.id, info, names: [], end: null, streams: [] };
          this.byProcess.set(c.id, p);
          this.processes.push(p);
          break;
        }
        case CHUNK_THREAD: {
          if (c.id === 0 || c.id > MAX_STREAMS || this.byStream.has(c.id)) this.bad(at, `stream number ${c.id} is out of range or declared twice`);
          const info = this.json(at, c, streamProblem, 'a thread') as StreamInfo;
          const p = this.processOf(at, info.process);
          const s: FileStream = { id: c.id, info, process: p, events: 0, dropped: 0, end: null, at };
          this.byStream.set(c.id, s);
          this.streams.push(s);
          p.streams.push(s);
          break;
        }
        case CHUNK_PAGES: {
          const s = this.streamOf(at, c.id);
          if (c.count > c.bytes) this.bad(at, `${c.count} events in ${c.bytes} bytes`);
          s.events += c.count;
          break;
        }
        case CHUNK_DROPPED:
          this.streamOf(at, c.id).dropped += c.count;
          break;
        case CHUNK_NAMES: {
          const p = this.processOf(at, c.id);
          const b = this.payload(at, c);
          if (b.length < 4) this.bad(at, 'names without their first id');
          const first = b.readUInt32LE(0);
          if (first + c.count > MAX_SITES) this.bad(at, `site ids up to ${first + c.count} (at most ${MAX_SITES})`);
          this.nameBytes += b.length;
          if (this.nameBytes > MAX_NAME_BYTES) this.bad(at, `more than ${MAX_NAME_BYTES} bytes of site names`);
          const names = c.count === 0 ? [] : b.toString('utf8', 4).split('\n');
          if (names.length !== c.count) this.bad(at, `${names.length} names where ${c.count} are declared`);
          for (let k = 0; k < names.length; k++) p.names[first + k] = cutName(names[k]!);
          break;
        }
        case CHUNK_PROFILE:
        case CHUNK_PROFILE_ROWS: {
          const p = this.processOf(at, c.id);
          const b = this.payload(at, c);
          // 2.0's PROFILE: name bytes, name, rows of 4 words; PROFILE_ROWS: name bytes, row words, name, rows.
          const wide = c.type === CHUNK_PROFILE_ROWS;
          const nameAt = wide ? 8 : 4;
          const n = b.length >= nameAt ? b.readUInt32LE(0) : -1;
          if (n < 0 || n > 64 || padded(nameAt + n) > b.length) this.bad(at, 'a profiler table without its thread name');
          const rowWords = wide ? b.readUInt32LE(4) : ROW_F64_V1;
          if (wide && rowWords !== ROW_F64) this.bad(at, `a profiler table with rows of ${rowWords} words`);
          const rowsAt = padded(nameAt + n);
          const rows = (b.length - rowsAt) / (rowWords * 8);
          if (!Number.isInteger(rows) || rows < 1 || rows > MAX_PROFILE_ROWS) this.bad(at, 'a profiler table of a size no table has');
          this.profiles.push({ process: p, threadId: c.count, name: b.toString('utf8', nameAt, nameAt + n), rowWords, rowsAt, at, bytes: c.bytes, flags: c.flags });
          break;
        }
        case CHUNK_STREAM_END:
          this.streamOf(at, c.id).end = this.json(at, c, endProblem, 'a stream end') as StreamEnd;
          break;
        case CHUNK_PROCESS_END:
          this.processOf(at, c.id).end = this.json(at, c, processEndProblem, 'a process end') as ProcessEnd;
          break;
        case CHUNK_NOTE:
          this.notes.push((this.json(at, c, noteProblem, 'a note') as Note).text);
          break;
        default:
          if ((c.flags & FLAG_OPTIONAL) === 0) this.bad(at, `unknown chunk type ${c.type}`);
      }
      at += CHUNK_HEAD_BYTES + padded(c.bytes);
    }
  }

  /** A profiler table's rows (float64), read when asked for. */
  profileTable(p: FileProfile): Float64Array {
    const b = this.payload(p.at, p);
    const off = p.rowsAt;
    const copy = new Float64Array((b.length - off) / 8);
    new Uint8Array(copy.buffer).set(b.subarray(off));
    return copy;
  }

  /** The page images and drop counts of a stream, in order. */
  pages(s: FileStream): StreamPages {
    return new StreamPages(this, s);
  }

  /** Internal to StreamPages: the next chunk of `stream` at or after `at`. */
  nextChunk(at: number, stream: number): { at: number; head: Head } | null {
    while (at < this.end) {
      const h = this.headAt(at);
      if (h === null) return null;
      if (h.id === stream && (h.type === CHUNK_PAGES || h.type === CHUNK_DROPPED || h.type === CHUNK_STREAM_END)) return { at, head: h };
      at += CHUNK_HEAD_BYTES + padded(h.bytes);
    }
    return null;
  }

  damaged(at: number, why: string): never {
    return this.bad(at, why);
  }
}

/** What StreamPages.next() found. */
export const PAGE_IMAGE = 1;
export const PAGE_DROPPED = 2;
export const PAGE_END = 0;

/**
 * A cursor over one stream: page images (`data`, `base`) and drop counts
 * (`dropped`), one chunk in memory at a time.
 */
export class StreamPages {
  data: Int32Array = new Int32Array(0);
  /** Word index of the current image in `data`. */
  base = 0;
  dropped = 0;
  private at: number;
  private pos = 0;
  private limit = 0;
  private chunkAt = 0;
  private readonly dataWords: number;
  private done = false;
  private readonly file: TraceFile;
  private readonly stream: FileStream;

  constructor(file: TraceFile, stream: FileStream) {
    this.file = file;
    this.stream = stream;
    this.dataWords = (stream.info.pageBytes >> 2) - 8;
    // The stream's chunks follow its THREAD chunk.
    const h = file.headAt(stream.at);
    this.at = stream.at + (h === null ? 0 : CHUNK_HEAD_BYTES + padded(h.bytes));
  }

  next(): number {
    for (;;) {
      if (this.pos < this.limit) {
        const w = this.pos;
        if (w + 8 > this.limit) this.file.damaged(this.chunkAt, 'a page image cut by the end of its chunk');
        const c = this.data[w + 1]!;
        const words = c & 0xffff;
        if (words > this.dataWords || (c >>> 16) > words || w + 8 + words > this.limit) {
          this.file.damaged(this.chunkAt, `a page image of ${words} words that does not fit its page or chunk`);
        }
        this.base = w;
        this.pos = w + 8 + words;
        return PAGE_IMAGE;
      }
      if (this.done) return PAGE_END;
      const n = this.file.nextChunk(this.at, this.stream.id);
      if (n === null || n.head.type === CHUNK_STREAM_END) {
        this.done = true;
        return PAGE_END;
      }
      this.at = n.at + CHUNK_HEAD_BYTES + padded(n.head.bytes);
      if (n.head.type === CHUNK_DROPPED) {
        this.dropped = n.head.count;
        return PAGE_DROPPED;
      }
      const b = this.file.payload(n.at, n.head);
      if (b.length % 4 !== 0) this.file.damaged(n.at, 'a pages chunk that is not whole words');
      this.chunkAt = n.at;
      // An aligned copy, viewed as words.
      const words = new Int32Array(b.length >> 2);
      new Uint8Array(words.buffer).set(b);
      this.data = words;
      this.pos = 0;
      this.limit = words.length;
    }
  }
}
