// The transform cache between two users: root runs a program from a
// directory another user (nobody, uid 65534) owns, as a checkout in a shared
// temporary directory would be. Nobody waits until the program has loaded a
// first module, swaps the `.cache` directory of its own `node_modules` and
// plants an entry under the name the program's next module will be looked
// up by (cache keys come from public inputs). Root's program must run its
// own code: the cache is not under the program's directory, and when told
// to put it there, it refuses a path another user could change. Also: the
// JSFTRACE_CACHE warning is given once per process, whatever threads load
// modules. The two-user part needs root to switch users.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { nodeForOtherUsers } from '../support/process.js';
import { registerCjs, registerJs, runNode, tempDir, writeTree } from './support.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

const APP = `
const a = require('./lib-a.cjs');
console.log('a=' + a.a());
console.log('ready');
process.stdin.once('data', () => {
  const b = require('./lib-b.cjs');
  console.log('b=' + b.b());
  process.exit(0);
});
`;

/** Every 64-hex file name under `dir` (the cache entries), recursively. */
function entryNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...entryNames(p));
    else if (/^[0-9a-f]{64}$/.test(n)) out.push(n);
  }
  return out;
}

/** Runs the program as root; after it says ready, runs `attack` and lets it go on. */
function victim(cwd: string, env: Record<string, string | undefined>, attack: () => Promise<void>): Promise<{ stdout: string; stderr: string }> {
  const e: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('JSFTRACE_') && k !== 'NODE_OPTIONS' && !k.startsWith('NODE_TEST')) e[k] = v;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete e[k];
    else e[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', registerCjs, 'app.cjs'], { cwd, env: e, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let attacked = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!attacked && stdout.includes('ready\n')) {
        attacked = true;
        attack().then(() => child.stdin.write('go\n'), reject);
      }
    });
    child.on('close', () => { clearTimeout(timer); resolve({ stdout, stderr }); });
  });
}

/** Nobody's move: swap node_modules/.cache for its own tree with `names` planted, in both entry formats. */
function plant(node: string, project: string, names: string[]): Promise<void> {
  const script = `
    const fs = require('fs'), path = require('path');
    const nm = ${JSON.stringify(join(project, 'node_modules'))};
    if (fs.existsSync(path.join(nm, '.cache'))) fs.renameSync(path.join(nm, '.cache'), path.join(nm, '.cache-' + Date.now()));
    const body = "console.log('PWNED'); exports.a = () => 'planted'; exports.b = () => 'planted';\\n";
    for (const schema of [1, 2]) {
      const dir = path.join(nm, '.cache', 'jsftrace', 'v' + schema);
      fs.mkdirSync(dir, { recursive: true });
      for (const k of ${JSON.stringify(names)}) {
        const head = schema === 1
          ? 'jsftrace-cache 1 ' + k + ' ok 0 ' + body.length
          : 'jsftrace-cache 2 ' + k + ' ok 0 ' + Buffer.byteLength(body) + ' ' + '0'.repeat(64);
        fs.writeFileSync(path.join(dir, k), head + '\\n' + body);
      }
    }
    console.log('planted ' + ${JSON.stringify(names)}.length);
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(node, ['-e', script], { uid: NOBODY, gid: NOBODY, cwd: '/', env: { PATH: process.env['PATH'] ?? '', HOME: '/' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('close', (code) => (code === 0 && out.startsWith('planted') ? resolve() : reject(new Error(`the attacker failed: ${err}`))));
  });
}

test('another user who owns the program\'s directory cannot get an entry of theirs run', { skip: !isRoot && 'needs root to run the attacker as another user', timeout: 60_000 }, async () => {
  const t = tempDir('jsftrace-users-');
  try {
    chmodSync(t.dir, 0o755);
    const project = join(t.dir, 'project');
    writeTree(project, {
      'app.cjs': APP,
      'lib-a.cjs': 'exports.a = function a() { return "genuine-a"; };\n',
      'lib-b.cjs': 'exports.b = function b() { return "genuine-b"; };\n',
      'node_modules/.keep': '',
    });
    for (const p of [project, join(project, 'node_modules'), join(project, 'app.cjs'), join(project, 'lib-a.cjs'), join(project, 'lib-b.cjs')]) {
      chownSync(p, NOBODY, NOBODY);
    }
    // Root's own cache home, private, so the run leaves nothing in root's real ~/.cache.
    const xdg = join(t.dir, 'root-cache');
    mkdirSync(xdg, { mode: 0o700 });
    const env = { JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: undefined, JSFTRACE_CONTROL: '0', XDG_CACHE_HOME: xdg };
    // A first run fills whichever cache the program uses; its entries' names are the keys the next run looks up.
    const warm = await victim(project, env, async () => undefined);
    assert.equal(warm.stdout, 'a=genuine-a\nready\nb=genuine-b\n', warm.stderr);
    const names = [...new Set([...entryNames(join(project, 'node_modules')), ...entryNames(xdg)])];
    const node = nodeForOtherUsers(t.dir);
    assert.equal(names.length, 3, 'app, lib-a and lib-b were cached');

    // The default cache: nothing under the program's directory is read.
    const run = await victim(project, env, () => plant(node, project, names));
    assert.equal(run.stdout, 'a=genuine-a\nready\nb=genuine-b\n', `the planted entry ran: ${run.stdout}${run.stderr}`);

    // Told to keep the cache there, the program refuses a path the other
    // user could change, with one warning, and runs its own code.
    const there = join(project, 'node_modules', '.cache', 'jsftrace');
    const told = await victim(project, { ...env, JSFTRACE_CACHE_DIR: there }, () => plant(node, project, names));
    assert.equal(told.stdout, 'a=genuine-a\nready\nb=genuine-b\n', `the planted entry ran: ${told.stdout}${told.stderr}`);
    const warnings = told.stderr.split('\n').filter((l) => l.includes('[JSFTRACE_CACHE]'));
    assert.equal(warnings.length, 1, told.stderr);
    assert.match(warnings[0]!, new RegExp(`the transform cache is off for this process: ${project}.* belongs to uid ${NOBODY}`));
  } finally {
    t.done();
  }
});

test('the JSFTRACE_CACHE warning is given once per process: main thread, loader thread, workers', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    const bad = join(t.dir, 'bad-cache');
    mkdirSync(bad);
    chmodSync(bad, 0o777);
    writeTree(t.dir, {
      'main.mjs': `import { Worker } from 'node:worker_threads';
import './dep.mjs';
import { createRequire } from 'node:module';
createRequire(import.meta.url)('./dep.cjs');
await new Promise((r) => new Worker(new URL('./worker.mjs', import.meta.url)).once('exit', r));
console.log('done');
`,
      'dep.mjs': 'export function f() { return 1; }\n',
      'dep.cjs': 'exports.g = function g() { return 2; };\n',
      'worker.mjs': 'import "./dep2.mjs";\n',
      'dep2.mjs': 'export function h() { return 3; }\n',
    });
    const env = { JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: bad, JSFTRACE_TRANSFORM_MODULE: undefined, JSFTRACE_CONTROL: '0' };
    for (const args of [['--import', registerJs, 'main.mjs'], ['--require', registerCjs, 'main.mjs']]) {
      const r = await runNode(args, { cwd: t.dir, env });
      assert.equal(r.stdout, 'done\n', r.stderr);
      const warnings = r.stderr.split('\n').filter((l) => l.includes('[JSFTRACE_CACHE]'));
      assert.equal(warnings.length, 1, `${args[0]}: ${r.stderr}`);
      assert.match(warnings[0]!, /can be written by others/);
    }
  } finally {
    t.done();
  }
});
