/**
 * `jsftrace -P <pid> show [-f file]`: cat a control file of a running
 * process, `trace` by default.
 *
 * Owns: nothing but the command line. Invariant: the file's text is
 * printed as the process returned it, byte for byte, piece by piece as it
 * comes (a large trace is never held whole, here or in the process).
 */

import type { ControlClient } from '../control/client.js';
import { PID_OPTION, targetPid, withProcess, verbArgs, type Command } from './command.js';
import { out } from './term.js';

/**
 * Prints a control file as the process sends it, piece by piece; stops
 * asking for more once stdout is gone (`| head`).
 */
export async function catFile(c: ControlClient, path: string): Promise<void> {
  const stop = new AbortController();
  const onError = (): void => stop.abort();
  process.stdout.on('error', onError);
  try {
    await c.stream(path, (text) => (stop.signal.aborted ? undefined : out(text)), stop.signal);
  } finally {
    process.stdout.off('error', onError);
  }
}

const OPTIONS = { ...PID_OPTION, file: { type: 'string', short: 'f' } } as const;

const HELP = `usage: jsftrace -P <pid> show [-f <file>]

Prints the trace of the process <pid> (its 'trace' file: not consumed, the
same text again next time), or the control file <file>.

Options:
  -P <pid>        the process
  -f <file>       a control file instead of trace (jsftrace -P <pid> fs ls lists them)
  -h, --help      this text

Examples:
  jsftrace -P 4242 show
  jsftrace -P 4242 show -f enabled_functions
  jsftrace -P 4242 show -f trace_stat/function0
`;

export const show: Command = {
  name: 'show',
  help: HELP,
  async run(argv, global) {
    const values = verbArgs(argv, OPTIONS, HELP);
    if (values === null) return 0;
    await withProcess(targetPid(values.pid, global), (c) => catFile(c, values.file ?? 'trace'));
    return 0;
  },
};
