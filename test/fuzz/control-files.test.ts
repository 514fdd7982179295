// A seeded fuzz of the control files, in the program (the surface the
// socket serves): 2,400 writes and appends of generated text to every file
// that takes one, and 300 reads of generated paths. Texts cover sizes (empty
// to 256 KiB, one word to thousands), encodings (control characters, NUL,
// lone surrogates, right-to-left and other scripts, non-ASCII digits),
// numbers (signs, leading zeros, 0x, exponents, fractions, each file's range
// boundaries and far beyond 2^64) and nesting (brackets, backslashes,
// stars, `:mod:` and commands inside each other, `!` runs, `no` prefixes).
// Every write either is accepted, or is refused with an errno-coded
// JsftraceError, changes no file, and adds the error_log entry that names
// the file. Nothing else is ever thrown. A file that takes numbers accepts
// exactly the texts the oracle below does: decimal digits within the
// file's range. The figures (cases, refusals, peak
// memory) are printed as a diagnostic line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineSites } from '../../src/public/index.js';
import { controlSurface } from '../../src/control/tree.js';
import { ERRNO, JsftraceError } from '../../src/shared/errors.js';
import { prng } from '../ring/support.js';

const fs = controlSurface();
defineSites('fuzz:sites', [
  { name: 'fz/app.js:alpha' }, { name: 'fz/app.js:beta' }, { name: 'fz/lib/x.js:gamma' },
  { name: 'fz/lib/x.js:traceoff' }, { name: 'index.js:delta', package: 'lodash' }, { name: 'index.js:eps', package: '@scope/pkg' },
]);

const SEED = 0x5eed1;
const WRITES = 2400;
const READS = 300;

/** Files whose text is checked for "changes nothing" (read before and after each refused write). */
const STATE = [
  'current_tracer', 'tracing_on', 'trace_options', 'trace_clock', 'set_ftrace_filter', 'set_ftrace_notrace',
  'set_graph_function', 'set_graph_notrace', 'set_ftrace_pid', 'set_ftrace_notrace_pid', 'max_graph_depth',
  'tracing_thresh', 'buffer_size_kb', 'function_profile_enabled', 'options/markers', 'options/overwrite',
  'options/funcgraph-args',
];

/** Files a case writes, and how their texts are made. */
const TARGETS: { file: string; kind: 'number' | 'switch' | 'pattern' | 'words' | 'text' | 'small-number' }[] = [
  { file: 'tracing_on', kind: 'switch' },
  { file: 'function_profile_enabled', kind: 'switch' },
  { file: 'options/markers', kind: 'switch' },
  { file: 'options/funcgraph-args', kind: 'switch' },
  { file: 'max_graph_depth', kind: 'number' },
  { file: 'tracing_thresh', kind: 'number' },
  { file: 'buffer_size_kb', kind: 'small-number' },
  { file: 'set_ftrace_pid', kind: 'number' },
  { file: 'set_ftrace_notrace_pid', kind: 'number' },
  { file: 'set_ftrace_filter', kind: 'pattern' },
  { file: 'set_ftrace_notrace', kind: 'pattern' },
  { file: 'set_graph_function', kind: 'pattern' },
  { file: 'set_graph_notrace', kind: 'pattern' },
  { file: 'current_tracer', kind: 'words' },
  { file: 'trace_options', kind: 'words' },
  { file: 'trace_clock', kind: 'words' },
  { file: 'trace_marker', kind: 'text' },
  { file: 'trace', kind: 'text' },
  { file: 'available_filter_functions', kind: 'text' },
  { file: 'per_thread/0/buffer_size_kb', kind: 'small-number' },
];

const rand = prng(SEED);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

const ODD = ['\u0000', '\t', '\r', '\u000b', '\u0085', '\u00a0', '\u2028', '\u202e', '\ud800', '\udfff', '\ufeff', '\ufffd', 'é', 'ß', '中', '🙂', '\u0663', '\uff11', '𝟙'];

function noise(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rand();
    s += r < 0.5 ? String.fromCharCode(0x20 + int(95)) : r < 0.8 ? pick(ODD) : String.fromCharCode(int(0x10000));
  }
  return s;
}

const BOUNDS = ['0', '1', '7', '15', '16', '64', '1023', '1024', '2147483', '2147484', '2147483647', '2147483648', '4294967295',
  '4294967296', '4294967297', '9007199254740991', '9007199254740993', '18446744073709551615', '18446744073709551616',
  '99999999999999999999999999999999', '1048576', '1048577'];

function number(): string {
  const r = rand();
  if (r < 0.35) return pick(BOUNDS);
  if (r < 0.5) return pick(['-1', '+1', '-0', '00012', '0x10', '1e3', '1.5', '.5', '1_000', ' 12 ', '12\n', '\u0663', '\uff11\uff12', 'NaN', 'Infinity', '']);
  if (r < 0.75) return String(int(10 ** (1 + int(25)))).padStart(1 + int(30), rand() < 0.2 ? '0' : '');
  return noise(1 + int(12));
}

