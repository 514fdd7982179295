// What the `npm run test:realworld` suites share: the pinned packages of
// test/fixtures/realworld/registry (installed there with `npm ci` the first
// time), and the four ways each program runs:
// - plain: `node` with an empty preload (any --import changes how Node 20
//   starts a CommonJS main, which shows in stack traces);
// - idle: `node --import jsftrace/register`, every function instrumented,
//   nothing attached;
// - counted: idle plus a counting ops on every function (its sites,
//   calls and exits are written at exit);
// - graph: `jsftrace record -p function_graph` (every function traced by
//   the function_graph tracer, the trace written at exit).
// Status, stdout and stderr must be the same in all four, except the one
// line `jsftrace record` prints when it has written the trace.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertSameOutcomes, outcomeOf, type Outcome } from '../../support/difference.js';
import { cleanEnv, run, Running, scratchDir, type Run, type RunOptions } from '../../support/process.js';

export const root = fileURLToPath(new URL('../../../../', import.meta.url));
export const app = join(root, 'test', 'fixtures', 'realworld', 'registry');
export const register = join(root, 'dist', 'src', 'public', 'register.js');
export const registerCjs = join(root, 'dist', 'src', 'public', 'register.cjs');
const jsftrace = join(root, 'bin', 'jsftrace.js');
const countAll = join(root, 'dist', 'test', 'fixtures', 'realworld', 'count-all.js');
const nothing = join(root, 'dist', 'test', 'fixtures', 'transform', 'nothing.js');

