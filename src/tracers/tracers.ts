/**
 * The tracer registry and the control side of the tracing files:
 * available_tracers, current_tracer, set_ftrace_filter for the tracers,
 * max_graph_depth, tracing_thresh, set_graph_function, set_graph_notrace,
 * function_profile_enabled, and the readers of trace, trace_pipe and
 * trace_stat.
 *
 * Owns: the ops of the current tracer, of the graph markers and of the
 * profiler (created in the thread that configures; their callbacks are
 * module exports, so they run in every thread). Invariants:
 * - switching tracers unregisters the old ops before the buffers are cleared
 *   and the new ops registered, so no event of the old tracer lands in the
 *   new buffers; a refused switch (a bad filter) leaves the old tracer off
 *   and `nop` current, and says so;
 * - the markers are registered after the graph ops, so that the list
 *   function calls them first (newest first) at the same site;
 * - configuration changes are serialised by one promise chain per process
 *   side (this thread), since each one awaits the core;
 * - the OTLP export worker runs exactly while function_graph is current with
 *   options/otlp set: started after the graph ops, stopped before them.
 */

import {
  createOps, ftraceSetFilter, ftraceSetNotrace, instance, listThreads, parsePatterns, registerFtraceFunction,
  unregisterFtraceFunction, type FtraceOps,
} from '../core/index.js';
import { OPS_FL_ARGS, OPS_FL_RECURSION } from '../core/flags.js';
import { fail } from '../shared/errors.js';
import { formatStats, ringStats, UNIT_COUNT, UNIT_NS } from '../ring/index.js';
import {
  C_FN_FLAGS, C_GRAPH_FILTER, C_MAX_DEPTH, C_THRESH_US, C_TRACER, clearBuffers, configChanged, ctl, currentProfileTables,
  currentRings, FN_NEAREST, options, OPT_FUNC_CALLER, OPT_FUNC_STACK_TRACE, OPT_GRAPH_ARGS, OPT_GRAPH_RETVAL, OPT_OTLP,
  profileGeneration, resetProfile,
  knownThreadIds, PROBE_MAX, setOptionBits, traceClock, TRACER_FUNCTION, TRACER_GRAPH, TRACER_NOP, type ThreadRing,
} from './session.js';
import {
  addProbeEntry, PROBE_COUNT_MAX, PROBE_KINDS, probeEntries, probeKind, probeRoom, removeProbeEntry, sameProbe, type ProbeEntry,
} from './probes.js';
import { functionHeader, functionPipe, functionSources, ringTotals } from './output/function.js';
import { graphHeader, graphPipe, graphSources } from './output/graph.js';
import { liveRingEvents } from './output/common.js';
import { traceText } from './output/stream.js';
import { STAT_HEADER, statText } from './output/stat.js';
import { startExport, stopExport } from './otlp/exporter.js';
import { AtomicsLoad, AtomicsStore, MathCeil, MathMax, SetImmediate } from '../shared/builtins.js';

const here = (file: string): string => new URL(file, import.meta.url).href;

interface TracerDef {
  id: number;
  name: string;
  /** The ops' callbacks, or null for nop. */
  spec: { module: string; export: string } | null;
}

/** In ftrace's order of available_tracers (newest registered first, nop last). */
const TRACERS: readonly TracerDef[] = [
  { id: TRACER_GRAPH, name: 'function_graph', spec: { module: here('./graph.js'), export: 'graphOps' } },
  { id: TRACER_FUNCTION, name: 'function', spec: { module: here('./function.js'), export: 'functionCall' } },
  { id: TRACER_NOP, name: 'nop', spec: null },
];

/**
 * While the program has not started (JSFTRACE_CONTROL_INIT), filters may
 * name functions of modules still to load, as ftrace's boot-time
 * ftrace_filter= names functions before they are traced.
 */
let booting = false;
export function setBooting(on: boolean): void {
  booting = on;
}
export function isBooting(): boolean {
  return booting;
}

