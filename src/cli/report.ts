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
import { BINARY_FORMATS, renderFile, REPORT_FORMATS, type RenderOptions, type ReportFormat, type ReportSink } from '../tracefile/report.js';
import { parseDuration, parseTime, type ReportFilter } from '../tracefile/filters.js';
import { PROFILE_SORTS, type ProfileSort } from '../tracers/output/profile.js';
import { ReplacingFile } from '../tracefile/replace.js';
import { parse, UsageError, type Command } from './command.js';
import { note, progress, progressDone, size } from './term.js';

/** The selection and display options every format shares (report, and flame's rendering). */
export const SELECT_OPTIONS = {
  pid: { type: 'string', multiple: true },
  thread: { type: 'string', multiple: true },
  from: { type: 'string' },
  to: { type: 'string' },
  func: { type: 'string', multiple: true },
  'min-duration': { type: 'string' },
  filter: { type: 'string', short: 'F', multiple: true },
  option: { type: 'string', short: 'O', multiple: true },
  sort: { type: 'string' },
  top: { type: 'string' },
} as const;

export const SELECT_HELP = `Selection (every format shows the same selected events):
  --pid <pid>           only this process (repeatable)
  --thread <id>         only this thread (threadId: 0 is a process's main thread; repeatable)
  --from <s>, --to <s>  only events in this time window: seconds as the TIMESTAMP column
                        shows them (12.345678), or +<s> from the trace's first event
  --func <glob>         function: only these functions; function_graph: these functions and
                        what they call (set_graph_function, applied when reading); ftrace
                        globs on <file>:<name>, ! removes, :mod:<package> (repeatable)
  --min-duration <d>    function_graph: only calls at least this long (tracing_thresh applied
                        when reading: their returns); 500us, 2ms, 1.5s, a bare number is µs
  -F <filter>           trace-cmd's event filter: 'event[,event]: expr', fields compared
                        with == != < <= > >= and ~ (glob), joined by && || ! ( ); e.g.
                        -F 'funcgraph_exit: duration > 10000 && func ~ "src/*"' (repeatable:
                        an event passes if any filter takes it; events no filter names go)
Display:
  -O <option>           a display option, 'no<option>' clears it, over the recorded ones
                        (funcgraph-retval-hex, funcgraph-proc, print-parent, ...; repeatable)
  --sort <key>          profile: order rows by ${PROFILE_SORTS.join(', ')} (default self)
  --top <n>             profile: only the first n rows
`;

const OPTIONS = {
  input: { type: 'string', short: 'i' },
  format: { type: 'string' },
  output: { type: 'string', short: 'o' },
  ...SELECT_OPTIONS,
} as const;

