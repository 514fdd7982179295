// Helpers for the instrumentation tests: throwaway programs in temporary
// directories, run under the built register entry with a bounded time.

import { mkdirSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, run, scratchDir } from '../support/process.js';

export const registerJs = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
export const registerCjs = fileURLToPath(new URL('../../src/public/register.cjs', import.meta.url));
export const loadJsUrl = new URL('../../src/instrument/load.js', import.meta.url).href;
export const seenTransformUrl = new URL('../fixtures/instrument/seen-transform.js', import.meta.url).href;
export const tsxLoader = fileURLToPath(import.meta.resolve('tsx'));

/**
 * The module hook mechanisms of this Node line, each run by the hook suites:
 * the default (module.register's off-thread hooks on Node 20, in-thread
 * module.registerHooks where it exists) and, where both exist, the
 * off-thread hooks as well (JSFTRACE_HOOKS=async).
 */
export const hookModes: { label: string; hooks: string }[] = typeof (module as { registerHooks?: unknown }).registerHooks === 'function'
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
