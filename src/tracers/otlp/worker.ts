/**
 * The OTLP export worker: a thread of its own that follows every traced
 * thread's ring, rebuilds the function_graph calls, decides which become
 * spans and sends them with the OpenTelemetry OTLP/HTTP (protobuf)
 * exporter. The traced threads only write their rings, as with any tracer.
 *
 * Owns: one follower (ring/follower.ts) and one call reconstruction per
 * ring, the span maker and the export queue. Invariants:
 * - it reads the rings without consuming them: `trace`, `trace_pipe` and
 *   `jsftrace record` see the same events as without it;
 * - it is not traced and joins no tracing instance: it is started without
 *   jsftrace/register and imports neither the core's entry nor the tracer
 *   callbacks (only the session's words, the rings and the site records);
 * - everything it reads ends in a counter of trace_stat/otlp (stats-layout.ts);
 * - a last export is asked for through the shared FLUSH_REQ word (a thread at
 *   process exit cannot wait for a message) and answered in FLUSH_DONE.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CLOCK_COUNTER, followRing, READ_EVENT, READ_LOST, READ_RETIRED, type FollowReader } from '../../ring/index.js';
import { instance } from '../../core/instance.js';
import { record } from '../../core/records.js';
import { C_THRESH_US, ctl, currentRings } from '../session.js';
import type { ThreadCalls } from './assemble.js';
import { Batcher, DEFAULT_BATCH } from './batcher.js';
import { feedEvent } from './feed.js';
import { spanResource, SCOPE } from './resource.js';
import { samplerOf } from './sampler.js';
import { SpanMaker, wallClockOf, type SiteInfo, type SpanSettings } from './spans.js';
import { I_FLUSH_DONE, I_FLUSH_REQ, Stats } from './stats-layout.js';
import { NO_API_NOTICE, type ExportSettings, type ToWorker, type FromWorker } from './messages.js';

const POLL_MS = 50;
/** Events read from one ring per poll, so a busy thread does not hold up the others' or the sends. */
const READ_BUDGET = 200_000;

const data = workerData as { stats: SharedArrayBuffer; settings: ExportSettings; pid: number };
const stats = new Stats(data.stats);
const inst = instance();
const port = parentPort!;

function post(m: FromWorker): void {
  port.postMessage(m);
}

function siteInfo(id: number): SiteInfo {
  try {
    return record(inst, id);
  } catch {
    return { name: `site#${id}`, file: '', line: 0, column: 0, package: '' };
  }
}

let lastError = '';
function onError(message: string): void {
  if (message === lastError) return;
  lastError = message;
  post({ kind: 'error', message });
}

interface Followed {
  reader: FollowReader;
  calls: ThreadCalls;
}

function spanSettingsOf(s: ExportSettings): SpanSettings {
  return {
    threshNs: Atomics.load(ctl, C_THRESH_US) * 1000, sampler: samplerOf(s.sampler), ratePerSecond: s.rateLimit,
    resource: spanResource(s.serviceName, data.pid), scope: SCOPE,
  };
}

function batcherOf(s: ExportSettings): Batcher {
  // The exporter's own defaults when no URL is set: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT, localhost:4318.
  return new Batcher(new OTLPTraceExporter(s.url === '' ? {} : { url: s.url }), stats, DEFAULT_BATCH, onError);
}

const spanSettings = spanSettingsOf(data.settings);
let batcher = batcherOf(data.settings);
let toldNoApi = false;
const maker = new SpanMaker(spanSettings, siteInfo, {
  span: (sp) => batcher.add(sp),
  count: (n, k) => {
    stats.add(n, k);
    if (n === 'roots_no_api' && !toldNoApi) {
      toldNoApi = true;
      post({ kind: 'notice', message: NO_API_NOTICE });
    }
  },
});
const followed = new Map<SharedArrayBuffer, Followed>();

/** New settings: what is queued goes out the old way first; the calls under way carry on. */
async function reconfigure(s: ExportSettings): Promise<void> {
  await finalExport(false);
  const old = batcher;
  maker.reconfigure(spanSettingsOf(s));
  batcher = batcherOf(s);
  await old.shutdown();
}

