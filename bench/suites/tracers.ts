/**
 * `npm run bench -- tracers`: the TypeScript check (bench/ts-app.ts: the
 * program's own driver, typescript in its node_modules) with tracers on, as
 * ratios to the uninstrumented run of the same round (the tracer rows of the
 * figures table in docs/benchmarks.md).
 *
 * Contenders per round (fresh processes, interleaved, the transform cache
 * warm, `--require jsftrace/register`, configured before the program's
 * first line through JSFTRACE_CONTROL_INIT as `jsftrace record` does, with
 * flight-recorder rings): uninstrumented; idle; the `function` tracer on one
 * hot function of typescript (one ops on one function); the `function`
 * tracer filtered to the program's own files (`check.js:*`: typescript's
 * 20,000 functions untouched); `function` on every function with the
 * counter clock and with the default clock; `function_graph` and the
 * profiler on every function with the default clock; and the commands
 * `jsftrace record -p function`, `jsftrace profile` (the threads' tables,
 * no event recorded) and `jsftrace profile -o` (function_graph recorded
 * too), with the default clock. Wall time and CPU time (the process tree, all
 * threads), each as a ratio to the uninstrumented run of the round.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, summarize, writeResults, type Summary } from '../harness.js';
import { loadAverage, makeTsApp, runOnce, type RunFigures } from '../ts-app.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const here = dirname(fileURLToPath(import.meta.url));
const distRoot = join(here, '..', '..');
const registerCjs = join(distRoot, 'src', 'public', 'register.cjs');
const cli = join(distRoot, '..', 'bin', 'jsftrace.js');
/** One of typescript's most called functions (about a million calls in the check). */
export const HOT_FUNCTION = 'lib/typescript.js:codePointAt';
/** The program's own files: its driver. */
export const OWN_FILES = 'check.js:*';

type Step = ['write' | 'append', string, string];

interface Contender {
  name: string;
  /** The command: node's arguments, or a jsftrace command line. */
  args(check: string, out: string): string[];
  init?: Step[];
  cli?: boolean;
}

const traced = (steps: Step[]): Step[] => [['write', 'tracing_on', '0'], ...steps, ['write', 'tracing_on', '1']];

const CONTENDERS: Contender[] = [
  { name: 'uninstrumented', args: (c) => [c] },
  { name: 'idle', args: (c) => ['--require', registerCjs, c] },
  {
    name: 'one ops on one hot function', args: (c) => ['--require', registerCjs, c],
    init: traced([['write', 'set_ftrace_filter', HOT_FUNCTION], ['write', 'current_tracer', 'function']]),
  },
  {
    name: 'function, filtered to own files', args: (c) => ['--require', registerCjs, c],
    init: traced([['write', 'set_ftrace_filter', OWN_FILES], ['write', 'current_tracer', 'function']]),
  },
  {
    name: 'function, counter clock', args: (c) => ['--require', registerCjs, c],
    init: traced([['write', 'trace_clock', 'counter'], ['write', 'current_tracer', 'function']]),
  },
  { name: 'function, default clock', args: (c) => ['--require', registerCjs, c], init: traced([['write', 'current_tracer', 'function']]) },
  { name: 'function_graph, default clock', args: (c) => ['--require', registerCjs, c], init: traced([['write', 'current_tracer', 'function_graph']]) },
  { name: 'profiler, default clock', args: (c) => ['--require', registerCjs, c], init: traced([['write', 'function_profile_enabled', '1']]) },
  { name: 'record -p function', cli: true, args: (c, out) => [cli, 'record', '-p', 'function', '-o', join(out, 'record.jsft'), '--', process.execPath, c] },
  { name: 'jsftrace profile', cli: true, args: (c, out) => [cli, 'profile', '-w', join(out, 'profile.txt'), '--', process.execPath, c] },
  { name: 'jsftrace profile -o', cli: true, args: (c, out) => [cli, 'profile', '-w', join(out, 'profile.txt'), '-o', join(out, 'profile.jsft'), '--', process.execPath, c] },
];

