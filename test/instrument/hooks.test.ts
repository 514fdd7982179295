// The module hooks end to end: real programs run under
// `node --import <dist>/src/public/register.js` (and --require register.cjs)
// with the seen-transform (test/fixtures/instrument/seen-transform.ts), which
// records each transformed module, so each test checks exactly which modules
// were transformed, how often and in which thread, and that the program's
// output is what it is without jsftrace.
//
// Every scenario runs on each hook mechanism this Node line has (see
// hookModes in support.ts): on Node 20 the off-thread hooks, where
// module.registerHooks exists the in-thread hooks and the off-thread ones.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { CACHE_SCHEMA } from '../../src/instrument/cache.js';
import {
  hookModes, registerCjs, registerJs, REPORT_CJS, REPORT_ESM, runNode, tempDir, transformWarnings, writeTree, type RunResult,
} from './support.js';

const IMPORT = ['--import', registerJs];

function count(list: string[], item: string): number {
  return list.filter((x) => x === item).length;
}

function ok(r: RunResult): void {
  assert.equal(r.code, 0, `exit ${r.code} ${r.signal ?? ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.ok(r.report !== null, `no report\n${r.stdout}\n${r.stderr}`);
}

const ESM_GRAPH = {
  'package.json': JSON.stringify({ name: 'app', type: 'module' }),
  'main.mjs': `
    import { dep } from './dep.mjs';
    import cjs from './cjs.cjs';
    import shared from './shared.cjs';
    import { createRequire } from 'node:module';
    import pkg from 'pkg';
    import { scoped } from '@sc/esm';
    const require = createRequire(import.meta.url);
    const req = require('./req.cjs');
    const again = require('./shared.cjs');
    const data = require('./data.json');
    console.log(dep(), cjs.cjs(), req.req(), shared === again, pkg.pkg(), scoped(), data.n);
    ${REPORT_ESM}`,
  'dep.mjs': 'export function dep() { return "dep"; }',
  // Run by Node's CommonJS loader, as without jsftrace: on the releases
  // where merely registering in-thread hooks hands an imported CommonJS
  // module to the ES module loader's wrapper, its require has no cache.
  'cjs.cjs': 'exports.cjs = function cjs() { return ["cjs", typeof require.cache, typeof require.extensions, Object.keys(require).join("+"), module.loaded].join(":"); };',
  'req.cjs': 'const t = require("./typeless/t.js"); exports.req = () => "req" + t.t;',
  'typeless/package.json': JSON.stringify({}),
  'typeless/t.js': 'exports.t = 1;',
  'shared.cjs': 'module.exports = { shared: true };',
  'data.json': '{ "n": 42 }',
  'node_modules/pkg/package.json': JSON.stringify({ name: 'pkg', main: 'index.js' }),
  'node_modules/pkg/index.js': 'exports.pkg = function pkg() { return "pkg"; };',
  'node_modules/@sc/esm/package.json': JSON.stringify({ name: '@sc/esm', type: 'module', exports: './index.mjs' }),
  'node_modules/@sc/esm/index.mjs': 'export const scoped = () => "scoped";',
};

const ESM_EXPECTED = [
  'main.mjs|module', 'dep.mjs|module', 'cjs.cjs|commonjs', 'shared.cjs|commonjs', 'req.cjs|commonjs',
  'typeless/t.js|commonjs', 'pkg:index.js|commonjs', '@sc/esm:index.mjs|module',
];

for (const mode of hookModes) {
  const on = hookModes.length > 1 ? ` [${mode.label}]` : '';

  test(`ESM program: every module, imported or required, ESM or CommonJS, is transformed exactly once${on}`, { timeout: 60_000 }, async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, ESM_GRAPH);
      const plain = await runNode(['main.mjs'], { cwd: t.dir, hooks: mode.hooks });
      const r = await runNode([...IMPORT, 'main.mjs'], { cwd: t.dir, hooks: mode.hooks });
      ok(r);
      assert.equal(r.output, plain.output, 'same output as without jsftrace');
      for (const m of ESM_EXPECTED) assert.equal(count(r.report!.seen, m), 1, `${m} in ${JSON.stringify(r.report!.seen)}`);
      assert.equal(r.report!.seen.length, ESM_EXPECTED.length, JSON.stringify(r.report!.seen));
      const s = r.report!.stats;
      assert.deepEqual([s.transformed, s.failed, s.skipped, s.cached], [ESM_EXPECTED.length, 0, 0, 0]);
      // Forced onto module.register where Node deprecates it (26), Node says so once.
      assert.equal(r.stderr.replace(/^.*\[DEP0205\].*\n.*--trace-deprecation.*\n/, ''), '');
    } finally {
      t.done();
    }
  });

  for (const entry of ['import', 'require'] as const) {
    test(`CommonJS program with --${entry}: require chains, require of ESM, dynamic import${on}`, { timeout: 60_000 }, async () => {
      const t = tempDir();
      try {
        writeTree(t.dir, {
          'package.json': JSON.stringify({ name: 'app' }),
          'main.cjs': `
            const a = require('./a.js');
            const esm = require('./esm.mjs');
            import('./late.mjs').then((late) => console.log(a.a(), esm.e(), late.late()));
            ${REPORT_CJS}`,
          'a.js': 'const b = require("./b.cjs"); exports.a = () => "a" + b.b();',
          'b.cjs': 'exports.b = function b() { return "b"; };',
          'esm.mjs': 'import { child } from "./esm-child.mjs"; export function e() { return "e" + child(); }',
          'esm-child.mjs': 'export const child = () => "c";',
          'late.mjs': 'export const late = () => "late";',
        });
        const plain = await runNode(['main.cjs'], { cwd: t.dir, hooks: mode.hooks });
        const args = entry === 'import' ? [...IMPORT, 'main.cjs'] : ['--require', registerCjs, 'main.cjs'];
        const r = await runNode(args, { cwd: t.dir, hooks: mode.hooks });
        ok(r);
        assert.equal(r.output, plain.output);
        const seen = r.report!.seen;
        for (const m of ['main.cjs|commonjs', 'a.js|commonjs', 'b.cjs|commonjs', 'late.mjs|module']) assert.equal(count(seen, m), 1, `${m}: ${seen}`);
        // require(esm) hands the required file to Module.prototype._compile
        // with format 'module', so it is transformed there; its own imports
        // are loaded by Node without any hook on Node 20 (see
        // docs/instrumentation.md), and through the in-thread hooks where
        // module.registerHooks exists.
        assert.equal(count(seen, 'esm.mjs|module'), 1, seen.join());
        assert.ok(count(seen, 'esm-child.mjs|module') <= 1, seen.join());
        assert.equal(r.report!.stats.failed, 0);
      } finally {
        t.done();
      }
    });
  }

  // A loader registered after ours runs first; one that answers without
  // passing the request on (shortCircuit, as ts-node's resolver does) used
  // to hide the program from our hooks, which then never saw the entry
  // point either. Its output is not JavaScript before it (the `: type`
  // annotations), so only the outer instance can transform it. The second
  // loader registers while the program runs.
  const loaderKinds = 'registerHooks' in module ? ['register', 'registerHooks'] : ['register'];
  for (const kind of loaderKinds) {
    for (const entry of ['import', 'require'] as const) {
      test(`a loader registered after jsftrace (${kind}) that answers without passing on, before the entry point and while it runs, by --${entry}: each module of its is transformed once${on}`, { timeout: 60_000 }, async () => {
        const t = tempDir();
        const hooks = (ext: string): string => `
          resolve(specifier, context, nextResolve) {
            if (!specifier.endsWith('${ext}')) return nextResolve(specifier, context);
            return { url: new URL(specifier, context.parentURL ?? pathToFileURL(process.cwd() + '/')).href, shortCircuit: true };
          },
          load(url, context, nextLoad) {
            if (!url.endsWith('${ext}')) return nextLoad(url, context);
            const source = readFileSync(fileURLToPath(url), 'utf8').replace(/: (?:number|string)\\b/g, '');
            return { format: 'module', source, shortCircuit: true };
          },`;
        const registration = (ext: string, file: string): string => kind === 'registerHooks'
          ? `registerHooks({ ${hooks(ext)} });`
          : `register(${JSON.stringify(file)}, import.meta.url);`;
        const header = "import { readFileSync } from 'node:fs'; import { fileURLToPath, pathToFileURL } from 'node:url';";
        try {
          writeTree(t.dir, {
            'package.json': JSON.stringify({ name: 'app', type: 'module' }),
            'app-hooks.mjs': `${header} export const { resolve, load } = { ${hooks('.app')} };`,
            'late-hooks.mjs': `${header} export const { resolve, load } = { ${hooks('.late')} };`,
            'loader.mjs': `${header} import { ${kind} } from 'node:module'; ${registration('.app', './app-hooks.mjs')}`,
            'main.app': `
              import { lib } from './lib.app';
              import { ${kind} } from 'node:module';
              ${header}
              function main(n: number) { return lib(n) + 1; }
              ${registration('.late', './late-hooks.mjs')}
              const { late } = await import('./late.late');
              console.log(main(40), late('x'));
              ${REPORT_ESM}`,
            'lib.app': 'export function lib(n: number) { return n + 1; }',
            'late.late': 'export const late = (s: string) => s + "!";',
          });
          const plain = await runNode(['--import', './loader.mjs', 'main.app'], { cwd: t.dir, hooks: mode.hooks });
          assert.equal(plain.code, 0, plain.stderr);
          const own = entry === 'import' ? IMPORT : ['--require', registerCjs];
          const r = await runNode([...own, '--import', './loader.mjs', 'main.app'], { cwd: t.dir, hooks: mode.hooks });
          ok(r);
          assert.equal(r.output, plain.output);
          assert.equal(r.output.trim(), '42 x!');
          const mine = r.report!.seen.filter((m) => /\.(app|late)\|/.test(m)).sort();
          assert.deepEqual(mine, ['late.late|module', 'lib.app|module', 'main.app|module']);
          assert.equal(r.report!.stats.failed, 0);
          assert.deepEqual(transformWarnings(r.stderr), []);
        } finally {
          t.done();
        }
      });
    }
  }

  // A loader of the program's that registers hooks inside its own load
  // hook: our set is replaced in the middle of that request, which keeps
  // the chain it started with, so the set it started with must still
  // transform the module being loaded.
  if (mode.hooks !== 'async' && 'registerHooks' in module) {
    test(`hooks registered inside a load hook of the program's: the module being loaded is transformed${on}`, { timeout: 60_000 }, async () => {
      const t = tempDir();
      try {
        writeTree(t.dir, {
          'package.json': JSON.stringify({ name: 'app', type: 'module' }),
          'main.mjs': `
            import m from 'node:module';
            let done = false;
            m.registerHooks({ load(url, context, nextLoad) {
              if (!done && url.endsWith('x.mjs')) { done = true; m.registerHooks({ resolve: (s, c, n) => n(s, c) }); }
              return nextLoad(url, context);
            } });
            const x = await import('./x.mjs');
            const y = await import('./y.mjs');
            console.log(x.xfn(), y.yfn());
            ${REPORT_ESM}`,
          'x.mjs': 'export function xfn() { return 1; }',
          'y.mjs': 'export function yfn() { return 2; }',
        });
        for (const own of [IMPORT, ['--require', registerCjs]]) {
          const r = await runNode([...own, 'main.mjs'], { cwd: t.dir, hooks: mode.hooks });
          ok(r);
          assert.equal(r.output.trim(), '1 2');
          assert.deepEqual([...r.report!.seen].sort(), ['main.mjs|module', 'x.mjs|module', 'y.mjs|module'], own.join(' '));
        }
      } finally {
        t.done();
      }
    });
  }

  test(`worker threads: inherited flags, an explicit empty execArgv, eval workers${on}`, { timeout: 60_000 }, async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, {
        'package.json': JSON.stringify({ name: 'app', type: 'module' }),
        'main.mjs': `
          import { Worker } from 'node:worker_threads';
          function run(file, opts) {
            return new Promise((resolve, reject) => {
              const w = new Worker(file, opts);
              w.once('message', resolve);
              w.once('error', reject);
            });
          }
          const url = new URL('./worker.mjs', import.meta.url);
          const inherited = await run(url, {});
          const empty = await run(url, { execArgv: [] });
          const other = await run(url, { execArgv: ['--no-warnings'] });
          const evaluated = await run("require('worker_threads').parentPort.postMessage(String(typeof globalThis[Object.getOwnPropertyNames(globalThis).find((k) => k.startsWith('$jsftrace_'))]?.runtime))", { eval: true });
          console.log(JSON.stringify({ inherited, empty, other, evaluated }));
          ${REPORT_ESM}`,
        'worker.mjs': `
          import { parentPort } from 'node:worker_threads';
          import { wdep } from './wdep.cjs';
          wdep();
          setImmediate(() => parentPort.postMessage(globalThis.__jsftraceSeen ?? []));`,
        'wdep.cjs': 'exports.wdep = function wdep() {};',
      });
      const r = await runNode([...IMPORT, 'main.mjs'], { cwd: t.dir, hooks: mode.hooks });
      ok(r);
      const out = JSON.parse(r.output.trim().split('\n').at(-1)!) as Record<string, unknown>;
      for (const k of ['inherited', 'empty', 'other']) {
        assert.deepEqual([...(out[k] as string[])].sort(), ['wdep.cjs|commonjs', 'worker.mjs|module'], k);
      }
      // Node does not run --import preloads in `eval: true` workers: they
      // run without jsftrace (a documented limitation).
      assert.equal(out['evaluated'], 'undefined');
      assert.deepEqual(r.report!.seen, ['main.mjs|module']);
      assert.equal(r.report!.stats.transformed, 7, 'counters are process-wide');
    } finally {
      t.done();
    }
  });

  test(`a worker given an environment of its own is traced with its starter's settings, and sees that environment as given${on}`, { timeout: 90_000 }, async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, {
        'package.json': JSON.stringify({ name: 'app', type: 'module' }),
        'main.mjs': `
          import { Worker } from 'node:worker_threads';
          function run(opts) {
            return new Promise((resolve, reject) => {
              const w = new Worker(new URL('./worker.mjs', import.meta.url), opts);
              w.once('message', resolve);
              w.once('error', reject);
            });
          }
          const out = {};
          out.empty = await run({ env: {} });
          out.options = await run({ env: { A: '1', NODE_OPTIONS: '--no-deprecation', B: '2' } });
          out.own = await run({ env: { JSFTRACE_EXCLUDE: '' } });
          out.both = await run({ env: {}, execArgv: [] });
          // Options Node reads by property, inherited ones included.
          out.inherited = await run(Object.assign(Object.create({ workerData: { n: 42 } }), { env: {} }));
          // A worker constructed while another is (a getter of its workerData) takes none of the other's options.
          let nested;
          out.outer = await run({ execArgv: ['--no-deprecation'], workerData: { get n() { nested = run({}); return 1; } } });
          out.nested = await nested;
          console.log(JSON.stringify(out));
          ${REPORT_ESM}`,
        'worker.mjs': `
          import { getEnvironmentData, parentPort, Worker, workerData } from 'node:worker_threads';
          import { wdep } from './wdep.cjs';
          import { skip } from './skip.cjs';
          wdep(); skip();
          const env = JSON.stringify(process.env);
          const argv = JSON.stringify(process.execArgv);
          // A worker of this one's, with an environment of its own again.
          const inner = process.env.A === '1' ? await new Promise((resolve) => {
            new Worker('require("node:worker_threads").parentPort.postMessage(JSON.stringify(process.env))', { eval: true, env: {} }).once('message', resolve);
          }) : null;
          // What jsftrace handed this worker to give back stays with it.
          const given = getEnvironmentData('jsftrace.given') ?? null;
          setImmediate(() => parentPort.postMessage({ seen: (globalThis.__jsftraceSeen ?? []).sort(), env, argv, inner, data: workerData ?? null, given }));`,
        'wdep.cjs': 'exports.wdep = function wdep() {};',
        'skip.cjs': 'exports.skip = function skip() {};',
      });
      const env = { JSFTRACE_EXCLUDE: 'skip.cjs' };
      const plain = await runNode(['main.mjs'], { cwd: t.dir, hooks: mode.hooks, env });
      assert.equal(plain.code, 0, plain.stderr);
      const plainOut = JSON.parse(plain.output.trim().split('\n').at(-1)!) as Record<string, { env: string; argv: string; inner: string | null; data: unknown }>;
      for (const [name, entry] of [['--import', registerJs], ['--require', registerCjs]] as const) {
        // As `jsftrace record` passes it: by NODE_OPTIONS, which a worker given an environment does not see.
        const r = await runNode(['main.mjs'], { cwd: t.dir, hooks: mode.hooks, env: { ...env, NODE_OPTIONS: `${name} ${entry}` } });
        ok(r);
        const out = JSON.parse(r.output.trim().split('\n').at(-1)!) as Record<string, { seen: string[]; env: string; argv: string; inner: string | null; data: unknown; given: unknown }>;
        for (const k of ['empty', 'options', 'own', 'both', 'inherited', 'outer', 'nested']) {
          const w = out[k]!;
          assert.deepEqual(w.data, plainOut[k]!.data, `${name} ${k}: workerData`);
          assert.equal(w.given, null, `${name} ${k}: what was handed on is taken`);
          if (k === 'outer' || k === 'nested') {
            assert.equal(w.argv, plainOut[k]!.argv, `${name} ${k}`);
            continue;
          }
          // The settings the main thread started with (the transform module, the exclusion) apply where the worker's environment names none.
          assert.deepEqual(w.seen, k === 'own' ? ['skip.cjs|commonjs', 'wdep.cjs|commonjs', 'worker.mjs|module'] : ['wdep.cjs|commonjs', 'worker.mjs|module'], `${name} ${k}`);
          assert.equal(w.env, plainOut[k]!.env, `${name} ${k}: the environment as the program gave it`);
          assert.equal(w.argv, plainOut[k]!.argv, `${name} ${k}`);
          assert.equal(w.inner, plainOut[k]!.inner, `${name} ${k}`);
        }
        assert.deepEqual(r.report!.seen, ['main.mjs|module']);
      }
    } finally {
      t.done();
    }
  });

  test(`a module whose transform fails loads untouched, with one warning, and the output is unchanged${on}`, { timeout: 60_000 }, async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, {
        'package.json': JSON.stringify({ name: 'app', type: 'module' }),
        'main.mjs': `
          import { bad } from './bad.mjs';
          import { createRequire } from 'node:module';
          const worse = createRequire(import.meta.url)('./bad.cjs');
          import { buggy } from './buggy.mjs';
          console.log(bad(), worse.worse(), buggy());
          ${REPORT_ESM}`,
        'bad.mjs': '/* FAIL_TRANSFORM */ export function bad() { return 1; }',
        'bad.cjs': '/* FAIL_TRANSFORM */ exports.worse = function () { return 2; };',
        'buggy.mjs': '/* BAD_OUTPUT */ export function buggy() { return 3; }',
      });
      const plain = await runNode(['main.mjs'], { cwd: t.dir, hooks: mode.hooks });
      const r = await runNode([...IMPORT, 'main.mjs'], { cwd: t.dir, hooks: mode.hooks });
      ok(r);
      assert.equal(r.output, plain.output);
      assert.deepEqual(r.report!.seen, ['main.mjs|module']);
      const s = r.report!.stats;
      assert.equal(s.failed, 3);
      assert.deepEqual(s.failures.map((f) => f.filename.slice(t.dir.length + 1)).sort(), ['bad.cjs', 'bad.mjs', 'buggy.mjs']);
      const w = transformWarnings(r.stderr);
      assert.equal(w.length, 3, r.stderr);
      for (const f of ['bad.mjs', 'bad.cjs', 'buggy.mjs']) assert.equal(w.filter((l) => l.includes(`/${f} was not instrumented`)).length, 1);
    } finally {
      t.done();
    }
  });

  test(`include and exclude rules from the environment and jsftrace.config.json${on}`, { timeout: 60_000 }, async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, {
        'package.json': JSON.stringify({ name: 'app', type: 'module' }),
        'main.mjs': `import './src/a.mjs'; import './src/gen/g.mjs'; import './lib/b.mjs'; import 'dep'; ${REPORT_ESM}`,
        'src/a.mjs': 'export {};',
        'src/gen/g.mjs': 'export {};',
        'lib/b.mjs': 'export {};',
        'node_modules/dep/package.json': JSON.stringify({ name: 'dep', type: 'module', exports: './i.mjs' }),
        'node_modules/dep/i.mjs': 'export {};',
      });
      let r = await runNode([...IMPORT, 'main.mjs'], { cwd: t.dir, hooks: mode.hooks, env: { JSFTRACE_INCLUDE: 'src/*', JSFTRACE_EXCLUDE: 'src/gen/*' } });
      ok(r);
      assert.deepEqual(r.report!.seen, ['src/a.mjs|module']);
      assert.equal(r.report!.stats.skipped, 4);
      writeTree(t.dir, { 'jsftrace.config.json': JSON.stringify({ instrument: { exclude: [':mod:', 'lib/*'] } }) });
      r = await runNode([...IMPORT, 'main.mjs'], { cwd: t.dir, hooks: mode.hooks });
      ok(r);
      assert.deepEqual([...r.report!.seen].sort(), ['main.mjs|module', 'src/a.mjs|module', 'src/gen/g.mjs|module']);
      r = await runNode([...IMPORT, 'main.mjs'], { cwd: t.dir, hooks: mode.hooks, env: { JSFTRACE_EXCLUDE: '' } });
      assert.equal(r.report!.seen.length, 5, 'a set variable replaces the file list');
    } finally {
      t.done();
    }
  });

  test(`a malformed configuration stops the start with EINVAL, before the program runs${on}`, { timeout: 60_000 }, async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, { 'main.cjs': 'console.log("ran");', 'jsftrace.config.json': '{ "instrument": { "include": "src/[" } }' });
      for (const args of [[...IMPORT, 'main.cjs'], ['--require', registerCjs, 'main.cjs']]) {
        const r = await runNode(args, { cwd: t.dir, hooks: mode.hooks });
        assert.notEqual(r.code, 0);
        assert.doesNotMatch(r.stdout, /ran/);
        assert.match(r.stderr, /EINVAL|unclosed \[/);
      }
    } finally {
      t.done();
    }
  });

  test(`the disk cache serves the second run; jsftrace cache stats sees the entries${on}`, { timeout: 60_000 }, async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, ESM_GRAPH);
      const env = { JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(t.dir, '.cache') };
      const first = await runNode([...IMPORT, 'main.mjs'], { cwd: t.dir, hooks: mode.hooks, env });
      const second = await runNode([...IMPORT, 'main.mjs'], { cwd: t.dir, hooks: mode.hooks, env });
      ok(first);
      ok(second);
      const n = ESM_EXPECTED.length;
      assert.deepEqual([first.report!.stats.transformed, first.report!.stats.cached], [n, 0]);
      assert.deepEqual([second.report!.stats.transformed, second.report!.stats.cached], [0, n]);
      assert.deepEqual(second.report!.seen.sort(), first.report!.seen.sort());
      assert.equal(second.output, first.output);
      const stats = await runNode(['--input-type=module', '-e',
        `import { cacheCommand } from ${JSON.stringify(new URL('../../src/cli/cache.js', import.meta.url).href)}; process.exitCode = cacheCommand(['stats', '--json']);`],
      { cwd: t.dir, hooks: mode.hooks, env });
      assert.equal(JSON.parse(stats.stdout).entries, n);
      assert.ok(readdirSync(join(t.dir, '.cache')).includes(`v${CACHE_SCHEMA}`));
      // Node's compile cache, where the line has one, lives beside ours (0700) and was filled.
      const v8 = join(t.dir, '.cache', 'v8');
      if (typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function') {
        assert.equal(statSync(v8).mode & 0o777, 0o700);
        assert.ok(readdirSync(v8, { recursive: true }).length > 0, 'the compile cache is empty');
      } else {
        assert.ok(!existsSync(v8));
      }
    } finally {
      t.done();
    }
  });

  test(`child processes are followed only with JSFTRACE_CHILDREN=1; fork inherits execArgv${on}`, { timeout: 60_000 }, async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, {
        'package.json': JSON.stringify({ name: 'app' }),
        'main.cjs': `
          const cp = require('node:child_process');
          const spawned = cp.spawnSync(process.execPath, ['child.cjs'], { encoding: 'utf8' });
          const forked = cp.fork('child.cjs', { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
          let out = '';
          forked.stdout.on('data', (d) => { out += d; });
          forked.on('close', () => console.log('CHILDREN ' + JSON.stringify({ spawned: spawned.stdout.trim(), forked: out.trim() })));`,
        'child.cjs': 'function c() {}\nsetImmediate(() => console.log(JSON.stringify(globalThis.__jsftraceSeen ?? [])));',
      });
      const children = (r: RunResult) => JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('CHILDREN '))!.slice(9)) as Record<string, string>;
      let r = await runNode([...IMPORT, 'main.cjs'], { cwd: t.dir, hooks: mode.hooks });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(children(r), { spawned: '[]', forked: '["child.cjs|commonjs"]' });
      r = await runNode([...IMPORT, 'main.cjs'], { cwd: t.dir, hooks: mode.hooks, env: { JSFTRACE_CHILDREN: '1' } });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(children(r), { spawned: '["child.cjs|commonjs"]', forked: '["child.cjs|commonjs"]' });
      // From a worker given an environment of its own, jsftrace passed by
      // NODE_OPTIONS: its child starts with the settings the worker took
      // from the main thread (here, the transform that reports).
      writeTree(t.dir, {
        'env-worker.cjs': `
          const { Worker } = require('node:worker_threads');
          new Worker(__dirname + '/spawner.cjs', { env: { PATH: process.env.PATH ?? '' } }).on('message', (m) => console.log('CHILDREN ' + JSON.stringify(m)));`,
        'spawner.cjs': `
          const cp = require('node:child_process');
          const spawned = cp.spawnSync(process.execPath, ['child.cjs'], { encoding: 'utf8' });
          require('node:worker_threads').parentPort.postMessage({ spawned: spawned.stdout.trim() });`,
      });
      r = await runNode(['env-worker.cjs'], { cwd: t.dir, hooks: mode.hooks, env: { JSFTRACE_CHILDREN: '1', NODE_OPTIONS: `--require ${registerCjs}` } });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(children(r), { spawned: '["child.cjs|commonjs"]' });
    } finally {
      t.done();
    }
  });

  test(`code made at run time (-e, eval, new Function, vm) is not instrumented${on}`, { timeout: 60_000 }, async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, { 'package.json': JSON.stringify({ name: 'app' }) });
      const r = await runNode([...IMPORT, '-e', `
        eval('function viaEval() {}');
        new Function('return 1')();
        require('node:vm').runInThisContext('function viaVm() {}');
        ${REPORT_CJS}`], { cwd: t.dir, hooks: mode.hooks });
      ok(r);
      assert.deepEqual(r.report!.seen, []);
      assert.equal(r.report!.stats.transformed, 0);
    } finally {
      t.done();
    }
  });
  test(`a module the program compiles itself, from a string, under the name of a file that exists, runs the string${on}`, { timeout: 60_000 }, async () => {
    // As require-from-string and config loaders do: the source given to
    // _compile is the program's, whatever the file holds.
    const t = tempDir();
    try {
      writeTree(t.dir, {
        'package.json': JSON.stringify({ name: 'app' }),
        'real.cjs': 'module.exports = "from the file";',
        'main.cjs': `
          const Module = require('node:module');
          const file = require.resolve('./real.cjs');
          const compileFrom = (code) => {
            const m = new Module(file, module);
            m.filename = file;
            m.paths = Module._nodeModulePaths(__dirname);
            m._compile(code, file);
            return m.exports;
          };
          const viaLater = (code) => {
            const m = new Module(file, module);
            const compile = m._compile;
            compile.call(m, code, file);
            return m.exports;
          };
          console.log(compileFrom('module.exports = "from a string"'), viaLater('module.exports = "read first"'), require('./real.cjs'));
          ${REPORT_CJS}`,
      });
      for (const flags of [IMPORT, ['--require', registerCjs]]) {
        const r = await runNode([...flags, 'main.cjs'], { cwd: t.dir, hooks: mode.hooks });
        ok(r);
        assert.equal(r.output.trim(), 'from a string read first from the file');
        assert.deepEqual([...r.report!.seen].sort(), ['main.cjs|commonjs', 'real.cjs|commonjs', 'real.cjs|commonjs', 'real.cjs|commonjs']);
      }
    } finally {
      t.done();
    }
  });
}