const HELP = `usage: jsftrace report [--format <format>] [-o <out>] [selection] [display] [-i] [<file>]

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
  stat            the function profiler's tables (trace_stat/function<N>), or the same
                  tables made from function_graph events
  profile         per function: calls, total, self, running and waiting (async
                  functions' time suspended at await), average; full names
  cpuprofile      one thread's calls as a .cpuprofile (Chrome DevTools, VS Code,
                  speedscope): the first selected thread (--thread picks another)
  otlp            function_graph's calls as OpenTelemetry spans: an OTLP/HTTP protobuf
                  ExportTraceServiceRequest (POST it to a collector's /v1/traces)

Options:
  -i <file>, <file>     the trace file (default trace.jsft)
  --format <format>     the format (default text)
  -o <out>              write to <out> instead of stdout (mode 0600)
  -h, --help            this text

${SELECT_HELP}
Examples:
  jsftrace report
  jsftrace report -i app.jsft --format perfetto -o app.perfetto-trace
  jsftrace report --format html -o flame.html --func 'src/*'
  jsftrace report --format profile --sort total --top 20
  jsftrace report --thread 0 --from +1.5 --to +2 --min-duration 1ms
  jsftrace report -F 'funcgraph_exit: duration > 1000000' --format function_graph
  jsftrace report --format cpuprofile -o app.cpuprofile
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

function ids(list: string[] | undefined, what: string): number[] | undefined {
  return list?.map((v) => {
    if (!/^[0-9]+$/.test(v)) throw new UsageError(`${what} ${JSON.stringify(v)}: a number`);
    return Number(v);
  });
}

type SelectValues = { [K in keyof typeof SELECT_OPTIONS]?: (typeof SELECT_OPTIONS)[K] extends { multiple: true } ? string[] : string };

/** The selection and display options of a command line, checked (a usage error says what is wrong). */
export async function renderOptions(v: SelectValues): Promise<RenderOptions> {
  const f: ReportFilter = {};
  const usage = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
  const pids = ids(v.pid, '--pid');
  const threads = ids(v.thread, '--thread');
  if (pids !== undefined) f.pids = pids;
  if (threads !== undefined) f.threads = threads;
  for (const [key, text] of [['from', v.from], ['to', v.to]] as const) {
    if (text === undefined) continue;
    const t = usage(() => parseTime(text, `--${key}`));
    f[key] = t.ns;
    if (f.relative !== undefined && f.relative !== t.relative) throw new UsageError('--from and --to: both absolute or both +relative');
    f.relative = t.relative;
  }
  if (v.func !== undefined) {
    const { TokenList } = await import('../core/filter.js');
    usage(() => TokenList.parse(v.func!.flatMap((x) => x.split(/\s+/)).filter((x) => x !== '')));
    f.funcs = v.func.flatMap((x) => x.split(/\s+/)).filter((x) => x !== '');
  }
  if (v['min-duration'] !== undefined) f.minDurationNs = usage(() => parseDuration(v['min-duration']!, '--min-duration'));
  if (v.filter !== undefined) {
    const [{ parseEventFilter }, { eventRegistry }] = await Promise.all([import('../tracefile/event-filter.js'), import('../tracers/session.js')]);
    for (const text of v.filter) usage(() => parseEventFilter(text, eventRegistry().all()));
    f.events = v.filter;
  }
  const out: RenderOptions = Object.keys(f).length > 0 ? { filter: f } : {};
  if (v.option !== undefined) {
    const { OPTIONS: table } = await import('../control/files/options.js');
    let set = 0;
    let clear = 0;
    for (const o of v.option) {
      const on = !(o.startsWith('no') && table.some((x) => x.name === o.slice(2)));
      const def = table.find((x) => x.name === (on ? o : o.slice(2)) && x.bit !== 0);
      if (def === undefined) throw new UsageError(`-O ${JSON.stringify(o)}: no display option of that name (jsftrace list -o)`);
      if (on) set |= def.bit;
      else clear |= def.bit;
    }
    out.set = set;
    out.clear = clear;
  }
  if (v.sort !== undefined) {
    if (!(PROFILE_SORTS as readonly string[]).includes(v.sort)) throw new UsageError(`--sort ${JSON.stringify(v.sort)}: one of ${PROFILE_SORTS.join(', ')}`);
    out.sort = v.sort as ProfileSort;
  }
  if (v.top !== undefined) {
    if (!/^[1-9][0-9]*$/.test(v.top)) throw new UsageError(`--top ${JSON.stringify(v.top)}: a positive number`);
    out.top = Number(v.top);
  }
  return out;
}

/** The formats of tracefile/report.ts, and OTLP spans (tracefile/otlp.ts). */
const FORMATS = [...REPORT_FORMATS, 'otlp'] as const;

export const report: Command = {
  name: 'report',
  help: HELP,
  async run(argv) {
    const { values, positionals } = parse(argv, OPTIONS, true);
    if (values.help === true) {
      process.stdout.write(HELP);
      return 0;
    }
    // The trace may also be named as trace-cmd's report takes it: last, alone.
    if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}: one trace file at a time`);
    if (positionals.length === 1) {
      if (values.input !== undefined) throw new UsageError(`two trace files: -i ${values.input} and ${positionals[0]}`);
      values.input = positionals[0];
    }
    const format = values.format ?? 'text';
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format ${JSON.stringify(format)}: one of ${FORMATS.join(', ')}`);
    }
    const render = await renderOptions(values);
    if (render.filter !== undefined && format === 'otlp') throw new UsageError('--format otlp takes the whole trace: no selection');
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
          shown = renderFile(t, format as ReportFormat, sink, render);
        }
        sink.flush();
        if (!shown) {
          file?.abandon();
          throw Object.assign(new Error(format === 'stat'
            ? `${input} has no profiler tables and no function_graph events (record with jsftrace profile, or -p function_graph)`
            : `${input} has no function_graph events for ${format} (record with jsftrace profile, or -p function_graph)`), { code: 'ENOENT' });
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
