/**
 * Shared pieces of the benchmark suites: statistics, where results go, and
 * how a figure is printed.
 *
 * Owns: the JSON envelope every suite writes ({ suite, date, node, cpus,
 * results }) and the results directory (bench/results at the repository
 * root, also when run from dist/).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** bench/ in the source tree (this file runs from dist/bench or dist/bench/suites). */
export const benchRoot = resolve(here.includes(`${join('dist', 'bench')}`) ? here.slice(0, here.indexOf(join('dist', 'bench'))) : join(here, '..'), 'bench');
export const resultsDir = join(benchRoot, 'results');

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarize(xs: readonly number[]): Summary {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: [...xs] };
}

/**
 * Writes bench/results/<suite>.json, or <suite>-node<line>.json when
 * `npm run bench -- --node <line>` ran the suite under a pinned Node line.
 */
export function writeResults(suite: string, results: unknown): string {
  mkdirSync(resultsDir, { recursive: true });
  const line = process.env['JSFTRACE_BENCH_LINE'] ?? '';
  const file = join(resultsDir, line === '' ? `${suite}.json` : `${suite}-node${line}.json`);
  const c = cpus();
  writeFileSync(file, JSON.stringify({
    suite, date: new Date().toISOString(), node: process.version, cpu: c[0]?.model ?? 'unknown', cpus: c.length, results,
  }, null, 2) + '\n');
  return file;
}

/** Nanoseconds since an arbitrary origin, as a number. */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** Keeps a value alive so the optimiser cannot drop the work that made it. */
export let sink: unknown;
export function consume(v: unknown): void {
  sink = v;
}
