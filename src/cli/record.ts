/**
 * `jsftrace record [tracing options] [-o out] [--] <command...>`: runs a
 * program traced from its first line and writes its trace to a file.
 *
 * Owns: the trace file's arrival. Invariant: `out` is replaced only by a
 * complete trace of this run: the program writes to a temporary name next
 * to it, renamed over `out` once the program has exited; a run that wrote
 * nothing leaves an earlier `out` as it was and says so.
 */

import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadTrace, traceCounts, type LoadedTrace } from '../tracers/tracefile.js';
import { JsftraceError } from '../shared/errors.js';
import { programArgs, type Command } from './command.js';
import { runTraced, type Exit } from './launch.js';
import {
  checkLocally, controlWrites, OTLP_HELP, OTLP_OPTION, otlpWrites, TRACING_HELP, TRACING_OPTIONS, type ControlWrite,
} from './settings.js';
import { note, progress, progressDone, size } from './term.js';

const OPTIONS = { ...TRACING_OPTIONS, ...OTLP_OPTION, output: { type: 'string', short: 'o' } } as const;

const HELP = `usage: jsftrace record [tracing options] [-o <file>] [--] <command...>

Runs <command> with every function instrumented and traced from its first
line, and writes the trace to <file> when it ends; then prints
"recorded N events from T threads". The program's stdio and exit code are
its own. 'jsftrace report' reads the file.

The tracer is 'function' unless -p says otherwise. <command> is a node
command line (node app.js), a script (app.js, app.mjs, app.cjs: run with
this node), or any other command (npm test: the hook goes into NODE_OPTIONS,
so every node process it starts is instrumented).

${TRACING_HELP}${OTLP_HELP}
Options:
  -o <file>       the trace file (default trace.jsft)
  -h, --help      this text

Examples:
  jsftrace record node app.js
  jsftrace record -p function_graph -l 'src/*' -o app.jsft -- node app.js --port 8080
  jsftrace record -p function_graph -g '*:Router.handle' -O funcgraph-proc app.mjs
  jsftrace record -l '*:mod:express' -- npm start
  jsftrace record --otlp http://localhost:4318 -l 'src/*' -- node server.js
`;

export interface Recorded {
  exit: Exit;
  /** The trace, or null when the program wrote none (or an empty one, `keptOld`). */
  trace: LoadedTrace | null;
  bytes: number;
  /** The program failed with nothing traced: the earlier file at `out` was left as it was. */
  keptOld?: boolean;
}

function whyNoTrace(exit: Exit): string {
  return exit.signal !== null
    ? `the program was killed by ${exit.signal}, a signal that runs no exit handler`
    : `the program exited with code ${exit.code} without writing one (did node run with jsftrace/register?)`;
}

/** Runs `command` traced with `writes`, its trace going to `out`. */
export async function recordRun(command: string[], writes: ControlWrite[], out: string): Promise<Recorded> {
  // The program writes the file at its very end: a directory missing then would cost the whole run.
  if (!existsSync(dirname(out))) throw new JsftraceError('ENOENT', `cannot write ${out}: its directory does not exist`);
  const temp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  rmSync(temp, { force: true });
  let exit: Exit;
  try {
    exit = await runTraced(command, writes, temp);
  } catch (e) {
    rmSync(temp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new JsftraceError('ENOENT', `cannot run ${JSON.stringify(command[0])}: no such command`);
    if (code === 'EACCES') throw new JsftraceError('EACCES', `cannot run ${JSON.stringify(command[0])}: permission denied`);
    throw e;
  }
  if (!existsSync(temp)) return { exit, trace: null, bytes: 0 };
  progress(`jsftrace: reading the trace (${size(0)})`);
  const bytes = readFileSync(temp);
  progress(`jsftrace: reading the trace (${size(bytes.length)})`);
  try {
    const trace = loadTrace(bytes);
    // A program that failed before anything was traced (a wrong script name,
    // say) does not replace an earlier recording with an empty one.
    if (exit.status !== 0 && traceCounts(trace).written === 0 && existsSync(out)) {
      rmSync(temp, { force: true });
      return { exit, trace: null, bytes: 0, keptOld: true };
    }
    renameSync(temp, out);
    return { exit, trace, bytes: bytes.length };
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  } finally {
    progressDone();
  }
}

/** `recorded N events from T threads to out (size)`, and what was overwritten. */
export function summary(trace: LoadedTrace, shownOut: string, bytes: number): string {
  const { entries, written } = traceCounts(trace);
  const threads = trace.rings.length;
  const lost = written - entries;
  return `jsftrace: recorded ${entries} event${entries === 1 ? '' : 's'} from ${threads} thread${threads === 1 ? '' : 's'} to ${shownOut} (${size(bytes)})`
    + (lost > 0 ? `; ${lost} older events were overwritten (a larger -b keeps more)` : '');
}

export const record: Command = {
  name: 'record',
  help: HELP,
  async run(argv) {
    const args = programArgs(argv, OPTIONS, HELP, 'record');
    if (args === null) return 0;
    const { values, command } = args;
    const shown = values.output ?? 'trace.jsft';
    await checkLocally(values);
    const writes = controlWrites(values, {
      defaultTracer: values.otlp !== undefined ? 'function_graph' : 'function', extra: otlpWrites(values),
    });
    const r = await recordRun(command, writes, resolve(shown));
    if (r.trace === null) {
      note(r.keptOld === true
        ? `jsftrace: the program failed (exit ${r.exit.status}) with nothing traced; ${shown} is left as it was`
        : `jsftrace: no trace written to ${shown}: ${whyNoTrace(r.exit)}`);
      return r.exit.status === 0 ? 1 : r.exit.status;
    }
    note(summary(r.trace, shown, r.bytes));
    return r.exit.status;
  },
};
