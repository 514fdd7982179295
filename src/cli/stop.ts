/**
 * `jsftrace -P <pid> stop`: tracing_on 0 in a running process.
 *
 * Owns: nothing but the command line. Invariant: only tracing_on changes:
 * the buffers keep what they hold (show, extract and pipe still read it)
 * and the tracer stays registered, as ftrace's tracing_on.
 */

import { PID_OPTION, targetPid, withProcess, verbArgs, type Command } from './command.js';

const HELP = `usage: jsftrace -P <pid> stop

Stops writing events in the process <pid> (tracing_on 0). What the buffers
hold stays: 'show', 'extract' and 'pipe' still read it. 'start' turns
tracing on again.

Options:
  -P <pid>        the process
  -h, --help      this text

Example:
  jsftrace -P 4242 stop && jsftrace -P 4242 extract -o app.jsft
`;

export const stop: Command = {
  name: 'stop',
  help: HELP,
  async run(argv, global) {
    const values = verbArgs(argv, PID_OPTION, HELP);
    if (values === null) return 0;
    await withProcess(targetPid(values.pid, global), (c) => c.write('tracing_on', '0'));
    return 0;
  },
};
