/**
 * A trace file's threads as the outputs see them: one per (process,
 * thread), its events decoded from the file one page image at a time.
 *
 * Owns: turning streams into threads and page images into items.
 * Invariants: a thread whose buffers were cleared during the run has
 * several streams (one per ring); its events are theirs, in ring order;
 * losses become lost-event notices where they happened: a gap in the
 * serial numbers before a page image (events overwritten), a DROPPED
 * chunk between images (events refused); nothing more than one chunk and
 * one page of a thread is in memory.
 */

import { EventCursor, pageFormatFor } from '../ring/index.js';
import { itemOf, type Item, type ItemSource, type ThreadEvents, type ThreadView } from '../tracers/output/common.js';
import { PAGE_DROPPED, PAGE_END, type FileProcess, type FileStream, type StreamPages, type TraceFile } from './read.js';

function lostItem(n: number): Item {
  return { ts: Number.NaN, type: 0, flags: 0, a: 0, b: 0, c: 0, lost: n };
}

/** The events of one stream, with notices of what was lost. */
export class StreamItems implements ItemSource {
  private readonly pages: StreamPages;
  private readonly cursor: EventCursor;
  private expected: number;
  private pendingLost = 0;

  constructor(file: TraceFile, s: FileStream) {
    this.expected = s.info.from ?? 0;
    this.pages = file.pages(s);
    this.cursor = new EventCursor(pageFormatFor(s.info.pageBytes));
  }

  next(): Item | null {
    for (;;) {
      if (this.pendingLost > 0) {
        const n = this.pendingLost;
        this.pendingLost = 0;
        return lostItem(n);
      }
      if (this.cursor.step()) return itemOf(this.cursor);
      const st = this.pages.next();
      if (st === PAGE_END) return null;
      if (st === PAGE_DROPPED) {
        this.pendingLost += this.pages.dropped;
        continue;
      }
      const entries = this.cursor.load(this.pages.data, this.pages.base);
      const serial = this.cursor.serial + 1;
      if (serial > this.expected) this.pendingLost += serial - this.expected;
      this.expected = Math.max(this.expected, serial + entries);
    }
  }
}

/** Several sources one after the other. */
function chain(sources: (() => ItemSource)[]): ItemSource {
  let i = 0;
  let cur: ItemSource | null = null;
  return {
    next() {
      for (;;) {
        if (cur === null) {
          const open = sources[i++];
          if (open === undefined) return null;
          cur = open();
        }
        const it = cur.next();
        if (it !== null) return it;
        cur = null;
      }
    },
  };
}

export interface FileThread extends ThreadEvents {
  process: FileProcess;
  streams: FileStream[];
}

/** A process's name for viewers: its script's file name, or `node`. */
export function processName(p: FileProcess): string {
  const script = p.info.argv.slice(1).find((a) => !a.startsWith('-'));
  return script === undefined ? 'node' : script.replace(/^.*\//, '');
}

/** The file's threads: processes in the order they joined the recording, threads by id. */
export function fileThreads(file: TraceFile): FileThread[] {
  const multi = file.processes.length > 1;
  const out: FileThread[] = [];
  for (const p of file.processes) {
    const byThread = new Map<number, FileStream[]>();
    for (const s of p.streams) {
      const l = byThread.get(s.info.threadId) ?? [];
      l.push(s);
      byThread.set(s.info.threadId, l);
    }
    const names = p.names;
    const site = (id: number): string => names[id] ?? `site#${id}`;
    for (const tid of [...byThread.keys()].sort((a, b) => a - b)) {
      const streams = byThread.get(tid)!.sort((a, b) => a.info.gen - b.info.gen);
      const last = streams[streams.length - 1]!.info;
      const view: ThreadView = {
        pid: p.info.pid, threadId: tid, name: last.name, counts: last.clock === 'counter', site,
        where: multi ? `Thread:${p.info.pid}/${tid}` : `Thread:${tid}`,
      };
      out.push({ view, process: p, streams, open: () => chain(streams.map((s) => () => new StreamItems(file, s))) });
    }
  }
  return out;
}

/** Events held and written (held + lost) over `threads`, for the text header. */
export function fileTotals(threads: readonly FileThread[]): { entries: number; written: number; threads: number; lost: number } {
  let entries = 0;
  let lost = 0;
  for (const t of threads) {
    for (const s of t.streams) {
      entries += s.events;
      lost += s.end !== null ? s.end.overrun + s.end.dropped : s.dropped;
    }
  }
  return { entries, written: entries + lost, threads: threads.length, lost };
}
