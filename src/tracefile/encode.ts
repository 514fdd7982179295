/**
 * Making trace file chunks (layout.ts): the header, JSON chunks, names,
 * profiler tables, and a stream's page images taken straight from a ring's
 * reader into the chunk that carries them.
 *
 * Owns: the encoding side of the layout. Invariants: every chunk is made
 * whole in one buffer (header, payload, padding) before anyone sees it, so
 * whoever appends it appends a whole chunk; a payload never exceeds
 * MAX_CHUNK_BYTES (a pages builder closes its chunk before it would).
 */

import { deflateRawSync } from 'node:zlib';
import { READ_EVENT, READ_LOST } from '../ring/index.js';
import { fail } from '../shared/errors.js';
import { ROW_F64 } from '../tracers/profile-layout.js';
import {
  CHUNK_HEAD_BYTES, CHUNK_NAMES, CHUNK_PAGES, CHUNK_PROFILE_ROWS, CHUNK_TARGET_BYTES, FLAG_COMPRESSED, FLAG_OPTIONAL, HEADER_BYTES,
  MAX_CHUNK_BYTES, MAX_JSON_BYTES, padded, TRACEFILE_MAGIC, TRACEFILE_MAJOR, TRACEFILE_MINOR,
} from './layout.js';

export function fileHeader(): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  b.write(TRACEFILE_MAGIC, 0, 'latin1');
  b.writeUInt32LE(TRACEFILE_MAJOR, 8);
  b.writeUInt32LE(TRACEFILE_MINOR, 12);
  b.writeUInt32LE(HEADER_BYTES, 16);
  return b;
}

/** Writes a chunk header at `at` of `b`. */
export function writeChunkHead(b: Buffer, at: number, type: number, flags: number, bytes: number, id: number, count: number): void {
  b.writeUInt16LE(type, at);
  b.writeUInt16LE(flags, at + 2);
  b.writeUInt32LE(bytes, at + 4);
  b.writeUInt32LE(id >>> 0, at + 8);
  b.writeUInt32LE(count >>> 0, at + 12);
}

/** A whole chunk around `payload`. */
export function chunk(type: number, id: number, count: number, payload: Uint8Array, flags = 0): Buffer {
  if (payload.length > MAX_CHUNK_BYTES) fail('EMSGSIZE', `a trace file chunk of ${payload.length} bytes; at most ${MAX_CHUNK_BYTES}`);
  const b = Buffer.alloc(CHUNK_HEAD_BYTES + padded(payload.length));
  writeChunkHead(b, 0, type, flags, payload.length, id, count);
  b.set(payload, CHUNK_HEAD_BYTES);
  return b;
}

export function jsonChunk(type: number, id: number, value: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(value), 'utf8');
  if (payload.length > MAX_JSON_BYTES) fail('EMSGSIZE', `a trace file JSON chunk of ${payload.length} bytes; at most ${MAX_JSON_BYTES}`);
  return chunk(type, id, 0, payload);
}

/** Site names `first ..` of a process, as one or more chunks (each under the chunk limit). */
export function namesChunks(process: number, first: number, names: readonly string[]): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  while (start < names.length) {
    let bytes = 4;
    let end = start;
    while (end < names.length) {
      const n = Buffer.byteLength(names[end]!, 'utf8') + 1;
      if (end > start && bytes + n > CHUNK_TARGET_BYTES) break;
      bytes += n;
      end++;
    }
    const text = Buffer.from(names.slice(start, end).join('\n'), 'utf8');
    const payload = Buffer.alloc(4 + text.length);
    payload.writeUInt32LE(first + start, 0);
    payload.set(text, 4);
    out.push(chunk(CHUNK_NAMES, process, end - start, payload));
    start = end;
  }
  return out;
}

/**
 * A thread's profiler table as a PROFILE_ROWS chunk: its row 0 and the rows
 * in use, packed (a table is mostly empty), with the row width. The table
 * may be another thread's, still being written: it is copied once, so that
 * what is counted is what is packed.
 */