function smallNumber(): string {
  // buffer_size_kb: only small sizes may be accepted (a fuzzer must not
  // allocate gigabytes); the refusals cover every boundary.
  const s = number();
  const n = /^\s*[0-9]+\s*$/.test(s) ? Number(s.trim()) : -1;
  return n > 4096 && n <= 1048576 ? String(1 + (n % 512)) : s;
}

const GLOB = ['*', '?', '[', ']', '[!', '\\', ':', '/', '!', 'a', 'fz', 'alpha', '.js', ':mod:', 'lodash', '-'];
const COMMANDS = ['traceon', 'traceoff', 'stacktrace', 'dump', 'mod', 'enable_event', 'snapshot'];

function pattern(): string {
  const r = rand();
  if (r < 0.2) return pick(['fz/*', 'fz/app.js:alpha', '*:beta', '*:mod:lodash', '!*gamma', '*:mod:!lodash', '1', '2', '*:mod:', 'fz/app.js:alpha:traceoff:3', '!fz/app.js:alpha:traceoff', 'fz/lib/x.js:traceof[f]']);
  if (r < 0.6) {
    let s = '';
    for (let i = 1 + int(12); i > 0; i--) s += pick(GLOB);
    if (rand() < 0.3) s += `:${pick(COMMANDS)}${rand() < 0.5 ? `:${number()}` : ''}`;
    return s;
  }
  if (r < 0.75) return `${'['.repeat(int(40))}${'*'.repeat(int(40))}${'\\'.repeat(int(40))}${':mod:'.repeat(int(8))}`;
  if (r < 0.85) return `*:${pick(COMMANDS)}:${pick(COMMANDS)}:${number()}`;
  return noise(1 + int(40));
}

const WORDS = ['nop', 'function', 'function_graph', 'blk', 'local', 'global', 'counter', 'mono', 'x86-tsc', 'print-parent',
  'noprint-parent', 'nonoprint-parent', 'markers', 'nomarkers', 'overwrite', 'nooverwrite', 'funcgraph-cpu', 'nofuncgraph-cpu',
  'funcgraph-args', 'latency-format', 'no', ''];

function text(kind: (typeof TARGETS)[number]['kind']): string {
  const size = rand();
  // Sizes: most short; some thousands of words; a few up to 256 KiB.
  const words = size < 0.8 ? 1 + int(4) : size < 0.97 ? 50 + int(2000) : 1;
  const one = (): string => {
    switch (kind) {
      case 'number':
        return number();
      case 'small-number':
        return smallNumber();
      case 'switch':
        return rand() < 0.7 ? number() : pick(['on', 'off', 'true', '1 1', '0 0']);
      case 'pattern':
        return pattern();
      case 'words':
        return rand() < 0.6 ? pick(WORDS) : noise(1 + int(20));
      case 'text':
        return noise(1 + int(60));
    }
  };
  if (size >= 0.97) return noise(1024 + int(256 * 1024));
  const sep = (): string => pick([' ', ' ', '\t', '\n', '  ', '\r\n', '\u00a0']);
  let s = '';
  for (let i = 0; i < words; i++) s += (i === 0 ? '' : sep()) + one();
  return rand() < 0.1 ? `${sep()}${s}${sep()}` : s;
}

const U64_MAX = (1n << 64n) - 1n;

/** Whether a file that takes a number should take `text`; undefined for the others. */
function oracle(file: string, text: string, append: boolean): boolean | undefined {
  const t = text.trim();
  const inRange = (w: string, lo: bigint, hi: bigint): boolean => /^[0-9]+$/.test(w) && BigInt(w) >= lo && BigInt(w) <= hi;
  switch (file) {
    case 'tracing_on':
    case 'function_profile_enabled':
      return inRange(t, 0n, U64_MAX);
    case 'options/markers':
    case 'options/funcgraph-args':
      return t === '0' || t === '1';
    case 'max_graph_depth':
      return inRange(t, 0n, 2147483647n);
    case 'tracing_thresh':
      return inRange(t, 0n, 2147483n);
    case 'buffer_size_kb':
      return inRange(t, 1n, 1048576n);
    case 'set_ftrace_pid':
    case 'set_ftrace_notrace_pid': {
      // The lists are empty before each case (reset), so >> and > take the same.
      void append;
      const words = text.match(/\S+/g) ?? [];
      return words.every((w) => inRange(w, 0n, 2147483647n)) && new Set(words.map((w) => BigInt(w))).size <= 64;
    }
    default:
      return undefined;
  }
}

async function state(): Promise<string[]> {
  return Promise.all(STATE.map((f) => fs.read(f)));
}

function entries(log: string): number {
  return log.split('\n').filter((l) => /^\[ *\d+\.\d{6}\] /.test(l)).length;
}

