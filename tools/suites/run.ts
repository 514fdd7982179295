/**
 * `node dist/tools/suites/run.js`: the real test suites of popular
 * libraries (libraries.ts), run three ways: plain; instrumented with
 * nothing attached (NODE_OPTIONS='--require <jsftrace/register>', as the
 * docs recommend, so every process the runner starts is instrumented); and with the function_graph
 * tracer on every function of every process, started as `jsftrace record
 * -p function_graph` starts a program (NODE_OPTIONS='--require
 * <register.cjs>' and JSFTRACE_CONTROL_INIT, which every process applies
 * before its first line). The same tests must pass and fail in every mode.
 *
 * Owns: getting each checkout ready (clone from its git URL when missing,
 * check out the pinned commit, npm install from the registry, prepare), the
 * three runs, and the comparison of their TAP (tap.ts). Invariants: nothing
 * is fetched but the git repositories named in libraries.ts and packages of
 * the npm registry; the checkouts live outside this repository; a server the
 * tests start listens on loopback only, in every mode (loopback.cts).
 */

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LIBRARIES, type Library } from './libraries.js';
import { differences, readTap, tally, type Status, type Tally } from './tap.js';

const HELP = `usage: node dist/tools/suites/run.js [--dir DIR] [--json FILE] [--timeout MIN] [library...]

Runs each library's own test suite plain, instrumented idle and with
function_graph on every function, and compares which tests pass and fail.
Libraries: ${LIBRARIES.map((l) => l.name).join(', ')} (default: all).

  --dir DIR      where the checkouts are (default $JSFTRACE_SUITES_DIR, else
                 <tmpdir>/jsftrace-suites). A missing <DIR>/<library> is cloned
                 from its repository; then the pinned commit is checked out,
                 its dependencies installed (npm install --ignore-scripts, or
                 the library's own install steps) and
                 its prepare steps run, once (a .jsftrace-ready file marks it).
                 To prepare by hand: git clone <repo> <DIR>/<name> && git -C
                 <DIR>/<name> checkout <commit>.
  --json FILE    also write the results as JSON
  --timeout MIN  per run (default 30)

Build first (npm run build). Prints one line per library and mode, each
test whose result differs between modes, and a markdown table.
`;

type Mode = 'plain' | 'idle' | 'graph';
const MODES: Mode[] = ['plain', 'idle', 'graph'];

const dist = fileURLToPath(new URL('../../', import.meta.url));
const registerCjs = join(dist, 'src', 'public', 'register.cjs');
const loopbackCjs = join(dist, 'tools', 'suites', 'loopback.cjs');

interface ModeResult { exit: number | null; signal: string | null; seconds: number; tally: Tally; points: Map<string, Status>; log: string }

