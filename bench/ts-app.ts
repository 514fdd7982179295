/**
 * The program the idle and tracers suites run: the TypeScript compiler
 * type-checking its own typescript.d.ts, driven by a small program of the
 * user's own (check.js) with typescript installed in its node_modules, so
 * that site names tell the program's files (no package) from a large
 * dependency (9 MB of `typescript`), and a one-line program and a module of
 * 50,000 small functions beside it.
 *
 * Owns: the application tree in a temporary directory and how one run is
 * measured. Invariant: every contender runs the same files from the same
 * tree, each in a fresh process; a run's figures come from the operating
 * system's accounting of the whole process tree (GNU time's wait4: CPU time
 * of all threads and children, peak resident set), and its wall time from
 * this process.
 */

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';

/** The program's own driver: checks typescript.d.ts CHECK_REPS times, prints the diagnostics count and each check's CPU time. */
const CHECK_JS = `'use strict';
const path = require('node:path');
const ts = require('typescript');

function compilerOptions() {
  return { noEmit: true, lib: ['lib.es2022.d.ts'], types: [] };
}

function checkOnce(file) {
  const program = ts.createProgram([file], compilerOptions());
  return ts.getPreEmitDiagnostics(program).length;
}

function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function main() {
  const file = path.join(path.dirname(require.resolve('typescript')), 'typescript.d.ts');
  const reps = Number(process.env.CHECK_REPS || 1);
  const times = [];
  let diagnostics = -1;
  for (let i = 0; i < reps; i++) {
    const c0 = cpuMs();
    diagnostics = checkOnce(file);
    times.push(cpuMs() - c0);
  }
  process.stdout.write('RESULT ' + diagnostics + '\\n');
  process.stderr.write('CHECK_TIMES ' + JSON.stringify(times) + '\\n');
}

main();
`;

export interface TsApp {
  readonly dir: string;
  /** The program's own driver (its sites are named `check.js:<function>`). */
  readonly check: string;
  /** console.log('ok'). */
  readonly oneLine: string;
  /** Loads a module of FUNCTIONS small functions and calls one. */
  readonly manyFunctions: string;
  readonly functions: number;
  /** Where typescript's files are. */
  readonly tsLib: string;
}

export const FUNCTIONS = 50_000;

export function makeTsApp(work: string): TsApp {
  const dir = join(work, 'app');
  const nm = join(dir, 'node_modules');
  mkdirSync(nm, { recursive: true });
  const tsRoot = dirname(createRequire(import.meta.url).resolve('typescript/package.json'));
  cpSync(tsRoot, join(nm, 'typescript'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench-app', private: true }) + '\n');
  const check = join(dir, 'check.js');
  writeFileSync(check, CHECK_JS);
  const oneLine = join(dir, 'one-line.js');
  writeFileSync(oneLine, "console.log('ok');\n");
  let fns = "'use strict';\n";
  for (let i = 0; i < FUNCTIONS; i++) fns += `function f${i}(a) { return a + ${i}; }\n`;
  fns += `module.exports = [${Array.from({ length: FUNCTIONS }, (_, i) => `f${i}`).join(',')}];\n`;
  writeFileSync(join(dir, 'fns.js'), fns);
  const manyFunctions = join(dir, 'many-functions.js');
  writeFileSync(manyFunctions, "const fns = require('./fns.js');\nconsole.log(fns.length, fns[1](1));\n");
  return { dir, check, oneLine, manyFunctions, functions: FUNCTIONS, tsLib: join(nm, 'typescript', 'lib') };
}

export interface RunFigures {
  /** Wall time of the process, ms. */
  ms: number;
  /** user + system CPU time of the process and its children, ms (NaN without GNU time). */
  cpuMs: number;
  /** Peak resident set size, MB (NaN without GNU time). */
  rssMb: number;
  stdout: string;
  stderr: string;
}

const GNU_TIME = '/usr/bin/time';
const haveTime = existsSync(GNU_TIME) && spawnSync(GNU_TIME, ['-f', '%U', 'true']).status === 0;
const MARK = 'JSFTRACE_BENCH_RUSAGE';

/** Runs `cmd args` once in `cwd`; throws when it fails or its output differs from `expect`. */
export function runOnce(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, expect?: string): RunFigures {
  const argv = haveTime ? [GNU_TIME, '-f', `${MARK} %U %S %M`, cmd, ...args] : [cmd, ...args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env, cwd, maxBuffer: 256 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${[cmd, ...args].join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  if (expect !== undefined && r.stdout !== expect) throw new Error(`${[cmd, ...args].join(' ')}: output differs from the uninstrumented run: ${r.stdout.slice(0, 200)}`);
  let cpuMs = NaN;
  let rssMb = NaN;
  let stderr = r.stderr;
  const m = new RegExp(`^${MARK} ([\\d.]+) ([\\d.]+) (\\d+)$`, 'm').exec(stderr);
  if (m !== null) {
    cpuMs = (Number(m[1]) + Number(m[2])) * 1000;
    rssMb = Number(m[3]) / 1024;
    stderr = stderr.slice(0, m.index) + stderr.slice(m.index + m[0].length + 1);
  }
  return { ms, cpuMs, rssMb, stdout: r.stdout, stderr };
}

/** The CPU time of each check a run made (its CHECK_TIMES line). */
export function checkTimes(stderr: string): number[] {
  const m = /^CHECK_TIMES (.*)$/m.exec(stderr);
  if (m === null) throw new Error(`no CHECK_TIMES in: ${stderr.slice(-500)}`);
  return JSON.parse(m[1]!) as number[];
}

/** The load averages (1, 5, 15 min) now, for the record: the machines are shared. */
export function loadAverage(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}
