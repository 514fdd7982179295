/**
 * A trace file rendered in one of the report formats, written as it is
 * made: every format reads the file's threads one page image at a time,
 * in one pass (svg: two), so memory does not grow with the trace's length:
 * the text formats hold a line per thread, the call formats the open calls
 * of a thread, and the aggregates (folded, html, stat) one entry per
 * distinct stack or function.
 *
 * Owns: the list of formats and what each renders. Invariant: a format is
 * chosen once; the rendering is the outputs' (tracers/output), with the
 * file's names and options instead of this process's.
 */

import { withOptions, OPT_DEFAULTS } from '../tracers/session.js';
import { functionTraceTo } from '../tracers/output/function.js';
import { graphTraceTo } from '../tracers/output/graph.js';
import { perfettoJsonTo } from '../tracers/output/perfetto.js';
import { perfettoProtoTo, type ProtoProcess } from '../tracers/output/perfetto-proto.js';
import { Folder } from '../tracers/output/folded.js';
import { flameGraphPage } from '../tracers/output/flamegraph.js';
import { timelineTo } from '../tracers/output/timeline.js';
import { STAT_HEADER, statTableOf, statText } from '../tracers/output/stat.js';
import { profileOf, profileOfTables, profileTextTo, type ProfileSort, type ProfileTable } from '../tracers/output/profile.js';
import { P_UNIT, ROW_F64 } from '../tracers/profile-layout.js';
import { UNIT_COUNT } from '../ring/index.js';
import { cpuProfileTo } from '../tracers/output/cpuprofile.js';
import type { Item, ItemSource, Sink } from '../tracers/output/common.js';
import { RuntimeTotals } from '../tracers/output/runtime.js';
import { fail } from '../shared/errors.js';
import { fileThreads, fileTotals, processName, type FileThread } from './threads.js';
import { applyFilter, selectsEvents, type ReportFilter } from './filters.js';
import type { FileProfile, TraceFile } from './read.js';

export const REPORT_FORMATS = [
  'text', 'function', 'function_graph', 'perfetto', 'perfetto-json', 'folded', 'html', 'svg', 'stat', 'profile', 'cpuprofile',
] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Formats whose output is bytes, not text. */
export const BINARY_FORMATS: ReadonlySet<ReportFormat> = new Set(['perfetto']);

/** Where a rendering goes: text, or bytes for the binary formats. */
export interface ReportSink {
  write(data: string | Uint8Array): void;
}

/** The tracer the text shows: function_graph if any thread recorded it, else the first thread's. */
export function fileTracer(t: TraceFile): string {
  if (t.streams.some((s) => s.info.tracer === 'function_graph')) return 'function_graph';
  return t.streams[0]?.info.tracer ?? 'nop';
}

function fileOptions(t: TraceFile): number {
  return t.streams[0]?.info.options ?? OPT_DEFAULTS;
}

function title(t: TraceFile): string {
  const first = t.processes[0];
  return `jsftrace: ${first === undefined ? '' : first.info.argv.slice(1).join(' ')}${t.processes.length > 1 ? ` (+${t.processes.length - 1} processes)` : ''}`.slice(0, 200);
}

/** How a rendering selects and shows (report's options). */
export interface RenderOptions {
  /** Which processes, threads, times, functions and events (filters.ts). */
  filter?: ReportFilter;
  /** Option bits to set and clear over the file's own (`report -O`: display options apply when read). */
  set?: number;
  clear?: number;
  /** The profile's and stat's row order and count. */
  sort?: ProfileSort;
  top?: number;
}

/**
 * Renders `t` as `format` to `sink`. Returns false when the format has
 * nothing to show (stat of a trace with neither profiler tables nor
 * function_graph events; profile and cpuprofile without function_graph
 * events).
 */
export function renderFile(t: TraceFile, format: ReportFormat, sink: ReportSink, opts: RenderOptions = {}): boolean {
  const threads = applyFilter(fileThreads(t), opts.filter);
  const options = (fileOptions(t) | (opts.set ?? 0)) & ~(opts.clear ?? 0);
  return withOptions(options, () => render(t, threads, format, sink, opts));
}

