/**
 * Renders the benchmark results: bench/results/*.json into docs/benchmarks.md
 * (through the hand-written bench/benchmarks.template.md), the chart of the
 * peers' ratios (docs/img/peers.svg) and the README's table between
 * `<!-- bench:table:start -->` and `<!-- bench:table:end -->`.
 *
 * Run by the peers suite at its end, or alone: `node dist/bench/render.js`.
 *
 * Template syntax:
 * - `{{suite/key/key...|fmt}}`: a value of bench/results/<suite>.json, path
 *   under `results`; fmt is `fN` (N decimals), `gN` (N decimals and
 *   thousands separators) or `mN` (millions, N decimals); a missing value
 *   renders as "n/a" and is reported.
 * - `{{table:core}}`, `{{table:idle}}`, `{{table:tracers}}`,
 *   `{{table:peers:<workload>}}`, `{{table:peers:summary}}`,
 *   `{{table:peers:targets}}`: generated tables;
 * - `{{chart:peers}}`: writes the SVG and puts its image link here;
 * - `{{date:<suite>}}`: when that suite ran;
 * - `{{runs:<suite>,<suite>...}}`: when those suites ran on each Node line
 *   (their -node<line> results too) and the load average around them.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchRoot, resultsDir } from './harness.js';

const repoRoot = resolve(realpathSync(benchRoot), '..');
const templateFile = join(repoRoot, 'bench', 'benchmarks.template.md');
const docFile = join(repoRoot, 'docs', 'benchmarks.md');
const readmeFile = join(repoRoot, 'README.md');
const chartFile = join(repoRoot, 'docs', 'img', 'peers.svg');
const START = '<!-- bench:table:start -->';
const END = '<!-- bench:table:end -->';

interface Summary { median: number; min: number; max: number; runs: number[] }
interface Envelope { suite: string; date: string; node: string; cpu: string; cpus: number; results: Record<string, unknown> }

const suites = new Map<string, Envelope>();
for (const f of existsSync(resultsDir) ? readdirSync(resultsDir).filter((x) => x.endsWith('.json')).sort() : []) {
  const e = JSON.parse(readFileSync(join(resultsDir, f), 'utf8')) as Envelope;
  suites.set(f.slice(0, -5), e);
}
const missing: string[] = [];

// ---- formatting ------------------------------------------------------------------

function fmt(x: number, spec: string): string {
  if (!Number.isFinite(x)) return 'n/a';
  const n = Number(spec.slice(1) || '0');
  switch (spec[0]) {
    case 'g': return x.toLocaleString('en-US', { minimumFractionDigits: n, maximumFractionDigits: n });
    case 'm': return (x / 1e6).toFixed(n);
    default: return x.toFixed(n);
  }
}

const range = (s: Summary, d: number): string => `${fmt(s.median, `f${d}`)} (${fmt(s.min, `f${d}`)}–${fmt(s.max, `f${d}`)})`;
const grp = (s: Summary, d: number): string => `${fmt(s.median, `g${d}`)} (${fmt(s.min, `g${d}`)}–${fmt(s.max, `g${d}`)})`;

function lookup(path: string): unknown {
  const [suite, ...keys] = path.split('/');
  let v: unknown = suites.get(suite!)?.results;
  for (const k of keys) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), `|${head.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

/** How the suites' result names read in the document. */
const LABELS: Record<string, string> = {
  '1 ops + 10 irrelevant': '1 ops + 10 irrelevant ops',
  '1 ops + 100 irrelevant': '1 ops + 100 irrelevant ops',
  '1 ops with exit': '1 ops with an exit callback',
  '2 ops (list)': '2 ops (list function)',
  '10 ops (list)': '10 ops (list function)',
  '100 ops (list)': '100 ops (list function)',
  'direct trampoline + 100 irrelevant': 'direct trampoline + 100 irrelevant ops',
  'idle, --import': '`--import jsftrace/register`, nothing attached',
  'idle, --require': '`--require jsftrace/register`, nothing attached',
  'function, filtered to own files': '`function`, filtered to the program\'s own files',
  'function, counter clock': '`function`, counter clock',
  'function, default clock': '`function`, default clock',
  'function_graph, default clock': '`function_graph`, default clock',
  'profiler, default clock': 'profiler, default clock',
  'record -p function': '`jsftrace record -p function`',
  'jsftrace profile': '`jsftrace profile`',
  'jsftrace profile -o': '`jsftrace profile -o trace` (function_graph recorded too)',
};
const label = (n: string): string => LABELS[n] ?? n;

