/**
 * What a process recorded by `jsftrace record` does in its main thread:
 * starts its drain (drain.ts) before the program's first line, puts the
 * rings in wait mode (streaming) or leaves them overwriting (flight
 * recorder), and at the process's end hands the drain its last events and
 * waits for it.
 *
 * Owns: the drain's start and the process's end. Invariants:
 * - the program starts only once the drain is connected to the recorder
 *   (or has failed to, which is said once on stderr and costs the program
 *   nothing more), so a child process that its parent waits for is in the
 *   recording before it runs;
 * - the drain is jsftrace's own thread: started as an `eval` worker with
 *   a marker in its workerData (register does not trace it; eval workers
 *   run no --import preloads), unreferenced (it never keeps the program
 *   alive), with its errors handled here;
 * - at the end (exit, or a signal the program does not handle:
 *   process-hooks.ts; or process.execve, through its diagnostics channel)
 *   this thread publishes its last events, asks the drain to finish and
 *   waits for it (bounded by END_WAIT_MS), before the process goes;
 * - in a streaming recording the drain is the OTLP export's host
 *   (tracers/otlp/exporter.ts, ExportHost): registered before the
 *   recording's settings are applied, so an export they turn on starts in
 *   the drain, never in a follower that the drain would read ahead of;
 *   when the drain cannot run (no recorder), the export goes back to its
 *   own worker.
 */

import { Worker } from 'node:worker_threads';
import { subscribe } from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { constants } from 'node:os';
import { C_DOORBELL, ctl, lastEvents, setRingMode, settleAtExit } from '../tracers/session.js';
import { exportEnded, exportMessage, setExportHost, type ExportHost } from '../tracers/otlp/exporter.js';
import type { ExportSettings } from '../tracers/otlp/messages.js';
import { installEndHooks } from './process-hooks.js';
import {
  CONNECTED, HOW_EXECVE, HOW_EXIT, HOW_SIGNAL, NOTE_AT, NOTE_MAX_BYTES, S_CODE, S_CONNECTED, S_DONE, S_HOW, S_NOTE_BYTES, S_STOP, SYNC_WORDS,
  type DrainData, type FromDrain, type ToDrain,
} from './sync.js';
import { ClearTimeout, SetTimeout } from '../shared/builtins.js';
import { workingDirRemoved } from '../shared/working-dir.js';

const drainUrl = new URL('./drain.js', import.meta.url).href;
const drainPreload = fileURLToPath(new URL('./drain-preload.cjs', import.meta.url));
/** How long the drain may take to connect, and to finish at the end. */
const CONNECT_WAIT_MS = 10_000;
const END_WAIT_MS = 30_000;
/** How long an export's start or stop in the drain may take. */
const EXPORT_WAIT_MS = 10_000;

/** The drain, once started and connected; null before (an export turned on then waits in `pendingExport`). */
let drain: Worker | null = null;
let pendingExport: { stats: SharedArrayBuffer; settings: ExportSettings } | null = null;
const answers: { kind: 'otlp-started' | 'otlp-stopped'; done: (m: FromDrain) => void }[] = [];

function ask(w: Worker, m: ToDrain, answer: 'otlp-started' | 'otlp-stopped'): Promise<FromDrain> {
  return new Promise((resolve, reject) => {
    const timer = SetTimeout(() => {
      const i = answers.indexOf(entry);
      if (i >= 0) answers.splice(i, 1);
      reject(new Error(`the recording's drain did not answer within ${EXPORT_WAIT_MS} ms`));
    }, EXPORT_WAIT_MS);
    const entry = { kind: answer, done: (a: FromDrain): void => {
      ClearTimeout(timer);
      resolve(a);
    } };
    answers.push(entry);
    w.postMessage(m);
  });
}

function fromDrain(m: FromDrain): void {
  if (m.kind === 'otlp-started' || m.kind === 'otlp-stopped') {
    const i = answers.findIndex((a) => a.kind === m.kind);
    if (i >= 0) answers.splice(i, 1)[0]!.done(m);
  } else {
    exportMessage(m);
  }
}

/** The OTLP export run by the drain. */
const host: ExportHost = {
  async start(stats, settings) {
    if (drain === null) {
      pendingExport = { stats, settings };
      return;
    }
    const a = await ask(drain, { kind: 'otlp-start', stats, settings }, 'otlp-started');
    if (a.kind === 'otlp-started' && a.error !== undefined) throw new Error(`the OTLP export did not start in the recording's drain: ${a.error}`);
  },
  settings(settings) {
    if (drain === null) {
      if (pendingExport !== null) pendingExport.settings = settings;
    } else {
      drain.postMessage({ kind: 'otlp-settings', settings } satisfies ToDrain);
    }
  },
  async stop() {
    if (drain === null) {
      pendingExport = null;
      return;
    }
    await ask(drain, { kind: 'otlp-stop' }, 'otlp-stopped');
  },
};

/**
 * Makes the drain of a streaming recording the OTLP export's host; called
 * before the recording's settings are applied (control/startup.ts).
 */
