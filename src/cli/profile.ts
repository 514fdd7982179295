/**
 * `jsftrace profile [tracing options] [-o out] [--] <command...>`: runs a
 * program with the function profiler on and prints its trace_stat tables
 * (hits, total, average and variance per function, per thread) when it
 * ends.
 *
 * Owns: the profiler's configuration for a run. Invariant: the profiler is
 * switched on before the tracer (the writes' order, settings.ts). The
 * profiler is an ops of its own that times each call (entry and exit), as
 * ftrace's uses the graph tracer's hooks without the graph tracer writing
 * its buffer: with no -p, no tracer writes the ring (nop), so the run costs
 * what the profiler costs; -p function_graph records the graph as well.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TraceFile } from '../tracefile/read.js';
import { renderFile } from '../tracefile/report.js';
import { programArgs, type Command } from './command.js';
import { recordRun, recordWrites, summary } from './record.js';
import { checkLocally, TRACING_HELP, TRACING_OPTIONS } from './settings.js';
import { note, out } from './term.js';

const OPTIONS = { ...TRACING_OPTIONS, output: { type: 'string', short: 'o' } } as const;

const HELP = `usage: jsftrace profile [tracing options] [-o <file>] [--] <command...>

Runs <command> like 'jsftrace record', with the function profiler on
(function_profile_enabled), and prints the profiler's tables
(trace_stat/function<N>: Function, Hit, Time, Avg, s^2 per thread) on stdout
when it ends. No tracer writes the trace unless -p names one (-p
function_graph keeps the call graph too, at its cost). The trace file is kept
only with -o.

${TRACING_HELP}
Options:
  -o <file>       also keep the trace file (jsftrace report -i <file> --format stat
                  prints the tables again)
  -h, --help      this text

Examples:
  jsftrace profile node app.js
  jsftrace profile -l 'src/*' -- node --test test/
`;

export const profile: Command = {
  name: 'profile',
  help: HELP,
  async run(argv) {
    const args = programArgs(argv, OPTIONS, HELP, 'profile');
    if (args === null) return 0;
    const { values, command } = args;
    await checkLocally(values);
    const writes = recordWrites(values, { defaultTracer: 'nop', extra: [['write', 'function_profile_enabled', '1']] });
    const temp = values.output === undefined ? mkdtempSync(join(tmpdir(), 'jsftrace-profile-')) : null;
    try {
      const file = temp === null ? resolve(values.output!) : join(temp, 'trace.jsft');
      const r = await recordRun(command, writes, file);
      if (r.collector === null) {
        note(`jsftrace: no profile: no node process of the command was recorded (${r.exit.signal ?? `exit code ${r.exit.code}`})`);
        return r.exit.status === 0 ? 1 : r.exit.status;
      }
      const t = TraceFile.open(file);
      let text = '';
      try {
        renderFile(t, 'stat', { write: (d) => { text += typeof d === 'string' ? d : Buffer.from(d).toString('utf8'); } });
      } finally {
        t.close();
      }
      await out(text);
      if (values.output !== undefined) note(summary(r.collector, values.output, r.bytes));
      return r.exit.status;
    } finally {
      if (temp !== null) rmSync(temp, { recursive: true, force: true });
    }
  },
};
