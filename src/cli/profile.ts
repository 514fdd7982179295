/**
 * `jsftrace profile [tracing options] [--sort k] [--top n] [-w table] [-o trace] [--] <command...>`:
 * runs a program with the function profiler on and prints, when it ends,
 * per function its calls, total and self time, and for async functions and
 * generators the time running apart from the time waiting (report.ts's
 * `profile` format). The threads keep the table as they run (profile.ts);
 * with -o the program is also recorded with function_graph.
 *
 * Owns: where the table goes. Invariant: never into the program's output:
 * the program's stdout is jsftrace's own (it inherits it), so the table
 * goes to stderr, or to the file given with -w; `-w -` puts it on stdout
 * for a caller that keeps the program's output apart itself.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TraceFile } from '../tracefile/read.js';
import { renderFile } from '../tracefile/report.js';
import { PROFILE_SORTS } from '../tracers/output/profile.js';
import { programArgs, type Command } from './command.js';
import { recordRun, recordWrites, summary } from './record.js';
import { renderOptions } from './report.js';
import { checkLocally, TRACING_HELP, TRACING_OPTIONS } from './settings.js';
import { note, out } from './term.js';

const OPTIONS = {
  ...TRACING_OPTIONS,
  output: { type: 'string', short: 'o' },
  table: { type: 'string', short: 'w' },
  sort: { type: 'string' },
  top: { type: 'string' },
} as const;

const HELP = `usage: jsftrace profile [tracing options] [--sort <key>] [--top <n>] [-w <file>] [-o <trace>] [--] <command...>

Runs <command> with the function profiler on every function (or those -l
selects) and, when it ends, prints per function:

  Calls    how many times it was called
  Total    first entry to return, summed (callees and awaits included)
  Self     time in the function itself, not in the calls it made
  Running  time on the stack (for an async function or generator: its parts)
  Waiting  time suspended at await or yield: Total = Running + Waiting
  Avg      Total per call

with the whole name of each function (<file>:<name> [package]) in the last
column.

Where the table goes: the program's stdout is jsftrace's own, so the table
never goes there: it is written to stderr when the program ends, or to the
file given with -w (-w - writes it to stdout, for when the program's output
is kept apart).

${TRACING_HELP}
Options:
  --sort <key>    order the rows by ${PROFILE_SORTS.join(', ')} (default self)
  --top <n>       only the first n rows
  -w <file>       write the table to <file> (- for stdout) instead of stderr
  -o <file>       also record the program with function_graph into <file>
                  (jsftrace report -i <file> --format profile prints the table
                  again; any report format reads it). Without -o no event is
                  recorded: the threads keep the table as they run
  -h, --help      this text

Examples:
  jsftrace profile node app.js
  jsftrace profile --sort total --top 20 -l 'src/*' -- node --test test/
  jsftrace profile -w profile.txt -o app.jsft node app.js
`;

export const profile: Command = {
  name: 'profile',
  help: HELP,
  async run(argv) {
    const args = programArgs(argv, OPTIONS, HELP, 'profile');
    if (args === null) return 0;
    const { values, command } = args;
    await checkLocally(values);
    const render = await renderOptions({ ...(values.sort === undefined ? {} : { sort: values.sort }), ...(values.top === undefined ? {} : { top: values.top }) });
    // The threads keep the table as they run (the function profiler): no
    // event is recorded unless a trace is asked for (-o) or a tracer (-p).
    const keep = values.output !== undefined;
    const writes = recordWrites(values, { defaultTracer: keep ? 'function_graph' : 'nop', extra: [['write', 'function_profile_enabled', '1']] });
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
      let shown: boolean;
      try {
        shown = renderFile(t, 'profile', { write: (d) => { text += typeof d === 'string' ? d : Buffer.from(d).toString('utf8'); } }, render);
      } finally {
        t.close();
      }
      if (!shown) note('jsftrace: no profile: no traced function was called');
      else if (values.table === '-') await out(text);
      else if (values.table !== undefined) writeFileSync(resolve(values.table), text, { mode: 0o600 });
      else process.stderr.write(text);
      if (values.output !== undefined) note(summary(r.collector, values.output, r.bytes));
      return r.exit.status;
    } finally {
      if (temp !== null) rmSync(temp, { recursive: true, force: true });
    }
  },
};
