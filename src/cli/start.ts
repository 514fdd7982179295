/**
 * `jsftrace -P <pid> start [tracing options]`: configures a running
 * process's tracing and turns it on.
 *
 * Owns: nothing but the command line; the writes and their order are
 * settings.ts's. Invariant: the writes go one by one in that order (all
 * the patterns of a file in one write) and the first refused one stops the
 * rest, so the tracer is never switched on under a configuration that was
 * refused in part; the refused write itself changes nothing (G8), and the
 * error names the files written before it.
 */

import { PID_OPTION, targetPid, withProcess, verbArgs, type Command } from './command.js';
import { checkLocally, controlWrites, OTLP_HELP, OTLP_OPTION, otlpWrites, TRACING_HELP, TRACING_OPTIONS, type ControlWrite } from './settings.js';
import type { ControlClient } from '../control/client.js';
import { JsftraceError } from '../shared/errors.js';
import { note } from './term.js';

const OPTIONS = { ...TRACING_OPTIONS, ...OTLP_OPTION, ...PID_OPTION } as const;

const HELP = `usage: jsftrace -P <pid> start [tracing options]

Configures the running process <pid> (started under jsftrace/register: see
'jsftrace ps') and turns tracing on. Only what is given changes; the tracer
stays as it is unless -p names one. 'jsftrace -P <pid> pipe' then shows
the events as they come, 'stop' turns tracing off, 'reset' undoes it all.

${TRACING_HELP}${OTLP_HELP}
Options:
  -P <pid>        the process
  -h, --help      this text

Examples:
  jsftrace -P 4242 start -p function -l '*:handle*'
  jsftrace -P 4242 start -p function_graph -g '*:Router.handle' -O funcgraph-proc
  jsftrace -P 4242 start --otlp http://localhost:4318 -l 'src/handlers/*'
`;

/**
 * Applies `writes` in order; a refused one says which, stops the rest, and
 * names the files already written (each took its write whole; the refused
 * one changed nothing).
 */
export async function applyWrites(c: ControlClient, writes: ControlWrite[]): Promise<void> {
  const done: string[] = [];
  for (const [how, path, text] of writes) {
    try {
      if (how === 'write') await c.write(path, text);
      else await c.append(path, text);
      done.push(path);
    } catch (e) {
      if (e instanceof JsftraceError) {
        const msg = e.message.startsWith(`${path}:`) ? e.message.slice(path.length + 2) : e.message;
        const before = done.length > 0 ? `; already written: ${[...new Set(done)].join(', ')}` : '';
        throw new JsftraceError(e.code, `${path}: ${msg}${before}`);
      }
      throw e;
    }
  }
}

export const start: Command = {
  name: 'start',
  help: HELP,
  async run(argv, global) {
    const values = verbArgs(argv, OPTIONS, HELP);
    if (values === null) return 0;
    const pid = targetPid(values.pid, global);
    if (values.otlp !== undefined) await checkLocally({ otlp: values.otlp });
    const writes = controlWrites(values, {
      defaultTracer: values.otlp !== undefined ? 'function_graph' : undefined, extra: otlpWrites(values),
    });
    await withProcess(pid, async (c) => {
      await applyWrites(c, writes);
      const tracer = (await c.read('current_tracer')).trim();
      const profiling = (await c.read('function_profile_enabled')).trim() === '1';
      note(tracer === 'nop' && !profiling
        ? `jsftrace: tracing on in ${pid}, but its tracer is nop: nothing is recorded but markers (give -p function or -p function_graph)`
        : `jsftrace: tracing ${pid} with ${tracer}`);
    });
    return 0;
  },
};
