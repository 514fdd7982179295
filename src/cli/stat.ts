/**
 * `jsftrace -P <pid> stat`: the tracing state of a running process.
 *
 * Owns: the summary's shape. Invariant: every value shown is a control
 * file's text as the process returned it (trimmed), read in one
 * connection; filters are shown only when set, and a file this process
 * does not have is left out rather than guessed.
 */

import type { ControlClient } from '../control/client.js';
import { JsftraceError } from '../shared/errors.js';
import { PID_OPTION, targetPid, withProcess, verbArgs, type Command } from './command.js';
import { commandLine, elapsed } from './ps.js';
import { bold, out } from './term.js';

const HELP = `usage: jsftrace -P <pid> stat

Shows the tracing state of the process <pid>: the tracer, tracing_on, the
clock, buffer sizes, the filters that are set, the profiler, and each
thread's ring counters (per_thread/<id>/stats).

Options:
  -P <pid>        the process
  -h, --help      this text

Example:
  jsftrace -P 4242 stat
`;

/** Single-value files, in the order shown. */
const KNOBS = ['current_tracer', 'tracing_on', 'trace_clock', 'buffer_size_kb', 'buffer_total_size_kb', 'max_graph_depth', 'tracing_thresh', 'function_profile_enabled'];
/** List files and what they read when nothing is set. */
const FILTERS: [string, RegExp][] = [
  ['set_ftrace_filter', /^#### all functions enabled ####$/],
  ['set_ftrace_notrace', /^#### no functions disabled ####$/],
  ['set_graph_function', /^#### all functions enabled ####$/],
  ['set_graph_notrace', /^#### no functions disabled ####$/],
  ['set_ftrace_pid', /^no pid$/],
  ['set_ftrace_notrace_pid', /^no pid$/],
];

async function state(c: ControlClient): Promise<string> {
  const files = new Set(await c.list());
  const rows: string[] = [];
  const row = (k: string, v: string): void => { rows.push(`${bold(k.padEnd(24))} ${v}`); };
  row('process', `${c.pid} (${commandLine(c.hello)}), up ${elapsed(Date.now() - c.hello.startTime)}, node ${c.hello.node}, jsftrace ${c.hello.jsftrace}`);
  for (const k of KNOBS) {
    if (!files.has(k)) continue;
    let v = (await c.read(k)).trim();
    if (k === 'trace_clock') v = /\[([^\]]+)\]/.exec(v)?.[1] ?? v;
    row(k, v);
  }
  for (const [k, empty] of FILTERS) {
    if (!files.has(k)) continue;
    const v = (await c.read(k)).trim();
    if (v !== '' && !empty.test(v)) row(k, v.split('\n').join(`\n${' '.repeat(25)}`));
  }
  const options = files.has('trace_options') ? (await c.read('trace_options')).trim().split('\n').join(' ') : '';
  if (options !== '') row('trace_options', options);
  const threads = [...files].map((f) => /^per_thread\/([0-9]+)\/stats$/.exec(f)?.[1]).filter((x): x is string => x !== undefined)
    .map(Number).sort((a, b) => a - b);
  for (const id of threads) {
    let stats: string;
    try {
      stats = (await c.read(`per_thread/${id}/stats`)).trim();
    } catch (e) {
      // A thread listed a moment ago may have ended, or have no buffer since the last clear.
      if (e instanceof JsftraceError && e.code === 'ENOENT') continue;
      throw e;
    }
    row(`thread ${id}`, stats.split('\n').join(`\n${' '.repeat(25)}`));
  }
  return `${rows.join('\n')}\n`;
}

export const stat: Command = {
  name: 'stat',
  help: HELP,
  async run(argv, global) {
    const values = verbArgs(argv, PID_OPTION, HELP);
    if (values === null) return 0;
    await out(await withProcess(targetPid(values.pid, global), state));
    return 0;
  },
};
