// Helpers for the instrumentation tests: throwaway programs in temporary
// directories, run under the built register entry with a bounded time.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, run, scratchDir } from '../support/process.js';
import type { InThreadHooks } from '../../src/shared/in-thread-hooks.cjs';

export const registerJs = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
export const registerCjs = fileURLToPath(new URL('../../src/public/register.cjs', import.meta.url));
export const loadJsUrl = new URL('../../src/instrument/load.js', import.meta.url).href;
export const seenTransformUrl = new URL('../fixtures/instrument/seen-transform.js', import.meta.url).href;
export const tsxLoader = fileURLToPath(import.meta.resolve('tsx'));

/**
 * Whether jsftrace's module hooks are in-thread on this Node by default:
 * where module.registerHooks exists, on the releases where registering it
 * changes nothing else (src/shared/in-thread-hooks.cts).
 */
export const inThreadHooks = (createRequire(import.meta.url)('../../src/shared/in-thread-hooks.cjs') as InThreadHooks).inThreadHooksSound();

/**
 * The module hook mechanisms of this Node line, each run by the hook suites:
 * the default (module.register's off-thread hooks on Node 20, in-thread
 * module.registerHooks where jsftrace uses it) and, where both are used,
 * the off-thread hooks as well (JSFTRACE_HOOKS=async).
 */
export const hookModes: { label: string; hooks: string }[] = inThreadHooks
  ? [{ label: 'registerHooks', hooks: 'auto' }, { label: 'module.register', hooks: 'async' }]
  : [{ label: 'module.register', hooks: 'auto' }];

/** A fresh directory, removed by the returned function. */
export function tempDir(prefix = 'jsftrace-inst-'): { dir: string; done: () => void } {
  return scratchDir(prefix);
}

/** Writes `files` (relative path -> text) under `dir`. */
export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
}

/** ESM: prints `{ seen, stats }` as the last line when the program exits. */
export const REPORT_ESM = `
const { instrumentStats } = await import(${JSON.stringify(loadJsUrl)});
process.on('exit', () => console.log('REPORT ' + JSON.stringify({ seen: globalThis.__jsftraceSeen ?? [], stats: instrumentStats() })));
`;

/** CommonJS: the same. */
export const REPORT_CJS = `
import(${JSON.stringify(loadJsUrl)}).then(({ instrumentStats }) => {
  process.on('exit', () => console.log('REPORT ' + JSON.stringify({ seen: globalThis.__jsftraceSeen ?? [], stats: instrumentStats() })));
});
`;

export interface Report {
  seen: string[];
  stats: { transformed: number; cached: number; skipped: number; failed: number; ignored: number; sites: number;
    failures: { filename: string; error: string }[] };
}

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  report: Report | null;
  /** stdout without the REPORT line. */
  output: string;
}

/**
 * Runs `node args` in `cwd`. The environment gets the seen-transform and a
 * private cache directory unless `env` says otherwise; the process is
 * killed after `timeoutMs`.
 */
export async function runNode(args: string[], opts: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number; node?: string; hooks?: string }): Promise<RunResult> {
  const env = cleanEnv({
    JSFTRACE_TRANSFORM_MODULE: seenTransformUrl, NO_COLOR: process.env['NO_COLOR'],
    ...(opts.hooks === undefined ? {} : { JSFTRACE_HOOKS: opts.hooks }), ...opts.env,
  });
  const r = await run(opts.node ?? process.execPath, args, { cwd: opts.cwd, env, timeoutMs: opts.timeoutMs ?? 30_000 });
  const lines = r.stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith('REPORT '));
  const report = at < 0 ? null : JSON.parse(lines[at]!.slice(7)) as Report;
  const output = lines.filter((l) => !l.startsWith('REPORT ')).join('\n');
  return { ...r, report, output };
}

/** The JSFTRACE_TRANSFORM warnings in a run's stderr. */
export function transformWarnings(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.includes('[JSFTRACE_TRANSFORM]'));
}

/** The real transform, no control server. */
export const REAL = { JSFTRACE_TRANSFORM_MODULE: undefined, JSFTRACE_CONTROL: '0' };
/** As users run it: the control server on, its socket in the test's own directory. */
export const served = (dir: string): Record<string, string | undefined> => ({ JSFTRACE_TRANSFORM_MODULE: undefined, JSFTRACE_SOCKET_DIR: join(dir, 'sockets') });

/**
 * As `jsftrace record -p function` starts a program (by --require): the
 * function tracer on before the program's first line
 * (JSFTRACE_CONTROL_INIT). By --import, a configured start holds the
 * program with a top-level await (docs/instrumentation.md).
 */
export const TRACING = { JSFTRACE_CONTROL_INIT: JSON.stringify([['write', 'current_tracer', 'function']]) };

/** Process ids out of Node's warnings, which differ from run to run. */
export const pids = (text: string): string => text.replace(/\(node:\d+\)/g, '(node:<pid>)');
/** Each entry of jsftrace's, and the empty preload a plain run is given in its place (noop.mjs, noop.cjs). */
export const ENTRIES = [['--import', registerJs, './noop.mjs'], ['--require', registerCjs, './noop.cjs']] as const;

/**
 * Runs `main` (in `dir`, asserting it prints and ends the same) with an empty preload and with jsftrace/register, by --import
 * and by --require, idle and (by --require) with a tracer configured at the
 * start: Node
 * itself changes how it starts a program that has a preload (an --import
 * runs a CommonJS main through its ES module loader), and that is the run
 * jsftrace must not change. A configured start finishes before the main
 * module, which Node then starts as it would without jsftrace.
 */
export async function threeWays(dir: string, main: string, flags: readonly string[] = ['--import', '--require'], allFrames = true): Promise<void> {
  writeTree(dir, { 'noop.mjs': '', 'noop.cjs': '' });
  // Every frame shown: one frame too many or too few is a difference. (Or
  // Node's default limit, where what is asked is how many frames fit in it.)
  const limit = allFrames ? '--stack-trace-limit=100' : '--stack-trace-limit=10';
  for (const [flag, ours, none] of ENTRIES.filter(([f]) => flags.includes(f))) {
    const plain = await runNode([limit, flag, none, main], { cwd: dir, env: REAL });
    const ways: [string, Record<string, string | undefined>][] = [['idle', served(dir)]];
    if (flag === '--require') ways.push(['tracing', { ...served(dir), ...TRACING }]);
    for (const [how, env] of ways) {
      const r = await runNode([limit, flag, ours, main], { cwd: dir, env });
      assert.equal(pids(r.stderr), pids(plain.stderr), `${flag} ${how}: stderr`);
      assert.equal(r.stdout, plain.stdout, `${flag} ${how}: stdout`);
      assert.equal(r.code, plain.code, `${flag} ${how}: exit code`);
    }
  }
}
