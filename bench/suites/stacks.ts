/**
 * `npm run bench -- stacks`: what a program's own stack traces cost under
 * jsftrace, with nothing attached. Each stack's frames are mapped back to
 * original columns, and Node's default formatter is jsftrace's stand-in
 * (docs/instrumentation.md, "Stack traces"): a program that makes and
 * reads many stacks (a logger that records where it was called, a
 * framework's errors) pays for both.
 *
 * Each round runs, in fresh processes and interleaved: uninstrumented, and
 * `--require jsftrace/register` idle. The program makes STACKS errors
 * DEPTH frames below its top level, in a module of its own, and reads
 * each one's `stack` (the default text); then as many through a
 * `prepareStackTrace` of its own that reads every frame's file, line and
 * column; and as many failed `assert(value)` without a message, whose
 * message Node makes of the source. It prints the CPU time of each loop;
 * the suite reports the time per stack and its ratio to the
 * uninstrumented process of the same round.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize, writeResults, type Summary } from '../harness.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const STACKS = 20_000;
const ASSERTS = 2_000;
const DEPTH = 8;
const here = dirname(fileURLToPath(import.meta.url));
const registerCjs = join(here, '..', '..', 'src', 'public', 'register.cjs');

const PROGRAM = `'use strict'
const assert = require('node:assert')
const down = (n, make) => (n === 0 ? make() : down(n - 1, make))
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000 }
const time = (count, make, read) => {
  const t0 = cpu()
  let chars = 0
  for (let i = 0; i < count; i++) chars += read(down(${DEPTH}, make))
  return [cpu() - t0, chars]
}
const own = (e, frames) => frames.map((f) => f.getFileName() + ':' + f.getLineNumber() + ':' + f.getColumnNumber()).join(',')
const defaultText = time(${STACKS}, () => new Error('e'), (e) => e.stack.length)
Error.prepareStackTrace = own
const formatted = time(${STACKS}, () => new Error('e'), (e) => e.stack.length)
Error.prepareStackTrace = undefined
const failed = (v) => { try { assert(v) } catch (e) { return e } }
const asserts = time(${ASSERTS}, () => failed(0), (e) => e.message.length)
console.log(JSON.stringify({ defaultText, formatted, asserts }))
`;

type Kind = 'defaultText' | 'formatted' | 'asserts';
const KINDS: readonly Kind[] = ['defaultText', 'formatted', 'asserts'];
const COUNTS: Record<Kind, number> = { defaultText: STACKS, formatted: STACKS, asserts: ASSERTS };

function runOnce(node: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Record<Kind, [number, number]> {
  const r = spawnSync(node, args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<Kind, [number, number]>;
}

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-stacks-'));
  try {
    writeFileSync(join(work, 'stacks.cjs'), PROGRAM);
    const env: NodeJS.ProcessEnv = { ...process.env, JSFTRACE_CACHE_DIR: join(work, 'cache'), JSFTRACE_CONTROL: '0', NODE_OPTIONS: '' };
    const ways: Record<string, string[]> = { uninstrumented: ['stacks.cjs'], 'idle, --require': ['--require', registerCjs, 'stacks.cjs'] };
    // Warm the transform cache; the text read must be as long both ways.
    const first = Object.values(ways).map((args) => runOnce(process.execPath, args, work, env));
    for (const k of KINDS) {
      if (first[0]![k][1] !== first[1]![k][1]) throw new Error(`${k}: ${first[0]![k][1]} characters plain, ${first[1]![k][1]} under jsftrace`);
    }
    const us: Record<string, Record<Kind, number[]>> = {};
    for (const name of Object.keys(ways)) us[name] = { defaultText: [], formatted: [], asserts: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, args] of Object.entries(ways)) {
        const r = runOnce(process.execPath, args, work, env);
        for (const k of KINDS) us[name]![k].push((r[k][0] * 1000) / COUNTS[k]);
      }
    }
    const results: Record<string, unknown> = {};
    process.stdout.write(`Stacks ${DEPTH} frames deep, CPU per stack, ${ROUNDS} rounds: median (min-max); ratio to uninstrumented\n`);
    for (const k of KINDS) {
      const plain = us['uninstrumented']![k];
      const idle = us['idle, --require']![k];
      const ratio: Summary = summarize(idle.map((x, i) => x / plain[i]!));
      results[k] = { count: COUNTS[k], plainUs: summarize(plain), idleUs: summarize(idle), ratio };
      const s = (x: Summary, d = 1): string => `${x.median.toFixed(d)} (${x.min.toFixed(d)}-${x.max.toFixed(d)})`;
      process.stdout.write(`  ${k.padEnd(12)} uninstrumented ${s(summarize(plain))} us, idle ${s(summarize(idle))} us, ratio ${s(ratio, 2)}\n`);
    }
    const file = writeResults('stacks', { rounds: ROUNDS, depth: DEPTH, results });
    process.stdout.write(`wrote ${file}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
