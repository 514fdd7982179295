/**
 * The control side of the OTLP export (function_graph's `otlp` option):
 * the settings the otlp/ control files hold, the export worker's start and
 * stop, a last export when the process exits, and trace_stat/otlp.
 *
 * Owns: the settings and the export's reader in this process: its own
 * worker, which follows the rings, or a host that already reads every
 * event (ExportHost: the drain of a streaming `jsftrace record`, which
 * consumes the rings; a follower beside it would find most events gone).
 * Invariants:
 * - the export runs exactly while function_graph is the current tracer with
 *   options/otlp set (tracers.ts starts and stops it at those switches);
 * - it runs in the host whenever one is registered: a host registered (or
 *   released) while the export runs takes it over (or hands it back);
 * - a setting is checked whole before it changes anything (EINVAL), and a
 *   running worker gets the new settings, after sending what it had queued
 *   the old way;
 * - at process exit the thread that started the worker asks it for a last
 *   export and waits for it at most EXIT_WAIT_MS, then says on stderr how
 *   many spans went unsent; the program's exit is never held longer (a
 *   host makes its last export at its own end, bounded alike, and then
 *   calls exportEnded());
 * - this file loads no OpenTelemetry code: a traced program pays for it
 *   only in the worker, and only once the export is on.
 */

import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fail } from '../../shared/errors.js';
import { flushThread } from '../session.js';
import { EXIT_WAIT_MS, NO_API_NOTICE, type ExportSettings, type FromWorker, type ToWorker } from './messages.js';
import { defaultSamplerSpec, parseSamplerSpec } from './sampler-spec.js';
import { COUNTERS, createStats, I_FLUSH_DONE, I_FLUSH_REQ, Stats } from './stats-layout.js';
import { atExit } from '../../shared/exit-hooks.js';
import { ClearTimeout, DateNow, SetTimeout } from '../../shared/builtins.js';

/**
 * Worker options with this key set are left as given by jsftrace's Worker
 * proxy (instrument/hooks/propagate.ts): no jsftrace/register in the worker.
 */
const UNTRACED_WORKER = Symbol.for('jsftrace.untracedWorker');

/** How long a start or stop waits for the worker. */
const WORKER_WAIT_MS = 10_000;

let settings: ExportSettings | null = null;
/** The endpoint as it was written (otlp/endpoint reads it back). */
let endpointText = '';
let worker: Worker | null = null;
/** The host that runs the export instead of a worker, when one is registered. */
let host: ExportHost | null = null;
/** The export runs in the host. */
let hosted = false;
let stats: Stats | null = null;
let lastError = '';
let exitHook = false;
let told = '';

/** A notice (once each): that spans begin their own traces is something a user must know. */
function tell(message: string, atExit = false): void {
  if (told.includes(message)) return;
  told += message;
  if (atExit) writeSync(2, `jsftrace: ${message}\n`);
  else process.emitWarning(message, { code: 'JSFTRACE_OTLP' });
}

function current(): ExportSettings {
  settings ??= { url: '', serviceName: '', sampler: defaultSamplerSpec(), rateLimit: 0 };
  return settings;
}

/**
 * An OTLP/HTTP endpoint as the exporter's URL: a base (`http://host:4318`,
 * as OTEL_EXPORTER_OTLP_ENDPOINT) gets `/v1/traces`; a URL with a path is
 * taken as the traces URL itself. '' is the exporter's default.
 */