let chain: Promise<unknown> = Promise.resolve();
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const p = chain.then(fn, fn);
  chain = p.catch(() => undefined);
  return p;
}

let tracerOps: FtraceOps | null = null;
let filterOps: FtraceOps | null = null;
let notraceOps: FtraceOps | null = null;
let profOps: FtraceOps | null = null;
/** func_stack_trace's ops (function tracer) and funcgraph-args/-retval's (function_graph). */
let stackOps: FtraceOps | null = null;
let valuesOps: FtraceOps | null = null;
/** options/func-caller's ops (callers.ts): a frame in every function the function tracer does not cover. */
let callerOps: FtraceOps | null = null;
/** One ops per filter command, covering the functions that have it. */
/** One ops per probe kind (probes.ts), indexed by kind; null while the kind has no function. */
const probeOps: (FtraceOps | null)[] = [];
let ftraceFilter: string[] = [];
let ftraceNotrace: string[] = [];
let graphFunctions: string[] = [];
let graphNotrace: string[] = [];

function words(p: string | readonly string[]): string[] {
  const list = typeof p === 'string' ? [p] : [...p];
  return list.flatMap((x) => x.split(/\s+/)).filter((x) => x !== '');
}

function current(): TracerDef {
  const id = AtomicsLoad(ctl, C_TRACER);
  return TRACERS.find((t) => t.id === id)!;
}

/** available_tracers. */
export function readAvailableTracers(): string {
  return `${TRACERS.map((t) => t.name).join(' ')}\n`;
}

/** current_tracer. */
export function readCurrentTracer(): string {
  return `${current().name}\n`;
}

async function dropMarkers(): Promise<void> {
  for (const o of [filterOps, notraceOps]) if (o !== null) await unregisterFtraceFunction(o);
  filterOps = notraceOps = null;
}

async function addMarkers(): Promise<void> {
  if (graphFunctions.length > 0) {
    const o = createOps({ func: { module: here('./graph.js'), export: 'graphFilterOps' }, name: 'set_graph_function', flags: OPS_FL_RECURSION });
    await ftraceSetFilter(o, graphFunctions, { allowUnmatched: true });
    await registerFtraceFunction(o);
    filterOps = o;
  }
  if (graphNotrace.length > 0) {
    const o = createOps({ func: { module: here('./graph.js'), export: 'graphNotraceOps' }, name: 'set_graph_notrace', flags: OPS_FL_RECURSION });
    await ftraceSetFilter(o, graphNotrace, { allowUnmatched: true });
    await registerFtraceFunction(o);
    notraceOps = o;
  }
}

async function filtered(o: FtraceOps): Promise<FtraceOps> {
  if (ftraceFilter.length > 0) await ftraceSetFilter(o, ftraceFilter, { allowUnmatched: true });
  if (ftraceNotrace.length > 0) await ftraceSetNotrace(o, ftraceNotrace, { allowUnmatched: true });
  return o;
}

async function dropHelpers(): Promise<void> {
  for (const o of [stackOps, valuesOps, callerOps]) if (o !== null) await unregisterFtraceFunction(o);
  stackOps = valuesOps = callerOps = null;
  publishFnFlags();
}

/**
 * What the function tracer's parent means, in its events' common_flags:
 * FN_NEAREST when a filter leaves functions untraced and func-caller is
 * off (the parent is then the nearest traced caller, which the text says).
 */
function publishFnFlags(): void {
  const nearest = current().id === TRACER_FUNCTION && callerOps === null && (ftraceFilter.length > 0 || ftraceNotrace.length > 0);
  AtomicsStore(ctl, C_FN_FLAGS, nearest ? FN_NEAREST : 0);
  configChanged();
}

