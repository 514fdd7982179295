/**
 * `jsftrace -P <pid> pipe [-T thread]`: a running process's trace_pipe on
 * stdout as events arrive, until Ctrl-C, SIGTERM or SIGHUP (its terminal
 * closing), the reader of stdout going away, or the process ending.
 *
 * Owns: the end of a pipe. Invariant: every way of stopping cancels the
 * stream on the server and waits for its end frame, so the process stops
 * reading for us at once and what was consumed from trace_pipe reached
 * stdout; a stop is success (exit 0), like cat on ftrace's trace_pipe.
 */

import { PID_OPTION, targetPid, UsageError, withProcess, verbArgs, type Command } from './command.js';
import { note } from './term.js';

const OPTIONS = { ...PID_OPTION, thread: { type: 'string', short: 'T' } } as const;

const HELP = `usage: jsftrace -P <pid> pipe [-T <thread>]

Streams the trace_pipe of the process <pid> to stdout as events arrive:
events are consumed (ftrace's trace_pipe), so a second reader sees others.
Runs until Ctrl-C (or SIGTERM, SIGHUP) or the process ends; either way it
exits 0, as cat on ftrace's trace_pipe.

Options:
  -P <pid>        the process
  -T <thread>     one thread's events only (per_thread/<thread>/trace_pipe; the
                  thread ids are in 'jsftrace -P <pid> stat')
  -h, --help      this text

Example:
  jsftrace -P 4242 start -p function -l '*:handle*' && jsftrace -P 4242 pipe
`;

export const pipe: Command = {
  name: 'pipe',
  help: HELP,
  async run(argv, global) {
    const values = verbArgs(argv, OPTIONS, HELP);
    if (values === null) return 0;
    const pid = targetPid(values.pid, global);
    if (values.thread !== undefined && !/^[0-9]+$/.test(values.thread)) throw new UsageError(`-T ${JSON.stringify(values.thread)}: a thread id`);
    const path = values.thread === undefined ? 'trace_pipe' : `per_thread/${values.thread}/trace_pipe`;
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    const onStdoutError = (): void => stop.abort();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
    process.stdout.on('error', onStdoutError);
    try {
      const end = await withProcess(pid, (c) => c.pipe(path, (text) => {
        // A slow reader of stdout slows the pipe down to its pace; what it has not taken stays in the process's ring.
        if (stop.signal.aborted || process.stdout.write(text)) return undefined;
        return new Promise<void>((resolve) => process.stdout.once('drain', resolve));
      }, stop.signal));
      if (end === 'ended') note(`jsftrace: process ${pid} ended`);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
      process.stdout.off('error', onStdoutError);
    }
    return 0;
  },
};
