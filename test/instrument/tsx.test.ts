// Composition with tsx, in both orders, for a TypeScript ES module program
// and a TypeScript CommonJS program: jsftrace transforms the JavaScript that
// tsx produces, each program module exactly once, and never tries to parse
// TypeScript (no warning, nothing failed).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { hookModes, registerCjs, registerJs, REPORT_CJS, REPORT_ESM, runNode, tempDir, transformWarnings, tsxLoader, writeTree } from './support.js';


const ORDERS = {
  'tsx first': ['--import', tsxLoader, '--import', registerJs],
  'jsftrace first': ['--import', registerJs, '--import', tsxLoader],
};

const PROGRAMS = {
  esm: {
    files: {
      'package.json': JSON.stringify({ name: 'tsapp', type: 'module' }),
      'main.ts': `
        import { helper } from './helper.ts';
        import { plain } from './plain.js';
        interface P { x: number }
        function compute(p: P): number { return helper(p.x) * plain(); }
        console.log(compute({ x: 4 }));
        ${REPORT_ESM}`,
      'helper.ts': 'export function helper(n: number): number { return n + 1; }',
      'plain.js': 'export function plain() { return 2; }',
    },
    expected: ['main.ts|module', 'helper.ts|module', 'plain.js|module'],
  },
  cjs: {
    files: {
      'package.json': JSON.stringify({ name: 'tsapp', type: 'commonjs' }),
      'main.ts': `
        const { helper } = require('./helper.ts');
        const plain = require('./plain.js');
        function compute(p: { x: number }): number { return helper(p.x) * plain.plain(); }
        console.log(compute({ x: 4 }));
        ${REPORT_CJS}`,
      'helper.ts': 'export function helper(n: number): number { return n + 1; }',
      'plain.js': 'exports.plain = function plain() { return 2; };',
    },
    expected: ['main.ts|commonjs', 'helper.ts|commonjs', 'plain.js|commonjs'],
  },
};

// The default hooks only: tsx 4 itself uses module.registerHooks where Node
// has it, and in-thread hooks run before every off-thread one, so jsftrace
// forced onto the off-thread hooks (JSFTRACE_HOOKS=async) would see the
// TypeScript going into tsx, never its output (docs/instrumentation.md).
for (const mode of hookModes.slice(0, 1)) {
  for (const [kind, prog] of Object.entries(PROGRAMS)) {
    for (const [order, flags] of Object.entries(ORDERS)) {
      test(`tsx, ${kind} TypeScript, ${order}`, { timeout: 60_000 }, async () => {
        const t = tempDir();
        try {
          writeTree(t.dir, prog.files);
          const plain = await runNode(['--import', tsxLoader, 'main.ts'], { cwd: t.dir, hooks: mode.hooks });
          assert.equal(plain.code, 0, plain.stderr);
          const r = await runNode([...flags, 'main.ts'], { cwd: t.dir, hooks: mode.hooks });
          assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
          assert.equal(r.output, plain.output);
          const mine = r.report!.seen.filter((s) => !s.startsWith('tsx:') && !s.startsWith('esbuild:'));
          assert.deepEqual([...mine].sort(), [...prog.expected].sort(), JSON.stringify(r.report!.seen));
          // tsx's own modules that load after jsftrace's hooks are instrumented
          // like any dependency; the program's TypeScript never reaches the
          // transform untranspiled.
          assert.equal(r.report!.stats.failed, 0, JSON.stringify(r.report!.stats.failures));
          // Nothing else was transformed: not TypeScript, not the hook
          // modules tsx runs in Node's loader thread.
          assert.equal(r.report!.stats.transformed, r.report!.seen.length, JSON.stringify(r.report));
          assert.deepEqual(transformWarnings(r.stderr), []);
        } finally {
          t.done();
        }
      });
    }
  }
}

// tsx converts an ES module that is required to CommonJS. Loaded before
// jsftrace, it would make second copies of jsftrace's own modules if the
// start required them: the core's copy joins the thread again (a second
// per_thread directory), with its own state. The start requires its modules
// only where require() gives the very instances of the module graph.
const tsxCjs = fileURLToPath(import.meta.resolve('tsx/cjs'));
const control = new URL('../../src/public/control.js', import.meta.url).href;
for (const [order, flags] of Object.entries({
  '--import tsx --import jsftrace': ['--import', tsxLoader, '--import', registerJs],
  '--require tsx/cjs --require jsftrace': ['--require', tsxCjs, '--require', registerCjs],
})) {
  test(`${order}: jsftrace's modules load once (one thread joined), idle and with a tracer configured`, { timeout: 60_000 }, async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, {
        'main.ts': `function twice(n: number): number { return n * 2 }
import(${JSON.stringify(control)}).then(async ({ listFiles, readFile }) => {
  const threads = (await listFiles()).filter((f) => /^per_thread\\/\\d+\\/stats$/.test(f));
  console.log(twice(21), threads.join(' '), (await readFile('current_tracer')).trim());
});
`,
      });
      // tsx compiles main.ts once, in an esbuild worker of its own (a thread
      // jsftrace traces as any other), and keeps it: done first.
      await runNode([...flags, 'main.ts'], { cwd: t.dir, env: { JSFTRACE_TRANSFORM_MODULE: undefined, JSFTRACE_CONTROL: '0' } });
      for (const [tracer, env] of [['nop', {}], ['function', { JSFTRACE_CONTROL_INIT: JSON.stringify([['write', 'current_tracer', 'function']]) }]] as const) {
        const r = await runNode([...flags, 'main.ts'], { cwd: t.dir, env: { JSFTRACE_TRANSFORM_MODULE: undefined, JSFTRACE_CONTROL: '0', ...env } });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.output, `42 per_thread/0/stats ${tracer}\n`);
      }
    } finally {
      t.done();
    }
  });
}

