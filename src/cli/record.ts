/**
 * `jsftrace record [tracing options] [-o out] [--] <command...>`: runs a
 * program traced from its first line, with every node process it starts,
 * and streams their trace to one file while they run.
 *
 * Owns: the recording's options, its file and its summary. Invariants:
 * - `out` is replaced only by a complete recording of this run: the trace
 *   is written to an exclusive temporary file beside it (replace.ts) and
 *   renamed over `out` when the last traced process has ended; a run that
 *   recorded no process, or failed with nothing traced, leaves an earlier
 *   `out` as it was and says so;
 * - `-b` is checked before the program starts, against the ring's real
 *   maximum;
 * - what was lost is said, per thread, never left to be noticed.
 */

import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Collector } from '../recorder/collector.js';
import { fileHeader } from '../tracefile/encode.js';
import type { TraceFile } from '../tracefile/read.js';
import { fileThreads, fileTotals } from '../tracefile/threads.js';
import { ReplacingFile } from '../tracefile/replace.js';
import { JsftraceError } from '../shared/errors.js';
import { programArgs, UsageError, type Command } from './command.js';
import { runTraced, type Exit } from './launch.js';
import {
  checkLocally, controlWrites, OTLP_HELP, OTLP_OPTION, otlpWrites, TRACING_HELP, TRACING_OPTIONS, type ControlWrite, type TracingValues,
} from './settings.js';
import { note, size } from './term.js';

const RECORD_OPTIONS = {
  output: { type: 'string', short: 'o' },
  'max-size': { type: 'string' },
  duration: { type: 'string' },
  'flight-recorder': { type: 'boolean' },
  wait: { type: 'string' },
} as const;
const OPTIONS = { ...TRACING_OPTIONS, ...OTLP_OPTION, ...RECORD_OPTIONS } as const;

const HELP = `usage: jsftrace record [tracing options] [-o <file>] [--] <command...>

Runs <command> with every function instrumented and traced from its first
line, and every node process it starts (npm scripts, npx, child processes,
cluster workers) as well, and writes their trace to <file> while they run:
each thread's buffer is moved to the file by a reader off the program's
threads, so nothing is overwritten, however long the run. When the last
process ends it prints "recorded N events from T threads", and what was
lost, if anything. The program's stdio and exit code are its own.
'jsftrace report' reads the file.

The tracer is 'function' unless -p says otherwise, and the clock 'global'
unless -C does (threads and processes then share one time axis). <command>
is a node command line (node app.js), a script (app.js, app.mjs, app.cjs:
run with this node), or any other command (npm test): the hook goes into
NODE_OPTIONS, so every node process it starts is traced.

${TRACING_HELP}${OTLP_HELP}
Options:
  -o <file>             the trace file (default trace.jsft), mode 0600; a file's
                        name, not a directory
  --max-size <MiB>      stop recording before the file would pass this size
  --duration <s>        stop recording after this many seconds (the program runs on)
  --flight-recorder     keep only what the buffers hold when each process ends
                        (-b KiB per thread; older events are overwritten, and counted)
  --wait <ms>           how long a thread whose buffer is full waits for the
                        recorder before refusing events, which are counted
                        (default 1000; 0: never wait)
  -h, --help            this text

Examples:
  jsftrace record node app.js
  jsftrace record -p function_graph -l 'src/*' -o app.jsft -- node app.js --port 8080
  jsftrace record -p function_graph -g '*:Router.handle' -O funcgraph-proc app.mjs
  jsftrace record -l '*:mod:express' --max-size 2048 -- npm start
  jsftrace record --flight-recorder -b 8192 -- node server.js
  jsftrace record --otlp http://localhost:4318 -l 'src/*' -- node server.js
`;

export interface RecordOptions {
  maxBytes?: number;
  durationMs?: number;
  flight?: boolean;
  waitMs?: number;
}

export interface Recorded {
  exit: Exit;
  /** Null when no process was recorded (or it failed with nothing traced: `keptOld`). */
  collector: Collector | null;
  bytes: number;
  /** The program failed with nothing traced: the earlier file at `out` was left as it was. */
  keptOld?: boolean;
}