// ---- tables of the existing suites ----------------------------------------------------

function coreTable(): string {
  const m = lookup('core/matrix') as Record<string, { baseNs: Summary; tracedNs: Summary; overheadNs: number; aboveBodyNs?: number }> | undefined;
  if (m === undefined) return '_No results: run `npm run bench -- core`._';
  return table(['case', 'ns per call, median (min–max)', 'above baseline'], Object.entries(m).map(([name, r]) => [
    label(name), range(r.tracedNs, 2),
    fmt(r.overheadNs, 'f2') + (r.aboveBodyNs !== undefined ? `; ${fmt(r.aboveBodyNs, 'f2')} above the trampoline's body called directly` : ''),
  ]));
}

function runTable(path: string, suite: string, digits: number, ratioHead: string): string {
  const t = lookup(path) as Record<string, { ms: Summary; ratio: Summary; cpuMs?: Summary; cpuRatio?: Summary }> | undefined;
  if (t === undefined) return `_No results: run \`npm run bench -- ${suite}\`._`;
  // CPU columns when the suite measured CPU time (all threads of the process).
  const cpu = Object.values(t).every((r) => r.cpuMs !== undefined && r.cpuRatio !== undefined);
  const head = cpu ? ['run', 'median ms', ratioHead, 'CPU ms', 'CPU ratio'] : ['run', 'median ms', ratioHead];
  return table(head, Object.entries(t).map(([name, r]) => {
    const row = [label(name), fmt(r.ms.median, 'f0'), name === 'uninstrumented' ? '1' : range(r.ratio, digits)];
    if (cpu) row.push(fmt(r.cpuMs!.median, 'f0'), name === 'uninstrumented' ? '1' : range(r.cpuRatio!, digits));
    return row;
  }));
}

// ---- the figures table (issue: near-zero cost) ------------------------------------------

interface Figure { label: string; target: string; cell(line: string): string }

/** A run table's row of the `<suite>` results measured on `line` ('' for the system Node, else e.g. 'node24'). */
function row(suite: string, line: string, path: string): Record<string, Summary> | undefined {
  return lookup(`${line === '' ? suite : `${suite}-${line}`}/${path}`) as Record<string, Summary> | undefined;
}

const cpuWall = (r: Record<string, Summary> | undefined, d = 2): string =>
  r === undefined || r['cpuRatio'] === undefined ? 'n/a' : `${range(r['cpuRatio'], d)}; wall ${fmt(r['ratio']!.median, `f${d}`)}`;

/** cpuWall, and the ratio to the idle run of the same round. */
const overIdle = (r: Record<string, Summary> | undefined): string =>
  r === undefined || r['cpuOverIdle'] === undefined ? cpuWall(r) : `${cpuWall(r)}; to idle ${range(r['cpuOverIdle'], 2)}`;

