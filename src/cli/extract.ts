/**
 * `jsftrace -P <pid> extract [-o out]`: a running process's trace as a
 * trace file, for `jsftrace report`.
 *
 * Owns: nothing but the command line and the file's arrival. Invariant:
 * `out` is replaced only by a complete trace file (written under a
 * temporary name and renamed), and only after it loads as one.
 */

import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadTrace } from '../tracers/tracefile.js';
import { PID_OPTION, targetPid, withProcess, verbArgs, type Command } from './command.js';
import { summary } from './record.js';
import { note, progress, progressDone, size } from './term.js';

const OPTIONS = { ...PID_OPTION, output: { type: 'string', short: 'o' } } as const;

const HELP = `usage: jsftrace -P <pid> extract [-o <file>]

Writes what the buffers of the process <pid> hold now (every thread) to a
trace file, without stopping it or consuming anything. 'jsftrace report'
reads the file.

Options:
  -P <pid>        the process
  -o <file>       the trace file (default trace.jsft)
  -h, --help      this text

Example:
  jsftrace -P 4242 extract -o app.jsft && jsftrace report -i app.jsft --format html -o app.html
`;

export const extract: Command = {
  name: 'extract',
  help: HELP,
  async run(argv, global) {
    const values = verbArgs(argv, OPTIONS, HELP);
    if (values === null) return 0;
    const pid = targetPid(values.pid, global);
    const shown = values.output ?? 'trace.jsft';
    progress(`jsftrace: extracting from ${pid}`);
    let bytes: Uint8Array;
    try {
      bytes = await withProcess(pid, (c) => c.extract((got, total) => progress(`jsftrace: extracting from ${pid}: ${size(got)} of ${size(total)}`)));
    } finally {
      progressDone();
    }
    const trace = loadTrace(bytes);
    const target = resolve(shown);
    const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
    try {
      writeFileSync(temp, bytes);
      renameSync(temp, target);
    } catch (e) {
      rmSync(temp, { force: true });
      throw e;
    }
    note(summary(trace, shown, bytes.byteLength).replace('recorded', 'extracted'));
    return 0;
  },
};