function whyNoTrace(exit: Exit): string {
  if (exit.signal !== null) return `the program was killed by ${exit.signal} before any node process of it was recorded`;
  return exit.code === 0
    ? 'no node process of the command was recorded (a node process started by it loads jsftrace through NODE_OPTIONS)'
    : `the program exited with code ${exit.code} before any node process of it was recorded`;
}

/** Runs `command` traced with `writes`, its processes recorded to `out`. */
export async function recordRun(command: string[], writes: ControlWrite[], out: string, opts: RecordOptions = {}): Promise<Recorded> {
  if (!existsSync(dirname(out))) throw new JsftraceError('ENOENT', `cannot write ${out}: its directory does not exist`);
  if (existsSync(out) && statSync(out).isDirectory()) throw new JsftraceError('EINVAL', `cannot write ${out}: it is a directory (-o takes the trace file's name, as ${join(out, 'trace.jsft')})`);
  const file = ReplacingFile.create(out);
  let collector: Collector | null = null;
  try {
    file.write(fileHeader());
    collector = await Collector.start(file, opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes });
    const c = collector;
    const record = JSON.stringify({ socket: c.socket, flight: opts.flight === true, waitMs: opts.waitMs ?? 1000 });
    const timer = opts.durationMs === undefined ? null
      : setTimeout(() => c.stop(`--duration ${opts.durationMs! / 1000} s passed`), opts.durationMs);
    let exit: Exit;
    try {
      exit = await runTraced(command, writes, record);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new JsftraceError('ENOENT', `cannot run ${JSON.stringify(command[0])}: no such command`);
      if (code === 'EACCES') throw new JsftraceError('EACCES', `cannot run ${JSON.stringify(command[0])}: permission denied`);
      throw e;
    }
    // Processes the command started may outlive it: the recording ends with the last of them.
    await c.idle();
    if (timer !== null) clearTimeout(timer);
    await c.close();
    if (c.processes.length === 0) {
      file.abandon();
      return { exit, collector: null, bytes: 0 };
    }
    // A program that failed before anything was traced (a wrong script name,
    // say) does not replace an earlier recording with an empty one.
    if (exit.status !== 0 && c.totals().events === 0 && existsSync(out)) {
      file.abandon();
      return { exit, collector: null, bytes: 0, keptOld: true };
    }
    const bytes = file.bytes;
    file.commit();
    return { exit, collector: c, bytes };
  } catch (e) {
    file.abandon();
    if (collector !== null) await collector.close().catch(() => undefined);
    throw e;
  }
}

/** `recorded N events from T threads [of P processes] to out (size)`, and what was lost. */
export function summary(c: Collector, shownOut: string, bytes: number, verb = 'recorded'): string {
  const { events, lost, unrecorded, unsaved } = c.totals();
  // What the file holds: a thread or process that --max-size kept out is counted among the left-out chunks below.
  const threads = new Set([...c.streams].filter(([id]) => c.hasStream(id)).map(([, t]) => `${t.process}:${t.threadId}`)).size;
  const procs = c.processes.filter((p) => c.hasProcess(p.id)).length;
  let s = `jsftrace: ${verb} ${events} event${events === 1 ? '' : 's'} from ${threads} thread${threads === 1 ? '' : 's'}`
    + `${procs > 1 ? ` of ${procs} processes` : ''} to ${shownOut} (${size(bytes)})`;
  if (lost > 0) {
    const per = [...c.streams.values()].filter((t) => t.lost > 0).map((t) => `${t.name}-${t.pid} [${String(t.threadId).padStart(3, '0')}] ${t.lost}`);
    s += `; ${lost} event${lost === 1 ? '' : 's'} lost (${per.join(', ')}): the recorder fell behind and the threads' buffers filled`;
  }
  if (unsaved > 0) {
    const per = [...c.streams.values()].filter((t) => t.unsaved > 0).map((t) => `${t.name}-${t.pid} [${String(t.threadId).padStart(3, '0')}] ${t.unsaved}`);
    s += `; ${unsaved} event${unsaved === 1 ? '' : 's'} not saved (${per.join(', ')}): the thread was still running when its process ended, or was stopped in the middle of one`;
  }
  if (c.stopped !== null) s += `\njsftrace: ${c.stopped}; ${unrecorded} later event${unrecorded === 1 ? ' was' : 's were'} not recorded`;
  if (c.leftOut > 0) s += `\njsftrace: ${c.leftOut} chunk${c.leftOut === 1 ? '' : 's'} (names, profiler tables, thread and process ends) did not fit under --max-size and ${c.leftOut === 1 ? 'was' : 'were'} left out`;
  const miss = c.unmatched().map((u) => `jsftrace: ${u} matched no function of this run (names are <file>:<name>, the file's path from the directory of its nearest package.json, as 'src/app.js:main'; a run without -l lists them in 'jsftrace report')\n`).join('');
  return miss + s;
}