const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const range = (s: Summary, d = 2): string => `${f(s.median, d)} (${f(s.min, d)}-${f(s.max, d)})`;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-tracers-'));
  const loadBefore = loadAverage();
  try {
    const app = makeTsApp(work);
    const env: NodeJS.ProcessEnv = { ...process.env, JSFTRACE_CACHE_DIR: join(work, 'cache'), NODE_OPTIONS: '' };
    delete env['JSFTRACE_CHILDREN'];
    const run = (c: Contender, expect?: string): RunFigures => {
      const e = c.init === undefined ? env : { ...env, JSFTRACE_CONTROL_INIT: JSON.stringify(c.init) };
      const r = runOnce(process.execPath, c.args(app.check, work), e, app.dir, c.cli === true ? undefined : expect);
      if (c.cli === true && !r.stdout.includes(expect ?? 'RESULT')) throw new Error(`${c.name}: the program's output is missing: ${r.stdout.slice(0, 300)}`);
      return r;
    };
    const expect = run(CONTENDERS[0]!).stdout;
    for (const c of CONTENDERS) run(c, expect); // warm the transform cache and the disk
    const runs = new Map<string, RunFigures[]>(CONTENDERS.map((c) => [c.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Rotated per round, so that drift hits all alike.
      for (let k = 0; k < CONTENDERS.length; k++) {
        const c = CONTENDERS[(k + round * 3) % CONTENDERS.length]!;
        runs.get(c.name)!.push(run(c, expect));
      }
      process.stdout.write(`round ${round + 1}/${ROUNDS}\n`);
    }
    const plain = runs.get('uninstrumented')!;
    const idle = runs.get('idle')!;
    const results: Record<string, unknown> = {};
    process.stdout.write(`\nTypeScript check, ${ROUNDS} rounds: ratio to uninstrumented, median (min-max), wall and CPU (process tree)\n`);
    for (const [name, rs] of runs) {
      const ratio = summarize(rs.map((r, i) => r.ms / plain[i]!.ms));
      const cpuRatio = summarize(rs.map((r, i) => r.cpuMs / plain[i]!.cpuMs));
      // Against idle too: what attaching adds to the instrumented program.
      const cpuOverIdle = summarize(rs.map((r, i) => r.cpuMs / idle[i]!.cpuMs));
      results[name] = {
        ms: summarize(rs.map((r) => r.ms)), ratio, cpuMs: summarize(rs.map((r) => r.cpuMs)), cpuRatio, cpuOverIdle,
        rssMb: summarize(rs.map((r) => r.rssMb)),
      };
      process.stdout.write(`  ${name.padEnd(32)} wall ${f(median(rs.map((r) => r.ms)), 0).padStart(6)} ms ${range(ratio)}`
        + `   cpu ${f(median(rs.map((r) => r.cpuMs)), 0).padStart(6)} ms ${range(cpuRatio)}   cpu/idle ${range(cpuOverIdle)}\n`);
    }
    const one = results['one ops on one hot function'] as { cpuRatio: Summary };
    const own = results['function, filtered to own files'] as { cpuRatio: Summary };
    const idleR = results['idle'] as { cpuRatio: Summary };
    process.stdout.write(`\nAgainst idle (CPU ratio): one ops on one hot function ${f(one.cpuRatio.median - idleR.cpuRatio.median, 3)}, `
      + `filtered to own files ${f(own.cpuRatio.median - idleR.cpuRatio.median, 3)}\n`);
    const file = writeResults('tracers', {
      rounds: ROUNDS, load: { before: loadBefore, after: loadAverage() }, hot: HOT_FUNCTION, own: OWN_FILES, results,
    });
    process.stdout.write(`load average ${loadBefore.join(' ')} before, ${loadAverage().join(' ')} after\nwrote ${file}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