/**
 * options/func-caller: an ops on every function the tracer does not cover,
 * so each pushes a frame and parents are direct callers. Its notrace is
 * the tracer's filter when the tracer has no notrace (a traced function's
 * own frame serves); otherwise it covers everything (correct, and the
 * overlap goes through the list function).
 */
async function addCallers(): Promise<void> {
  if (current().id === TRACER_FUNCTION && (options() & OPT_FUNC_CALLER) !== 0) {
    const o = createOps({ func: { module: here('./callers.js'), export: 'callerFrame' }, name: 'func_caller', flags: 0 });
    if (ftraceFilter.length > 0 && ftraceNotrace.length === 0) await ftraceSetNotrace(o, ftraceFilter, { allowUnmatched: true });
    await registerFtraceFunction(o);
    callerOps = o;
  }
  publishFnFlags();
}

async function refreshCallers(): Promise<void> {
  if (callerOps !== null) await unregisterFtraceFunction(callerOps);
  callerOps = null;
  await addCallers();
}

async function stopTracer(): Promise<void> {
  await stopExport();
  await dropMarkers();
  await dropHelpers();
  if (tracerOps !== null) await unregisterFtraceFunction(tracerOps);
  tracerOps = null;
  AtomicsStore(ctl, C_TRACER, TRACER_NOP);
}

/**
 * funcgraph-args / -retval: an ops after the graph ops (its entry runs
 * just before the graph entry, its exit just after the graph exit); ARGS
 * only when the arguments are wanted, since it costs every call.
 */
async function addValues(): Promise<void> {
  const o = options();
  if ((o & (OPT_GRAPH_ARGS | OPT_GRAPH_RETVAL)) === 0) return;
  const flags = OPS_FL_RECURSION | ((o & OPT_GRAPH_ARGS) !== 0 ? OPS_FL_ARGS : 0);
  const v = await filtered(createOps({ func: { module: here('./values.js'), export: 'valuesOps' }, name: 'funcgraph_values', flags }));
  await registerFtraceFunction(v);
  valuesOps = v;
}

async function startTracer(t: TracerDef): Promise<void> {
  if (t.spec === null) return;
  // RECURSION: what a callback calls (a clock the program supplied, say) is
  // program code with sites of its own; it must not be traced from inside
  // the tracer.
  const o = await filtered(createOps({ func: t.spec, name: t.name, flags: OPS_FL_RECURSION }));
  AtomicsStore(ctl, C_TRACER, t.id);
  configChanged();
  try {
    if (t.id === TRACER_FUNCTION && (options() & OPT_FUNC_STACK_TRACE) !== 0) {
      // Registered first, so that it runs after the function event (newest first).
      const so = await filtered(createOps({ func: { module: here('./stack.js'), export: 'stackOps' }, name: 'func_stack_trace', flags: OPS_FL_RECURSION }));
      await registerFtraceFunction(so);
      stackOps = so;
    }
    await registerFtraceFunction(o);
    tracerOps = o;
    if (t.id === TRACER_FUNCTION) await addCallers();
    if (t.id === TRACER_GRAPH) {
      await addMarkers();
      await addValues();
      if ((options() & OPT_OTLP) !== 0) await startExport();
    }
  } catch (e) {
    // Refused (a thread did not load the callbacks in time, ...): nop is current.
    await stopTracer();
    throw e;
  }
}

/**
 * current_tracer: switches tracers; as ftrace, the buffers are cleared
 * (also when the same tracer is written again). EINVAL for an unknown name.
 */
export async function setCurrentTracer(name: string): Promise<void> {
  const n = name.trim();
  const t = TRACERS.find((x) => x.name === n) ?? fail('EINVAL', `current_tracer: no tracer "${n}"`);
  return serial(async () => {
    // As ftrace's tracing_set_tracer: writing the current tracer changes nothing.
    if (current().id === t.id) return;
    await stopTracer();
    clearBuffers();
    await startTracer(t);
  });
}

