// Helpers for the instrumentation tests: throwaway programs in temporary
// directories, run under the built register entry with a bounded time.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const registerJs = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
export const registerCjs = fileURLToPath(new URL('../../src/public/register.cjs', import.meta.url));
export const loadJsUrl = new URL('../../src/instrument/load.js', import.meta.url).href;
export const seenTransformUrl = new URL('../fixtures/instrument/seen-transform.js', import.meta.url).href;
export const tsxLoader = fileURLToPath(import.meta.resolve('tsx'));

/** A fresh directory, removed by the returned function. */
export function tempDir(prefix = 'jsftrace-inst-'): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
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
export function runNode(args: string[], opts: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number; node?: string }): Promise<RunResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('JSFTRACE_') && k !== 'NODE_OPTIONS' && !k.startsWith('NODE_TEST')) env[k] = v;
  }
  env['JSFTRACE_TRANSFORM_MODULE'] = seenTransformUrl;
  env['JSFTRACE_CACHE'] = '0';
  // JSFTRACE_TEST_HOOKS=async runs the suites on the off-thread hooks of a
  // Node that has in-thread ones (with JSFTRACE_TEST_NODES).
  const hooks = process.env['JSFTRACE_TEST_HOOKS'];
  if (hooks !== undefined) env['JSFTRACE_HOOKS'] = hooks;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(opts.node ?? process.execPath, args, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout.split('\n');
      const at = lines.findIndex((l) => l.startsWith('REPORT '));
      const report = at < 0 ? null : JSON.parse(lines[at]!.slice(7)) as Report;
      const output = lines.filter((l) => !l.startsWith('REPORT ')).join('\n');
      resolve({ code, signal, stdout, stderr, report, output });
    });
  });
}

/** The JSFTRACE_TRANSFORM warnings in a run's stderr. */
export function transformWarnings(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.includes('[JSFTRACE_TRANSFORM]'));
}
