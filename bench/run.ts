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

const here = dirname(fileURLToPath(import.meta.url));
const suitesDir = join(here, 'suites');

function available(): string[] {
  return readdirSync(suitesDir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort();
}

const args = process.argv.slice(2).filter((a) => a !== '--');
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`usage: npm run bench -- [suite...]\n\nsuites: ${available().join(', ')}\n`
    + 'Each suite runs in a fresh process and writes bench/results/<suite>.json.\n');
  process.exit(0);
}
const suites = args.length > 0 ? args : available().filter((s) => s !== 'peers'); // peers: its own dependencies, `npm run bench -- peers`
let failed = 0;
for (const s of suites) {
  const file = join(suitesDir, `${s}.js`);
  if (!existsSync(file)) {
    process.stderr.write(`jsftrace bench: no suite "${s}" (have: ${available().join(', ')})\n`);
    failed++;
    continue;
  }
  process.stdout.write(`\n== ${s} ==\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', file], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
