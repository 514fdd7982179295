/**
 * `npm run bench -- <suite>...`: runs each benchmark suite in a fresh
 * process and leaves its JSON in bench/results/<suite>.json.
 *
 * Owns: the list of suites and the one rule every suite follows: it prints
 * ratios against an uninstrumented (or nop) run measured in the same
 * process run, and writes its JSON itself. With no argument, runs every
 * suite that needs nothing beyond this package.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineNamed, nodeBinary, PINNED, SYSTEM, type Line } from '../tools/node-lines.js';

const here = dirname(fileURLToPath(import.meta.url));
const suitesDir = join(here, 'suites');

function available(): string[] {
  return readdirSync(suitesDir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort();
}

const HELP = `usage: npm run bench -- [--node LINES] [suite...]

suites: ${available().join(', ')}
Each suite runs in a fresh process and writes bench/results/<suite>.json.

  --node LINES  run the suites under these Node lines (comma-separated: system,
                22, 24, 26, or all), each installed once from the npm registry
                (see npm run test:matrix -- --help); a line other than system
                writes bench/results/<suite>-node<line>.json
`;

const argv = process.argv.slice(2).filter((a) => a !== '--');
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(HELP);
  process.exit(0);
}
let lineNames = ['system'];
const args: string[] = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--node' || a.startsWith('--node=')) {
    const v = a === '--node' ? argv[++i] : a.slice(7);
    if (v === undefined || v === '') {
      process.stderr.write('jsftrace bench: --node needs a list of lines (system,22,24,26 or all)\n');
      process.exit(2);
    }
    lineNames = v === 'all' ? ['system', ...PINNED.map((l) => l.name)] : v.split(',');
  } else {
    args.push(a);
  }
}
let lines: Line[];
try {
  lines = lineNames.map(lineNamed);
} catch (e) {
  process.stderr.write(`jsftrace bench: ${(e as Error).message}\n`);
  process.exit(2);
}
const suites = args.length > 0 ? args : available().filter((s) => s !== 'peers'); // peers: its own dependencies, `npm run bench -- peers`
let failed = 0;
for (const line of lines) {
  const node = nodeBinary(line, (t) => process.stderr.write(`jsftrace bench: ${t}\n`));
  for (const s of suites) {
    const file = join(suitesDir, `${s}.js`);
    if (!existsSync(file)) {
      process.stderr.write(`jsftrace bench: no suite "${s}" (have: ${available().join(', ')})\n`);
      failed++;
      continue;
    }
    process.stdout.write(`\n== ${s}${line === SYSTEM ? '' : ` on Node ${line.version}`} ==\n`);
    const env = { ...process.env, JSFTRACE_BENCH_LINE: line === SYSTEM ? '' : line.name };
    const r = spawnSync(node, ['--expose-gc', file], { stdio: 'inherit', env });
    if (r.status !== 0) failed++;
  }
}
process.exit(failed === 0 ? 0 : 1);
