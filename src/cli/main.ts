/**
 * The `jsftrace` command. Owns argument handling and what the user sees;
 * it reaches the tracer only through the public entry points.
 */

import { readFileSync } from 'node:fs';
import { cacheCommand } from './cache.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const HELP = `usage: jsftrace <command> [options]

Commands:
  cache <clear|path|stats> [--json]
                  the cache of instrumented modules (see 'jsftrace cache --help')
  help            this text
  version         the version of jsftrace

Options:
  -h, --help      this text
  -V, --version   the version

Run a program with every function instrumented:
  node --import jsftrace/register app.js        (ES modules, or any program)
  node --require jsftrace/register app.cjs      (CommonJS programs)
Then attach ops and trampolines from the program (import 'jsftrace'): see the README.

Examples:
  jsftrace cache stats
  jsftrace cache clear
`;

function main(argv: string[]): number {
  const [cmd] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '-h' || cmd === '--help') {
    process.stdout.write(HELP);
    return cmd === undefined ? 1 : 0;
  }
  if (cmd === 'cache') return cacheCommand(argv.slice(1));
  if (cmd === 'version' || cmd === '-V' || cmd === '--version') {
    process.stdout.write(`jsftrace ${pkg.version}\n`);
    return 0;
  }
  process.stderr.write(`jsftrace: unknown command "${cmd}" (try jsftrace --help)\n`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