/** The summary of a trace file: what it holds and what was lost. */
export function fileSummary(t: TraceFile, shownOut: string, bytes: number, verb: string): string {
  const threads = fileThreads(t);
  const { entries, lost } = fileTotals(threads);
  const procs = t.processes.length;
  return `jsftrace: ${verb} ${entries} event${entries === 1 ? '' : 's'} from ${threads.length} thread${threads.length === 1 ? '' : 's'}`
    + `${procs > 1 ? ` of ${procs} processes` : ''} to ${shownOut} (${size(bytes)})`
    + (lost > 0 ? `; ${lost} older events were overwritten or refused (a larger -b keeps more)` : '');
}

function positive(text: string | undefined, what: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text) || Number(text) <= 0 || Number(text) > max) throw new UsageError(`${what} ${JSON.stringify(text)}: a number from 0 to ${max}`);
  return Number(text);
}

/** The recording options of a command line. */
export function recordOptions(values: { 'max-size'?: string; duration?: string; 'flight-recorder'?: boolean; wait?: string }): RecordOptions {
  const mib = positive(values['max-size'], '--max-size', 2 ** 40);
  // Room for the header, a process and its ends, and a page chunk at least.
  if (mib !== undefined && mib < 0.0625) throw new UsageError(`--max-size ${values['max-size']!}: at least 0.0625 (64 KiB)`);
  const secs = positive(values.duration, '--duration', 2 ** 31 / 1000);
  let waitMs: number | undefined;
  if (values.wait !== undefined) {
    if (!/^[0-9]+$/.test(values.wait) || Number(values.wait) > 60_000) throw new UsageError(`--wait ${JSON.stringify(values.wait)}: milliseconds from 0 to 60000`);
    waitMs = Number(values.wait);
  }
  return {
    ...(mib === undefined ? {} : { maxBytes: Math.floor(mib * 1024 * 1024) }),
    ...(secs === undefined ? {} : { durationMs: Math.round(secs * 1000) }),
    flight: values['flight-recorder'] === true,
    ...(waitMs === undefined ? {} : { waitMs }),
  };
}

/** The writes of a recording: the tracing options, with the clock `global` unless given. */
export function recordWrites(values: TracingValues, opts: { defaultTracer: string; extra?: ControlWrite[] }): ControlWrite[] {
  return controlWrites({ ...values, clock: values.clock ?? 'global' }, opts);
}

export const record: Command = {
  name: 'record',
  help: HELP,
  async run(argv) {
    const args = programArgs(argv, OPTIONS, HELP, 'record');
    if (args === null) return 0;
    const { values, command } = args;
    const shown = values.output ?? 'trace.jsft';
    // resolve() drops a trailing separator: `-o out/` would write a file named out.
    if (/[\\/]$/.test(shown)) throw new JsftraceError('EINVAL', `-o ${shown}: names a directory; -o takes the trace file's name (-o ${shown}trace.jsft)`);
    const opts = recordOptions(values);
    await checkLocally(values);
    const writes = recordWrites(values, {
      defaultTracer: values.otlp !== undefined ? 'function_graph' : 'function', extra: otlpWrites(values),
    });
    const r = await recordRun(command, writes, resolve(shown), opts);
    if (r.collector === null) {
      note(r.keptOld === true
        ? `jsftrace: the program failed (exit ${r.exit.status}) with nothing traced; ${shown} is left as it was`
        : `jsftrace: no trace written to ${shown}: ${whyNoTrace(r.exit)}`);
      return r.exit.status === 0 ? 1 : r.exit.status;
    }
    note(summary(r.collector, shown, r.bytes));
    return r.exit.status;
  },
};