/** Installs the pinned packages unless node_modules is as new as the lock. */
export function ensureInstalled(): void {
  const lock = join(app, 'package-lock.json');
  const marker = join(app, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  process.stdout.write('# installing the pinned packages of test/fixtures/realworld/registry (npm ci)\n');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm ci in test/fixtures/realworld/registry failed');
}

export type Mode = 'plain' | 'idle' | 'counted' | 'graph';
export const MODES: Mode[] = ['plain', 'idle', 'counted', 'graph'];

export interface Counts { sites: number; calls: number; exits: number }

/** One run's scratch: the cache, the count file and the trace of each mode. */
export class Scratch {
  private readonly s = scratchDir('jsftrace-realworld-');
  private n = 0;
  readonly dir = this.s.dir;
  done = (): void => this.s.done();
  file(name: string): string {
    return join(this.dir, `${this.n++}-${name}`);
  }
}

export interface Invocation {
  file: string;
  args: string[];
  env: Record<string, string>;
  counts?: string;
  trace?: string;
}

/**
 * How `mode` runs `node <nodeArgs>`. `preload` chooses how jsftrace is
 * loaded in the instrumented modes (--import or --require).
 */
export function invocation(mode: Mode, nodeArgs: string[], scratch: Scratch, env: Record<string, string> = {},
  preload: 'import' | 'require' = 'import'): Invocation {
  const base = cleanEnv({ JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(scratch.dir, 'cache'), npm_config_update_notifier: 'false', ...env });
  const hook = preload === 'import' ? ['--import', register] : ['--require', registerCjs];
  switch (mode) {
    case 'plain': return { file: process.execPath, args: ['--import', nothing, ...nodeArgs], env: base };
    case 'idle': return { file: process.execPath, args: [...hook, ...nodeArgs], env: base };
    case 'counted': {
      const counts = scratch.file('counts.json');
      return { file: process.execPath, args: [...hook, '--import', countAll, ...nodeArgs], env: { ...base, JSFTRACE_TEST_COUNTS: counts }, counts };
    }
    case 'graph': {
      const trace = scratch.file('trace.jsft');
      const args = [jsftrace, 'record', '-p', 'function_graph', '-o', trace, '--', process.execPath, ...nodeArgs];
      return { file: process.execPath, args, env: base, trace };
    }
  }
}

const RECORDED = /^jsftrace: recorded \d+ events from \d+ threads? to .*$/;

/** The outcome, less the line `jsftrace record` adds (which must be there). */
export function outcome(r: { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }, mode: Mode): Outcome {
  const o = outcomeOf(r);
  if (mode === 'graph') {
    const i = o.stderr.findIndex((l) => RECORDED.test(l));
    assert.ok(i >= 0, `jsftrace record did not say it wrote the trace: ${r.stderr.slice(-2000)}`);
    o.stderr.splice(i, 1);
  }
  return o;
}

/** The counts a counted run wrote, checked for sense. */
export function readCounts(inv: Invocation, label: string, minSites: number): Counts {
  const c = JSON.parse(readFileSync(inv.counts!, 'utf8')) as Counts;
  assert.ok(c.sites >= minSites, `${label}: only ${c.sites} functions were entered (expected at least ${minSites})`);
  assert.ok(c.exits <= c.calls, `${label}: ${c.exits} exits for ${c.calls} calls`);
  return c;
}

export interface Timed { outcome: Outcome; ms: number }

/**
 * Runs `node <nodeArgs>` in every mode and asserts that every mode's
 * outcome is the plain one. Prints the counts and the time of each mode.
 */
export async function everyMode(label: string, nodeArgs: string[], opts: {
  scratch: Scratch; cwd?: string; env?: Record<string, string>; minSites: number; preload?: 'import' | 'require';
  expectStatus?: number; timeoutMs?: number;
}): Promise<Record<Mode, Timed>> {
  const results = {} as Record<Mode, Timed>;
  let counted: Invocation | undefined;
  for (const mode of MODES) {
    const inv = invocation(mode, nodeArgs, opts.scratch, opts.env, opts.preload);
    const t0 = performance.now();
    const r: Run = await run(inv.file, inv.args, { cwd: opts.cwd ?? app, env: inv.env, timeoutMs: opts.timeoutMs ?? 600_000 } satisfies RunOptions);
    results[mode] = { outcome: outcome(r, mode), ms: performance.now() - t0 };
    if (inv.counts !== undefined) counted = inv;
  }
  const plain = results.plain.outcome;
  if (opts.expectStatus !== undefined) assert.equal(plain.status, opts.expectStatus, `${label}: plain run: ${plain.stderr.join('\n')}`);
  assertSameOutcomes(label, plain, { idle: results.idle.outcome, counted: results.counted.outcome, graph: results.graph.outcome });
  const counts = readCounts(counted!, label, opts.minSites);
  const ratio = (m: Mode): string => (results[m].ms / results.plain.ms).toFixed(2);
  process.stdout.write(`# ${label}: ${counts?.sites} functions entered, ${counts?.calls} calls, ${counts?.exits} exits; `
    + `time ${Math.round(results.plain.ms)} ms plain, x${ratio('idle')} idle (the transform cache cold), x${ratio('counted')} counted, `
    + `x${ratio('graph')} graph\n`);
  return results;
}

/**
 * A server in every mode: started, sent `drive`'s requests once it prints
 * `listening on <port>`, then sent SIGTERM (the app closes its server and
 * ends); the responses and the outcome must be the same in every mode.
 */
export async function serverEveryMode(label: string, nodeArgs: string[], drive: (port: number) => Promise<string[]>, opts: {
  scratch: Scratch; minSites: number;
}): Promise<void> {
  const seen = {} as Record<Mode, { responses: string[]; outcome: Outcome }>;
  let counted: Invocation | undefined;
  for (const mode of MODES) {
    const inv = invocation(mode, nodeArgs, opts.scratch);
    const server = new Running(inv.file, inv.args, { cwd: app, env: inv.env, timeoutMs: 300_000 });
    let responses: string[];
    try {
      const m = await server.waitFor(/listening on (\d+)/);
      responses = await drive(Number(m[1]));
    } finally {
      await server.stop('SIGTERM');
    }
    const exit = await server.exited;
    // The port is the system's choice.
    const stdout = server.stdout.replace(/listening on \d+/, 'listening on <port>');
    seen[mode] = { responses, outcome: outcome({ ...exit, stdout, stderr: server.stderr }, mode) };
    if (inv.counts !== undefined) counted = inv;
  }
  assert.equal(seen.plain.outcome.status, 0, `${label}: plain run: ${seen.plain.outcome.stderr.join('\n')}`);
  // The responses are compared as a third stream of lines.
  const withResponses = (m: Mode): Outcome & { responses: string[] } => ({ ...seen[m].outcome, responses: seen[m].responses });
  assertSameOutcomes(label, withResponses('plain'), { idle: withResponses('idle'), counted: withResponses('counted'), graph: withResponses('graph') });
  readCounts(counted!, label, opts.minSites);
}
