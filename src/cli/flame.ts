/**
 * `jsftrace flame [tracing options] [--format f] [-o out] [--] <command...>`:
 * one command from a program to its flame graph, as 0x gives: records the
 * program with function_graph, renders the trace (an HTML flame graph by
 * default; an SVG timeline, a .cpuprofile or folded stacks on request) and
 * opens it where a viewer can be opened.
 *
 * Owns: the defaults of that one command (tracer, clock, file names) and
 * when to open. Invariants: the trace is kept only with --trace; the
 * output is written whole or not at all (report's exclusive file); a
 * viewer is started only when asked (--open) or when a person is at a
 * terminal with a display, never in a pipe or a test, and never waited for.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TraceFile } from '../tracefile/read.js';
import { renderFile, type ReportFormat } from '../tracefile/report.js';
import { ReplacingFile } from '../tracefile/replace.js';
import { programArgs, UsageError, type Command } from './command.js';
import { recordRun, recordWrites } from './record.js';
import { renderOptions, SELECT_HELP, SELECT_OPTIONS } from './report.js';
import { checkLocally, TRACING_HELP, TRACING_OPTIONS } from './settings.js';
import { note, size } from './term.js';

const VIEWS: Record<string, { format: ReportFormat; file: string; what: string }> = {
  html: { format: 'html', file: 'flame.html', what: 'flame graph' },
  svg: { format: 'svg', file: 'timeline.svg', what: 'timeline' },
  cpuprofile: { format: 'cpuprofile', file: 'profile.cpuprofile', what: 'CPU profile' },
  folded: { format: 'folded', file: 'flame.folded', what: 'folded stacks' },
};

const OPTIONS = {
  ...TRACING_OPTIONS,
  ...SELECT_OPTIONS,
  format: { type: 'string' },
  output: { type: 'string', short: 'o' },
  trace: { type: 'string' },
  open: { type: 'boolean' },
  'no-open': { type: 'boolean' },
} as const;

const HELP = `usage: jsftrace flame [tracing options] [--format <f>] [-o <out>] [--trace <file>] [--open] [--] <command...>

Runs <command> traced with function_graph (every function, from its first
line, every node process it starts) and, when it ends, writes its flame
graph: one command where 'jsftrace record' then 'jsftrace report --format
html' are two. Frames are functions, widths their time (callees included),
the self-contained page zooms on a click and searches by name.

Formats (--format):
  html         an HTML flame graph (default), flame.html
  svg          an SVG timeline, one band per thread, timeline.svg
  cpuprofile   a .cpuprofile of the main thread (Chrome DevTools, VS Code,
               speedscope), profile.cpuprofile
  folded       folded stacks (flamegraph.pl, speedscope), flame.folded

The page is opened in the desktop's viewer when stdout is a terminal and a
display is there (or with --open); --no-open never opens it.

${TRACING_HELP}
Options:
  -o <file>       the output (default: the format's file name above), mode 0600
  --trace <file>  also keep the trace (jsftrace report reads it in any format)
  --open          open the output in the desktop's viewer
  --no-open       do not open it
  -h, --help      this text

${SELECT_HELP}
Examples:
  jsftrace flame node app.js
  jsftrace flame -l 'src/*' -o app.html -- node app.js --port 8080
  jsftrace flame --format cpuprofile -- npm test
`;

/** The desktop's opener for a file, or null where there is none to use. */
function opener(): string | null {
  if (process.platform === 'darwin') return 'open';
  if (process.platform === 'win32') return null;
  return process.env['DISPLAY'] !== undefined || process.env['WAYLAND_DISPLAY'] !== undefined ? 'xdg-open' : null;
}

export const flame: Command = {
  name: 'flame',
  help: HELP,
  async run(argv) {
    const args = programArgs(argv, OPTIONS, HELP, 'flame');
    if (args === null) return 0;
    const { values, command } = args;
    const view = VIEWS[values.format ?? 'html'];
    if (view === undefined) throw new UsageError(`--format ${JSON.stringify(values.format)}: one of ${Object.keys(VIEWS).join(', ')}`);
    if (values.open === true && values['no-open'] === true) throw new UsageError('--open and --no-open: one of them');
    if (values.tracer !== undefined && values.tracer !== 'function_graph') throw new UsageError(`a flame graph is made of function_graph's calls: not -p ${values.tracer}`);
    await checkLocally(values);
    const render = await renderOptions(values);
    const shownOut = values.output ?? view.file;
    const out = resolve(shownOut);
    const writes = recordWrites(values, { defaultTracer: 'function_graph' });
    const temp = values.trace === undefined ? mkdtempSync(join(tmpdir(), 'jsftrace-flame-')) : null;
    try {
      const traceFile = temp === null ? resolve(values.trace!) : join(temp, 'trace.jsft');
      const r = await recordRun(command, writes, traceFile);
      if (r.collector === null) {
        note(`jsftrace: no ${view.what}: no node process of the command was recorded (${r.exit.signal ?? `exit code ${r.exit.code}`})`);
        return r.exit.status === 0 ? 1 : r.exit.status;
      }
      const t = TraceFile.open(traceFile);
      const file = ReplacingFile.create(out);
      let bytes = 0;
      try {
        const shown = renderFile(t, view.format, {
          write: (d) => {
            const b = typeof d === 'string' ? Buffer.from(d, 'utf8') : d;
            bytes += b.length;
            file.write(b);
          },
        }, render);
        if (!shown) {
          file.abandon();
          note(`jsftrace: no ${view.what}: the trace has no function_graph calls`);
          return r.exit.status === 0 ? 1 : r.exit.status;
        }
        file.commit();
      } catch (e) {
        file.abandon();
        throw e;
      } finally {
        t.close();
      }
      note(`jsftrace: wrote the ${view.what} of ${r.collector.totals().events} events to ${shownOut} (${size(bytes)})`);
      const cmd = opener();
      const open = values.open === true || (values['no-open'] !== true && process.stdout.isTTY === true && cmd !== null);
      if (open) {
        if (cmd === null) note(`jsftrace: no viewer to open ${shownOut} with here; open it yourself`);
        else spawn(cmd, [out], { detached: true, stdio: 'ignore' }).on('error', () => note(`jsftrace: could not start ${cmd} for ${shownOut}`)).unref();
      }
      return r.exit.status;
    } finally {
      if (temp !== null) rmSync(temp, { recursive: true, force: true });
    }
  },
};
