// jsftrace's runtime as one CommonJS program (docs/design.md, "One file"):
// the program keeps its own copies of the packages jsftrace uses, one copy
// of each of jsftrace's modules per thread whatever the program does to
// the require cache, and the names of what it is given.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerCjs, registerJs, runNode, tempDir, writeTree } from './support.js';

const requireHere = module.createRequire(import.meta.url);
const runtimeFile = fileURLToPath(new URL('../../src/jsftrace.cjs', import.meta.url));
const packageDir = (name: string): string => realpathSync(dirname(requireHere.resolve(`${name}/package.json`)));

/** The program's node_modules holds the very package files jsftrace was built with (npm's hoisted layout). */
function hoisted(dir: string, names: readonly string[]): void {
  for (const name of names) {
    const link = join(dir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(packageDir(name), link, 'dir');
  }
}

test('the program\'s acorn and source map codec are its own: jsftrace never calls them, and they are instrumented', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    hoisted(t.dir, ['acorn', '@jridgewell/sourcemap-codec']);
    // A module with an inline map makes the transform read it; a fresh
    // cache directory per run makes every module a cache miss.
    const map = Buffer.from(JSON.stringify({ version: 3, sources: ['dep.ts'], names: [], mappings: 'AAAA;AACA' })).toString('base64');
    writeTree(t.dir, {
      'dep.js': `exports.twice = function twice(n) { return n * 2 }\n//# sourceMappingURL=data:application/json;base64,${map}\n`,
      'main.cjs': `const acorn = require('acorn')
const codec = require('@jridgewell/sourcemap-codec')
let parses = 0, decodes = 0
const parse = acorn.parse, decode = codec.decode
acorn.parse = function (...a) { parses++; return parse.apply(this, a) }
codec.decode = function (...a) { decodes++; return decode.apply(this, a) }
const { twice } = require('./dep.js')
const type = acorn.parse('1 + 1', { ecmaVersion: 'latest' }).type
console.log(twice(21), type, parses, decodes)
`,
    });
    // jsftrace's own transform, with its disk cache (runNode's default is a test transform, no cache).
    const real = { JSFTRACE_TRANSFORM_MODULE: undefined, JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(t.dir, 'cache') };
    const plain = await runNode(['main.cjs'], { cwd: t.dir });
    assert.equal(plain.stdout, '42 Program 1 0\n', plain.stderr);
    for (const cache of ['cold', 'warm']) {
      const r = await runNode(['--require', registerCjs, 'main.cjs'], { cwd: t.dir, env: real });
      assert.equal(r.stdout, plain.stdout, `${cache} cache: the program's parse is called once (by the program), its decode never\n${r.stderr}`);
      assert.equal(r.stderr, '', `${cache} cache: no warning`);
    }
    // The program's acorn is a module of the program's like any other: instrumented.
    writeTree(t.dir, {
      'list.cjs': `require('./main.cjs')
const { availableFilterFunctions, instance } = require(${JSON.stringify(runtimeFile)}).load('core/index.js')
const names = availableFilterFunctions(instance()).split('\\n')
console.log('acorn', names.some((n) => n.endsWith(' [acorn]')), 'codec', names.some((n) => n.endsWith(' [@jridgewell/sourcemap-codec]')))
`,
    });
    const listed = await runNode(['--require', registerCjs, 'list.cjs'], { cwd: t.dir, env: real });
    assert.match(listed.stdout, /^acorn true codec true$/m, listed.stderr);
  } finally {
    t.done();
  }
});

test('a program that clears the require cache keeps one copy of jsftrace\'s modules in the thread', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'main.cjs': `const file = ${JSON.stringify(runtimeFile)}
const first = require(file).load
const threads = () => first('core/index.js').listThreads().length
const before = threads()
for (const k of Object.keys(require.cache)) delete require.cache[k]
const again = require(file).load
// A module of the later file, loaded for the first time after the clear.
again('tracefile/snapshot.js')
import(${JSON.stringify(new URL('../../src/public/control.js', import.meta.url).href)}).then((control) => {
  console.log(again === first, before, threads(), typeof control.readFile)
})
`,
    });
    const r = await runNode(['--require', registerCjs, 'main.cjs'], { cwd: t.dir });
    assert.equal(r.stdout, 'true 1 1 function\n', r.stderr);
  } finally {
    t.done();
  }
});

