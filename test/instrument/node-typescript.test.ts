// Node's own TypeScript (type stripping: `node main.ts` on Node 22.18 and
// later): every module is instrumented as the JavaScript Node strips it
// to, whether imported or required, and the program sees what it sees
// without jsftrace: the text of its functions, the names its stack traces
// give its modules, its output, the warning of `module.stripTypeScriptTypes`
// at its own first call (which jsftrace's calls must not use up), and
// Node's own refusal of TypeScript under node_modules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hookModes, registerCjs, registerJs, REPORT_ESM, runNode, tempDir, transformWarnings, writeTree } from './support.js';

const stripping = (process.features as { typescript?: unknown }).typescript === 'strip';
const skip = stripping ? false : 'this Node does not strip TypeScript types';

/**
 * One line per module: its function's text and the frame a stack gives its
 * top level, on the module's first line, after the code jsftrace puts there
 * (so the columns shown are mapped back), and what an error thrown by
 * `stripTypeScriptTypes` shows.
 */
const WHERE = (label: string): string => `String(new Error('${label}').stack).split('\\n')[1]!.trim()`;
const FILES = {
  'package.json': JSON.stringify({ name: 'tsapp', type: 'module' }),
  'main.ts': `import { createRequire, stripTypeScriptTypes } from 'node:module'; const mainWhere: string = ${WHERE('main')};
    import { twice, where as esmWhere } from './esm.mts';
    import imported from './imported.cts';
    interface Box { n: number }
    function total(b: Box): number { return twice(b.n) + imported.thrice(b.n) + required.quad(b.n) + required.deep(b.n); }
    const require = createRequire(import.meta.url);
    const required = require('./required.cts') as { quad(n: number): number; deep(n: number): number; where: string; deepWhere: string };
    console.log(total({ n: 2 }), total.toString());
    console.log(mainWhere, esmWhere, imported.where, required.where, required.deepWhere);
    // The program's own first call warns, as without jsftrace (on stderr);
    // an error it throws shows the program's frames only.
    try { stripTypeScriptTypes(42 as unknown as string); } catch (e) { console.log(String((e as Error).stack).split('\\n').slice(0, 4).join(' | ')); }
    console.log(stripTypeScriptTypes('let v: number = 1'));
    ${REPORT_ESM}`,
  'esm.mts': `export function twice(n: number): number { return n * 2; } export const where: string = ${WHERE('esm')};`,
  'imported.cts': `function thrice(n: number): number { return n * 3; } module.exports = { thrice, where: ${WHERE('imported')} as string };`,
  'required.cts': `exports.quad = function quad(n: number): number { return n * 4; }; exports.where = ${WHERE('required')} as string;
    const deep = require('./deep.mts') as { deep(n: number): number; where: string };
    exports.deep = deep.deep; exports.deepWhere = deep.where;`,
  'deep.mts': `export function deep(n: number): number { return n + 1; } export const where: string = ${WHERE('deep')};`,
};

const EXPECTED = ['main.ts|module', 'esm.mts|module', 'imported.cts|commonjs', 'required.cts|commonjs', 'deep.mts|module'];

for (const mode of hookModes) {
  for (const [entry, flag] of [['--import', registerJs], ['--require', registerCjs]] as const) {
    test(`Node's own TypeScript is instrumented, imported and required (${mode.label}, ${entry})`, { skip, timeout: 60_000 }, async () => {
      const t = tempDir();
      try {
        writeTree(t.dir, FILES);
        const plain = await runNode(['main.ts'], { cwd: t.dir, hooks: mode.hooks });
        assert.equal(plain.code, 0, plain.stderr);
        // Which modules reach the transform, as what (a transform that notes them).
        const seen = await runNode([entry, flag, 'main.ts'], { cwd: t.dir, hooks: mode.hooks });
        assert.equal(seen.code, 0, `${seen.stdout}\n${seen.stderr}`);
        assert.deepEqual([...seen.report!.seen].sort(), [...EXPECTED].sort(), JSON.stringify(seen.report));
        // The real transform: the program's view unchanged.
        const r = await runNode([entry, flag, 'main.ts'], { cwd: t.dir, hooks: mode.hooks, env: { JSFTRACE_TRANSFORM_MODULE: undefined } });
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        assert.equal(r.output, plain.output);
        // The warning once, at the program's call, with the same text.
        const pids = (s: string): string => s.replace(/\(node:\d+\)/g, '(node)');
        assert.equal(pids(r.stderr), pids(plain.stderr));
        assert.equal(r.stderr.match(/ExperimentalWarning: stripTypeScriptTypes/g)?.length, 1, r.stderr);
        // total, twice, thrice, quad, deep and the report's exit listener: each a site.
        assert.deepEqual({ ...r.report!.stats, cached: 0 }, { transformed: 5, cached: 0, skipped: 0, failed: 0, ignored: 0, sites: 6, failures: [] });
        assert.deepEqual(transformWarnings(r.stderr), []);
      } finally {
        t.done();
      }
    });
  }
}

test('TypeScript under node_modules is refused as without jsftrace', { skip, timeout: 30_000 }, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'package.json': JSON.stringify({ name: 'app', type: 'module' }),
      'node_modules/typed/package.json': JSON.stringify({ name: 'typed', type: 'module', exports: './index.ts' }),
      'node_modules/typed/index.ts': 'export const n: number = 1;',
      'main.mjs': "import('typed').then((m) => console.log(m.n), (e) => console.log(e.code, e.message.replace(/'.*'/, '<file>')));",
    });
    const plain = await runNode(['main.mjs'], { cwd: t.dir });
    assert.match(plain.output, /ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING/);
    for (const flag of [['--import', registerJs], ['--require', registerCjs]]) {
      const r = await runNode([...flag, 'main.mjs'], { cwd: t.dir });
      assert.equal(r.output, plain.output);
      assert.equal(r.code, plain.code);
    }
  } finally {
    t.done();
  }
});
