/**
 * The OTLP export of a streaming record, run by the drain (drain.ts): the
 * drain consumes every ring, so it hands the export the very page images
 * it sends to the recorder, and the export sees exactly the events the
 * trace file gets. A follower beside the drain would find most events
 * already consumed; holding the drain back for it would make the program
 * wait for the export. Here neither the rings nor the program wait for it.
 *
 * Owns: the backlog of page images not yet turned into spans, and one
 * call reconstruction per stream. Invariants:
 * - images go into the span pipeline (tracers/otlp/pipeline.ts) in the
 *   order the drain read them, per stream, only as fast as its queue takes
 *   the spans (a page's events make at most as many spans as it has
 *   events): while the receiver keeps up on average, no span is dropped,
 *   however long a burst, up to BACKLOG_BYTES of images waiting;
 * - the backlog is bounded: an image that would pass BACKLOG_BYTES is not
 *   kept and its events count as events_lost, as are the events a ring
 *   refused (the drain's DROPPED counts); every event read or lost is
 *   counted, every call ends in a counter;
 * - the images are the buffers the drain sends (never written after they
 *   are made), kept by reference, except a chunk that fills little of its
 *   buffer, which is copied; the bound counts the memory really held;
 * - nothing here runs on the program's threads; the pipeline (and the
 *   OpenTelemetry packages) load only when the export is turned on.
 */

import { EventCursor, pageFormatFor, type Ring } from '../ring/index.js';
import type { ThreadCalls } from '../tracers/otlp/assemble.js';
import { feedImage } from '../tracers/otlp/feed.js';
import type { ExportSettings } from '../tracers/otlp/messages.js';
import type { ExportPipeline, PipelineEvents } from '../tracers/otlp/pipeline.js';
import { Stats } from '../tracers/otlp/stats-layout.js';
import { CHUNK_HEAD_BYTES } from '../tracefile/layout.js';

/** Page images waiting for the export, at most (about 1.5 million events of the graph). */
export const BACKLOG_BYTES = 32 << 20;
/** An image is fed when the queue has room for this many spans, or for its events if fewer. */
const FEED_ROOM = 256;

interface TeeStream {
  threadId: number;
  name: string;
  ring: Ring;
  cursor: EventCursor;
  /** Made at the first image fed after the export starts; null: no spans from this ring (its clock). */
  calls: ThreadCalls | null | undefined;
  /** Serial number of the next event; -1: not known yet (the export begins at the first image it gets). */
  expected: number;
}

type Item =
  | { s: TeeStream; words: Int32Array; at: number; end: number; bytes: number }
  /** Events that went by unread: `lost` of them; `skipTo`: the serial number after them (-1 when they had none: refused). */
  | { s: TeeStream; lost: number; skipTo: number }
  | { s: TeeStream; close: true };

type State = 'off' | 'loading' | 'on' | 'stopping';

export class ExportTee {
  private state: State = 'off';
  private pipeline: ExportPipeline | null = null;
  private readonly streams = new Map<number, TeeStream>();
  private backlog: Item[] = [];
  private head = 0;
  private bytes = 0;
  /** Events in the backlog's images (trace_stat/otlp backlog). */
  private waiting = 0;
  private pumping = false;
  private again = false;
  private roomWaiters: (() => void)[] = [];
  private readonly events: PipelineEvents;

  constructor(events: PipelineEvents) {
    this.events = events;
  }

  /** Whether images are taken now (the export is on or about to be). */
  get active(): boolean {
    return this.state === 'loading' || this.state === 'on';
  }

  /** A stream the drain reads (every stream, whether the export is on or not). */
  addStream(id: number, threadId: number, name: string, ring: Ring): void {
    this.streams.set(id, { threadId, name, ring, cursor: new EventCursor(pageFormatFor(ring.geometry.pageBytes)), calls: undefined, expected: -1 });
  }

  /** Turns the export on; images taken from now on are fed once the pipeline is loaded. */
  async start(stats: SharedArrayBuffer, settings: ExportSettings): Promise<void> {
    if (this.state !== 'off') return;
    this.state = 'loading';
    try {
      const { ExportPipeline } = await import('../tracers/otlp/pipeline.js');
      this.pipeline = new ExportPipeline(new Stats(stats), settings, process.pid, {
        ...this.events,
        room: () => {
          for (const w of this.roomWaiters.splice(0)) w();
          this.pump();
        },
      });
    } catch (e) {
      this.state = 'off';
      this.clear();
      throw e;
    }
    this.state = 'on';
    this.pump();
  }

  settings(s: ExportSettings): Promise<void> {
    return this.pipeline === null ? Promise.resolve() : this.pipeline.reconfigure(s);
  }