const FIGURES: Figure[] = [
  { label: 'whole run, idle (load + run, warm cache), `--require`', target: '≤ 1.10 (Node 20), ≤ 1.05 (Node 24)', cell: (l) => cpuWall(row('idle', l, 'wholeRun/idle, --require')) },
  { label: 'same, `--import`', target: 'as above', cell: (l) => cpuWall(row('idle', l, 'wholeRun/idle, --import')) },
  {
    label: 'steady state, idle (checks 4–6 of one process)', target: '≤ 1.01',
    cell: (l) => { const s = lookup(`${l === '' ? 'idle' : `idle-${l}`}/steady/ratio`) as Summary | undefined; return s === undefined ? 'n/a' : range(s, 3); },
  },
  { label: 'one ops on one hot function (the `function` tracer on `codePointAt`)', target: 'within 0.02 of idle', cell: (l) => overIdle(row('tracers', l, 'results/one ops on one hot function')) },
  { label: '`function` tracer filtered to the program\'s own files', target: 'within 0.02 of idle', cell: (l) => overIdle(row('tracers', l, 'results/function, filtered to own files')) },
  { label: 'idle, in the same rounds', target: '', cell: (l) => cpuWall(row('tracers', l, 'results/idle')) },
  { label: '`function` tracer on every function, counter clock', target: '≤ 1.5', cell: (l) => cpuWall(row('tracers', l, 'results/function, counter clock')) },
  { label: '`function` tracer on every function, default clock', target: '≤ 1.5', cell: (l) => cpuWall(row('tracers', l, 'results/function, default clock')) },
  { label: '`function_graph` on every function, default clock', target: '≤ 2.5', cell: (l) => cpuWall(row('tracers', l, 'results/function_graph, default clock')) },
  { label: 'function profiler on every function, default clock', target: '≤ 1.5', cell: (l) => cpuWall(row('tracers', l, 'results/profiler, default clock')) },
  { label: '`jsftrace record -p function`, default clock', target: '≤ 1.5', cell: (l) => cpuWall(row('tracers', l, 'results/record -p function')) },
  { label: '`jsftrace profile`, default clock', target: '≤ 1.5', cell: (l) => cpuWall(row('tracers', l, 'results/jsftrace profile')) },
  {
    label: 'cold transform (`typescript.js`, `_tsc.js`), MB/s', target: '≥ 20',
    cell: (l) => {
      const t = lookup(`${l === '' ? 'idle' : `idle-${l}`}/transformCold`) as { mbPerS: number; cpuMbPerS?: number }[] | undefined;
      return t === undefined ? 'n/a' : `${t.map((x) => fmt(x.cpuMbPerS ?? NaN, 'f1')).reverse().join(', ')} by CPU time; wall ${t.map((x) => fmt(x.mbPerS, 'f1')).reverse().join(', ')}`;
    },
  },
  {
    label: 'start-up added to a one-line program, ms CPU (wall)', target: '≤ +30 ms',
    cell: (l) => {
      const s = lookup(`${l === '' ? 'idle' : `idle-${l}`}/startup`) as Record<string, Summary> | undefined;
      return s === undefined ? 'n/a' : `+${range(s['addedCpuMs']!, 0)} (wall +${fmt(s['addedMs']!.median, 'f0')}; plain ${fmt(s['plainCpuMs']!.median, 'f0')} ms CPU)`;
    },
  },
  {
    label: 'load cost per function (50,000 small functions, warm cache), µs CPU', target: '≤ 5 µs',
    cell: (l) => { const s = lookup(`${l === '' ? 'idle' : `idle-${l}`}/perFunction/us`) as Summary | undefined; return s === undefined ? 'n/a' : range(s, 1); },
  },
  {
    label: 'peak RSS, idle, TypeScript check, MB', target: '≤ 240 MB (plain ~207)',
    cell: (l) => {
      const w = lookup(`${l === '' ? 'idle' : `idle-${l}`}/wholeRun`) as Record<string, { rssMb: Summary }> | undefined;
      return w === undefined ? 'n/a' : `${range(w['idle, --require']!.rssMb, 0)} (plain ${fmt(w['uninstrumented']!.rssMb.median, 'f0')})`;
    },
  },
];

/** The lines measured: the system Node ('') and each pinned line that has an idle or tracers result. */
function figureLines(): string[] {
  const lines = new Set<string>(['']);
  for (const k of suites.keys()) {
    const m = /^(?:idle|tracers)-(node\d+)$/.exec(k);
    if (m !== null) lines.add(m[1]!);
  }
  return [...lines];
}

