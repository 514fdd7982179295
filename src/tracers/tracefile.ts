/**
 * The trace file (`jsftrace record -o`, `jsftrace extract`): what a
 * process's buffers hold, taken out of the process so that `jsftrace
 * report` renders it elsewhere and later, with the same outputs as the
 * live files.
 *
 * Owns: the file layout (drawn in docs/ring-format.md, "Trace file") and
 * its version. Invariants:
 * - the file carries everything its readers need and nothing of the
 *   process: the rings' own bytes (self-describing, ring format), the event
 *   formats as text, the site names, the thread names, the profiler tables;
 * - a reader refuses a file of another major version, and a file whose
 *   event formats differ from this build's (ids or fields), instead of
 *   misreading it;
 * - snapshotting never stops or slows writers: a ring is copied as it is;
 *   its reader sees the events committed before the copy.
 *
 * Layout: gzip of
 *   "JSFTRACE" (8 bytes) | u32 major | u32 minor | u32 n = JSON length |
 *   JSON header (n bytes, UTF-8) | the blobs the header lists, in order.
 */

import { promisify } from 'node:util';
import { gunzipSync, gzip, gzipSync } from 'node:zlib';
import { instance, recordCount, displayName } from '../core/index.js';
import { fail } from '../shared/errors.js';
import { openRing, ringStats, type Ring } from '../ring/index.js';
import {
  C_THRESH_US, currentProfileTables, ctl, eventRegistry, OPT_DEFAULTS, options, profileGeneration,
  profileTablesNow, ringsNow, settledRings, traceClock, withOptions, type ThreadRing, type ThreadTable,
} from './session.js';
import { ROW_F64 } from './profile.js';
import { readCurrentTracer } from './tracers.js';
import { functionTrace } from './output/function.js';
import { graphTrace } from './output/graph.js';
import { perfettoJson } from './output/perfetto.js';
import { foldStacks, foldedText } from './output/folded.js';
import { flameGraphHtml } from './output/flamegraph.js';
import { timelineSvg } from './output/timeline.js';
import { threadCalls } from './output/calls.js';
import { STAT_HEADER, statText } from './output/stat.js';
import { withNames } from './output/common.js';

const gzipAsync = promisify(gzip);

export const TRACEFILE_MAJOR = 1;
export const TRACEFILE_MINOR = 1;
const MAGIC = 'JSFTRACE';

interface BlobRef {
  threadId: number;
  name: string;
  gen: number;
  bytes: number;
}

interface Header {
  tracer: string;
  clock: string;
  pid: number;
  argv: string[];
  created: string;
  threshUs: number;
  /** The option bits when the trace was taken (1.1; a 1.0 file renders with the defaults). */
  options?: number;
  /** Event formats by name: id and field names, checked against this build's. */
  events: { name: string; id: number; fields: string[] }[];
  /** Bytes of the names block (site names, one per line, in site id order). */
  namesBytes: number;
  rings: BlobRef[];
  profiles: BlobRef[];
}

export interface LoadedTrace {
  tracer: string;
  options: number;
  clock: string;
  pid: number;
  argv: string[];
  created: string;
  threshUs: number;
  names: string[];
  rings: ThreadRing[];
  profiles: { threadId: number; name: string; sab: SharedArrayBuffer }[];
}

function copyOf(sab: SharedArrayBuffer): Uint8Array {
  return new Uint8Array(sab).slice();
}

/**
 * This process's trace, every thread's current buffer and profile, as a
 * trace file. `final`: the recording ends with it (events a thread has not
 * published by then are counted as unsaved).
 */
export async function snapshotTrace(final = false): Promise<Uint8Array> {
  // Compressed off the main thread (zlib's thread pool): the program is not
  // held for the seconds a large buffer takes to deflate.
  return gzipAsync(encodeRaw(await settledRings(final), await currentProfileTables()), { level: 6 });
}

/**
 * The same at process exit, synchronously: the rings this thread has heard
 * of (a worker's ring announced in the last moments may be missing).
 */
export function snapshotTraceSync(): Uint8Array {
  return gzipSync(encodeRaw(ringsNow(), profileTablesNow()), { level: 6 });
}