/** set_ftrace_filter / set_ftrace_notrace as they apply to the tracers (the global ops). */
export function setTracerFilter(
  filter: string | readonly string[], notrace: string | readonly string[] = [], verify?: readonly string[],
): Promise<void> {
  return serial(async () => {
    const f = words(filter);
    const n = words(notrace);
    // Checked before anything changes: the grammar of every word, and that
    // the words in `verify` (default: all) select something (patterns kept
    // from before the program loaded, or checked by the caller, need not yet).
    checkPatterns([...f, ...n], verify);
    // The profiler and the helpers follow the global filter, as ftrace's do.
    const before = { f: ftraceFilter, n: ftraceNotrace };
    const all = [tracerOps, profOps, stackOps, valuesOps].filter((o): o is FtraceOps => o !== null);
    try {
      for (const o of all) {
        await ftraceSetFilter(o, f, { allowUnmatched: true });
        await ftraceSetNotrace(o, n, { allowUnmatched: true });
      }
    } catch (e) {
      // Put back what changed before the refusal.
      for (const o of all) {
        await ftraceSetFilter(o, before.f, { allowUnmatched: true }).catch(() => undefined);
        await ftraceSetNotrace(o, before.n, { allowUnmatched: true }).catch(() => undefined);
      }
      throw e;
    }
    ftraceFilter = f;
    ftraceNotrace = n;
    await refreshCallers();
  });
}

/** max_graph_depth: 0 = unlimited. */
export function setMaxGraphDepth(n: number): void {
  if (!Number.isInteger(n) || n < 0) fail('EINVAL', `max_graph_depth ${n}: a non-negative integer`);
  AtomicsStore(ctl, C_MAX_DEPTH, n);
  configChanged();
}

export function readMaxGraphDepth(): string {
  return `${AtomicsLoad(ctl, C_MAX_DEPTH)}\n`;
}

/** tracing_thresh in µs: 0 off. */
export function setTracingThresh(us: number): void {
  if (!Number.isInteger(us) || us < 0 || us > 0x7fffffff / 1000) fail('EINVAL', `tracing_thresh ${us}: a non-negative integer of µs`);
  AtomicsStore(ctl, C_THRESH_US, us);
  configChanged();
}

export function readTracingThresh(): string {
  return `${AtomicsLoad(ctl, C_THRESH_US)}\n`;
}

async function refreshMarkers(): Promise<void> {
  if (current().id !== TRACER_GRAPH) return;
  await dropMarkers();
  await addMarkers();
}

/**
 * The core's grammar for every word, and a match for each word of `verify`
 * (default: all; none is asked while booting). Throws EINVAL; changes nothing.
 */
function checkPatterns(w: readonly string[], verify: readonly string[] | undefined): void {
  const check = new Set(verify ?? w);
  const inst = instance();
  parsePatterns(inst, w.filter((x) => !check.has(x)), true);
  parsePatterns(inst, w.filter((x) => check.has(x)), booting);
}

/**
 * set_graph_function: trace only these functions and what they call. A
 * pattern that matches nothing is EINVAL (checked by the core) and changes
 * nothing.
 */
export function setGraphFunction(patterns: string | readonly string[], verify?: readonly string[]): Promise<void> {
  return serial(async () => {
    const w = words(patterns);
    checkPatterns(w, verify);
    graphFunctions = w;
    AtomicsStore(ctl, C_GRAPH_FILTER, w.length > 0 ? 1 : 0);
    configChanged();
    await refreshMarkers();
  });
}

/** set_graph_notrace: stop graph tracing from these functions until they return. */
export function setGraphNotrace(patterns: string | readonly string[], verify?: readonly string[]): Promise<void> {
  return serial(async () => {
    const w = words(patterns);
    checkPatterns(w, verify);
    graphNotrace = w;
    await refreshMarkers();
  });
}

export function readGraphFunction(): string {
  return graphFunctions.length === 0 ? '#### all functions enabled ####\n' : `${graphFunctions.join('\n')}\n`;
}

