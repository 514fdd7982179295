/**
 * `npm run bench -- idle`: what load-time instrumentation costs with nothing
 * attached.
 *
 * 1. The TypeScript compiler type-checking its own typescript.d.ts: the
 *    program as shipped against the same program started with
 *    `--import jsftrace/register` (and `--require`, which a CommonJS
 *    program can use to keep Node from loading its main module through the
 *    ES module loader; and with JSFTRACE_SOURCEMAPS=0, which spares Node
 *    the source maps), the transform cache warm. Fresh process per run,
 *    contenders interleaved, medians and min-max of the per-round ratios.
 * 2. Transform throughput, cold (nothing cached): MB of source per second
 *    for the compiler's two large files, in a fresh process.
 * 3. Cached load: loading typescript.js (9 MB) with the cache warm, against
 *    loading it uninstrumented.
 *
 * The program is a copy of the typescript package in a temporary directory,
 * so it is instrumented as a user's dependency would be.
 */

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { median, summarize, writeResults } from '../harness.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const here = dirname(fileURLToPath(import.meta.url));
const distRoot = join(here, '..', '..');
const registerJs = join(distRoot, 'src', 'public', 'register.js');
const registerCjs = join(distRoot, 'src', 'public', 'register.cjs');

function timeRun(args: string[], env: NodeJS.ProcessEnv, expect?: string): number {
  if (args[0] === 'NOMAPS') {
    args = args.slice(1);
    env = { ...env, JSFTRACE_SOURCEMAPS: '0' };
  }
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && r.status !== 2) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  if (expect !== undefined && r.stdout !== expect) throw new Error(`${args.join(' ')}: output differs from the uninstrumented run`);
  return ms;
}

function transformThroughput(files: string[]): { file: string; mb: number; ms: number; mbPerS: number }[] {
  const script = `
    import { readFileSync } from 'node:fs';
    import { transformSource } from ${JSON.stringify(join(distRoot, 'src', 'instrument', 'transform.js'))};
    const out = [];
    for (const f of ${JSON.stringify(files)}) {
      const code = readFileSync(f, 'utf8');
      const t0 = performance.now();
      transformSource({ code, filename: f, format: 'commonjs', file: f, package: 'typescript' });
      const ms = performance.now() - t0;
      out.push({ file: f.split('/').pop(), mb: code.length / 1e6, ms, mbPerS: code.length / 1e6 / (ms / 1000) });
    }
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { file: string; mb: number; ms: number; mbPerS: number }[];
}

async function main(): Promise<void> {
  const req = createRequire(import.meta.url);
  const tsRoot = dirname(req.resolve('typescript/package.json'));
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-idle-'));
  try {
    const app = join(work, 'app');
    cpSync(tsRoot, join(app, 'node_modules', 'typescript'), { recursive: true });
    const ts = join(app, 'node_modules', 'typescript', 'lib');
    const check = [join(ts, '_tsc.js'), '--noEmit', '--lib', 'es2022', join(ts, 'typescript.d.ts')];
    const env: NodeJS.ProcessEnv = { ...process.env, JSFTRACE_CACHE_DIR: join(work, 'cache') };
    delete env['NODE_OPTIONS'];
    const haveCjs = existsSync(registerCjs);
    const contenders: Record<string, string[]> = {
      'uninstrumented': check,
      'instrumented, idle (--import)': ['--import', registerJs, ...check],
      ...(haveCjs ? {
        'instrumented, idle (--require)': ['--require', registerCjs, ...check],
        'idle, --require, no source maps': ['NOMAPS', '--require', registerCjs, ...check],
      } : {}),
    };
    // The expected output, and a warm cache.
    const expect = spawnSync(process.execPath, check, { encoding: 'utf8', env }).stdout;
    for (const args of Object.values(contenders)) timeRun(args, env, expect);
    const runs: Record<string, number[]> = {};
    for (const name of Object.keys(contenders)) runs[name] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, args] of Object.entries(contenders)) runs[name]!.push(timeRun(args, env, expect));
      process.stdout.write(`round ${round + 1}/${ROUNDS}\n`);
    }
    const base = runs['uninstrumented']!;
    const check1: Record<string, unknown> = {};
    process.stdout.write(`\nTypeScript check of typescript.d.ts (${ROUNDS} rounds, fresh processes)\n`);
    for (const [name, ms] of Object.entries(runs)) {
      const ratios = ms.map((m, i) => m / base[i]!);
      check1[name] = { ms: summarize(ms), ratio: summarize(ratios) };
      process.stdout.write(`  ${name.padEnd(34)} ${median(ms).toFixed(0).padStart(6)} ms   ratio ${median(ratios).toFixed(3)} `
        + `(min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)})\n`);
    }
    const throughput = transformThroughput([join(ts, '_tsc.js'), join(ts, 'typescript.js')]);
    process.stdout.write('\nTransform, cold:\n');
    for (const t of throughput) process.stdout.write(`  ${t.file.padEnd(16)} ${t.mb.toFixed(2)} MB in ${t.ms.toFixed(0)} ms: ${t.mbPerS.toFixed(1)} MB/s\n`);
    const loadPlain = ['-e', `require(${JSON.stringify(join(ts, 'typescript.js'))})`];
    const loadInst = ['--require', haveCjs ? registerCjs : registerJs, ...loadPlain];
    timeRun(loadInst, env);
    const lp: number[] = [];
    const li: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      lp.push(timeRun(loadPlain, env));
      li.push(timeRun(loadInst, env));
    }
    const lr = li.map((m, i) => m / lp[i]!);
    process.stdout.write(`\nCached load of typescript.js: ${median(lp).toFixed(0)} ms uninstrumented, ${median(li).toFixed(0)} ms instrumented `
      + `from the cache: ratio ${median(lr).toFixed(3)} (min ${Math.min(...lr).toFixed(3)}, max ${Math.max(...lr).toFixed(3)})\n`);
    const sizes = { 'typescript.js': readFileSync(join(ts, 'typescript.js')).length, '_tsc.js': readFileSync(join(ts, '_tsc.js')).length };
    const file = writeResults('idle', {
      rounds: ROUNDS, typescriptCheck: check1, transformCold: throughput,
      cachedLoad: { uninstrumentedMs: summarize(lp), instrumentedMs: summarize(li), ratio: summarize(lr) }, sizes,
    });
    process.stdout.write(`wrote ${file}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
