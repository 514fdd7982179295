/**
 * The OTLP export worker: a thread of its own that follows every traced
 * thread's ring, rebuilds the function_graph calls, decides which become
 * spans and sends them with the OpenTelemetry OTLP/HTTP (protobuf)
 * exporter. The traced threads only write their rings, as with any tracer.
 *
 * Owns: one follower (ring/follower.ts) per ring, feeding the export
 * pipeline (pipeline.ts). Invariants:
 * - it reads the rings without consuming them: `trace` and `trace_pipe`
 *   see the same events as without it (a streaming `jsftrace record`, whose
 *   drain consumes them, runs the export in the drain instead: exporter.ts);
 * - it is not traced and joins no tracing instance: it is started without
 *   jsftrace/register and imports neither the core's entry nor the tracer
 *   callbacks (only the session's words, the rings and the site records);
 * - everything it reads ends in a counter of trace_stat/otlp (stats-layout.ts);
 * - a last export is asked for through the shared FLUSH_REQ word (a thread at
 *   process exit cannot wait for a message) and answered in FLUSH_DONE.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { followRing, READ_EVENT, READ_LOST, READ_RETIRED, type FollowReader } from '../../ring/index.js';
import { currentRings } from '../session.js';
import type { ThreadCalls } from './assemble.js';
import { feedEvent } from './feed.js';
import { ExportPipeline } from './pipeline.js';
import { I_FLUSH_DONE, I_FLUSH_REQ, Stats } from './stats-layout.js';
import type { ExportSettings, ToWorker, FromWorker } from './messages.js';

const POLL_MS = 50;
/** Events read from one ring per poll, so a busy thread does not hold up the others' or the sends. */
const READ_BUDGET = 200_000;

const data = workerData as { stats: SharedArrayBuffer; settings: ExportSettings; pid: number };
const stats = new Stats(data.stats);
const port = parentPort!;

function post(m: FromWorker): void {
  port.postMessage(m);
}

interface Followed {
  reader: FollowReader;
  calls: ThreadCalls;
}

const pipeline = new ExportPipeline(stats, data.settings, data.pid, {
  error: (message) => post({ kind: 'error', message }),
  notice: (message) => post({ kind: 'notice', message }),
});
const followed = new Map<SharedArrayBuffer, Followed>();

/** New settings: what is queued goes out the old way first; the calls under way carry on. */
async function reconfigure(s: ExportSettings): Promise<void> {
  await poll(false);
  await pipeline.reconfigure(s);
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
  pipeline.refreshThresh();
  const rings = await currentRings(final ? 200 : 0);
  const live = new Set<SharedArrayBuffer>();
  for (const r of rings) {
    if (followed.has(r.ring.sab)) {
      live.add(r.ring.sab);
      continue;
    }
    const calls = pipeline.threadCalls(r.threadId, r.name, r.ring);
    if (calls === null) continue;
    live.add(r.ring.sab);
    followed.set(r.ring.sab, { reader: followRing(r.ring), calls });
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
  pipeline.tick();
}

/** Reads everything there is and sends it; `closing`: calls still open end now (their end unknown). */
async function finalExport(closing: boolean): Promise<void> {
  await poll(closing);
  await pipeline.drain();
}

let timer: ReturnType<typeof setTimeout> | null = null;
function schedule(): void {
  timer = setTimeout(() => {
    void poll().then(schedule, (e: unknown) => {
      pipeline.error(`reading the rings: ${e instanceof Error ? e.message : String(e)}`);
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
    void reconfigure(m.settings).catch((e: unknown) => pipeline.error(e instanceof Error ? e.message : String(e)));
  } else if (m.kind === 'stop') {
    if (timer !== null) clearTimeout(timer);
    void finalExport(true).then(() => pipeline.shutdown()).finally(() => post({ kind: 'stopped' }));
  }
});

watchFlush(Atomics.load(stats.i32, I_FLUSH_REQ));
schedule();
post({ kind: 'ready' });