test('with the real transform, stack traces point at the original lines (inline source maps)', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'package.json': JSON.stringify({ name: 'app', type: 'module' }),
      'main.mjs': [
        'function outer(a) {',
        '  return inner(a) + 1;',
        '}',
        'function inner(b) {',
        '  if (b) throw new Error("boom");',
        '  return 0;',
        '}',
        'try { outer(1); } catch (e) { console.log(e.stack.split("\\n").slice(1, 3).map((l) => l.trim()).join("|")); }',
      ].join('\n'),
    });
    const plain = await runNode(['main.mjs'], { cwd: t.dir });
    const r = await runNode([...IMPORT, 'main.mjs'], { cwd: t.dir, env: { JSFTRACE_TRANSFORM_MODULE: undefined } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(plain.stdout, /at inner \(.*main\.mjs:5:\d+\)\|at outer \(.*main\.mjs:2:\d+\)/);
    assert.match(r.stdout, /at inner \(.*main\.mjs:5:\d+\)\|at outer \(.*main\.mjs:2:\d+\)/, `${r.stdout}\n${r.stderr}`);
  } finally {
    t.done();
  }
});

test('CommonJS given as source by another loader, and what it requires, are transformed (either order)', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'package.json': JSON.stringify({ name: 'app' }),
      // A loader that hands Node the source of a CommonJS module, as tsx does
      // for TypeScript: Node then compiles it without Module.prototype._compile.
      'cjs-source-loader.mjs': `
        import { register } from 'node:module';
        register('data:text/javascript,' + encodeURIComponent(\`
          import { readFileSync } from 'node:fs';
          export async function load(url, context, nextLoad) {
            const r = await nextLoad(url, context);
            if (r.format === 'commonjs' && r.source == null && url.endsWith('/a.cjs')) return { ...r, source: readFileSync(new URL(url), 'utf8') };
            return r;
          }\`));`,
      'main.mjs': `import a from './a.cjs'; console.log(a.a, a.b); ${REPORT_ESM}`,
      'a.cjs': 'const b = require("./b.cjs"); module.exports = { a: 1, b };',
      'b.cjs': 'module.exports = 2;',
    });
    for (const flags of [['--import', './cjs-source-loader.mjs', ...IMPORT], [...IMPORT, '--import', './cjs-source-loader.mjs']]) {
      const r = await runNode([...flags, 'main.mjs'], { cwd: t.dir });
      ok(r);
      assert.equal(r.output.trim(), '1 2');
      const mine = r.report!.seen.filter((s) => s !== 'cjs-source-loader.mjs|module');
      assert.deepEqual([...mine].sort(), ['a.cjs|commonjs', 'b.cjs|commonjs', 'main.mjs|module']);
    }
  } finally {
    t.done();
  }
});

test('very large and minified modules go through the pipeline and the cache', { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    // About 6 MB and 200,000 functions on one line, as a minified bundle is.
    const fns = Array.from({ length: 200_000 }, (_, i) => `function(a){return a+${i}}`).join(',');
    writeTree(t.dir, {
      'package.json': JSON.stringify({ name: 'app', type: 'module' }),
      'main.mjs': `import { total } from './big.min.mjs'; console.log(total); ${REPORT_ESM}`,
      'big.min.mjs': `export const fns=[${fns}];export const total=fns[199999](1);`,
    });
    const env = { JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(t.dir, '.cache') };
    const first = await runNode([...IMPORT, 'main.mjs'], { cwd: t.dir, env });
    const second = await runNode([...IMPORT, 'main.mjs'], { cwd: t.dir, env });
    for (const r of [first, second]) {
      ok(r);
      assert.equal(r.output.trim(), '200000');
      assert.equal(count(r.report!.seen, 'big.min.mjs|module'), 1);
    }
    assert.equal(second.report!.stats.cached, 2);
  } finally {
    t.done();
  }
});
