/**
 * `jsftrace -P <pid> fs <cat|write|append|ls> [file] [text...]`: raw access
 * to a running process's control files, as `cat`, `echo >`, `echo >>` and
 * `ls` under tracefs.
 *
 * Owns: nothing but the command line. Invariant: the text reaches the file
 * as given (words joined by one space, as echo does), with no
 * interpretation here: the file alone accepts or refuses it, and a refusal
 * is reported with its code and leaves an entry in the process's
 * error_log.
 */

import { parse, PID_OPTION, targetPid, UsageError, withProcess, type Command } from './command.js';
import { out } from './term.js';
import { catFile } from './show.js';

const HELP = `usage: jsftrace -P <pid> fs <command> [<file>] [<text>...]

Raw access to the control files of the process <pid>, as under tracefs:
  cat <file>              print the file
  write <file> <text>     echo <text> > <file>   (an empty text clears: fs write set_ftrace_filter '')
  append <file> <text>    echo <text> >> <file>
  ls [<dir>]              list the files (under <dir>)

Options:
  -P <pid>        the process
  -h, --help      this text

Examples:
  jsftrace -P 4242 fs ls
  jsftrace -P 4242 fs write set_ftrace_filter '*:handle*' 'src/routes/*'
  jsftrace -P 4242 fs append set_ftrace_notrace '*:mod:lodash'
  jsftrace -P 4242 fs cat error_log
`;

export const fs: Command = {
  name: 'fs',
  help: HELP,
  async run(argv, global) {
    // `--` lets a text start with a dash: fs write trace_marker -- -x
    const { values, positionals } = parse(argv, PID_OPTION, true);
    if (values.help === true) {
      process.stdout.write(HELP);
      return 0;
    }
    const [sub, file, ...words] = positionals;
    const pid = targetPid(values.pid, global);
    switch (sub) {
      case 'cat':
        if (file === undefined || words.length > 0) throw new UsageError('fs cat <file>');
        await withProcess(pid, (c) => catFile(c, file));
        return 0;
      case 'write':
      case 'append': {
        if (file === undefined) throw new UsageError(`fs ${sub} <file> <text>`);
        const text = words.join(' ');
        await withProcess(pid, (c) => (sub === 'write' ? c.write(file, text) : c.append(file, text)));
        return 0;
      }
      case 'ls': {
        if (words.length > 0) throw new UsageError('fs ls [<dir>]');
        const prefix = file === undefined ? '' : `${file.replace(/\/+$/, '')}/`;
        const files = (await withProcess(pid, (c) => c.list())).filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length));
        if (prefix !== '' && files.length === 0) throw Object.assign(new Error(`no directory ${file}`), { code: 'ENOENT' });
        await out(files.map((f) => `${f}\n`).join(''));
        return 0;
      }
      case undefined:
        throw new UsageError('fs needs a command: cat, write, append or ls');
      default:
        throw new UsageError(`fs: unknown command ${JSON.stringify(sub)} (cat, write, append, ls)`);
    }
  },
};