export function tracesUrl(text: string): string {
  const t = text.trim();
  if (t === '') return '';
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    return fail('EINVAL', `otlp/endpoint: "${t}" is not a URL (http://host:4318)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail('EINVAL', `otlp/endpoint: ${u.protocol} is not http: or https: (OTLP/HTTP)`);
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/v1/traces';
  return u.href;
}

function changed(next: ExportSettings): void {
  settings = next;
  worker?.postMessage({ kind: 'settings', settings: next } satisfies ToWorker);
  if (hosted) host!.settings(next);
}

/**
 * A reader that already takes every event of this process and runs the
 * export itself (the drain of a streaming record). It counts in the stats
 * buffer it is given and reports through exportMessage().
 */
export interface ExportHost {
  /** Starts the export; resolves once it reads. */
  start(stats: SharedArrayBuffer, settings: ExportSettings): Promise<void>;
  settings(s: ExportSettings): void;
  /** Stops the export once it has read what the rings hold now and sent it. */
  stop(): Promise<void>;
}

/**
 * Registers (or, with null, releases) the host. A running export moves:
 * to the host from the worker, or back to a worker when the host goes
 * (a recording that could not reach its recorder).
 */
export async function setExportHost(h: ExportHost | null): Promise<void> {
  const running = worker !== null || hosted;
  if (running) await stopExport();
  host = h;
  if (running) await startExport();
}

/** What the host reports: errors (shown in trace_stat/otlp) and notices (said once). */
export function exportMessage(m: FromWorker): void {
  if (m.kind === 'error') lastError = m.message;
  else if (m.kind === 'notice') tell(m.message);
}

export function setEndpoint(text: string): void {
  const url = tracesUrl(text);
  endpointText = text.trim();
  changed({ ...current(), url });
}

export function readEndpoint(): string {
  return `${endpointText}\n`;
}

export function setServiceName(text: string): void {
  const t = text.trim();
  if (/[\x00-\x1f]/.test(t) || t.length > 255) fail('EINVAL', 'otlp/service_name: at most 255 characters on one line');
  changed({ ...current(), serviceName: t });
}

export function readServiceName(): string {
  return `${current().serviceName}\n`;
}

export function setSampler(text: string): void {
  changed({ ...current(), sampler: parseSamplerSpec(text) });
}

export function readSampler(): string {
  return `${current().sampler}\n`;
}

export function setRateLimit(n: number): void {
  if (!Number.isInteger(n) || n < 0) fail('EINVAL', `otlp/rate_limit: ${n} is not a whole number of spans a second`);
  changed({ ...current(), rateLimit: n });
}

export function readRateLimit(): string {
  return `${current().rateLimit}\n`;
}

function waitFor(w: Worker, kind: FromWorker['kind'], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = SetTimeout(() => {
      cleanup();
      reject(new Error(`the OTLP export worker did not ${what} within ${WORKER_WAIT_MS} ms`));
    }, WORKER_WAIT_MS);
    const onMessage = (m: FromWorker): void => {
      if (m.kind !== kind) return;
      cleanup();
      resolve();
    };
    const onExit = (): void => {
      cleanup();
      reject(new Error(`the OTLP export worker ended before it could ${what}${lastError === '' ? '' : ` (${lastError})`}`));
    };
    const cleanup = (): void => {
      ClearTimeout(timer);
      w.off('message', onMessage);
      w.off('exit', onExit);
    };
    w.on('message', onMessage);
    w.once('exit', onExit);
  });
}

/** Starts the export worker (nothing when it runs). */
export async function startExport(): Promise<void> {
  if (worker !== null || hosted) return;
  stats = new Stats(createStats());
  lastError = '';
  if (!exitHook) {
    exitHook = true;
    atExit(lastExport);
  }
  if (host !== null) {
    hosted = true;
    try {
      await host.start(stats.i32.buffer as SharedArrayBuffer, current());
    } catch (e) {
      hosted = false;
      fail('EIO', (e as Error).message);
    }
    return;
  }
  // No jsftrace/register in it: its own code and the OpenTelemetry packages
  // it loads are not traced. Not from execArgv ([]), nor from NODE_OPTIONS,
  // which a worker applies from its environment (`jsftrace record` puts
  // jsftrace/register there: the worker then traced itself, and its spans
  // never left); and should register be loaded all the same (a preload of
  // the program's that requires it), the marker makes it do nothing.
  const env: Record<string, string | undefined> = { ...process.env };
  delete env['NODE_OPTIONS'];
  const w = new Worker(new URL('./worker.js', import.meta.url), Object.assign({
    execArgv: [], env, workerData: { jsftraceOwnThread: true, stats: stats.i32.buffer, settings: current(), pid: process.pid },
  }, { [UNTRACED_WORKER]: true }));
  w.on('message', (m: FromWorker) => {
    if (m.kind === 'error') lastError = m.message;
    else if (m.kind === 'notice') tell(m.message);
  });
  w.on('error', (e) => {
    lastError = `the export worker failed: ${e.message}`;
  });
  w.once('exit', () => {
    if (worker === w) worker = null;
  });
  worker = w;
  try {
    await waitFor(w, 'ready', 'start');
  } catch (e) {
    worker = null;
    await w.terminate();
    fail('EIO', (e as Error).message);
  }
  // The program ends when it would have: the worker does not hold it.
  w.unref();
}

/** Stops the export worker after it has sent what it holds. */
export async function stopExport(): Promise<void> {
  if (hosted) {
    hosted = false;
    flushThread(); // this thread's last events, published for the host's last read
    try {
      await host!.stop();
    } catch (e) {
      lastError = (e as Error).message;
    }
    return;
  }
  const w = worker;
  if (w === null) return;
  worker = null;
  w.ref(); // held until it has sent what it had
  flushThread(); // this thread's last events, published for the worker's last read
  const stopped = waitFor(w, 'stopped', 'stop');
  w.postMessage({ kind: 'stop' } satisfies ToWorker);
  try {
    await stopped;
  } catch (e) {
    lastError = (e as Error).message;
  } finally {
    await w.terminate();
  }
}

export function exportRunning(): boolean {
  return worker !== null || hosted;
}

/** The host made its last export (at process exit): say what went unsent. */
export function exportEnded(): void {
  if (!hosted || stats === null) return;
  hosted = false;
  saySent(true);
}

/** What went unsent, and the notice a user must not miss; at exit, straight to stderr. */
function saySent(finished: boolean): void {
  if (stats === null) return;
  if (stats.get('roots_no_api') > 0) {
    tell(NO_API_NOTICE, true);
  }
  const unsent = stats.get('queued');
  if (!finished || unsent > 0) {
    writeSync(2, `jsftrace: otlp: the last export did not finish within ${EXIT_WAIT_MS} ms; ${unsent} spans were not sent`
      + `${lastError === '' ? '' : ` (${lastError})`}\n`);
  }
}

/** At exit: the worker sends what the rings hold, while this thread waits (bounded). A host does this at its own end. */
function lastExport(): void {
  if (worker === null || stats === null) return;
  flushThread();
  const i32 = stats.i32;
  const req = Atomics.add(i32, I_FLUSH_REQ, 1) + 1;
  Atomics.notify(i32, I_FLUSH_REQ);
  const end = DateNow() + EXIT_WAIT_MS;
  for (let done = Atomics.load(i32, I_FLUSH_DONE); done !== req; done = Atomics.load(i32, I_FLUSH_DONE)) {
    const left = end - DateNow();
    if (left <= 0) break;
    Atomics.wait(i32, I_FLUSH_DONE, done, left);
  }
  saySent(Atomics.load(i32, I_FLUSH_DONE) === req);
}

/** trace_stat/otlp: where the spans go, and what became of every call. */
export function exportStatusText(): string {
  const s = current();
  const lines = [
    `state: ${worker !== null ? 'exporting' : hosted ? 'exporting (read by the recording\'s drain)' : 'off'}`,
    `endpoint: ${s.url === '' ? '(OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318/v1/traces)' : s.url}`,
    `service.name: ${s.serviceName === '' ? '(OTEL_SERVICE_NAME, else unknown_service:node)' : s.serviceName}`,
    `sampler: ${s.sampler}`,
    `rate_limit: ${s.rateLimit === 0 ? 'none' : `${s.rateLimit} spans/s`}`,
  ];
  const w = Math.max(...COUNTERS.map(([n]) => n.length));
  for (const [name, what] of COUNTERS) lines.push(`${name.padEnd(w)} ${String(stats?.get(name) ?? 0).padStart(12)}  ${what}`);
  if (lastError !== '') lines.push(`last error: ${lastError}`);
  return `${lines.join('\n')}\n`;
}