function render(t: TraceFile, threads: FileThread[], format: ReportFormat, sink: ReportSink, opts: RenderOptions): boolean {
  switch (format) {
    case 'text':
      return render(t, threads, fileTracer(t) === 'function_graph' ? 'function_graph' : 'function', sink, opts);
    case 'function_graph':
      graphTraceTo(threads, sink);
      return true;
    case 'function': {
      const tracer = fileTracer(t);
      functionTraceTo(tracer === 'function_graph' ? 'function' : tracer, threads, fileTotals(threads), sink);
      return true;
    }
    case 'perfetto': {
      const procs = new Map<number, ProtoProcess>();
      for (const p of t.processes) procs.set(p.info.pid, { pid: p.info.pid, argv: p.info.argv, name: processName(p) });
      perfettoProtoTo(threads, procs, sink);
      return true;
    }
    case 'perfetto-json': {
      const names = new Map<number, string>();
      for (const p of t.processes) names.set(p.info.pid, processName(p));
      perfettoJsonTo(threads, sink, { processNames: names });
      return true;
    }
    case 'folded':
    case 'html': {
      const f = new Folder();
      const runtime = new RuntimeTotals();
      for (const th of threads) f.add(th.view, tap(th.open(), (it) => runtime.add(it)));
      if (format === 'folded') f.writeTo(sink);
      else sink.write(flameGraphPage(f.root, f.unit(), { title: title(t), runtime: runtime.summary() }));
      return true;
    }
    case 'svg':
      timelineTo(threads, sink, { title: title(t) });
      return true;
    case 'stat':
      return stat(t, threads, sink, opts);
    case 'profile': {
      const order = { ...(opts.sort === undefined ? {} : { sort: opts.sort }), ...(opts.top === undefined ? {} : { top: opts.top }) };
      // The profiler's own tables when the file has them and nothing selects events; else the graph's events.
      const tables = selectsEvents(opts.filter) ? [] : profileTablesOf(t, opts.filter);
      if (tables.length > 0) {
        profileTextTo(profileOfTables(tables), sink, order);
        return true;
      }
      if (!hasGraph(t)) return false;
      profileTextTo(profileOf(threads), sink, order);
      return true;
    }
    case 'cpuprofile': {
      // A .cpuprofile is one thread's: the first selected (report --thread picks another).
      if (!hasGraph(t) || threads.length === 0) return false;
      cpuProfileTo(threads[0]!, sink);
      return true;
    }
  }
}

/** The items of `src`, each also handed to `see`. */
function tap(src: ItemSource, see: (it: Item) => void): ItemSource {
  return {
    next() {
      const it = src.next();
      if (it !== null) see(it);
      return it;
    },
  };
}

/**
 * The profiler tables of the processes and threads --pid and --thread
 * select, by the tables' own pid and thread id: a file recorded with no
 * tracer has tables and no streams.
 */
function selectedProfiles(t: TraceFile, filter: ReportFilter | undefined): FileProfile[] {
  const pids = filter?.pids ?? [];
  const tids = filter?.threads ?? [];
  return t.profiles.filter((p) => (pids.length === 0 || pids.includes(p.process.info.pid)) && (tids.length === 0 || tids.includes(p.threadId)));
}

/** The selected tables that hold self and running time (none from a 2.0 file). */
function profileTablesOf(t: TraceFile, filter: ReportFilter | undefined): ProfileTable[] {
  return selectedProfiles(t, filter).filter((p) => p.rowWords === ROW_F64).map((p) => {
    const names = p.process.names;
    const rows = t.profileTable(p);
    return {
      rows,
      site: (id: number) => names[id] ?? `site#${id}`,
      counts: rows[P_UNIT] === UNIT_COUNT,
    };
  });
}

function hasGraph(t: TraceFile): boolean {
  return t.streams.some((s) => s.info.tracer === 'function_graph');
}

function stat(t: TraceFile, threads: FileThread[], sink: Sink, opts: RenderOptions): boolean {
  const multi = t.processes.length > 1;
  // The profiler's tables hold totals: a selection of events cannot be applied to them, the graph events can.
  if (t.profiles.length > 0 && selectsEvents(opts.filter) && !hasGraph(t)) {
    fail('EINVAL', 'the profiler\'s tables are totals: --from, --to, --func, --min-duration and -F need function_graph events (record with -p function_graph)');
  }
  const profiles = selectedProfiles(t, opts.filter);
  if (profiles.length > 0 && !selectsEvents(opts.filter)) {
    profiles.forEach((p, k) => {
      const names = p.process.names;
      const who = multi ? `${p.name}-${p.process.info.pid}` : p.name;
      sink.write(`${k > 0 ? '\n' : ''}function${p.threadId} (${who}):\n`);
      const table = t.profileTable(p);
      const thresh = (p.process.streams[0]?.info.threshUs ?? 0) * 1000;
      sink.write(table.length > 0 ? statText(table.buffer, thresh, (id) => names[id] ?? `site#${id}`, p.rowWords) : STAT_HEADER);
    });
    return true;
  }
  if (!hasGraph(t)) return false;
  threads.forEach((th, k) => {
    const v = th.view;
    sink.write(`${k > 0 ? '\n' : ''}function${v.threadId} (${multi ? `${v.name}-${v.pid}` : v.name}):\n`);
    const thresh = (th.streams[0]?.info.threshUs ?? 0) * 1000;
    sink.write(statText(statTableOf(th.open()).buffer, thresh, v.site));
  });
  return true;
}
