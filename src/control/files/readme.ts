/**
 * The README control file: what this build supports, as ftrace's README
 * lists its files. Owns the one-line descriptions; tree.ts checks at load
 * that every file it serves is described here and nothing else is.
 *
 * Tests grep this file for features, as the kernel's selftests grep its
 * README (check_requires): set_ftrace_filter's line keeps the kernel's
 * words `accepts: func_full_name or glob-matching-pattern`, which
 * func-filter-glob.tc looks for (`accepts: .* glob-matching-pattern`)
 * before it tests full globs, and `Format: <function>:<trigger>[:count]`.
 */

export const DESCRIPTIONS: Record<string, string> = {
  README: 'this text',
  available_tracers: 'the tracers this build has',
  current_tracer: 'the tracer in use; writing one switches and clears the buffers',
  tracing_on: '0 stops writing into the buffers (callbacks still run), 1 starts again',
  trace: 'the buffers as text, not consumed; `echo > trace` clears them',
  trace_pipe: 'the buffers as text, consumed as read (never blocks here; the socket streams it)',
  trace_options: 'option switches: `echo name` sets, `echo noname` clears; tracer options only while current',
  'options/<name>': 'one option, 0 or 1',
  trace_clock: 'the clock of the timestamps; [brackets] mark the current; writing one clears the buffers',
  trace_marker: 'write text here to put it in the trace (ftrace print event)',
  set_ftrace_filter: 'functions to trace; accepts: func_full_name or glob-matching-pattern (* ? [...]; ! removes; N = line N of available_filter_functions); modules: <glob>:mod:<package>; triggers: Format: <function>:<trigger>[:count] with trigger traceon, traceoff, stacktrace, dump (dumps once); !<function>:<trigger>[:count] removes it',
  set_ftrace_notrace: 'globs of functions never traced',
  set_graph_function: 'function_graph traces only these functions and what they call',
  set_graph_notrace: 'function_graph does not trace these functions nor what they call',
  set_ftrace_pid: 'trace only these threads (threadId; 0 is the main thread)',
  set_ftrace_notrace_pid: 'never trace these threads',
  available_filter_functions: 'every function with a site, one per line: `name` or `name [package]`',
  enabled_functions: 'functions whose site calls something now, with ftrace\'s flag columns',
  touched_functions: 'functions whose site was ever enabled',
  max_graph_depth: 'function_graph: deepest level traced (0 = no limit)',
  tracing_thresh: 'function_graph: only calls longer than this many microseconds (0 = all); the profiler hides rows below it',
  buffer_size_kb: 'KiB of buffer per thread (X when threads differ); writing clears the buffers',
  buffer_total_size_kb: 'KiB of buffer over all threads',
  'per_thread/<id>/trace': 'one thread\'s buffer as text, not consumed',
  'per_thread/<id>/trace_pipe': 'one thread\'s buffer, consumed',
  'per_thread/<id>/stats': 'one thread\'s ring counters: entries, overrun, dropped events, ...',
  'per_thread/<id>/buffer_size_kb': 'one thread\'s buffer size',
  function_profile_enabled: '1 starts the function profiler (counts reset), 0 stops it (counts kept)',
  'trace_stat/function<id>': 'one thread\'s function profile: hits, time, average, s^2',
  'otlp/endpoint': 'where options/otlp sends function_graph\'s calls as spans: an OTLP/HTTP URL (a base gets /v1/traces); empty: OTEL_EXPORTER_OTLP_ENDPOINT',
  'otlp/service_name': 'service.name of the spans; empty: OTEL_SERVICE_NAME',
  'otlp/sampler': 'which call trees become spans: parentbased_always_on (default), always_on, traceidratio <r>, ... (OTEL_TRACES_SAMPLER names)',
  'otlp/rate_limit': 'at most this many spans a second, whole call trees at a time (0 = no limit)',
  'trace_stat/otlp': 'the OTLP export: endpoint, spans exported, dropped and why, events lost',
  available_events: 'the runtime events this build has, as jsftrace:<name>',
  'events/enable': 'every runtime event: 1 on, 0 off; reads X when they differ',
  'events/<name>/enable': 'one runtime event (gc, loop_delay, async_hook), off by default: 1 writes it into the threads\' buffers',
  'events/<name>/format': 'the event\'s fields and print format',
  error_log: 'the last 8 refused writes, with where in the command; `echo > error_log` clears it',
};

export function readmeText(): string {
  const w = Math.max(...Object.keys(DESCRIPTIONS).map((k) => k.length));
  let s = 'jsftrace control files (tracefs for a Node.js process)\n\n'
    + 'Read with cat, write with > (truncate) or >> (append), in the program (jsftrace/control),\n'
    + 'over the control socket, or with `jsftrace -P <pid> fs cat|write|append <file> [text]`.\n\n';
  for (const [k, v] of Object.entries(DESCRIPTIONS)) s += `  ${k.padEnd(w)}  ${v}\n`;
  return s;
}
