// Functions that leave their process as text (fn.toString()) and run where
// jsftrace is not: a fresh vm context, new Function, an eval worker and a
// dependency injector reading parameter names (page.evaluate in Chromium is
// in test:realworld, test/realworld/registry/browser.test.ts). The program
// runs plain, under jsftrace/register with nothing attached, and with a
// counting ops on every function; the output must be the same.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertSameOutcomes, outcomeOf } from '../support/difference.js';
import { cleanEnv, run, scratchDir } from '../support/process.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/transform/evaluate/', import.meta.url));
const register = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
const count = fileURLToPath(new URL('../fixtures/transform/count.js', import.meta.url));
const nothing = fileURLToPath(new URL('../fixtures/transform/nothing.js', import.meta.url));
const work = scratchDir('jsftrace-evaluate-');
test.after(work.done);

async function threeWays(name: string, args: string[]): Promise<void> {
  const file = join(fixtures, name);
  const base = cleanEnv({ JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(work.dir, 'cache') });
  const opts = { cwd: fixtures, env: base, timeoutMs: 120_000 };
  const plain = await run(process.execPath, ['--import', nothing, file, ...args], opts);
  assert.equal(plain.code, 0, plain.stderr);
  const [idle, traced] = await Promise.all([
    run(process.execPath, ['--import', register, file, ...args], opts),
    run(process.execPath, ['--import', register, '--import', count, file, ...args],
      { ...opts, env: { ...base, JSFTRACE_TEST_COUNTS: join(work.dir, `${name}.counts.json`), JSFTRACE_TEST_FILE: name } }),
  ]);
  assertSameOutcomes(name, outcomeOf(plain), { idle: outcomeOf(idle), traced: outcomeOf(traced) });
}

test('functions serialised with toString() run the same in a vm context, new Function, an eval worker and an injector', async () => {
  await threeWays('serialise.cjs', []);
});