  /** A PAGES chunk the drain made for stream `id` (page images back to back after the chunk head). */
  pages(id: number, chunk: Buffer): void {
    const s = this.streams.get(id);
    if (!this.active || s === undefined) return;
    let words = new Int32Array(chunk.buffer, chunk.byteOffset, chunk.length >> 2);
    // A chunk that fills little of its builder's buffer is copied: kept by reference it would hold the whole buffer.
    if (chunk.buffer.byteLength > 2 * chunk.length) words = words.slice();
    const kept = words.buffer.byteLength;
    const end = (CHUNK_HEAD_BYTES + chunk.readUInt32LE(4)) >> 2;
    if (this.bytes + kept > BACKLOG_BYTES) {
      let skipTo = -1;
      for (let at = CHUNK_HEAD_BYTES >> 2; at < end; at += 8 + (words[at + 1]! & 0xffff)) {
        skipTo = (words[at + 4]! >>> 0) + (words[at + 5]! >>> 0) * 0x100000000 + (words[at + 1]! >>> 16);
      }
      this.backlog.push({ s, lost: chunk.readUInt32LE(12), skipTo });
      return;
    }
    this.backlog.push({ s, words, at: CHUNK_HEAD_BYTES >> 2, end, bytes: kept });
    this.bytes += kept;
    this.waiting += chunk.readUInt32LE(12);
    this.pipeline?.stats.set('backlog', this.waiting);
  }

  /** Events of stream `id` that its ring refused (never written): lost to the export too. */
  refused(id: number, n: number): void {
    const s = this.streams.get(id);
    if (this.active && s !== undefined && n > 0) this.backlog.push({ s, lost: n, skipTo: -1 });
  }

  /** Stream `id` will have no more events (its thread has a ring of a newer generation): its open calls end. */
  closeStream(id: number): void {
    const s = this.streams.get(id);
    if (this.active && s !== undefined) this.backlog.push({ s, close: true });
  }

  /** Sends a batch when one is due; call now and then. */
  tick(): void {
    if (this.state === 'on') this.pipeline!.tick();
  }

  /** Feeds what the queue has room for; `all`: everything (spans beyond the queue are dropped, counted). */
  pump(all = false): void {
    if (this.pipeline === null || this.state === 'loading') return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        this.pipeline.refreshThresh();
        this.feed(all);
      } while (this.again);
    } finally {
      this.pumping = false;
      this.pipeline?.stats.set('backlog', this.waiting);
    }
  }

  /** Stops the export: what was taken is fed and sent (calls still open end, their end unknown), then the pipeline shuts down. */
  async stop(): Promise<void> {
    if (this.state !== 'on') {
      this.state = 'off';
      this.clear();
      return;
    }
    this.state = 'stopping';
    const p = this.pipeline!;
    try {
      this.pump(true);
      this.closeAll();
      await p.drain();
      await p.shutdown();
    } finally {
      this.state = 'off';
      this.clear();
    }
  }

  /**
   * At the process's end, after the drain read every ring: feeds the
   * backlog as the receiver takes it and sends it, all within `ms`; what
   * is left then is fed at once (beyond the queue: dropped, counted) and
   * stays counted as queued if it could not be sent.
   */
  async finish(ms: number): Promise<void> {
    if (this.state !== 'on') return;
    const end = Date.now() + ms;
    const p = this.pipeline!;
    for (;;) {
      this.pump();
      if (this.head >= this.backlog.length || Date.now() >= end) break;
      await this.roomOrTimeout(end - Date.now());
    }
    this.pump(true);
    this.closeAll();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([p.drain(), new Promise<void>((r) => { timer = setTimeout(r, Math.max(0, end - Date.now())); })]);
    clearTimeout(timer);
    this.state = 'stopping';
  }

  private roomOrTimeout(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(1, ms));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.roomWaiters.push(done);
      this.pipeline!.tick();
    });
  }

  private feed(all: boolean): void {
    const p = this.pipeline!;
    const stats = p.stats;
    while (this.head < this.backlog.length) {
      const it = this.backlog[this.head]!;
      const s = it.s;
      if (s.calls === undefined) s.calls = p.threadCalls(s.threadId, s.name, s.ring);
      if ('words' in it) {
        const entries = it.words[it.at + 1]! >>> 16;
        if (!all && p.room() < Math.min(entries, FEED_ROOM)) return;
        if (s.calls !== null) {
          s.expected = feedImage(s.calls, s.cursor, it.words, it.at, s.expected);
          stats.add('events_read', entries);
        }
        this.waiting -= entries;
        it.at += 8 + (it.words[it.at + 1]! & 0xffff);
        if (it.at < it.end) continue;
        this.bytes -= it.bytes;
      } else if ('lost' in it) {
        const n = it.skipTo < 0 || s.expected < 0 ? it.lost : it.skipTo - s.expected;
        if (s.calls !== null && n > 0) s.calls.lostEvents(n);
        if (it.skipTo >= 0) s.expected = it.skipTo;
      } else if (s.calls !== null) {
        s.calls.closeAll();
      }
      this.backlog[this.head++] = undefined as unknown as Item;
      if (this.head > 1024 && this.head * 2 > this.backlog.length) {
        this.backlog = this.backlog.slice(this.head);
        this.head = 0;
      }
    }
  }

  private closeAll(): void {
    for (const s of this.streams.values()) s.calls?.closeAll();
  }

  /** Forgets the backlog and every stream's calls (they belonged to the pipeline that stopped). */
  private clear(): void {
    this.pipeline = null;
    this.backlog = [];
    this.head = this.bytes = this.waiting = 0;
    for (const s of this.streams.values()) {
      s.calls = undefined;
      s.expected = -1;
    }
    for (const w of this.roomWaiters.splice(0)) w();
  }
}