export function readGraphNotrace(): string {
  return graphNotrace.length === 0 ? '#### no functions disabled ####\n' : `${graphNotrace.join('\n')}\n`;
}

/** function_profile_enabled: turning it on resets the counts (a new generation); writing the same value changes nothing. */
export function setFunctionProfileEnabled(on: boolean): Promise<void> {
  return serial(async () => {
    // As ftrace: only a change (0 -> 1) resets the counts.
    if (on === (profOps !== null)) return;
    if (on) {
      resetProfile();
      const o = createOps({ func: { module: here('./profile.js'), export: 'profileOps' }, name: 'function_profile', flags: OPS_FL_RECURSION });
      if (ftraceFilter.length > 0) await ftraceSetFilter(o, ftraceFilter, { allowUnmatched: true });
      if (ftraceNotrace.length > 0) await ftraceSetNotrace(o, ftraceNotrace, { allowUnmatched: true });
      await registerFtraceFunction(o);
      profOps = o;
    } else {
      const o = profOps!;
      profOps = null;
      await unregisterFtraceFunction(o);
    }
  });
}

export function readFunctionProfileEnabled(): string {
  return profOps !== null ? '1\n' : '0\n';
}

async function ringsOf(threadId: number | undefined): Promise<ThreadRing[]> {
  const all = await currentRings();
  if (threadId === undefined) return all;
  // A thread without a ring in this generation (cleared, or not traced yet) has an empty buffer.
  return all.filter((r) => r.threadId === threadId);
}

/**
 * The `trace` file (or per_thread/N/trace), non-consuming, in pieces: each
 * costs the program bounded time and memory, and the event loop runs
 * between them (output/stream.ts).
 */
export async function* traceChunks(threadId?: number): AsyncGenerator<string> {
  const rings = await ringsOf(threadId);
  const t = current();
  const threads = rings.map(liveRingEvents);
  if (t.id === TRACER_GRAPH) yield* traceText(graphHeader(), graphSources(threads));
  else yield* traceText(functionHeader(t.name, ringTotals(rings)), functionSources(threads));
}

/** The `trace` file (or per_thread/N/trace) as one text: traceChunks joined. */
export async function readTrace(threadId?: number): Promise<string> {
  let s = '';
  for await (const piece of traceChunks(threadId)) s += piece;
  return s;
}

/** Events of one thread a read of trace_pipe takes at most: a read costs bounded time and memory. */
const PIPE_BATCH = 4096;

async function pipeOnce(threadId: number | undefined): Promise<{ text: string; more: boolean }> {
  const rings = await ringsOf(threadId);
  const more = rings.some((r) => ringStats(r.ring).entries > PIPE_BATCH);
  return { text: current().id === TRACER_GRAPH ? graphPipe(rings, PIPE_BATCH) : functionPipe(rings, PIPE_BATCH), more };
}

/**
 * `trace_pipe` (or per_thread/N/trace_pipe): what is unread now, consumed,
 * at most PIPE_BATCH events a thread (the rest is for the next read, as a
 * read of ftrace's trace_pipe returns what fits its buffer); never blocks,
 * '' when nothing is new.
 */
export async function readTracePipe(threadId?: number): Promise<string> {
  return (await pipeOnce(threadId)).text;
}

/**
 * trace_pipe in pieces: reads of at most PIPE_BATCH events a thread, the
 * event loop running between them, until what the buffers held when it
 * started has been taken (a writer faster than the reader does not keep it
 * going).
 */
export async function* tracePipeChunks(threadId?: number): AsyncGenerator<string> {
  const start = (await ringsOf(threadId)).reduce((m, r) => MathMax(m, ringStats(r.ring).entries), 0);
  for (let round = MathCeil(start / PIPE_BATCH); ; round--) {
    const { text, more } = await pipeOnce(threadId);
    if (text !== '') yield text;
    if (!more || round <= 0) return;
    await new Promise((resolve) => SetImmediate(resolve));
  }
}