/** Puts the files the fuzz may have changed back where they started. */
async function reset(): Promise<void> {
  for (const [f, t] of [['current_tracer', 'nop'], ['tracing_on', '1'], ['function_profile_enabled', '0'], ['trace_clock', 'local'],
    ['set_ftrace_filter', ''], ['set_ftrace_notrace', ''], ['set_graph_function', ''], ['set_graph_notrace', ''], ['set_ftrace_pid', ''],
    ['set_ftrace_notrace_pid', ''], ['max_graph_depth', '0'], ['tracing_thresh', '0'], ['buffer_size_kb', '1408'], ['options/markers', '1'],
    ['options/overwrite', '1'], ['options/funcgraph-args', '0']] as const) {
    await fs.write(f, t);
  }
  const probes = (await fs.read('set_ftrace_filter')).split('\n').filter((l) => /:(?:traceon|traceoff|stacktrace|dump):/.test(l));
  // As the kernel selftests' reset_ftrace_filter: `!f:cmd` for an unlimited line, `!f:cmd:count=N` for a counted one.
  for (const p of probes) await fs.append('set_ftrace_filter', `!${p.replace(/:unlimited$/, '')}`);
}

test(`control files: ${WRITES} seeded writes and ${READS} reads are accepted, or refused with an errno code, changing nothing`, { timeout: 120_000 }, async () => {
  await reset();
  let accepted = 0;
  let refused = 0;
  const codes: Record<string, number> = {};
  let peakRss = 0;
  let peakHeap = 0;
  let longest = 0;
  for (let k = 0; k < WRITES; k++) {
    const target = pick(TARGETS);
    const t = text(target.kind);
    longest = Math.max(longest, t.length);
    const append = rand() < 0.3;
    const before = await state();
    const logBefore = await fs.read('error_log');
    const where = `case ${k} (seed ${SEED}): ${append ? '>>' : '>'} ${target.file} ${JSON.stringify(t.slice(0, 80))}${t.length > 80 ? `... (${t.length})` : ''}`;
    const expect = oracle(target.file, t, append);
    try {
      await (append ? fs.append(target.file, t) : fs.write(target.file, t));
      assert.notEqual(expect, false, `${where}: accepted a number outside its range or syntax`);
      accepted++;
      // Keep the ground the next cases stand on known.
      if (target.file !== 'trace_marker' && target.file !== 'trace') await reset();
    } catch (e) {
      assert.ok(e instanceof JsftraceError, `${where}: threw ${String(e)}`);
      assert.ok(Object.hasOwn(ERRNO, e.code), `${where}: code ${e.code}`);
      assert.notEqual(expect, true, `${where}: refused a valid number (${e.message})`);
      refused++;
      codes[e.code] = (codes[e.code] ?? 0) + 1;
      assert.deepEqual(await state(), before, `${where}: a refused write changed a file`);
      const log = await fs.read('error_log');
      assert.ok(entries(log) === Math.min(8, entries(logBefore) + 1) && log !== logBefore, `${where}: no error_log entry`);
      const last = log.split('\n').filter((l) => /^\[ *\d+\.\d{6}\] /.test(l)).pop()!;
      assert.ok(last.includes(`] ${target.file}: error: `), `${where}: error_log names ${last}`);
    }
    if (k % 50 === 0) {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }
  }
  let readsRefused = 0;
  for (let k = 0; k < READS; k++) {
    const r = rand();
    const path = r < 0.3 ? pick([...STATE, 'README', 'trace', 'trace_pipe', 'error_log', 'per_thread/0/stats', 'trace_stat/function0', 'enabled_functions'])
      : r < 0.6 ? `${pick(['per_thread/', 'trace_stat/', 'options/', '', '/', '//', '../', './'])}${pick(['0', '99999999999999999999', '-1', '..', 'stats', 'function0', 'markers', '__proto__', 'constructor'])}${pick(['', '/', '/stats', '/../trace', '/trace_pipe'])}`
        : noise(1 + int(200));
    try {
      assert.equal(typeof await fs.read(path), 'string');
    } catch (e) {
      assert.ok(e instanceof JsftraceError && Object.hasOwn(ERRNO, e.code), `read ${JSON.stringify(path)}: threw ${String(e)}`);
      readsRefused++;
    }
  }
  await reset();
  await fs.write('error_log', '');
  const figures = { seed: SEED, writes: WRITES, accepted, refused, codes, reads: READS, readsRefused, longestText: longest, peakRssMiB: +(peakRss / 2 ** 20).toFixed(1), peakHeapMiB: +(peakHeap / 2 ** 20).toFixed(1) };
  process.stdout.write(`# fuzz figures ${JSON.stringify(figures)}\n`);
  // The draw reaches both outcomes, on files of every kind.
  assert.ok(accepted > 300 && refused > 1000, JSON.stringify(figures));
});
