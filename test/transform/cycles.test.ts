// An ES module import cycle: a module's functions called, by a module it
// imports, before the module's own first line (its prologue) has run. Plain,
// under jsftrace/register with nothing attached, and with a counting ops on
// every function (every site key on, as another module's traced functions
// turn on keys these functions share), the program prints the same: a
// generator that suspends at a bare yield, an async function that awaits, a
// function that returns a function, plain and arrow-calling functions.

import { test } from 'node:test';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertSameOutcomes, outcomeOf } from '../support/difference.js';
import { run, scratchProgram } from '../support/process.js';

const register = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
const count = fileURLToPath(new URL('../fixtures/transform/count.js', import.meta.url));

const A = `import './b.mjs'
export function* gen() { const a = yield; console.log('gen got', a); return a }
export async function later(o) { return (await o) + 1 }
export function maker() { return function () { return 'made' } }
export function plain(x) { return x + 1 }
export function mapped(x) { return [x].map((y) => y * 2) }
`;
const B = `import { gen, later, maker, plain, mapped } from './a.mjs'
const it = gen()
console.log(JSON.stringify(it.next()), JSON.stringify(it.next(5)))
later(1).then((v) => console.log('later', v))
console.log(maker()(), plain(1), mapped(2))
`;

test('functions of a module called in an import cycle before its prologue ran behave as without jsftrace, traced or not', { timeout: 120_000 }, async () => {
  // Three hundred functions in a module loaded first: with every function traced, every site key is on.
  const many = Array.from({ length: 300 }, (_, i) => `export function f${i}() { return ${i} }`).join('\n');
  const w = scratchProgram('jsftrace-cycles-', {
    'many.mjs': `${many}\nexport function all() { let t = 0; ${Array.from({ length: 300 }, (_, i) => `t += f${i}();`).join(' ')} return t }\n`,
    'a.mjs': A,
    'b.mjs': B,
    'main.mjs': `import { all } from './many.mjs'\nconsole.log('all', all())\nawait import('./a.mjs')\n`,
  });
  try {
    const { env, opts } = w;
    const main = join(w.dir, 'main.mjs');
    const [plain, idle, traced] = await Promise.all([
      run(process.execPath, [main], opts),
      run(process.execPath, ['--import', register, main], opts),
      run(process.execPath, ['--import', register, '--import', count, main],
        { ...opts, env: { ...env, JSFTRACE_TEST_COUNTS: join(w.dir, 'counts.json'), JSFTRACE_TEST_FILE: 'a.mjs' } }),
    ]);
    assertSameOutcomes('import cycle', outcomeOf(plain!), {
      'idle (nothing attached)': outcomeOf(idle!),
      'traced (a counting ops on every function)': outcomeOf(traced!),
    });
  } finally {
    w.done();
  }
});