/**
 * Threads that have a per_thread directory: every live thread of the
 * process (traced or not, as every online CPU has per_cpu/cpuN), and
 * every thread with a row in the session (it traced, or was given a size).
 */
export function perThreadIds(): number[] {
  const ids = new Set(knownThreadIds());
  for (const t of listThreads()) if (t.state === 'alive') ids.add(t.threadId);
  return [...ids].sort((a, b) => a - b);
}

/**
 * per_thread/<id>/stats: the ring's counters (ftrace's per_cpu/cpuN/stats);
 * all zero for a thread with no ring in this buffer generation (cleared, or
 * not traced since), as a CPU buffer just reset.
 */
export async function readThreadStats(threadId: number): Promise<string> {
  const r = (await currentRings()).find((x) => x.threadId === threadId);
  if (r === undefined) {
    if (!perThreadIds().includes(threadId)) fail('ENOENT', `per_thread/${threadId}/stats: no such thread`);
    return formatStats({
      entries: 0, overrun: 0, commitOverrun: 0, bytes: 0, oldestTs: Number.NaN, nowTs: Number.NaN, dropped: 0, read: 0, written: 0, unsaved: 0,
      unit: traceClock() === 'counter' ? UNIT_COUNT : UNIT_NS,
    });
  }
  return formatStats(ringStats(r.ring));
}

/** trace_stat: the names of the function<N> files (N a thread id). */
export async function traceStatFiles(): Promise<string[]> {
  return (await currentProfileTables()).map((t) => `function${t.threadId}`);
}

/** trace_stat/function<N>. ENOENT when thread N has no profile. */
export async function readTraceStat(threadId: number): Promise<string> {
  const t = (await currentProfileTables()).find((x) => x.threadId === threadId);
  if (t === undefined) fail('ENOENT', `trace_stat/function${threadId}: no such file`);
  // A table of an older generation was reset: only the header until the thread's next call.
  return t.gen === profileGeneration() ? statText(t.sab, AtomicsLoad(ctl, C_THRESH_US) * 1000) : STAT_HEADER;
}

/** set_ftrace_filter's own text (its tokens, not what they select): for the control files. */
export function tracerFilterTokens(): { filter: string[]; notrace: string[] } {
  return { filter: [...ftraceFilter], notrace: [...ftraceNotrace] };
}

export function graphFilterTokens(): { functions: string[]; notrace: string[] } {
  return { functions: [...graphFunctions], notrace: [...graphNotrace] };
}

/**
 * Sets option bits. Options that change which callbacks run
 * (func_stack_trace, funcgraph-args, funcgraph-retval) re-register the
 * current tracer's helpers without clearing the buffers, as ftrace
 * re-registers the function tracer's ops for func_stack_trace.
 */
export function setOptions(set: number, clear = 0): Promise<void> {
  return serial(async () => {
    const before = options();
    const after = (before | set) & ~clear;
    const changed = before ^ after;
    if (changed === 0) return;
    setOptionBits(changed & after, true);
    setOptionBits(changed & ~after, false);
    try {
      await applyHelpers(changed);
    } catch (e) {
      // Refused (the core could not register a helper): the options as they were.
      setOptionBits(changed & before, true);
      setOptionBits(changed & ~before, false);
      await applyHelpers(changed).catch(() => undefined);
      throw e;
    }
  });
}

