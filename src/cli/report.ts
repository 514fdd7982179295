/**
 * `jsftrace report [-i file] [--format f] [-o out]`: a trace file in one of
 * the report formats.
 *
 * Owns: reading the file, choosing the format, and where the output goes.
 * Invariants: the output is written as it is made, in pieces of at most
 * OUT_CHUNK bytes (a gigabyte trace never becomes one string); with -o it
 * goes to an exclusive temporary file beside `out` (mode 0600: a report
 * shows what the trace holds) renamed over `out` only when complete, so a
 * failed report leaves no half file; stdout closing early (`| head`) ends
 * the report quietly.
 */

import { realpathSync, statSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { TraceFile } from '../tracefile/read.js';
import { BINARY_FORMATS, renderFile, REPORT_FORMATS, type ReportFormat, type ReportSink } from '../tracefile/report.js';
import { ReplacingFile } from '../tracefile/replace.js';
import { UsageError, verbArgs, type Command } from './command.js';
import { note, progress, progressDone, size } from './term.js';

const OPTIONS = {
  input: { type: 'string', short: 'i' },
  format: { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const;

const HELP = `usage: jsftrace report [-i <file>] [--format <format>] [-o <out>]

Reads a trace file (from 'jsftrace record' or 'jsftrace extract') and prints it,
as it reads it: any size of trace, in bounded memory.

Formats:
  text            ftrace's trace text for the recorded tracer (default): the
                  function tracer's lines, or function_graph's call graph
  function        the function tracer's lines
  function_graph  the call graph of function_graph events
  perfetto        Perfetto's native protobuf trace (ui.perfetto.dev, trace_processor):
                  one track per thread, grouped by process
  perfetto-json   Chrome/Perfetto trace-event JSON (chrome://tracing, speedscope)
  folded          folded stacks, one 'a;b;c <weight>' line per stack (flamegraph.pl, speedscope):
                  self time in ns for function_graph, calls for function
  html            a self-contained HTML flame graph
  svg             an SVG timeline, one band per thread
  stat            the function profiler's tables (record with jsftrace profile), or
                  the same tables made from function_graph events
  otlp            function_graph's calls as OpenTelemetry spans: an OTLP/HTTP protobuf
                  ExportTraceServiceRequest (POST it to a collector's /v1/traces)

Options:
  -i <file>             the trace file (default trace.jsft)
  --format <format>     the format (default text)
  -o <out>              write to <out> instead of stdout (mode 0600)
  -h, --help            this text

Examples:
  jsftrace report
  jsftrace report -i app.jsft --format perfetto -o app.perfetto-trace
  jsftrace report --format html -o flame.html
`;

/** The output is handed on in pieces of about this size. */
const OUT_CHUNK = 1 << 16;

class PipeClosed extends Error {}

/** Writes all of `b` to `fd`, waiting when a non-blocking pipe is full; EPIPE is PipeClosed. */
function writeAll(fd: number, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) {
    try {
      off += writeSync(fd, b, off, b.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
        continue;
      }
      if (code === 'EPIPE') throw new PipeClosed();
      throw e;
    }
  }
}

/** Text and bytes gathered into pieces of OUT_CHUNK and handed to `out`. */
class BufferedSink implements ReportSink {
  private parts: string[] = [];
  private chars = 0;
  bytes = 0;
  private readonly out: (b: Uint8Array) => void;

  constructor(out: (b: Uint8Array) => void) {
    this.out = out;
  }

  write(data: string | Uint8Array): void {
    if (typeof data === 'string') {
      this.parts.push(data);
      this.chars += data.length;
      if (this.chars >= OUT_CHUNK) this.flush();
      return;
    }
    this.flush();
    this.bytes += data.length;
    this.out(data);
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const b = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.chars = 0;
    this.bytes += b.length;
    this.out(b);
  }
}

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

function open(input: string, given: boolean): TraceFile {
  try {
    return TraceFile.open(input);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw Object.assign(new Error(given ? `${input}: no such file` : 'no trace.jsft here (record one with jsftrace record, or give -i <file>)'), { code: 'ENOENT' });
    }
    throw e;
  }
}

/** The formats of tracefile/report.ts, and OTLP spans (tracefile/otlp.ts). */
const FORMATS = [...REPORT_FORMATS, 'otlp'] as const;

export const report: Command = {
  name: 'report',
  help: HELP,
  async run(argv) {
    const values = verbArgs(argv, OPTIONS, HELP);
    if (values === null) return 0;
    const format = values.format ?? 'text';
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format ${JSON.stringify(format)}: one of ${FORMATS.join(', ')}`);
    }
    const input = values.input ?? 'trace.jsft';
    const target = values.output === undefined ? null : resolve(values.output);
    // `-o` out of habit from record would replace the recording with its own report.
    if (target !== null && samePath(target, resolve(input))) throw new UsageError(`-o ${values.output} is the trace being read: give another file`);
    if (target !== null && isDirectory(target)) throw new UsageError(`-o ${values.output} is a directory: give a file name`);
    if (target === null && (format === 'otlp' || BINARY_FORMATS.has(format as ReportFormat)) && process.stdout.isTTY === true) {
      throw new UsageError(`--format ${format} is binary: give -o <file> (or redirect stdout)`);
    }
    progress(`jsftrace: reading ${input}`);
    const t = open(input, values.input !== undefined);
    try {
      progress(`jsftrace: rendering ${input} (${size(t.size)}) as ${format}`);
      if (t.truncated) note(`jsftrace: ${input} ends inside a chunk at byte ${t.end} (the recording was cut short): read up to there`);
      for (const n of t.notes) note(`jsftrace: ${input}: ${n}`);
      const file = target === null ? null : ReplacingFile.create(target);
      // stdout written with blocking semantics (EAGAIN waited for), so a slow reader only slows the report.
      const sink = new BufferedSink(file === null ? (b) => writeAll(process.stdout.fd ?? 1, b) : (b) => file.write(b));
      let shown: boolean;
      try {
        if (format === 'otlp') {
          // OpenTelemetry's serializer, loaded only for this format.
          const { otlpReport } = await import('../tracefile/otlp.js');
          sink.write(otlpReport(t));
          shown = true;
        } else {
          shown = renderFile(t, format as ReportFormat, sink);
        }
        sink.flush();
        if (!shown) {
          file?.abandon();
          throw Object.assign(new Error(`${input} has no profiler tables and no function_graph events (record with jsftrace profile, or -p function_graph)`), { code: 'ENOENT' });
        }
        file?.commit();
      } catch (e) {
        file?.abandon();
        if (e instanceof PipeClosed) return 0;
        throw e;
      } finally {
        progressDone();
      }
      if (values.output !== undefined) note(`jsftrace: wrote ${format} to ${values.output} (${size(sink.bytes)})`);
      return 0;
    } finally {
      t.close();
    }
  },
};
