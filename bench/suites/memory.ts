/**
 * `npm run bench -- memory`: what jsftrace keeps in memory once a program
 * has loaded (difference 30 of docs/transparency.md).
 *
 * Each program is run in fresh processes: uninstrumented, then with
 * `--require jsftrace/register` and nothing attached, its transform cache
 * cold (a new directory: every module is transformed in the process) and
 * warm (the same directory again). The program loads what it loads, runs two
 * full collections and prints the heap in use, the memory V8 holds outside
 * it (`external`: external strings, array buffers) and the resident set.
 * The programs: an empty one, and one that loads `typescript.js` (9 MB,
 * 21,688 functions). Medians of ROUNDS rounds, interleaved; the figure is
 * heap plus external, in MB and as a ratio to the uninstrumented run.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { summarize, writeResults, type Summary } from '../harness.js';
import { makeTsApp } from '../ts-app.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const here = dirname(fileURLToPath(import.meta.url));
const registerCjs = join(here, '..', '..', 'src', 'public', 'register.cjs');

const PROBE = `
for (const m of process.argv.slice(2)) require(m);
globalThis.gc(); globalThis.gc();
const u = process.memoryUsage();
console.log(JSON.stringify({ heap: u.heapUsed, external: u.external, rss: u.rss }));
`;

interface Held { heap: number; external: number; rss: number }

function held(args: string[], env: NodeJS.ProcessEnv, cwd: string): Held {
  const r = spawnSync(process.execPath, ['--expose-gc', ...args], { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Held;
}

const MB = 1024 * 1024;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-bench-memory-'));
  try {
    const app = makeTsApp(work);
    const probe = join(app.dir, 'probe.js');
    writeFileSync(probe, PROBE);
    const programs: Record<string, string[]> = { empty: [], 'typescript.js': [join(app.tsLib, 'typescript.js')] };
    const base = { ...process.env, JSFTRACE_CONTROL: '0' };
    const modes = ['plain', 'cold', 'warm'] as const;
    const figures: Record<string, Record<(typeof modes)[number], Held[]>> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, loads] of Object.entries(programs)) {
        const f = (figures[name] ??= { plain: [], cold: [], warm: [] });
        const cache = mkdtempSync(join(work, 'cache-'));
        const env = { ...base, JSFTRACE_CACHE_DIR: cache };
        f.plain.push(held([probe, ...loads], base, app.dir));
        f.cold.push(held(['--require', registerCjs, probe, ...loads], env, app.dir));
        f.warm.push(held(['--require', registerCjs, probe, ...loads], env, app.dir));
        rmSync(cache, { recursive: true, force: true });
      }
    }
    const results: Record<string, Record<string, { heapMb: Summary; externalMb: Summary; rssMb: Summary; heldMb: Summary; ratio: Summary }>> = {};
    process.stdout.write(`Memory held after load (heap + external after two full collections, MB; medians of ${ROUNDS}; control server off):\n`);
    for (const [name, f] of Object.entries(figures)) {
      results[name] = {};
      const plainHeld = f.plain.map((h) => (h.heap + h.external) / MB);
      for (const mode of modes) {
        const hs = f[mode];
        const heldMb = hs.map((h) => (h.heap + h.external) / MB);
        const row = {
          heapMb: summarize(hs.map((h) => h.heap / MB)), externalMb: summarize(hs.map((h) => h.external / MB)),
          rssMb: summarize(hs.map((h) => h.rss / MB)), heldMb: summarize(heldMb),
          ratio: summarize(heldMb.map((v, i) => v / plainHeld[i]!)),
        };
        results[name]![mode] = row;
        process.stdout.write(`  ${name.padEnd(14)} ${mode.padEnd(6)} ${row.heldMb.median.toFixed(2).padStart(7)} MB`
          + ` (heap ${row.heapMb.median.toFixed(2)}, external ${row.externalMb.median.toFixed(2)})`
          + `  x${row.ratio.median.toFixed(2)}  RSS ${row.rssMb.median.toFixed(0)} MB\n`);
      }
    }
    const file = writeResults('memory', { rounds: ROUNDS, results });
    process.stdout.write(`wrote ${file}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
