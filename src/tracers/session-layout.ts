/**
 * The tracing session's shared memory, drawn in one place: the control
 * words every thread reads, and how the session's two buffers are made and
 * handed to the threads a program starts.
 *
 * Owns: the layout of the control buffer (version: MAGIC; a change of any
 * offset, or of what a word means, changes MAGIC) and the environment-data key. Invariant: the buffers
 * are complete before they are put in the environment data, so a worker
 * started afterwards inherits a usable session. Loads no ring code (only
 * the registry buffer's header), so jsftrace/register can open the session
 * at a program's start at almost no cost; session.ts builds on it.
 *
 *   i32 index
 *   0            C_MAGIC, C_STATE (epoch << 1 | tracing_on), C_BUFGEN,
 *                C_CLOCK, C_SIZE_KB, C_MODE, C_TRACER, C_MAX_DEPTH,
 *                C_THRESH_US, C_PROF_GEN, C_GRAPH_FILTER, C_DOORBELL,
 *                C_DRAIN_SLEEPING, C_WAIT_MS, C_EVENTS, C_FN_FLAGS,
 *                C_FLUSHES, (reserved to 31)
 *   32           MAX_ROWS thread rows of ROW_WORDS
 *                {threadId + 1, ring generation, profiler generation, own size}
 *   C_PID        count, PID_MAX thread ids (set_ftrace_pid)
 *   C_NOPID      count, PID_MAX thread ids (set_ftrace_notrace_pid)
 *   C_CONTEXT    async-context filter on/off
 *   C_OPTIONS    option bits (OPT_*)
 *   C_PROBES     high-water mark, PROBE_MAX filter-command rows of PROBE_WORDS
 */

import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { DEFAULT_SIZE_KB } from '../ring/layout.js';
import { createRegistryBuffer } from '../ring/registry-buffer.js';
import { AtomicsStore } from '../shared/builtins.js';

export const ENV_KEY = 'jsftrace:tracers:session';
export const MAGIC = 0x4a535435; // 'JST5': the layout below (JST4's probe rows held a command, not a kind)

// Control words (Int32Array indexes).
export const C_MAGIC = 0;
export const C_STATE = 1;
export const C_BUFGEN = 2;
export const C_CLOCK = 3;
export const C_SIZE_KB = 4;
export const C_MODE = 5;
/** Tracer id: TRACER_NOP, TRACER_FUNCTION, TRACER_GRAPH. */
export const C_TRACER = 6;
export const C_MAX_DEPTH = 7;
/** tracing_thresh in µs. */
export const C_THRESH_US = 8;
/** Profiler table generation (bumped on every enable, which resets it). */
export const C_PROF_GEN = 9;
/** Whether set_graph_function has patterns (only then do calls outside it skip). */
export const C_GRAPH_FILTER = 10;
/**
 * The drain's doorbell (a streaming `jsftrace record`): writers in wait
 * mode bump and notify it when their ring is half full while
 * C_DRAIN_SLEEPING is 1, and when they must wait.
 */
export const C_DOORBELL = 11;
export const C_DRAIN_SLEEPING = 12;
/** C_MODE's wait mode (MODE_WAIT): how long a writer waits for the drain at a full ring, in ms. */
export const C_WAIT_MS = 13;
/** The runtime events turned on (events/<name>/enable): EVENT_* bits. */
export const C_EVENTS = 14;
/**
 * The common_flags the function tracer gives its events (FN_* bits), set
 * where the filters and options are: what the parent it writes means.
 */
export const C_FN_FLAGS = 15;
/** Bumped (and notified) by each thread that has published its events on request (session.ts, flush requests). */
export const C_FLUSHES = 16;
export const C_ROWS = 32;
export const ROW_WORDS = 4;
export const R_TID = 0; // threadId + 1, 0 when free
export const R_BUFGEN = 1; // generation of the thread's current ring, -1 if none
export const R_PROFGEN = 2; // generation of the thread's profiler table, -1 if none
export const R_SIZE_KB = 3; // per_thread/N/buffer_size_kb, 0 for buffer_size_kb
export const MAX_ROWS = 256;
/**
 * set_ftrace_pid and set_ftrace_notrace_pid for threads: a count and up to
 * PID_MAX thread ids each; and whether events are kept only inside
 * traceContext() (the async-context filter).
 */
