/**
 * The tracing flags shared by `record`, `profile` and `start` (trace-cmd's:
 * -p tracer, -l filter, -n notrace, -g graph function, -O option, -C clock,
 * -b buffer size), and the control-file writes they stand for.
 *
 * Owns: the order of those writes. Invariant: filters first, then options,
 * clock and buffer size, then current_tracer, then tracing_on: the tracer
 * starts only once everything it reads is in place, so no event is written
 * under a half-made configuration (trace-cmd's order). The first pattern of
 * a list truncates the file (`>`), the rest append (`>>`), so each pattern
 * is checked, and refused, on its own.
 */

import type { ControlSurface } from '../control/surface.js';
import { MAX_SIZE_KB } from '../ring/index.js';
import { UsageError } from './command.js';

export const TRACING_OPTIONS = {
  tracer: { type: 'string', short: 'p' },
  filter: { type: 'string', short: 'l', multiple: true },
  notrace: { type: 'string', short: 'n', multiple: true },
  graph: { type: 'string', short: 'g', multiple: true },
  option: { type: 'string', short: 'O', multiple: true },
  clock: { type: 'string', short: 'C' },
  buffer: { type: 'string', short: 'b' },
  event: { type: 'string', short: 'e', multiple: true },
} as const;

export const TRACING_HELP = `Tracing options:
  -p <tracer>     the tracer: function, function_graph or nop (jsftrace list -t)
  -l <pattern>    trace only functions matching (set_ftrace_filter; repeatable; ftrace
                  globs on <file>:<name>, <file> the path from the directory of the
                  nearest package.json: '*:handle*', 'src/db/*', '*:mod:express')
  -n <pattern>    never trace functions matching (set_ftrace_notrace; repeatable)
  -g <pattern>    function_graph: only these functions and what they call
                  (set_graph_function; repeatable)
  -O <option>     set an option, 'no<option>' clears it (options/<option>; repeatable;
                  jsftrace list -o)
  -C <clock>      trace_clock (jsftrace list -C)
  -b <kb>         buffer_size_kb: each thread's ring, in KiB (1 to ${MAX_SIZE_KB})
  -e <event>      a runtime event too: gc (collections), loop_delay (event-loop delay
                  samples), async_hook (async hops; costly), all (events/<event>/enable;
                  repeatable; jsftrace list -e)
`;

/** `--otlp <url>` of record and start: function_graph's calls as OpenTelemetry spans. */
export const OTLP_OPTION = { otlp: { type: 'string' } } as const;

export const OTLP_HELP = `  --otlp <url>    also send the calls as OpenTelemetry spans to this OTLP/HTTP
                  endpoint (http://collector:4318; a URL without a path gets
                  /v1/traces; --otlp= uses OTEL_EXPORTER_OTLP_ENDPOINT); implies
                  -p function_graph (options/otlp, otlp/endpoint; docs/otlp.md)
`;

/**
 * The writes of `--otlp <url>`: the endpoint, then the option; they go
 * before current_tracer (controlWrites' `extra`), so the export starts with
 * the tracer. Refuses another tracer than function_graph.
 */
export function otlpWrites(values: { otlp?: string; tracer?: string }): ControlWrite[] {
  if (values.otlp === undefined) return [];
  if (values.tracer !== undefined && values.tracer !== 'function_graph') {
    throw new UsageError(`--otlp sends function_graph's calls: it does not go with -p ${values.tracer}`);
  }
  return [['write', 'otlp/endpoint', values.otlp], ['write', 'options/otlp', '1']];
}

export interface TracingValues {
  tracer?: string;
  filter?: string[];
  notrace?: string[];
  graph?: string[];
  option?: string[];
  clock?: string;
  buffer?: string;
  event?: string[];
}

export type ControlWrite = ['write' | 'append', string, string];

/** All the patterns of one file in one write: a file takes a write whole or refuses it whole. */
function list(path: string, patterns: string[] | undefined): ControlWrite[] {
  return patterns === undefined || patterns.length === 0 ? [] : [['write', path, patterns.join(' ')]];
}

