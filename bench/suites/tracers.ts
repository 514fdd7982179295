/**
 * `npm run bench -- tracers`: the TypeScript compiler type-checking its own
 * typescript.d.ts with a tracer on every function, for each clock, as
 * ratios to the uninstrumented run measured in the same rounds.
 *
 * Contenders per round (fresh processes, interleaved): uninstrumented;
 * instrumented with nothing attached; `function`, `function_graph` and the
 * profiler with the counter and the local clock. The program runs with
 * `--require jsftrace/register` (a CommonJS program) and a warm cache.
 * Each run's wall time and CPU time (all threads) are kept, each as ratios
 * to the uninstrumented run of the same round.
 */

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, summarize, writeResults } from '../harness.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const here = dirname(fileURLToPath(import.meta.url));
const registerCjs = join(here, '..', '..', 'src', 'public', 'register.cjs');
const preload = join(here, 'tracers-preload.js');

/**
 * Preloaded (with --require, which leaves a CommonJS program on the CommonJS
 * loader) into every contender: prints the process's CPU time at exit, all
 * threads together (the optimising compiler's and the GC's included).
 */
const CPU_PRELOAD = `process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('\\njsftrace-bench-cpu ' + (u.user + u.system) + '\\n'); });\n`;

/** Wall time and CPU time of one run, in ms. */
function timeRun(args: string[], env: NodeJS.ProcessEnv, cpuPreload: string): { ms: number; cpuMs: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--require', cpuPreload, ...args], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  const m = /^jsftrace-bench-cpu (\d+)$/m.exec(r.stderr);
  if (m === null) throw new Error(`${args.join(' ')}: no CPU time reported`);
  return { ms, cpuMs: Number(m[1]) / 1000 };
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
    const cpuPreload = join(work, 'cpu-time.cjs');
    writeFileSync(cpuPreload, CPU_PRELOAD);
    for (const [, args, env] of contenders) timeRun(args, env, cpuPreload); // warm the cache and the disk
    const runs = new Map<string, number[]>(contenders.map(([n]) => [n, []]));
    const cpu = new Map<string, number[]>(contenders.map(([n]) => [n, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, args, env] of contenders) {
        const t = timeRun(args, env, cpuPreload);
        runs.get(name)!.push(t.ms);
        cpu.get(name)!.push(t.cpuMs);
      }
      process.stdout.write(`round ${round + 1}/${ROUNDS}\n`);
    }
    const plain = runs.get('uninstrumented')!;
    const plainCpu = cpu.get('uninstrumented')!;
    const results: Record<string, unknown> = {};
    process.stdout.write(`\nTypeScript check of typescript.d.ts, ${ROUNDS} rounds (wall time; CPU time of all threads)\n`);
    for (const [name, ms] of runs) {
      const ratios = ms.map((m, i) => m / plain[i]!);
      const cpuMs = cpu.get(name)!;
      const cpuRatios = cpuMs.map((m, i) => m / plainCpu[i]!);
      // `ratio` (wall) stays the headline; on a shared machine the CPU ratio
      // moves less with what else runs.
      results[name] = { ms: summarize(ms), ratio: summarize(ratios), cpuMs: summarize(cpuMs), cpuRatio: summarize(cpuRatios) };
      process.stdout.write(`  ${name.padEnd(32)} ${median(ms).toFixed(0).padStart(7)} ms   ratio ${median(ratios).toFixed(2)} `
        + `(min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)})`
        + `   cpu ${median(cpuMs).toFixed(0).padStart(7)} ms   ratio ${median(cpuRatios).toFixed(2)} `
        + `(min ${Math.min(...cpuRatios).toFixed(2)}, max ${Math.max(...cpuRatios).toFixed(2)})\n`);
    }
    process.stdout.write(`wrote ${writeResults('tracers', { rounds: ROUNDS, results })}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