function figuresTable(): string {
  const lines = figureLines();
  const head = (l: string): string => {
    const e = suites.get(l === '' ? 'idle' : `idle-${l}`) ?? suites.get(l === '' ? 'tracers' : `tracers-${l}`);
    return `Node ${e?.node.replace(/^v/, '') ?? l}: CPU ratio, median (min–max); wall median`;
  };
  return table(['figure', 'target', ...lines.map(head)], FIGURES.map((fg) => [fg.label, fg.target, ...lines.map((l) => fg.cell(l))]));
}

// ---- the peers ---------------------------------------------------------------------------

interface PeerRow {
  how: string; na?: string; ms?: Summary; rps?: Summary; ratio?: Summary; slowdown?: Summary;
  p99Ms?: Summary; p99Ratio?: Summary; calls?: number;
}
interface PeerWorkload { title: string; metric: string; hot: string; contenders: Record<string, PeerRow> }

function peerWorkloads(): [string, PeerWorkload][] {
  const w = lookup('peers/workloads') as Record<string, PeerWorkload> | undefined;
  return w === undefined ? [] : Object.entries(w);
}

const SHORT: Record<string, string> = { typescript: 'TypeScript check', http: 'fastify, time per request', prettier: 'prettier, markdown' };

function peersWorkloadTable(id: string): string {
  const w = peerWorkloads().find(([k]) => k === id)?.[1];
  if (w === undefined) return `_No results for ${id}: run \`npm run bench -- peers\`._`;
  const http = id === 'http';
  const head = ['contender', 'what', http ? 'req/s, median (min–max)' : 'ms, median (min–max)', 'cost ×, median (min–max)'];
  if (http) head.push('p99 ms, median (min–max)');
  head.push('calls seen');
  const rows = Object.entries(w.contenders).map(([name, r]) => {
    if (r.na !== undefined) return [name, r.how, `n/a (${r.na.replace(/\|/g, '\\|')})`, '', ...(http ? [''] : []), ''];
    const v = http ? r.rps! : r.ms!;
    const cells = [name, r.how, grp(v, 0), name === 'uninstrumented' ? '1' : range(r.slowdown!, 2)];
    // autocannon gives latency in whole ms, too coarse for a ratio at 1 ms.
    if (http) cells.push(range(r.p99Ms!, 0));
    cells.push(r.calls !== undefined ? fmt(r.calls, 'g0') : '');
    return cells;
  });
  return table(head, rows);
}

function peersSummaryTable(): string {
  const ws = peerWorkloads();
  if (ws.length === 0) return '_No results: run `npm run bench -- peers`._';
  const names = Object.keys(ws[0]![1].contenders);
  const rows = names.map((n) => [n, ...ws.map(([, w]) => {
    const r = w.contenders[n];
    if (r === undefined) return '';
    if (r.na !== undefined) return 'n/a';
    return n === 'uninstrumented' ? '1' : `${fmt(r.slowdown!.median, 'f2')} (${fmt(r.slowdown!.min, 'f2')}–${fmt(r.slowdown!.max, 'f2')})`;
  })]);
  return table(['cost ×, median (min–max)', ...ws.map(([id, w]) => SHORT[id] ?? w.title)], rows);
}

