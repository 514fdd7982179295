// A module with no function of its own whose top level catches a throw out
// of another module's function (compiled TypeScript entry points, scripts,
// test files are often this shape): the frames the throw left above the
// module end at its catch or finally clause, so the calls that follow are
// not taken for callees of the function that threw. CommonJS and an ES
// module (a top-level await inside the try), plain, idle and counted, the
// same output; counted, the parents are the true callers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertSameOutcomes, outcomeOf } from '../support/difference.js';
import { run, scratchProgram } from '../support/process.js';

const register = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
const count = fileURLToPath(new URL('../fixtures/transform/count.js', import.meta.url));

const LIB = `exports.fails = function fails(what) { inner(); throw new RangeError('no ' + what) }
function inner() { return 1 }
exports.after = function after(tag) { return 'after ' + tag }
exports.resolves = async function resolves() { await null; return exports.fails('later') }
`;
const CJS = `const lib = require('./lib.cjs')
try { lib.fails('one') } catch (e) { console.log('caught', e.message) }
console.log(lib.after('catch'))
try { try { lib.fails('two') } finally { console.log(lib.after('finally')) } } catch { console.log('outer') }
console.log(lib.after('end'))
`;
const ESM = `import lib from './lib.cjs'
try { await lib.resolves() } catch (e) { console.log('caught', e.message) }
console.log(lib.after('await'))
try { lib.fails('sync') } catch { console.log(lib.after('sync')) }
`;

test('a module with no function whose top level catches ends the frames the throw left', { timeout: 120_000 }, async () => {
  const w = scratchProgram('jsftrace-module-catch-', { 'lib.cjs': LIB, 'main.cjs': CJS, 'main.mjs': ESM });
  try {
    const { env, opts } = w;
    for (const main of ['main.cjs', 'main.mjs']) {
      const counts = join(w.dir, `${main}.counts.json`);
      const plain = await run(process.execPath, [main], opts);
      const idle = await run(process.execPath, ['--import', register, main], opts);
      const traced = await run(process.execPath, ['--import', register, '--import', count, main],
        { ...opts, env: { ...env, JSFTRACE_TEST_COUNTS: counts, JSFTRACE_TEST_FILE: 'lib.cjs' } });
      assertSameOutcomes(main, outcomeOf(plain), { idle: outcomeOf(idle), traced: outcomeOf(traced) });
      assert.equal(plain.code, 0, plain.stderr);
      const seen = JSON.parse(readFileSync(counts, 'utf8')) as Record<string, [number, number, string[], number]>;
      // Every call exits (a throw's exit is seen when the catch ends it:
      // the thrower's frame is abandoned, UNWOUND, the last element), and
      // `after` is always called by the module's top level.
      if (main === 'main.cjs') {
        assert.deepEqual(seen['fails'], [2, 2, ['-'], 2], JSON.stringify(seen));
        assert.deepEqual(seen['after'], [3, 3, ['-'], 0], JSON.stringify(seen));
      } else {
        assert.deepEqual(seen['after'], [2, 2, ['-'], 0], JSON.stringify(seen));
        assert.deepEqual(seen['resolves'], [1, 1, ['-'], 0], JSON.stringify(seen));
      }
      assert.deepEqual(seen['inner']?.[2], ['fails'], JSON.stringify(seen));
    }
  } finally {
    w.done();
  }
});