export function profileChunk(process: number, threadId: number, name: string, table: SharedArrayBuffer | ArrayBuffer): Buffer {
  const n = Buffer.from(name, 'utf8');
  const head = padded(8 + n.length);
  const t = new Float64Array(table).slice();
  let used = 0;
  for (let b = ROW_F64; b + ROW_F64 <= t.length; b += ROW_F64) if (t[b] !== 0) used++;
  const payload = Buffer.alloc(head + (used + 1) * ROW_F64 * 8);
  payload.writeUInt32LE(n.length, 0);
  payload.writeUInt32LE(ROW_F64, 4);
  payload.set(n, 8);
  const rows = new Float64Array(payload.buffer, payload.byteOffset + head, (used + 1) * ROW_F64);
  rows.set(t.subarray(0, ROW_F64));
  let k = ROW_F64;
  for (let b = ROW_F64; b + ROW_F64 <= t.length; b += ROW_F64) {
    if (t[b] === 0) continue;
    rows.set(t.subarray(b, b + ROW_F64), k);
    k += ROW_F64;
  }
  return chunk(CHUNK_PROFILE_ROWS, process, threadId, payload, FLAG_OPTIONAL);
}

/** The same chunk with its payload deflated, when that is smaller (extract and flight-recorder files). */
export function compressed(c: Buffer): Buffer {
  const bytes = c.readUInt32LE(4);
  const payload = c.subarray(CHUNK_HEAD_BYTES, CHUNK_HEAD_BYTES + bytes);
  const z = deflateRawSync(payload, { level: 1 });
  if (z.length + 8 >= bytes) return c;
  const inner = Buffer.alloc(8 + z.length);
  inner.writeUInt32LE(bytes, 0);
  inner.set(z, 8);
  return chunk(c.readUInt16LE(0), c.readUInt32LE(8), c.readUInt32LE(12), inner, c.readUInt16LE(2) | FLAG_COMPRESSED);
}

/** What a ring reader offers: a page image of what it has not read yet (PipeReader, TraceIterator). */
export interface PageSource {
  readonly ring: { geometry: { pageWords: number } };
  readPage(into: Int32Array): number;
}

/**
 * A stream's PAGES chunk being filled: page images are read by the ring's
 * reader directly into the chunk's buffer (no copy), each taking its
 * header and committed words.
 */
export class PagesBuilder {
  private buf: Buffer;
  private words: Int32Array;
  /** Next free word of `words` (word 0 is the chunk header's first). */
  private at = CHUNK_HEAD_BYTES >> 2;
  private events = 0;
  private readonly pageWords: number;
  private readonly capacityWords: number;
  readonly stream: number;

  constructor(stream: number, pageWords: number) {
    this.stream = stream;
    this.pageWords = pageWords;
    this.capacityWords = (CHUNK_HEAD_BYTES + CHUNK_TARGET_BYTES) >> 2;
    this.buf = Buffer.alloc(0);
    this.words = new Int32Array(0);
    this.fresh();
  }

  private fresh(): void {
    const ab = new ArrayBuffer((this.capacityWords + this.pageWords) * 4);
    this.buf = Buffer.from(ab);
    this.words = new Int32Array(ab);
    this.at = CHUNK_HEAD_BYTES >> 2;
    this.events = 0;
  }

  get empty(): boolean {
    return this.events === 0 && this.at === CHUNK_HEAD_BYTES >> 2;
  }

  /**
   * Takes pages from `src` until it is empty or the chunk is full; returns
   * whether the source may have more (the chunk filled up first).
   */
  fill(src: PageSource): boolean {
    for (;;) {
      if (this.at > this.capacityWords) return true; // a full page image still fits past the target: stop here
      const into = this.words.subarray(this.at, this.at + this.pageWords);
      const st = src.readPage(into);
      if (st !== READ_EVENT && st !== READ_LOST) return false;
      const c = into[1]!;
      this.at += 8 + (c & 0xffff);
      this.events += c >>> 16;
    }
  }

  /** The chunk as made so far, or null when it holds nothing; the builder starts a new one. */
  take(): Buffer | null {
    if (this.empty) return null;
    const bytes = this.at * 4 - CHUNK_HEAD_BYTES;
    writeChunkHead(this.buf, 0, CHUNK_PAGES, 0, bytes, this.stream, this.events);
    const out = this.buf.subarray(0, CHUNK_HEAD_BYTES + padded(bytes));
    this.fresh();
    return out;
  }
}