function sh(cmd: string[], cwd: string): void {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed in ${cwd}`);
}

function ready(lib: Library, dir: string): string {
  const at = join(dir, lib.name);
  if (!existsSync(at)) sh(['git', 'clone', '--quiet', lib.repo, at], dir);
  const marker = join(at, '.jsftrace-ready');
  if (existsSync(marker)) return at;
  sh(['git', 'checkout', '--quiet', lib.commit], at);
  for (const step of lib.install ?? [['npm', 'install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error']]) sh(step, at);
  for (const step of lib.prepare) sh(step, at);
  writeFileSync(marker, `${lib.commit}\n`);
  return at;
}

function runMode(lib: Library, at: string, mode: Mode, cacheDir: string, timeoutMin: number): Promise<ModeResult> {
  // The node that runs this first in PATH: tests that start `node` by name
  // (commander's subcommands) then run the same line.
  const path = [dirname(process.execPath), process.env['PATH'] ?? ''].filter((p) => p !== '').join(delimiter);
  const env: Record<string, string | undefined> = { ...process.env, PATH: path, JSFTRACE_CACHE_DIR: cacheDir, FORCE_COLOR: '0', NO_COLOR: '1' };
  // Every mode: servers the tests start listen on loopback only (loopback.cts).
  env['NODE_OPTIONS'] = `--require ${loopbackCjs}`;
  if (mode === 'idle') env['NODE_OPTIONS'] += ` --require ${registerCjs}`;
  if (mode === 'graph') {
    env['NODE_OPTIONS'] += ` --require ${registerCjs}`;
    env['JSFTRACE_CONTROL_INIT'] = JSON.stringify([['write', 'current_tracer', 'function_graph']]);
  }
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, lib.test(at), { cwd: at, env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Every runner writes its TAP to stdout; read apart from stderr, whose
    // chunks would otherwise land inside its lines.
    let out = '';
    let log = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; log += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { log += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMin * 60_000);
    child.on('error', reject);
    child.on('close', (exit, signal) => {
      clearTimeout(timer);
      const points = readTap(out);
      resolve({ exit, signal, seconds: (performance.now() - started) / 1000, tally: tally(points), points, log });
    });
  });
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { dir: { type: 'string' }, json: { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return;
  }
  const dir = values.dir ?? process.env['JSFTRACE_SUITES_DIR'] ?? join(tmpdir(), 'jsftrace-suites');
  mkdirSync(dir, { recursive: true });
  const unknown = positionals.filter((p) => !LIBRARIES.some((l) => l.name === p));
  if (unknown.length > 0) throw new Error(`no library ${unknown.join(', ')} (${LIBRARIES.map((l) => l.name).join(', ')})`);
  const chosen = positionals.length === 0 ? LIBRARIES : LIBRARIES.filter((l) => positionals.includes(l.name));
  const rows: string[] = [];
  const json: unknown[] = [];
  let same = true;
  for (const lib of chosen) {
    const at = ready(lib, dir);
    const cacheDir = join(dir, `.cache-${lib.name}`);
    const results = {} as Record<Mode, ModeResult>;
    for (const mode of MODES) {
      results[mode] = await runMode(lib, at, mode, cacheDir, Number(values.timeout ?? 30));
      writeFileSync(join(dir, `${lib.name}.${mode}.log`), results[mode].log);
      const r = results[mode];
      process.stdout.write(`${lib.name} ${mode}: exit ${r.exit ?? r.signal}, ${r.tally.total} tests, ${r.tally.pass} pass, ${r.tally.fail} fail, `
        + `${r.tally.skip + r.tally.todo} skipped, ${r.seconds.toFixed(1)} s\n`);
    }
    const diffs = { idle: differences(results.plain.points, results.idle.points), graph: differences(results.plain.points, results.graph.points) };
    for (const mode of ['idle', 'graph'] as const) {
      for (const d of diffs[mode].slice(0, 40)) process.stdout.write(`  ${mode}: ${d}\n`);
      if (diffs[mode].length > 40) process.stdout.write(`  ${mode}: and ${diffs[mode].length - 40} more (--json has them all)\n`);
      if (diffs[mode].length > 0 || results[mode].exit !== results.plain.exit) same = false;
    }
    const cell = (m: Mode): string => `${results[m].tally.pass}/${results[m].tally.fail}`;
    const ratio = (m: Mode): string => (results[m].seconds / results.plain.seconds).toFixed(2);
    rows.push(`| ${lib.name} | ${lib.commit.slice(0, 12)} | ${results.plain.tally.total} | ${cell('plain')} | ${cell('idle')} | ${cell('graph')} `
      + `| ${results.plain.seconds.toFixed(1)} s | ${ratio('idle')} | ${ratio('graph')} | ${diffs.idle.length + diffs.graph.length} |`);
    json.push({ library: lib.name, commit: lib.commit, style: lib.style,
      modes: Object.fromEntries(MODES.map((m) => [m, { exit: results[m].exit, signal: results[m].signal, seconds: results[m].seconds, ...results[m].tally }])),
      differences: diffs });
  }
  process.stdout.write('\n| library | commit | tests | plain pass/fail | idle pass/fail | graph pass/fail | plain time | idle ratio | graph ratio | differing tests |\n'
    + '|---|---|---|---|---|---|---|---|---|---|\n' + rows.join('\n') + '\n');
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(json, null, 2) + '\n');
  process.exitCode = same ? 0 : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 2;
});
