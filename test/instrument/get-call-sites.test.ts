// util.getCallSites (Node 22.9 and later) gives the frames V8 has, whose
// columns are the instrumented text's under jsftrace: the program must get
// the plain run's frames, columns, count and errors, with no frame of
// jsftrace's (where fewer than the largest count, 200, are asked for: see
// docs/transparency.md, difference 56). Each program runs plain and under jsftrace/register, by
// --import and --require, idle and traced.

import { test } from 'node:test';
import util from 'node:util';
import { tempDir, threeWays, writeTree } from './support.js';

// Node's own frames without their names: jsftrace names Node's anonymous
// _compile, as V8 prints it (docs/transparency.md, difference 9).
const SITES = `const show = (label, sites) => console.log(label, sites.length, sites.map((s) => [s.scriptName.startsWith('node:') ? '' : s.functionName, s.scriptName.split('/').pop(), s.lineNumber, s.columnNumber, s.column, 'scriptId' in s].join(':')).join(' | '))
const where = (...a) => getCallSites(...a)
const g = (x) => where()
function h() { return g(1) }
show('default', h())
function deep(n, ...a) { return n === 0 ? where(...a) : deep(n - 1, ...a) }
show('ten of more', deep(15))
show('three', deep(15, 3))
show('options', deep(2, { sourceMap: false }))
show('mapped, no map', deep(2, 4, { sourceMap: true }))
show('one hundred and ninety-nine', deep(250, 199).slice(195))
for (const bad of [[0], ['x'], [201], [1, 5], [{ sourceMap: 1 }], [null]]) {
  try { where(...bad) } catch (e) { console.log('refused', JSON.stringify(bad), e.code, e.message, e.stack.split('\\n').slice(0, 2).join(' / ')) }
}
process.on('exit', function onExit() { show('exit', where(4)) })
`;

const hasIt = typeof (util as { getCallSites?: unknown }).getCallSites === 'function';

test("util.getCallSites: the plain run's frames, columns, counts and errors, no frame of jsftrace's", {
  timeout: 120_000,
  skip: hasIt ? false : 'no util.getCallSites on this Node',
}, async () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'main.cjs': `const { getCallSites } = require('node:util')\n${SITES}`,
      'main.mjs': `import { getCallSites } from 'node:util'\n${SITES}`,
    });
    await threeWays(t.dir, 'main.cjs');
    await threeWays(t.dir, 'main.mjs');
  } finally {
    t.done();
  }
});