/** Re-registers what depends on the `changed` option bits for the current tracer. */
async function applyHelpers(changed: number): Promise<void> {
  const id = current().id;
  if ((changed & OPT_FUNC_STACK_TRACE) !== 0 && id === TRACER_FUNCTION) {
    // The stack ops must be older than the tracer's: re-register both.
    await dropHelpers();
    if (tracerOps !== null) await unregisterFtraceFunction(tracerOps);
    tracerOps = null;
    await startTracer(current());
  }
  if ((changed & OPT_FUNC_CALLER) !== 0 && id === TRACER_FUNCTION) await refreshCallers();
  if ((changed & (OPT_GRAPH_ARGS | OPT_GRAPH_RETVAL)) !== 0 && id === TRACER_GRAPH) {
    if (valuesOps !== null) await unregisterFtraceFunction(valuesOps);
    valuesOps = null;
    await addValues();
  }
  if ((changed & OPT_OTLP) !== 0 && id === TRACER_GRAPH) {
    if ((options() & OPT_OTLP) !== 0) await startExport();
    else await stopExport();
  }
}

/**
 * Points every probe kind's ops at the sites the live table gives it. A kind
 * gets its ops when it gets its first function and loses it with its last,
 * as the kernel's ftrace_func_probe: the list function calls the newest ops
 * first, so of a function's two forms of one command, the one registered
 * later acts first.
 */
async function syncProbeOps(): Promise<void> {
  const live = probeEntries();
  for (const { command, counted, kind } of PROBE_KINDS) {
    const sites = [...new Set(live.filter((e) => probeKind(e.command, e.counted) === kind).map((e) => e.site))];
    const have = probeOps[kind] ?? null;
    if (sites.length === 0) {
      if (have !== null) await unregisterFtraceFunction(have);
      probeOps[kind] = null;
      continue;
    }
    // Index tokens (1-based, available_filter_functions order) name exactly these sites.
    const tokens = sites.map((s) => String(s + 1));
    if (have !== null) {
      await ftraceSetFilter(have, tokens);
      continue;
    }
    const name = `${command}${counted && command !== 'dump' ? '_count' : ''}`;
    const exportName = `${command}${counted ? 'Count' : ''}Probe`;
    const o = createOps({ func: { module: here('./probe-hits.js'), export: exportName }, name: `probe_${name}`, flags: OPS_FL_RECURSION });
    await ftraceSetFilter(o, tokens);
    await registerFtraceFunction(o);
    probeOps[kind] = o;
  }
}

/**
 * Adds and removes filter commands (a function's command in one form: its
 * kind). New entries go into the shared table before their ops covers them
 * (a hit always finds its count); removed ones leave it first (a hit that
 * comes before its ops is refiltered finds no entry and does nothing). An
 * entry both removed and added starts again with the added count.
 * ENOSPC (nothing changed) when the table has no room; if the core refuses
 * an ops change, the table and the ops are put back as they were.
 */
export function updateProbes(add: readonly ProbeEntry[], remove: readonly ProbeEntry[]): Promise<void> {
  return serial(async () => {
    const live = probeEntries();
    const hidden = live.filter((x) => remove.some((r) => sameProbe(x, r)));
    const kept = live.filter((x) => !hidden.includes(x));
    const fresh = add.filter((e, i) => !kept.some((x) => sameProbe(x, e)) && add.findIndex((y) => sameProbe(y, e)) === i);
    for (const e of fresh) {
      if (!Number.isInteger(e.count) || e.count < -1 || e.count > PROBE_COUNT_MAX) fail('EINVAL', `count ${String(e.count)} of ${e.command}: -1 (unlimited) or 0 to ${PROBE_COUNT_MAX}`);
    }
    const room = probeRoom() + hidden.length;
    if (fresh.length > room) fail('ENOSPC', `at most ${PROBE_MAX} filter commands (${room} free, ${fresh.length} new)`);
    for (const r of hidden) removeProbeEntry(r);
    for (const e of fresh) addProbeEntry(e);
    try {
      await syncProbeOps();
    } catch (e) {
      for (const x of fresh) removeProbeEntry(x);
      for (const x of hidden) addProbeEntry(x);
      await syncProbeOps().catch(() => undefined);
      throw e;
    }
  });
}

export { probeEntries };