/** Reads up to `budget` events; returns how the reading stopped (READ_EMPTY, READ_RETIRED, or READ_EVENT: budget spent). */
function readRing(f: Followed, budget: number): number {
  const r = f.reader;
  for (let n = 0; n < budget; n++) {
    const st = r.next();
    if (st === READ_EVENT) {
      stats.add('events_read');
      feedEvent(f.calls, r.event);
    } else if (st === READ_LOST) {
      f.calls.lostEvents(r.lost);
    } else {
      return st;
    }
  }
  return READ_EVENT;
}

let polls: Promise<void> = Promise.resolve();

/** Reads what every ring has now; `final`: and ends every call still open. One at a time, in order. */
function poll(final = false): Promise<void> {
  const p = polls.then(() => pollOnce(final));
  polls = p.catch(() => undefined);
  return p;
}

async function pollOnce(final: boolean): Promise<void> {
  spanSettings.threshNs = Atomics.load(ctl, C_THRESH_US) * 1000;
  const rings = await currentRings(final ? 200 : 0);
  const live = new Set<SharedArrayBuffer>();
  for (const r of rings) {
    // A counter clock has no time to put on spans.
    if (r.ring.clockId === CLOCK_COUNTER) {
      onError('trace_clock is counter: its readings are not times, so no spans are made (use local, global or mono)');
      continue;
    }
    live.add(r.ring.sab);
    if (!followed.has(r.ring.sab)) {
      followed.set(r.ring.sab, { reader: followRing(r.ring), calls: maker.threadCalls(r.threadId, r.name, wallClockOf(r.ring)) });
    }
  }
  for (const [sab, f] of followed) {
    const st = readRing(f, final ? Infinity : READ_BUDGET);
    // A ring of an older buffer generation (cleared) or retired: what it held is read; its open calls end.
    if ((!live.has(sab) && st !== READ_EVENT) || st === READ_RETIRED) {
      f.calls.closeAll();
      followed.delete(sab);
    } else if (final) {
      f.calls.closeAll();
    }
  }
  batcher.tick();
}

/** Reads everything there is and sends it; `closing`: calls still open end now (their end unknown). */
async function finalExport(closing: boolean): Promise<void> {
  await poll(closing);
  await batcher.drain();
}

let timer: ReturnType<typeof setTimeout> | null = null;
function schedule(): void {
  timer = setTimeout(() => {
    void poll().then(schedule, (e: unknown) => {
      onError(`reading the rings: ${e instanceof Error ? e.message : String(e)}`);
      schedule();
    });
  }, POLL_MS);
}

/** Atomics.waitAsync (ES2024; in V8 since Node 16), not in this build's lib. */
interface AsyncWait {
  waitAsync(a: Int32Array, i: number, v: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

/** Answers FLUSH_REQ: a thread at process exit waits (Atomics.wait) for FLUSH_DONE. */
function watchFlush(seen: number): void {
  const w = (Atomics as unknown as AsyncWait).waitAsync(stats.i32, I_FLUSH_REQ, seen);
  const go = (): void => {
    const req = Atomics.load(stats.i32, I_FLUSH_REQ);
    void finalExport(true).finally(() => {
      Atomics.store(stats.i32, I_FLUSH_DONE, req);
      Atomics.notify(stats.i32, I_FLUSH_DONE);
      watchFlush(req);
    });
  };
  if (w.async) void w.value.then(go);
  else go();
}

port.on('message', (m: ToWorker) => {
  if (m.kind === 'settings') {
    void reconfigure(m.settings).catch((e: unknown) => onError(e instanceof Error ? e.message : String(e)));
  } else if (m.kind === 'stop') {
    if (timer !== null) clearTimeout(timer);
    void finalExport(true).then(() => batcher.shutdown()).finally(() => post({ kind: 'stopped' }));
  }
});

watchFlush(Atomics.load(stats.i32, I_FLUSH_REQ));
schedule();
post({ kind: 'ready' });
