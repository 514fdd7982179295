/**
 * `npm run bench -- depth`: how deep a cold recursion goes instrumented, as
 * a share of how deep it goes plain (the frame a site adds: docs/design.md,
 * "Load-time sites").
 *
 * Each shape is a module of the program's own (so instrumented by default)
 * whose function recurses n deep; a probe is a fresh process that calls it
 * once with n and says whether it overflowed, so the code is as cold as in
 * a program that recurses once (V8's interpreter frames: their size is the
 * function's registers). The deepest n is found by halving, under
 * `--require` and `--import jsftrace/register`, idle, and under an empty
 * preload of each kind. Not a timing: the figures are exact for one
 * Node build, whatever the load.
 *
 * Owns: the shapes (the ways a return is written, which decide what the
 * transform inserts) and the figures.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeResults } from '../harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const distRoot = join(here, '..', '..');
const registerJs = join(distRoot, 'src', 'public', 'register.js');
const registerCjs = join(distRoot, 'src', 'public', 'register.cjs');

/** name: [what it shows, the module (exports the entry, taking n)]. */
const SHAPES: Record<string, [string, string]> = {
  conditional: ['a short return value with a call, written twice',
    'function sum(n) { return n === 0 ? 0 : n + sum(n - 1) }\nmodule.exports = (n) => sum(n)'],
  early: ['an early return of a literal (an exit with a value that calls nothing)',
    'function g(n) { if (n === 0) return 0; return g(n - 1) + 1 }\nmodule.exports = (n) => g(n)'],
  arrow: ['an arrow with an expression body (no this)',
    'const h = (n) => n === 0 ? 0 : 1 + h(n - 1)\nmodule.exports = (n) => h(n)'],
  method: ['a class method calling itself through this',
    'class K { m(n) { return n === 0 ? 0 : 1 + this.m(n - 1) } }\nconst k = new K()\nmodule.exports = (n) => k.m(n)'],
  logical: ['a call-free logical return value (through PI)',
    'function f(n, o) { if (n === 0) return 0; const r = f(n - 1, o); return o.a || o.b }\nmodule.exports = (n) => f(n, { a: 0, b: 1 })'],
  list: ['a linked list walked, semicolon-free',
    'function len(node) {\n  if (!node) return 0\n  const rest = len(node.next)\n  return rest + 1\n}\nmodule.exports = (n) => { let l = null; for (let i = 0; i < n; i++) l = { next: l }; return len(l) }'],
  three: ['three parameters (handed to the entry when an ops asks)',
    'function acc(n, a, b) { return n === 0 ? a + b : acc(n - 1, b, a + 1) }\nmodule.exports = (n) => acc(n, 0, 0)'],
  bare: ['a bare return, and falling off the end',
    'function visit(n, seen) {\n  if (n === 0) return\n  seen.count++\n  visit(n - 1, seen)\n}\nmodule.exports = (n) => visit(n, { count: 0 })'],
  multiline: ['a return value on lines of its own (into a local: one more register)',
    'function walk(n, out) {\n  if (n === 0) return out\n  return (\n    walk(n - 1, out)\n  )\n}\nmodule.exports = (n) => walk(n, [])'],
  wrapped: ['a call broken over lines, as prettier writes a long one (into a local)',
    'function build(n, acc) {\n  if (n === 0) return acc\n  return build(\n    n - 1,\n    acc + 1,\n  )\n}\nmodule.exports = (n) => build(n, 0)'],
  object: ['an object literal over lines, returned after the recursion',
    'function node(n) {\n  if (n === 0) return null\n  const next = node(n - 1)\n  return {\n    depth: n,\n    next,\n  }\n}\nmodule.exports = (n) => node(n)'],
  descent: ['recursive descent: calls whose arguments are the function\'s own locals (one temporary at most)',
    'function parseList(p) {\n  if (p.left === 0) return null\n  p.left--\n  return parseElement(p)\n}\nfunction parseElement(p) {\n  return parseList(p)\n}\nmodule.exports = (n) => parseList({ left: n })'],
  async: ['an async function awaiting itself (its frames until the first real await)',
    'async function down(n) { if (n === 0) return 0; return (await down(n - 1)) + 1 }\nmodule.exports = down'],
};

/** JSFTRACE_DEPTH_SHAPES=a,b runs those shapes alone. */
const only = (process.env['JSFTRACE_DEPTH_SHAPES'] ?? '').split(',').filter((x) => x !== '');

const LOW = 500;
const HIGH = 60_000;
/** The search stops within this many frames. */
const STEP = 10;

function deepest(dir: string, shape: string, preload: string[]): number {
  let lo = LOW;
  let hi = HIGH;
  while (hi - lo > STEP) {
    const mid = (lo + hi) >> 1;
    const r = spawnSync(process.execPath, [...preload, join(dir, `probe-${shape}.cjs`), String(mid)],
      { encoding: 'utf8', env: { ...process.env, JSFTRACE_CONTROL: '0' } });
    const out = r.stdout.trim();
    if (out === 'ok') lo = mid;
    else if (out === 'overflow') hi = mid;
    else throw new Error(`${shape} (${preload.join(' ') || 'plain'}) at ${mid}: ${out} ${r.stderr}`);
  }
  return lo;
}

interface Row {
  shape: string; what: string; plainRequire: number; require: number; requireRatio: number; plainImport: number; import: number; importRatio: number;
}

const dir = mkdtempSync(join(tmpdir(), 'jsftrace-depth-'));
try {
  writeFileSync(join(dir, 'empty.cjs'), '');
  writeFileSync(join(dir, 'empty.mjs'), '');
  for (const [name, [, code]] of Object.entries(SHAPES)) {
    writeFileSync(join(dir, `${name}.cjs`), `${code}\n`);
    // An async shape's overflow rejects its promise, a sync one's throws: both settle this chain.
    writeFileSync(join(dir, `probe-${name}.cjs`), `const f = require('./${name}.cjs')\n`
      + 'const say = (r) => console.log(r instanceof RangeError ? "overflow" : r instanceof Error ? "error " + r.message : "ok")\n'
      + 'Promise.resolve(Number(process.argv[2])).then(f).then(say, say)\n');
  }
  const rows: Row[] = [];
  // With --import, Node runs a CommonJS main through its ES module loader,
  // which starts the program deeper: each preload has its own plain run.
  process.stdout.write('shape         --require: plain   ours            --import: plain   ours\n');
  for (const [name, [what]] of Object.entries(SHAPES).filter(([n]) => only.length === 0 || only.includes(n))) {
    const plainRequire = deepest(dir, name, ['--require', join(dir, 'empty.cjs')]);
    const req = deepest(dir, name, ['--require', registerCjs]);
    const plainImport = deepest(dir, name, ['--import', join(dir, 'empty.mjs')]);
    const imp = deepest(dir, name, ['--import', registerJs]);
    const row = {
      shape: name, what, plainRequire, require: req, requireRatio: req / plainRequire, plainImport, import: imp, importRatio: imp / plainImport,
    };
    rows.push(row);
    const pct = (x: number): string => `${(x * 100).toFixed(1).padStart(5)}%`;
    process.stdout.write(`${name.padEnd(13)} ${String(plainRequire).padStart(14)} ${String(req).padStart(6)} ${pct(row.requireRatio)}  `
      + `${String(plainImport).padStart(15)} ${String(imp).padStart(6)} ${pct(row.importRatio)}\n`);
  }
  const file = writeResults('depth', { step: STEP, rows });
  process.stdout.write(`\nwrote ${file}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