/** The brief's peer target: 5x less idle overhead, 3x less enabled overhead than a TracingChannel or shimmer wrapper. */
function peersTargets(): string {
  const ws = peerWorkloads();
  if (ws.length === 0) return '';
  const over = (w: PeerWorkload, n: string): number | undefined => {
    const r = w.contenders[n];
    return r === undefined || r.na !== undefined ? undefined : r.slowdown!.median - 1;
  };
  const pct = (x: number): string => `${x < 0 ? '−' : '+'}${fmt(Math.abs(x) * 100, 'f0')} %`;
  const factor = (ours: number | undefined, theirs: number | undefined, target: number): string => {
    if (ours === undefined || theirs === undefined) return 'n/a';
    if (theirs <= 0.01) return `peer within noise (${pct(theirs)}): not measurable`;
    if (ours <= 0.01) return `ours within noise (${pct(ours)} against ${pct(theirs)}): met`;
    const f = theirs / ours;
    return `${fmt(f, f < 1 ? 'f2' : 'f1')}× (${pct(ours)} against ${pct(theirs)}): ${f >= target ? 'met' : 'missed'}`;
  };
  const rows: string[][] = [];
  for (const [id, w] of ws) {
    const idle = over(w, 'jsftrace, idle');
    const fn = over(w, 'jsftrace, `function` tracer');
    rows.push([SHORT[id] ?? id, 'idle vs TracingChannel, no subscriber (≥ 5×)', factor(idle, over(w, 'TracingChannel, no subscriber'), 5)]);
    rows.push([SHORT[id] ?? id, 'idle vs shimmer wrappers (≥ 5×)', factor(idle, over(w, 'shimmer wrappers'), 5)]);
    rows.push([SHORT[id] ?? id, '`function` tracer vs TracingChannel, 1 subscriber (≥ 3×)', factor(fn, over(w, 'TracingChannel, 1 subscriber'), 3)]);
    rows.push([SHORT[id] ?? id, '`function` tracer vs shimmer wrappers (≥ 3×)', factor(fn, over(w, 'shimmer wrappers'), 3)]);
  }
  return table(['workload', 'overhead compared', 'peer overhead / jsftrace overhead'], rows);
}

// ---- the chart -----------------------------------------------------------------------------

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/`/g, '');
}

function colour(name: string): string {
  if (name === 'uninstrumented') return '#9e9e9e';
  if (name.startsWith('jsftrace')) return '#1f6fb4';
  if (name.includes('cpu-prof')) return '#3c9a5f';
  return '#d9822b';
}

function chart(): string {
  const ws = peerWorkloads();
  if (ws.length === 0) return '';
  const rowH = 20;
  const labelW = 270;
  const plotW = 520;
  const width = labelW + plotW + 150;
  let maxV = 2;
  for (const [, w] of ws) for (const r of Object.values(w.contenders)) if (r.slowdown !== undefined) maxV = Math.max(maxV, r.slowdown.max);
  const ticks = [1, 1.5, 2, 3, 5, 10, 20, 50, 100].filter((t) => t <= maxV * 1.05);
  const top = Math.max(...ticks, maxV);
  const x = (v: number): number => labelW + (Math.log(Math.max(v, 0.8) / 0.8) / Math.log(top / 0.8)) * plotW;
  const out: string[] = [];
  let y = 40;
  for (const [id, w] of ws) {
    out.push(`<text x="10" y="${y}" font-weight="bold">${esc(`${w.title} (${id === 'http' ? 'time per request' : 'wall time'}), cost × the uninstrumented run`)}</text>`);
    y += 10;
    const y0 = y;
    for (const [name, r] of Object.entries(w.contenders)) {
      y += rowH;
      out.push(`<text x="${labelW - 8}" y="${y - 5}" text-anchor="end">${esc(name)}</text>`);
      if (r.slowdown === undefined) {
        out.push(`<text x="${labelW + 4}" y="${y - 5}" fill="#777">n/a</text>`);
        continue;
      }
      const s = r.slowdown;
      const x0 = x(0.8);
      out.push(`<rect x="${x0}" y="${y - rowH + 4}" width="${Math.max(1, x(s.median) - x0).toFixed(1)}" height="${rowH - 8}" fill="${colour(name)}"/>`);
      out.push(`<line x1="${x(s.min).toFixed(1)}" x2="${x(s.max).toFixed(1)}" y1="${y - rowH / 2}" y2="${y - rowH / 2}" stroke="#222" stroke-width="1"/>`);
      out.push(`<text x="${(Math.max(x(s.max), x(s.median)) + 6).toFixed(1)}" y="${y - 5}">${fmt(s.median, 'f2')}×</text>`);
    }
    for (const t of ticks) {
      out.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${y0 + 2}" y2="${y + 2}" stroke="#bbb" stroke-dasharray="${t === 1 ? '' : '2,3'}"/>`);
      out.push(`<text x="${x(t).toFixed(1)}" y="${y + 14}" text-anchor="middle" fill="#555" font-size="10">${t}×</text>`);
    }
    y += 40;
  }
  const height = y;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="18" font-size="14" font-weight="bold">jsftrace and its peers: cost against the uninstrumented run (log scale; bar = median, line = min–max)</text>