// A --require preload after ours is resolved with no parent, as the entry
// point is: taken for it, it made the outer hooks join before tsx's, so
// that they were inside tsx's and the program was never instrumented. With
// the real transform: the program asks whether its own function has a site.
test('jsftrace by --require, then a --require preload of the program\'s, then tsx: the program is instrumented', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'package.json': JSON.stringify({ name: 'tsapp', type: 'module' }),
      'pre.cjs': "process.env.FROM_PRELOAD = 'yes';",
      'main.ts': `
        import { readFile } from ${JSON.stringify(new URL('../../src/public/control.js', import.meta.url).href)};
        interface P { x: number }
        function compute(p: P): number { return p.x * 2; }
        const listed = (await readFile('available_filter_functions')).split('\\n').filter((l) => /main\\.ts:compute$/.test(l));
        console.log(compute({ x: 4 }), process.env.FROM_PRELOAD, listed.length);`,
    });
    const env = { JSFTRACE_TRANSFORM_MODULE: undefined, JSFTRACE_CONTROL: '0' };
    for (const flags of [['--require', registerCjs, '--require', './pre.cjs'], ['--require', './pre.cjs', '--require', registerCjs]]) {
      const r = await runNode([...flags, '--import', tsxLoader, 'main.ts'], { cwd: t.dir, env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '8 yes 1\n', `${flags.join(' ')}: ${r.stderr}`);
      assert.deepEqual(transformWarnings(r.stderr), []);
    }
  } finally {
    t.done();
  }
});

// tsx serves each module as one minified line with an inline source map,
// and turns source maps on: every frame of the program's stack traces is
// mapped through that map. With the real transform, jsftrace's insertions
// moved every column of that line, and the frames pointed elsewhere in the
// source (all at the last mapping of the line); the map is now carried
// through them (src/instrument/source-map.ts).
test('a tsx program\'s stack traces (through tsx\'s source maps) are the plain run\'s, in both orders, ESM and CommonJS', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    const body = `
      interface P { x: number }
      class Calc {
        constructor(private readonly k: number) {}
        async run(p: P): Promise<string> { const v: number = await Promise.resolve(p.x); return this.trace(v * this.k); }
        trace(n: number): string { return n + ' ' + new Error('at').stack!.split('\\n').slice(1, 4).map((l) => l.trim()).join(' | '); }
      }
      const make = (k: number): Calc => new Calc(k);
      function fails(): never { throw new TypeError('thrown in TypeScript'); }
      make(3).run({ x: 2 }).then((s) => {
        console.log(s);
        try { fails(); } catch (e) { console.log((e as Error).stack!.split('\\n').slice(0, 3).join(' | ')); }
      });`;
    writeTree(t.dir, {
      'esm/package.json': JSON.stringify({ type: 'module' }),
      'esm/main.ts': body,
      'cjs/package.json': JSON.stringify({ type: 'commonjs' }),
      'cjs/main.ts': body,
    });
    const env = { JSFTRACE_TRANSFORM_MODULE: undefined, JSFTRACE_CONTROL: '0' };
    for (const kind of ['esm', 'cjs']) {
      const cwd = `${t.dir}/${kind}`;
      const plain = await runNode(['--import', tsxLoader, 'main.ts'], { cwd, env });
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(plain.stdout, /main\.ts:6:\d+\) \| .*main\.ts:5:\d+\)/, plain.stdout);
      for (const flags of [['--require', registerCjs, '--import', tsxLoader], ['--import', tsxLoader, '--import', registerJs]]) {
        const r = await runNode([...flags, 'main.ts'], { cwd, env });
        assert.equal(r.stderr, plain.stderr, flags.join(' '));
        assert.equal(r.stdout, plain.stdout, `${kind} ${flags.join(' ')}`);
      }
    }
  } finally {
    t.done();
  }
});

// tsx serves a TypeScript file as one line of JavaScript: anonymous
// functions are named by where they were written in the .ts file (the
// module's own map says so), not by their column in tsx's line; and
// esbuild's keepNames wrapper, `__name(fn, "later")`, names the function
// as its declaration would.
test('tsx: anonymous functions are named by their place in the TypeScript file, __name(fn, "x") by x', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'package.json': JSON.stringify({ name: 'tsapp', type: 'module' }),
      'main.ts': [
        `import { readFile } from ${JSON.stringify(new URL('../../src/public/control.js', import.meta.url).href)};`,
        'interface Job { id: number }',
        'const jobs: Job[] = [{ id: 1 }, { id: 2 }];',
        'const doubled = jobs.map(function (j: Job): number { return j.id * 2; });',
        'const later = async (n: number): Promise<number> => n + 1;',
        'console.log(doubled.join(), await later(1));',
        "const mine = (await readFile('available_filter_functions')).split('\\n').filter((l) => l.startsWith('main.ts:'));",
        "console.log(mine.filter((l) => l !== 'main.ts:__name').join(' '));",
      ].join('\n'),
    });
    const env = { JSFTRACE_TRANSFORM_MODULE: undefined, JSFTRACE_CONTROL: '0' };
    for (const flags of [['--require', registerCjs, '--import', tsxLoader], ['--import', tsxLoader, '--import', registerJs]]) {
      const r = await runNode([...flags, 'main.ts'], { cwd: t.dir, env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '2,4 2\nmain.ts:<anonymous>@4:26 main.ts:later main.ts:<anonymous>@7:81 main.ts:<anonymous>@8:26\n', flags.join(' '));
    }
  } finally {
    t.done();
  }
});