export const C_PID = C_ROWS + MAX_ROWS * ROW_WORDS;
export const C_NOPID = C_PID + 1 + 64;
export const C_CONTEXT = C_NOPID + 1 + 64;
export const PID_MAX = 64;
/** trace_options that tracers or outputs read (OPT_* bits). */
export const C_OPTIONS = C_CONTEXT + 1;
/**
 * The filter commands' probes (traceon, traceoff, stacktrace, dump): a
 * count of used entries, then PROBE_MAX entries of PROBE_WORDS words
 * {site + 1 (0 = removed), kind (probes.ts: the command and whether it was
 * written with a count), remaining count (-1 unlimited)}.
 */
export const C_PROBES = C_OPTIONS + 1;
export const PROBE_MAX = 256;
export const PROBE_WORDS = 3;
export const CTL_WORDS = C_PROBES + 1 + PROBE_MAX * PROBE_WORDS;

// Option bits of C_OPTIONS (docs/control.md lists what each does).
export const OPT_PRINT_PARENT = 1 << 0;
export const OPT_IRQ_INFO = 1 << 1;
export const OPT_CONTEXT_INFO = 1 << 2;
export const OPT_MARKERS = 1 << 3;
export const OPT_FUNC_STACK_TRACE = 1 << 4;
export const OPT_GRAPH_CPU = 1 << 5;
export const OPT_GRAPH_OVERHEAD = 1 << 6;
export const OPT_GRAPH_PROC = 1 << 7;
export const OPT_GRAPH_DURATION = 1 << 8;
export const OPT_GRAPH_ABSTIME = 1 << 9;
export const OPT_GRAPH_TAIL = 1 << 10;
export const OPT_GRAPH_RETVAL = 1 << 11;
export const OPT_GRAPH_RETVAL_HEX = 1 << 12;
export const OPT_GRAPH_ARGS = 1 << 13;
/** function_graph's calls also go out as OpenTelemetry spans (src/tracers/otlp/). */
export const OPT_OTLP = 1 << 14;
/** The function tracer's parent is the direct caller, traced or not (callers.ts); off: the nearest traced caller. */
export const OPT_FUNC_CALLER = 1 << 15;
/** ftrace's defaults: print-parent, irq-info, context-info, markers, funcgraph-cpu, -overhead, -duration. */
export const OPT_DEFAULTS = OPT_PRINT_PARENT | OPT_IRQ_INFO | OPT_CONTEXT_INFO | OPT_MARKERS | OPT_GRAPH_CPU
  | OPT_GRAPH_OVERHEAD | OPT_GRAPH_DURATION;

// Runtime events (C_EVENTS), each off by default.
/** Garbage collections, from perf_hooks. */
export const EVENT_GC = 1 << 0;
/** Event-loop delay samples: the time between turns of a 10 ms timer. */
export const EVENT_LOOP_DELAY = 1 << 1;
/** async_hooks: resources made (init) and their callbacks run (before, after). */
export const EVENT_ASYNC = 1 << 2;

// Function event flags (C_FN_FLAGS).
/** The parent is the nearest traced caller, not always the direct one (a filter is set, options/func-caller is off). */
export const FN_NEAREST = 1;

export const TRACER_NOP = 0;
export const TRACER_FUNCTION = 1;
export const TRACER_GRAPH = 2;

export interface SessionEnv {
  ctl: SharedArrayBuffer;
  events: SharedArrayBuffer;
}

/**
 * The session's buffers: this thread's environment data has them when the
 * thread was started after the session opened; otherwise they are made
 * (and put there, for the threads this one starts).
 */
export function openOrCreateSession(): SessionEnv {
  const have = getEnvironmentData(ENV_KEY) as SessionEnv | undefined;
  if (have !== undefined) return have;
  const ctl = new SharedArrayBuffer(CTL_WORDS * 4);
  const c = new Int32Array(ctl);
  c[C_STATE] = 1 << 1 | 1; // epoch 1, tracing on
  c[C_BUFGEN] = 1;
  c[C_CLOCK] = 0; // local, ftrace's default
  c[C_SIZE_KB] = DEFAULT_SIZE_KB;
  c[C_MODE] = 0;
  c[C_WAIT_MS] = 1000;
  c[C_PROF_GEN] = 1;
  c[C_OPTIONS] = OPT_DEFAULTS;
  for (let r = 0; r < MAX_ROWS; r++) {
    c[C_ROWS + r * ROW_WORDS + R_BUFGEN] = -1;
    c[C_ROWS + r * ROW_WORDS + R_PROFGEN] = -1;
  }
  AtomicsStore(c, C_MAGIC, MAGIC);
  const env: SessionEnv = { ctl, events: createRegistryBuffer({ maxTypes: 64, arenaBytes: 16 << 10 }) };
  // Workers created from now on inherit the session (as the core's instance).
  setEnvironmentData(ENV_KEY, env);
  return env;
}

