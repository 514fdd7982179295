/**
 * `npm run bench -- idle`: what load-time instrumentation costs with nothing
 * attached (the idle rows of the figures table in docs/benchmarks.md).
 *
 * The program (bench/ts-app.ts) is the TypeScript compiler type-checking
 * its own typescript.d.ts through its API, from a driver of the program's
 * own with typescript in its node_modules, the transform cache warm. Each
 * round runs every contender once, in a fresh process, interleaved:
 * 1. whole run (load + run): uninstrumented, `--require jsftrace/register`
 *    and `--import jsftrace/register`; wall and CPU time (all threads) and
 *    peak RSS, as ratios to the uninstrumented run of the same round;
 * 2. steady state: the same check made STEADY_REPS times in one process;
 *    the CPU time of the last half of the checks (start-up, loading and the
 *    optimiser's first passes behind them: a check takes 1.9, 1.3, 0.8,
 *    0.7 s...), as a ratio to the same in the uninstrumented process of the
 *    round;
 * 3. start-up: a one-line program, ms added (CPU and wall), the mean of
 *    START_RUNS runs per round;
 * 4. load cost per function: a module of 50,000 small functions, the CPU
 *    time added beyond the one-line program's, per function.
 * Then, once: the cold transform's throughput (nothing cached) on the
 * compiler's two large files, in a fresh process, best of TRANSFORM_RUNS
 * (wall, and CPU time, which a busy machine disturbs less).
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, summarize, writeResults, type Summary } from '../harness.js';
import { checkTimes, loadAverage, makeTsApp, runOnce, type RunFigures } from '../ts-app.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const STEADY_REPS = Number(process.env['BENCH_STEADY_REPS'] ?? 6);
const TRANSFORM_RUNS = 3;
const START_RUNS = 10;
const here = dirname(fileURLToPath(import.meta.url));
const distRoot = join(here, '..', '..');
const registerJs = join(distRoot, 'src', 'public', 'register.js');
const registerCjs = join(distRoot, 'src', 'public', 'register.cjs');

interface Transformed { file: string; mb: number; ms: number; mbPerS: number; cpuMs: number; cpuMbPerS: number }

/** The transform alone, cold, in a fresh process: the best of `runs` per file (the first run loads the parser). */
function transformThroughput(files: string[], runs: number): Transformed[] {
  const script = `
    import { readFileSync } from 'node:fs';
    import { transformSource } from ${JSON.stringify(join(distRoot, 'src', 'instrument', 'transform.js'))};
    const out = [];
    for (const f of ${JSON.stringify(files)}) {
      const code = readFileSync(f, 'utf8');
      let best = Infinity;
      let bestCpu = Infinity;
      for (let i = 0; i < ${runs}; i++) {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        transformSource({ code, filename: f, format: 'commonjs', file: f, package: 'typescript' });
        const c = process.cpuUsage(c0);
        best = Math.min(best, performance.now() - t0);
        bestCpu = Math.min(bestCpu, (c.user + c.system) / 1000);
      }
      out.push({ file: f.split('/').pop(), mb: code.length / 1e6, ms: best, mbPerS: code.length / 1e6 / (best / 1000),
        cpuMs: bestCpu, cpuMbPerS: code.length / 1e6 / (bestCpu / 1000) });
    }
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Transformed[];
}

const ratios = (xs: number[], base: number[]): Summary => summarize(xs.map((x, i) => x / base[i]!));
const diffs = (xs: number[], base: number[]): Summary => summarize(xs.map((x, i) => x - base[i]!));
const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const range = (s: Summary, d = 2): string => `${f(s.median, d)} (${f(s.min, d)}-${f(s.max, d)})`;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-idle-'));
  const loadBefore = loadAverage();
  try {
    const app = makeTsApp(work);
    const env: NodeJS.ProcessEnv = { ...process.env, JSFTRACE_CACHE_DIR: join(work, 'cache'), NODE_OPTIONS: '' };
    delete env['JSFTRACE_CHILDREN'];
    const node = process.execPath;
    const run = (args: string[], extra: NodeJS.ProcessEnv = {}, expect?: string): RunFigures =>
      runOnce(node, args, { ...env, ...extra }, app.dir, expect);
    const whole: Record<string, string[]> = {
      'uninstrumented': [app.check],
      'idle, --require': ['--require', registerCjs, app.check],
      'idle, --import': ['--import', registerJs, app.check],
    };
    const plainArgs = (p: string): string[] => [p];
    const idleArgs = (p: string): string[] => ['--require', registerCjs, p];
    // Warm the transform cache (and the disk cache) and take the expected output.
    const expect = run(whole['uninstrumented']!).stdout;
    for (const args of Object.values(whole)) run(args, {}, expect);
    run(idleArgs(app.oneLine));
    run(idleArgs(app.manyFunctions));

    const wr: Record<string, RunFigures[]> = Object.fromEntries(Object.keys(whole).map((k) => [k, []]));
    const steady: { plain: number[]; idle: number[] } = { plain: [], idle: [] };
    const start: { plain: RunFigures[]; idle: RunFigures[] } = { plain: [], idle: [] };
    const many: { plain: RunFigures[]; idle: RunFigures[] } = { plain: [], idle: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, args] of Object.entries(whole)) wr[name]!.push(run(args, {}, expect));
      for (const k of ['plain', 'idle'] as const) {
        const r = run(k === 'plain' ? plainArgs(app.check) : idleArgs(app.check), { CHECK_REPS: String(STEADY_REPS) });
        // The compiler still warms up over its first checks (1.9, 1.3, 0.8 s...): the last half.
        steady[k].push(median(checkTimes(r.stderr).slice(Math.floor(STEADY_REPS / 2))));
        // Start-up is small against the noise and the accounting's 10 ms
        // steps: the mean of START_RUNS runs.
        const s = Array.from({ length: START_RUNS }, () => run(k === 'plain' ? plainArgs(app.oneLine) : idleArgs(app.oneLine)));
        const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
        start[k].push({ ms: mean(s.map((r) => r.ms)), cpuMs: mean(s.map((r) => r.cpuMs)), rssMb: mean(s.map((r) => r.rssMb)), stdout: '', stderr: '' });
        many[k].push(run(k === 'plain' ? plainArgs(app.manyFunctions) : idleArgs(app.manyFunctions)));
      }
      process.stdout.write(`round ${round + 1}/${ROUNDS}\n`);
    }

    const base = wr['uninstrumented']!;
    const wholeRun: Record<string, unknown> = {};
    process.stdout.write(`\nTypeScript check (load + run), ${ROUNDS} rounds, warm cache: ratio to uninstrumented, median (min-max)\n`);
    for (const [name, rs] of Object.entries(wr)) {
      const row = {
        ms: summarize(rs.map((r) => r.ms)), ratio: ratios(rs.map((r) => r.ms), base.map((r) => r.ms)),
        cpuMs: summarize(rs.map((r) => r.cpuMs)), cpuRatio: ratios(rs.map((r) => r.cpuMs), base.map((r) => r.cpuMs)),
        rssMb: summarize(rs.map((r) => r.rssMb)),
      };
      wholeRun[name] = row;
      process.stdout.write(`  ${name.padEnd(18)} wall ${f(row.ms.median, 0).padStart(6)} ms  ${range(row.ratio)}   `
        + `cpu ${f(row.cpuMs.median, 0).padStart(6)} ms  ${range(row.cpuRatio)}   peak RSS ${f(row.rssMb.median, 0)} MB\n`);
    }
    const steadyRatio = ratios(steady.idle, steady.plain);
    process.stdout.write(`\nSteady state (checks ${Math.floor(STEADY_REPS / 2) + 1}..${STEADY_REPS} of one process, CPU): uninstrumented ${f(median(steady.plain), 0)} ms, `
      + `idle ${f(median(steady.idle), 0)} ms, ratio ${range(steadyRatio, 3)}\n`);
    const addedCpu = diffs(start.idle.map((r) => r.cpuMs), start.plain.map((r) => r.cpuMs));
    const addedWall = diffs(start.idle.map((r) => r.ms), start.plain.map((r) => r.ms));
    process.stdout.write(`Start-up of a one-line program: uninstrumented ${f(median(start.plain.map((r) => r.cpuMs)), 0)} ms CPU `
      + `(${f(median(start.plain.map((r) => r.ms)), 0)} ms wall); added ${range(addedCpu, 0)} ms CPU, ${range(addedWall, 0)} ms wall\n`);
    const perFn = summarize(many.idle.map((r, i) =>
      ((r.cpuMs - many.plain[i]!.cpuMs) - (start.idle[i]!.cpuMs - start.plain[i]!.cpuMs)) * 1000 / app.functions));
    process.stdout.write(`Load cost per function (${app.functions} small functions, warm cache, beyond start-up): ${range(perFn, 1)} us CPU\n`);

    const files = [join(app.tsLib, '_tsc.js'), join(app.tsLib, 'typescript.js')];
    const throughput = transformThroughput(files, TRANSFORM_RUNS);
    process.stdout.write('\nTransform, cold:\n');
    for (const t of throughput) {
      process.stdout.write(`  ${t.file.padEnd(16)} ${t.mb.toFixed(2)} MB in ${t.ms.toFixed(0)} ms: ${t.mbPerS.toFixed(1)} MB/s `
        + `(CPU ${t.cpuMs.toFixed(0)} ms: ${t.cpuMbPerS.toFixed(1)} MB/s, the collector's threads included)\n`);
    }

    const sizes = { 'typescript.js': readFileSync(files[1]!).length, '_tsc.js': readFileSync(files[0]!).length };
    const file = writeResults('idle', {
      rounds: ROUNDS, load: { before: loadBefore, after: loadAverage() }, wholeRun,
      steady: { reps: STEADY_REPS, plainCpuMs: summarize(steady.plain), idleCpuMs: summarize(steady.idle), ratio: steadyRatio },
      startup: {
        plainCpuMs: summarize(start.plain.map((r) => r.cpuMs)), plainMs: summarize(start.plain.map((r) => r.ms)),
        addedCpuMs: addedCpu, addedMs: addedWall,
      },
      perFunction: { functions: app.functions, us: perFn },
      transformCold: throughput, sizes,
    });
    process.stdout.write(`load average ${loadBefore.join(' ')} before, ${loadAverage().join(' ')} after\nwrote ${file}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
