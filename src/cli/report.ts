/**
 * `jsftrace report [-i file] [--format f] [-o out]`: a trace file in one of
 * the report formats.
 *
 * Owns: reading the file and choosing the format. Invariant: the output is
 * exactly renderTrace's text, to stdout or to `out` (written whole, so a
 * failed report leaves no half file).
 */

import { readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadTrace, renderTrace, REPORT_FORMATS, type LoadedTrace, type ReportFormat } from '../tracers/tracefile.js';
import { UsageError, verbArgs, type Command } from './command.js';
import { note, out, progress, progressDone, size } from './term.js';

/** Formats rendered outside renderTrace, each by its own module (loaded when asked for): the bytes of a loaded trace. */
const BYTE_FORMATS: Record<string, (t: LoadedTrace) => Promise<Uint8Array>> = {
  otlp: async (t) => (await import('../tracers/otlp/offline.js')).otlpReport(t),
};

const OPTIONS = {
  input: { type: 'string', short: 'i' },
  format: { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const;

const HELP = `usage: jsftrace report [-i <file>] [--format <format>] [-o <out>]

Reads a trace file (from 'jsftrace record' or 'jsftrace extract') and prints it.

Formats:
  text       ftrace's trace text for the recorded tracer (default)
  perfetto   Chrome/Perfetto trace-event JSON (ui.perfetto.dev, chrome://tracing)
  folded     folded stacks, one 'a;b;c <weight>' line per stack (flamegraph.pl, speedscope):
             self time in ns for function_graph, calls for function
  html       a self-contained HTML flame graph
  svg        an SVG timeline, one row per thread
  stat       the function profiler's tables (record with function_profile_enabled)
  otlp       function_graph's calls as OpenTelemetry spans: an OTLP/HTTP protobuf
             ExportTraceServiceRequest (POST it to a collector's /v1/traces)

Options:
  -i <file>             the trace file (default trace.jsft)
  --format <format>     the format (default text)
  -o <out>              write to <out> instead of stdout
  -h, --help            this text

Examples:
  jsftrace report
  jsftrace report -i app.jsft --format perfetto -o app.json
  jsftrace report --format html -o flame.html
  jsftrace report --format otlp -o spans.pb
`;

export const report: Command = {
  name: 'report',
  help: HELP,
  async run(argv) {
    const values = verbArgs(argv, OPTIONS, HELP);
    if (values === null) return 0;
    const format = values.format ?? 'text';
    if (!(REPORT_FORMATS as readonly string[]).includes(format) && !Object.hasOwn(BYTE_FORMATS, format)) {
      throw new UsageError(`--format ${JSON.stringify(format)}: one of ${[...REPORT_FORMATS, ...Object.keys(BYTE_FORMATS)].join(', ')}`);
    }
    const input = values.input ?? 'trace.jsft';
    progress(`jsftrace: reading ${input}`);
    let bytes: Buffer;
    try {
      bytes = readFileSync(input);
    } catch (e) {
      progressDone();
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw Object.assign(new Error(values.input === undefined
          ? 'no trace.jsft here (record one with jsftrace record, or give -i <file>)'
          : `${input}: no such file`), { code: 'ENOENT' });
      }
      throw e;
    }
    progress(`jsftrace: rendering ${input} (${size(bytes.length)}) as ${format}`);
    let text: string | Uint8Array;
    try {
      const t = loadTrace(bytes);
      text = Object.hasOwn(BYTE_FORMATS, format) ? await BYTE_FORMATS[format]!(t) : renderTrace(t, format as ReportFormat);
    } finally {
      progressDone();
    }
    if (format === 'stat' && text === '') {
      throw Object.assign(new Error(`${input} has no profiler tables (record one with jsftrace profile)`), { code: 'ENOENT' });
    }
    if (values.output === undefined) {
      if (typeof text !== 'string') {
        if (process.stdout.isTTY) throw new UsageError(`--format ${format} is binary: give -o <file>, or redirect stdout`);
        await new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
        return 0;
      }
      await out(text);
      return 0;
    }
    const target = resolve(values.output);
    // `-o` out of habit from record would replace the recording with its own report.
    if (samePath(target, resolve(input))) {
      throw new UsageError(`-o ${values.output} is the trace being read: give another file`);
    }
    if (isDirectory(target)) throw new UsageError(`-o ${values.output} is a directory: give a file name`);
    const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
    try {
      writeFileSync(temp, text);
      renameSync(temp, target);
    } catch (e) {
      rmSync(temp, { force: true });
      throw e;
    }
    note(`jsftrace: wrote ${format} to ${values.output} (${size(typeof text === 'string' ? Buffer.byteLength(text) : text.length)})`);
    return 0;
  },
};

function samePath(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false; // one of them does not exist
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