export function hostExport(): Promise<void> {
  return setExportHost(host);
}

/** The drain is gone or never came: an export goes back to its own worker. */
function releaseHost(): void {
  drain = null;
  setExportHost(null).catch((e: unknown) => process.stderr.write(`jsftrace: otlp: ${(e as Error).message}\n`));
}

export interface RecorderOptions {
  /** The recorder's socket (JSFTRACE_RECORD). */
  socket: string;
  /** Keep only what the rings hold at the end (they overwrite meanwhile). */
  flight: boolean;
  /** Wait mode's bound: how long a writer waits for the drain at a full ring. */
  waitMs: number;
  /** At the end: the filter patterns that matched no function in this process, sent with its end. */
  unmatched?: () => string[];
}

/** Starts recording this process; false when the recorder could not be reached. */
export function startRecorder(opts: RecorderOptions): boolean {
  const sync = new Int32Array(new SharedArrayBuffer(SYNC_WORDS * 4));
  if (!opts.flight) setRingMode('wait', opts.waitMs);
  const data: DrainData = {
    jsftraceOwnThread: true, socket: opts.socket, sync: sync.buffer as SharedArrayBuffer, flight: opts.flight, argv: process.argv,
    otlp: opts.flight ? null : pendingExport,
  };
  pendingExport = null;
  // No execArgv and no NODE_OPTIONS (a worker applies its environment's),
  // so that the program's own --require preloads and loaders do not run
  // again in this thread.
  const env: Record<string, string | undefined> = { ...process.env };
  delete env['NODE_OPTIONS'];
  // Where the working directory was removed, Node's worker bootstrap
  // throws reading it (ENOENT uv_cwd, a plain `new Worker` alike), and an
  // eval script's import() cannot be resolved against it; a worker given a
  // file and a preload starts there (Node 20 to 26): the drain's file, with
  // a preload that does nothing.
  const worker = workingDirRemoved()
    ? new Worker(new URL(drainUrl), { execArgv: ['--require', drainPreload], env, workerData: data, name: 'jsftrace-drain' })
    : new Worker(`import(${JSON.stringify(drainUrl)})`, { eval: true, execArgv: [], env, workerData: data, name: 'jsftrace-drain' });
  worker.on('error', (e) => {
    process.stderr.write(`jsftrace: the recording of this process stopped: ${e.message}\n`);
    setRingMode('overwrite');
    Atomics.store(sync, S_DONE, 1);
    if (drain === worker) releaseHost();
  });
  worker.on('message', fromDrain);
  worker.unref();
  Atomics.wait(sync, S_CONNECTED, 0, CONNECT_WAIT_MS);
  if (Atomics.load(sync, S_CONNECTED) !== CONNECTED) {
    setRingMode('overwrite');
    releaseHost();
    return false;
  }
  drain = worker;
  let ended = false;
  let endedAtExecve = false;
  const end = (how: number, code: number): void => {
    if (ended) {
      // The recording ended at a process.execve that then failed (it throws
      // on Node 26; earlier lines abort): the program went on unrecorded.
      if (endedAtExecve) process.stderr.write('jsftrace: process.execve failed after this process\'s recording had ended: its later events are not in the trace\n');
      endedAtExecve = false;
      return;
    }
    ended = true;
    try {
      const note = Buffer.from(JSON.stringify(opts.unmatched?.() ?? []), 'utf8');
      if (note.length <= NOTE_MAX_BYTES) {
        new Uint8Array(sync.buffer, NOTE_AT * 4, note.length).set(note);
        Atomics.store(sync, S_NOTE_BYTES, note.length);
      }
    } catch {
      // a warning must not keep the trace from being saved
    }
    // The runtime's last events (a collection not yet reported), then every
    // thread's events published (or, for one that cannot answer in time,
    // counted as unsaved) before the last read.
    lastEvents();
    settleAtExit();
    Atomics.store(sync, S_HOW, how);
    Atomics.store(sync, S_CODE, code);
    Atomics.store(sync, S_STOP, 1);
    Atomics.add(ctl, C_DOORBELL, 1);
    Atomics.notify(ctl, C_DOORBELL);
    Atomics.wait(sync, S_DONE, 0, END_WAIT_MS);
    exportEnded();
  };
  installEndHooks({
    onExit: (code) => end(HOW_EXIT, code),
    onSignal: (sig) => end(HOW_SIGNAL, constants.signals[sig]),
  });
  // process.execve (Node 22.15, 23.11 and later) replaces the program with
  // no exit event and no cleanup: its channel, published once the call's
  // arguments are checked and just before the system call, is the last
  // moment the trace can be saved. A failed execve returns to the program,
  // whose events from then on are not saved (the recording has ended).
  subscribe('process.execve', () => {
    end(HOW_EXECVE, 0);
    endedAtExecve = true;
    // No drain reads the rings any more: a writer must not wait for one.
    setRingMode('overwrite');
  });
  return true;
}
