/**
 * The `jsftrace` command: the verbs (after trace-cmd's), the options that
 * come before a verb, and the exit status.
 *
 * Owns: dispatch and what a failure looks like. Invariants: exit 0 done, 1
 * failed with one `jsftrace: <message> (<CODE>)` line on stderr, 2 a wrong
 * command line; a verb's module is loaded only when that verb runs, so
 * `jsftrace ps` does not load the tracers. Verbs reach a traced process
 * only through the control client, and trace files only through
 * tracefile.ts.
 */

import { readFileSync } from 'node:fs';
import { cacheCommand } from './cache.js';
import { parsePid, UsageError, type Command, type Global } from './command.js';
import { failure, note } from './term.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

interface Verb {
  name: string;
  summary: string;
  /** Whether it acts on a running process (takes -P). */
  pid?: true;
  load(): Promise<Command>;
}

const VERBS: Verb[] = [
  { name: 'record', summary: 'run a program traced, write its trace to a file', load: async () => (await import('./record.js')).record },
  { name: 'report', summary: 'print a trace file: text, perfetto, folded, html, svg, stat', load: async () => (await import('./report.js')).report },
  { name: 'profile', summary: 'run a program with the function profiler, print its tables', load: async () => (await import('./profile.js')).profile },
  { name: 'list', pid: true, summary: 'tracers, functions, options or clocks', load: async () => (await import('./list.js')).list },
  { name: 'ps', summary: 'the Node.js processes (pid, uptime, command), traced or not', load: async () => (await import('./ps.js')).ps },
  { name: 'stat', pid: true, summary: 'the tracing state of a running process', load: async () => (await import('./stat.js')).stat },
  { name: 'start', pid: true, summary: 'configure a running process and turn tracing on', load: async () => (await import('./start.js')).start },
  { name: 'stop', pid: true, summary: 'turn tracing off in a running process', load: async () => (await import('./stop.js')).stop },
  { name: 'reset', pid: true, summary: 'put a running process\'s tracing back as it started', load: async () => (await import('./reset.js')).reset },
  { name: 'show', pid: true, summary: 'print the trace (or a control file) of a running process', load: async () => (await import('./show.js')).show },
  { name: 'pipe', pid: true, summary: 'stream the trace of a running process as it comes', load: async () => (await import('./pipe.js')).pipe },
  { name: 'extract', pid: true, summary: 'write the trace of a running process to a file', load: async () => (await import('./extract.js')).extract },
  { name: 'fs', pid: true, summary: 'cat, write, append, ls the control files of a running process', load: async () => (await import('./fs.js')).fs },
];

const HELP = `usage: jsftrace [-P <pid>] <command> [options]

ftrace for Node.js programs. Record a program from its start, or attach to
one that is running: started with jsftrace/register, or with plain node
(then its inspector is opened for a moment to load jsftrace; 'reset'
detaches).

Commands:
${VERBS.map((v) => `  ${v.name.padEnd(9)} ${v.summary}`).join('\n')}
  cache     the cache of instrumented modules (clear, path, stats)
  help      this text; 'jsftrace help <command>' (or <command> --help) for one

Options:
  -P <pid>        the process the command acts on (jsftrace ps lists them)
  -h, --help      this text
  -V, --version   the version

Exit status: 0 done, 1 failed (one line 'jsftrace: <message> (<CODE>)' on
stderr), 2 wrong command line.

Examples:
  jsftrace record -p function_graph -l 'src/*' node app.js && jsftrace report
  jsftrace report --format html -o flame.html
  jsftrace profile node app.js
  jsftrace ps
  jsftrace -P 4242 start -p function -l '*:handle*' && jsftrace -P 4242 pipe
  jsftrace -P 4242 stop && jsftrace -P 4242 extract -o app.jsft && jsftrace -P 4242 reset

Without the CLI: node --import jsftrace/register app.js (then jsftrace ps, -P).
`;

/** Options before the verb: -P <pid>, -h, -V. Returns the rest. */
function globals(argv: string[], g: Global): { rest: string[]; help: boolean; version: boolean } {
  let i = 0;
  let help = false;
  let version = false;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') help = true;
    else if (a === '-V' || a === '--version') version = true;
    else if (a === '-P' || a === '--pid') g.pid = parsePid(argv[++i] ?? '');
    else if (a.startsWith('--pid=')) g.pid = parsePid(a.slice(6));
    else if (/^-P./.test(a)) g.pid = parsePid(a.slice(2));
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${JSON.stringify(a)}`);
    else break;
  }
  return { rest: argv.slice(i), help, version };
}

async function main(argv: string[]): Promise<number> {
  const g: Global = {};
  let verbName = '';
  try {
    const { rest, help: helpFirst, version } = globals(argv, g);
    let help = helpFirst;
    if (version) {
      process.stdout.write(`jsftrace ${pkg.version}\n`);
      return 0;
    }
    let [name, ...args] = rest;
    if (name === 'help') {
      if (args[0] === undefined) help = true;
      else [name, args] = [args[0], ['--help']];
    }
    if (name === undefined || (help && name === 'help')) {
      (help ? process.stdout : process.stderr).write(HELP);
      return help ? 0 : 2;
    }
    const verb = VERBS.find((v) => v.name === name);
    if (verb === undefined && name !== 'cache') throw new UsageError(`unknown command ${JSON.stringify(name)}`);
    verbName = ` ${name}`;
    if (g.pid !== undefined && verb?.pid !== true) throw new UsageError(`-P does not apply: ${name} does not act on a running process`);
    if (verb === undefined) return cacheCommand(help ? ['--help'] : args);
    const cmd = await verb.load();
    return await cmd.run(help ? ['--help', ...args] : args, g);
  } catch (e) {
    if (e instanceof UsageError) {
      note(`jsftrace${verbName}: ${e.message}\n(try 'jsftrace${verbName} --help')`);
      return 2;
    }
    failure(e);
    return 1;
  }
}

// `jsftrace report | head`: the reader went away, which is not a failure.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv.slice(2));