test('what jsftrace gives the program keeps its name: process.emit and process.kill under a recording', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, { 'main.cjs': "console.log(process.emit.name, process.kill.name, process.emit.length, process.kill.length)\n" });
    const plain = await runNode(['main.cjs'], { cwd: t.dir });
    const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const r = await runNode([cli, 'record', '-p', 'function', '-o', 'r.jsft', '--', process.execPath, 'main.cjs'], { cwd: t.dir });
    assert.equal(r.stdout, plain.stdout, r.stderr);
    assert.match(r.stderr, /^jsftrace: recorded /, 'recorded');
  } finally {
    t.done();
  }
});

test('a require hook installed ahead of jsftrace (tsx, pirates) is not given jsftrace\'s runtime files to compile', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      // As tsx's and pirates' CommonJS hooks do: Node's handlers replaced.
      'hook.cjs': `const Module = require('node:module')
const seen = []
for (const ext of ['.js', '.cjs'].filter((e) => Module._extensions[e] !== undefined)) {
  const handler = Module._extensions[ext]
  Module._extensions[ext] = function (m, filename) { seen.push(require('node:path').basename(filename)); return handler.call(this, m, filename) }
}
process.on('exit', () => console.log(seen.filter((f) => /^jsftrace/.test(f)).join(',') || 'none', seen.includes('dep.js')))
`,
      'dep.js': 'exports.one = function one() { return 1 }\n',
      'main.cjs': "console.log(require('./dep.js').one())\n",
    });
    // A tracer switched on loads modules of the later file too.
    const tracing = { JSFTRACE_CONTROL_INIT: JSON.stringify([['write', 'current_tracer', 'function_graph']]) };
    const r = await runNode(['--require', './hook.cjs', '--require', registerCjs, 'main.cjs'], { cwd: t.dir, env: tracing });
    assert.equal(r.stdout, '1\nnone true\n', r.stderr);
  } finally {
    t.done();
  }
});

test('a start compiles the runtime files from Node\'s compile cache, on the same conditions as the program\'s modules', {
  timeout: 60_000,
  skip: typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function' ? false : 'this Node has no compile cache',
}, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, { 'one.cjs': 'console.log(typeof require(\'node:module\').getCompileCacheDir())\n' });
    // Node 22 says `cache for <file> was accepted`, 24 and later `V8 code cache for CommonJS <file> was accepted`.
    const accepted = (stderr: string) => stderr.split('\n').some((l) => l.includes(`cache for ${runtimeFile} was accepted`) || l.includes(`cache for CommonJS ${runtimeFile} was accepted`));
    const run = (preload: string[], env: Record<string, string | undefined>) => runNode([...preload, 'one.cjs'], {
      cwd: t.dir, env: { JSFTRACE_TRANSFORM_MODULE: undefined, JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(t.dir, 'cache'), NODE_DEBUG_NATIVE: 'COMPILE_CACHE', ...env },
    });
    for (const preload of [['--require', registerCjs], ['--import', registerJs]]) {
      const first = await run(preload, {});
      assert.equal(first.code, 0, first.stderr);
      const second = await run(preload, {});
      assert.equal(second.code, 0, second.stderr);
      assert.ok(accepted(second.stderr), `${preload[0]}: ${second.stderr.split('\n').filter((l) => l.includes('jsftrace.cjs')).join('\n')}`);
      assert.equal(second.stdout, 'string\n', 'the program sees the compile cache on, as jsftrace turned it on before');
      // Where jsftrace leaves Node's compile cache off, it is off from the first line.
      const off = await run(preload, { JSFTRACE_COMPILE_CACHE: '0' });
      assert.equal(off.code, 0, off.stderr);
      assert.equal(off.stdout, 'undefined\n');
      assert.ok(!off.stderr.includes('jsftrace.cjs'), off.stderr);
    }
  } finally {
    t.done();
  }
});