/** `-O name` -> options/name 1, `-O noname` -> options/name 0 (ftrace's trace_options syntax). */
function optionWrite(option: string): ControlWrite {
  if (!/^[A-Za-z0-9_-]+$/.test(option)) throw new UsageError(`-O ${JSON.stringify(option)}: an option name, or no<name>`);
  return option.startsWith('no') ? ['write', `options/${option.slice(2)}`, '0'] : ['write', `options/${option}`, '1'];
}

/**
 * The writes for `values`, in their order. `extra` goes after the clock
 * and buffer and before current_tracer (the profiler's switch); `tracer`
 * is written only when given or defaulted.
 */
export function controlWrites(values: TracingValues, opts: { defaultTracer?: string; extra?: ControlWrite[] } = {}): ControlWrite[] {
  const writes: ControlWrite[] = [
    ...list('set_ftrace_filter', values.filter),
    ...list('set_ftrace_notrace', values.notrace),
    ...list('set_graph_function', values.graph),
    ...(values.option ?? []).map(optionWrite),
  ];
  if (values.clock !== undefined) writes.push(['write', 'trace_clock', values.clock]);
  if (values.buffer !== undefined) {
    if (!/^[1-9][0-9]*$/.test(values.buffer)) throw new UsageError(`-b ${JSON.stringify(values.buffer)}: a size in KiB (a positive integer)`);
    if (Number(values.buffer) > MAX_SIZE_KB) throw new UsageError(`-b ${values.buffer}: at most ${MAX_SIZE_KB} KiB per thread`);
    writes.push(['write', 'buffer_size_kb', values.buffer]);
  }
  for (const e of values.event ?? []) writes.push(['write', e === 'all' ? 'events/enable' : `events/${e}/enable`, '1']);
  writes.push(...(opts.extra ?? []));
  const tracer = values.tracer ?? opts.defaultTracer;
  if (tracer !== undefined) writes.push(['write', 'current_tracer', tracer]);
  writes.push(['write', 'tracing_on', '1']);
  return writes;
}

/**
 * A control tree in this process: what a fresh traced process of this
 * jsftrace has (its tracers, options, clocks and defaults), but no
 * function, since a function has a site only in a traced program.
 */
export async function localSurface(): Promise<ControlSurface> {
  const { controlSurface } = await import('../control/tree.js');
  return controlSurface();
}

/**
 * Refuses, as a usage error, a tracer, option or clock this jsftrace does
 * not have, before a program is started for nothing. Filters cannot be
 * checked here: the program's functions do not exist yet.
 */
export async function checkLocally(values: TracingValues & { otlp?: string }): Promise<void> {
  const s = await localSurface();
  if (values.otlp !== undefined) {
    // This process's own file refuses what the program's would.
    await s.write('otlp/endpoint', values.otlp).catch((e: Error) => {
      throw new UsageError(`--otlp ${JSON.stringify(values.otlp)}: ${e.message.replace(/^otlp\/endpoint: /, '')}`);
    });
  }
  if (values.tracer !== undefined) {
    const tracers = (await s.read('available_tracers')).trim().split(/\s+/);
    if (!tracers.includes(values.tracer)) throw new UsageError(`-p ${JSON.stringify(values.tracer)}: no such tracer (${tracers.join(', ')})`);
  }
  if (values.clock !== undefined) {
    const clocks = (await s.read('trace_clock')).replace(/[[\]]/g, '').trim().split(/\s+/);
    if (!clocks.includes(values.clock)) throw new UsageError(`-C ${JSON.stringify(values.clock)}: no such clock (${clocks.join(', ')})`);
  }
  if (values.event !== undefined) {
    const files = new Set(await s.list());
    for (const e of values.event) {
      if (e !== 'all' && !files.has(`events/${e}/enable`)) {
        const have = (await s.read('available_events')).trim().split('\n').map((x) => x.replace(/^jsftrace:/, ''));
        throw new UsageError(`-e ${JSON.stringify(e)}: no such event (${[...have, 'all'].join(', ')})`);
      }
    }
  }
  if (values.option !== undefined) {
    const files = new Set(await s.list());
    for (const o of values.option) {
      const path = optionWrite(o)[1];
      if (!files.has(path)) throw new UsageError(`-O ${JSON.stringify(o)}: no such option (jsftrace list -o lists them)`);
    }
  }
}