${out.join('\n')}
</svg>
`;
  mkdirSync(join(repoRoot, 'docs', 'img'), { recursive: true });
  writeFileSync(chartFile, svg);
  return '![Cost of each contender against the uninstrumented run, per workload](img/peers.svg)';
}

/** When the named suites ran, per Node line, and the load average (1, 5 and 15 minutes) before and after each. */
function runsOf(names: string[]): string {
  const loads: number[] = [];
  const byLine = new Map<string, Set<string>>();
  for (const [key, e] of suites) {
    const base = key.replace(/-node\d+$/, '');
    if (!names.includes(base)) continue;
    const load = (e.results as { load?: { before?: number[]; after?: number[] } }).load;
    loads.push(...(load?.before ?? []), ...(load?.after ?? []));
    const line = `Node ${e.node.replace(/^v/, '')}`;
    if (!byLine.has(line)) byLine.set(line, new Set());
    byLine.get(line)!.add(e.date.slice(0, 10));
  }
  if (loads.length === 0) {
    missing.push(`runs:${names.join(',')}`);
    return 'n/a';
  }
  const when = [...byLine].map(([line, dates]) => `${line} on ${[...dates].sort().join(' and ')}`).join(', ');
  return `${when}; load average ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)} on the ${[...suites.values()][0]!.cpus} cores around the runs`;
}

// ---- the template ---------------------------------------------------------------------------

function expand(text: string): string {
  return text.replace(/\{\{([^}]+)\}\}/g, (_all, inner: string) => {
    const spec = inner.trim();
    if (spec === 'table:core') return coreTable();
    if (spec === 'table:figures') return figuresTable();
    if (spec === 'table:idle') return runTable('idle/wholeRun', 'idle', 3, 'ratio, median (min–max)');
    if (spec === 'table:tracers') return runTable('tracers/results', 'tracers', 2, 'ratio');
    if (spec === 'table:peers:summary') return peersSummaryTable();
    if (spec === 'table:peers:targets') return peersTargets();
    if (spec.startsWith('table:peers:')) return peersWorkloadTable(spec.slice('table:peers:'.length));
    if (spec === 'chart:peers') return chart();
    if (spec.startsWith('date:')) return suites.get(spec.slice(5))?.date.slice(0, 10) ?? 'n/a';
    if (spec.startsWith('runs:')) return runsOf(spec.slice(5).split(','));
    const [path, f = 'f2'] = spec.split('|') as [string, string?];
    const v = lookup(path);
    if (typeof v === 'number') return fmt(v, f);
    if (typeof v === 'string') return v;
    missing.push(path);
    return 'n/a';
  });
}

function main(): void {
  const template = readFileSync(templateFile, 'utf8');
  writeFileSync(docFile, expand(template));
  if (existsSync(readmeFile)) {
    const readme = readFileSync(readmeFile, 'utf8');
    const a = readme.indexOf(START);
    const b = readme.indexOf(END);
    if (a >= 0 && b > a) {
      const block = `${START}\n${peersSummaryTable()}\n\nCost × the uninstrumented run of the same round (time per request for fastify), `
        + `${String(lookup('peers/rounds') ?? 'n/a')} rounds on 2 shared cores, ${suites.get('peers')?.node ?? ''}; `
        + 'each contender, the hot function and the method are in [docs/benchmarks.md](docs/benchmarks.md#side-by-side-with-the-peers-npm-run-bench----peers).\n'
        + END;
      writeFileSync(readmeFile, readme.slice(0, a) + block + readme.slice(b + END.length));
    }
  }
  if (missing.length > 0) process.stderr.write(`render: no value for ${[...new Set(missing)].join(', ')}\n`);
  process.stdout.write(`rendered ${docFile}${suites.has('peers') ? ` and ${chartFile}` : ''}\n`);
}

main();
