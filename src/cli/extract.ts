/**
 * `jsftrace -P <pid> extract [-o out]`: a running process's trace as a
 * trace file, for `jsftrace report`.
 *
 * Owns: nothing but the command line and the file's arrival. Invariant:
 * `out` is replaced only by a complete trace file, and only after it reads
 * as one (written to an exclusive temporary file beside it, mode 0600,
 * and renamed: tracefile/replace.ts).
 */

import { resolve } from 'node:path';
import { TraceFile } from '../tracefile/read.js';
import { ReplacingFile } from '../tracefile/replace.js';
import { PID_OPTION, targetPid, withProcess, verbArgs, type Command } from './command.js';
import { fileSummary } from './record.js';
import { note, progress, progressDone, size } from './term.js';

const OPTIONS = { ...PID_OPTION, output: { type: 'string', short: 'o' } } as const;

const HELP = `usage: jsftrace -P <pid> extract [-o <file>]

Writes what the buffers of the process <pid> hold now (every thread) to a
trace file, without stopping it or consuming anything. 'jsftrace report'
reads the file.

Options:
  -P <pid>        the process
  -o <file>       the trace file (default trace.jsft), mode 0600
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
    const file = ReplacingFile.create(resolve(shown));
    let summary: string;
    try {
      file.write(bytes);
      const t = TraceFile.open(file.temp);
      try {
        summary = fileSummary(t, shown, bytes.byteLength, 'extracted');
      } finally {
        t.close();
      }
      file.commit();
    } catch (e) {
      file.abandon();
      throw e;
    }
    note(summary);
    return 0;
  },
};