/** The file's bytes before compression. */
function encodeRaw(rings: readonly ThreadRing[], allTables: readonly ThreadTable[]): Buffer {
  const gen = profileGeneration();
  const tables = allTables.filter((t) => t.gen === gen);
  const inst = instance();
  const n = recordCount(inst);
  const names: string[] = [];
  for (let id = 0; id < n; id++) names.push(displayName(inst, id));
  const namesBlob = Buffer.from(names.join('\n'), 'utf8');
  const ringBlobs = rings.map((r) => copyOf(r.ring.sab));
  const profBlobs = tables.map((t) => copyOf(t.sab));
  const header: Header = {
    tracer: readCurrentTracer().trim(),
    clock: traceClock(),
    pid: process.pid,
    argv: process.argv.slice(1),
    created: new Date().toISOString(),
    threshUs: Atomics.load(ctl, C_THRESH_US),
    options: options(),
    events: eventRegistry().all().map((e) => ({ name: e.name, id: e.id, fields: e.fields.map((f) => `${f.kind} ${f.name}`) })),
    namesBytes: namesBlob.length,
    rings: rings.map((r, i) => ({ threadId: r.threadId, name: r.name, gen: r.gen, bytes: ringBlobs[i]!.length })),
    profiles: tables.map((t, i) => ({ threadId: t.threadId, name: t.name, gen: t.gen, bytes: profBlobs[i]!.length })),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(20);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(TRACEFILE_MAJOR, 8);
  head.writeUInt32LE(TRACEFILE_MINOR, 12);
  head.writeUInt32LE(json.length, 16);
  return Buffer.concat([head, json, namesBlob, ...ringBlobs, ...profBlobs]);
}

function sabOf(buf: Buffer, at: number, bytes: number): SharedArrayBuffer {
  if (at + bytes > buf.length) fail('EINVAL', 'trace file is truncated');
  const sab = new SharedArrayBuffer(bytes);
  new Uint8Array(sab).set(buf.subarray(at, at + bytes));
  return sab;
}

/** The most a trace file may inflate to (the rings of 256 threads of 64 MiB each would be 16 GiB: far beyond). */
const MAX_INFLATED = 2 ** 31 - 1;

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isText = (v: unknown): v is string => typeof v === 'string';

function blobOk(b: unknown): b is BlobRef {
  const r = b as BlobRef;
  return typeof b === 'object' && b !== null && isCount(r.threadId) && isText(r.name) && Number.isSafeInteger(r.gen) && isCount(r.bytes);
}

/** The header's shape, checked field by field; the reason when it is not one. */
function headerProblem(h: unknown): string | null {
  if (typeof h !== 'object' || h === null) return 'the header is not an object';
  const x = h as Header;
  if (!isText(x.tracer) || !isText(x.clock) || !isText(x.created)) return 'tracer, clock or created is missing';
  if (!Number.isSafeInteger(x.pid) || !Array.isArray(x.argv) || !x.argv.every(isText)) return 'pid or argv is malformed';
  if (!isCount(x.threshUs) || !isCount(x.namesBytes)) return 'threshUs or namesBytes is malformed';
  if (x.options !== undefined && !Number.isSafeInteger(x.options)) return 'options is malformed';
  if (!Array.isArray(x.events) || !x.events.every((e) => typeof e === 'object' && e !== null && isText(e.name)
    && Number.isSafeInteger(e.id) && Array.isArray(e.fields) && e.fields.every(isText))) return 'events is malformed';
  if (!Array.isArray(x.rings) || !x.rings.every(blobOk)) return 'rings is malformed';
  if (!Array.isArray(x.profiles) || !x.profiles.every(blobOk)) return 'profiles is malformed';
  if (x.profiles.some((p) => p.bytes % (ROW_F64 * 8) !== 0 || p.bytes < ROW_F64 * 8)) return 'a profile table has a size no table has';
  return null;
}

/** Reads a trace file; EINVAL with the reason when it is not one this build reads. */
export function loadTrace(bytes: Uint8Array): LoadedTrace {
  let buf: Buffer;
  try {
    buf = gunzipSync(bytes, { maxOutputLength: MAX_INFLATED });
  } catch (e) {
    const gz = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
    return fail('EINVAL', (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
      ? 'not a jsftrace trace file (it inflates beyond 2 GiB)'
      : gz ? 'the trace file is truncated or damaged (its gzip data does not inflate)' : 'not a jsftrace trace file (not gzip data)');
  }
  if (buf.length < 20 || buf.toString('latin1', 0, 8) !== MAGIC) fail('EINVAL', 'not a jsftrace trace file (bad magic)');
  const major = buf.readUInt32LE(8);
  if (major !== TRACEFILE_MAJOR) fail('EINVAL', `trace file version ${major}.x; this jsftrace reads ${TRACEFILE_MAJOR}.x`);
  const jsonLen = buf.readUInt32LE(16);
  if (20 + jsonLen > buf.length) fail('EINVAL', 'trace file is truncated (header)');
  let h: Header;
  try {
    h = JSON.parse(buf.toString('utf8', 20, 20 + jsonLen)) as Header;
  } catch {
    return fail('EINVAL', 'trace file header is not valid JSON');
  }
  const problem = headerProblem(h);
  if (problem !== null) fail('EINVAL', `trace file header: ${problem}`);
  const reg = eventRegistry();
  for (const e of h.events) {
    const mine = reg.find(e.name);
    const same = mine !== undefined && mine.id === e.id && mine.fields.map((f) => `${f.kind} ${f.name}`).join(',') === e.fields.join(',');
    if (!same) fail('EINVAL', `trace file event "${e.name}" differs from this jsftrace's; report it with the jsftrace that recorded it`);
  }
  let at = 20 + jsonLen;
  if (at + h.namesBytes > buf.length) fail('EINVAL', 'trace file is truncated (names)');
  const names = buf.toString('utf8', at, at + h.namesBytes).split('\n');
  at += h.namesBytes;
  const rings: ThreadRing[] = [];
  for (const r of h.rings) {
    const sab = sabOf(buf, at, r.bytes);
    at += r.bytes;
    let ring: Ring;
    try {
      ring = openRing(sab);
      ringStats(ring); // reads the ring's header: a corrupt one fails here, not in a report
    } catch (e) {
      return fail('EINVAL', `trace file: the ring of thread ${r.threadId} is not readable (${(e as Error).message})`);
    }
    rings.push({ threadId: r.threadId, name: r.name, gen: r.gen, ring });
  }
  const profiles = h.profiles.map((p) => {
    const sab = sabOf(buf, at, p.bytes);
    at += p.bytes;
    return { threadId: p.threadId, name: p.name, sab };
  });
  return {
    tracer: h.tracer, options: h.options ?? OPT_DEFAULTS, clock: h.clock, pid: h.pid, argv: h.argv, created: h.created,
    threshUs: h.threshUs, names, rings, profiles,
  };
}

export const REPORT_FORMATS = ['text', 'perfetto', 'folded', 'html', 'svg', 'stat'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Events the file's rings hold (entries now, written in all). */
export function traceCounts(t: LoadedTrace): { entries: number; written: number } {
  let entries = 0;
  let written = 0;
  for (const r of t.rings) {
    const s = ringStats(r.ring);
    entries += s.entries;
    written += s.entries + s.overrun;
  }
  return { entries, written };
}

/** A loaded trace in one of the report formats, with the file's own names. */
export function renderTrace(t: LoadedTrace, format: ReportFormat): string {
  return withNames(t.names, () => withOptions(t.options, () => {
    switch (format) {
      case 'text':
        return t.tracer === 'function_graph' ? graphTrace(t.rings) : functionTrace(t.tracer, t.rings);
      case 'perfetto':
        return perfettoJson(t.rings, { pid: t.pid });
      case 'folded':
        return foldedText(foldStacks(t.rings));
      case 'html':
        return flameGraphHtml(foldStacks(t.rings), { title: `jsftrace: ${t.argv.join(' ')}`.slice(0, 200) });
      case 'svg':
        return timelineSvg(t.rings.map((r) => threadCalls(r)));
      case 'stat':
        return t.profiles.map((p) => `function${p.threadId} (${p.name}):\n${p.sab.byteLength > 0 ? statText(p.sab, t.threshUs * 1000) : STAT_HEADER}`).join('\n');
    }
  }));
}
