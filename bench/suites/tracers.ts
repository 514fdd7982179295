/**
 * `npm run bench -- tracers`: the TypeScript compiler type-checking its own
 * typescript.d.ts with a tracer on every function, for each clock, as
 * ratios to the uninstrumented run measured in the same rounds.
 *
 * Contenders per round (fresh processes, interleaved): uninstrumented;
 * instrumented with nothing attached; `function`, `function_graph` and the
 * profiler with the counter and the local clock. The program runs with
 * `--require jsftrace/register` (a CommonJS program) and a warm cache.
 */

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, summarize, writeResults } from '../harness.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const here = dirname(fileURLToPath(import.meta.url));
const registerCjs = join(here, '..', '..', 'src', 'public', 'register.cjs');
const preload = join(here, 'tracers-preload.js');

function timeRun(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  return ms;
}

async function main(): Promise<void> {
  const tsRoot = dirname(createRequire(import.meta.url).resolve('typescript/package.json'));
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-tracers-'));
  try {
    const ts = join(work, 'app', 'node_modules', 'typescript');
    cpSync(tsRoot, ts, { recursive: true });
    const check = [join(ts, 'lib', '_tsc.js'), '--noEmit', '--lib', 'es2022', join(ts, 'lib', 'typescript.d.ts')];
    const base: NodeJS.ProcessEnv = { ...process.env, JSFTRACE_CACHE_DIR: join(work, 'cache'), NODE_OPTIONS: '' };
    const contenders: [string, string[], NodeJS.ProcessEnv][] = [
      ['uninstrumented', check, base],
      ['instrumented, idle', ['--require', registerCjs, ...check], base],
    ];
    for (const clock of ['counter', 'local']) {
      for (const tracer of ['function', 'function_graph', 'profile']) {
        contenders.push([`${tracer}, ${clock} clock`, ['--require', registerCjs, '--import', preload, ...check],
          { ...base, JSFTRACE_BENCH_TRACER: tracer, JSFTRACE_BENCH_CLOCK: clock }]);
      }
    }
    for (const [, args, env] of contenders) timeRun(args, env); // warm the cache and the disk
    const runs = new Map<string, number[]>(contenders.map(([n]) => [n, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, args, env] of contenders) runs.get(name)!.push(timeRun(args, env));
      process.stdout.write(`round ${round + 1}/${ROUNDS}\n`);
    }
    const plain = runs.get('uninstrumented')!;
    const results: Record<string, unknown> = {};
    process.stdout.write(`\nTypeScript check of typescript.d.ts, ${ROUNDS} rounds\n`);
    for (const [name, ms] of runs) {
      const ratios = ms.map((m, i) => m / plain[i]!);
      results[name] = { ms: summarize(ms), ratio: summarize(ratios) };
      process.stdout.write(`  ${name.padEnd(32)} ${median(ms).toFixed(0).padStart(7)} ms   ratio ${median(ratios).toFixed(2)} `
        + `(min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)})\n`);
    }
    process.stdout.write(`wrote ${writeResults('tracers', { rounds: ROUNDS, results })}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
