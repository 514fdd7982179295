// Functions that leave their process as text (fn.toString()) and run where
// jsftrace is not: a fresh vm context, new Function, an eval worker, a
// dependency injector reading parameter names, and Chromium through
// Playwright's page.evaluate where /usr/bin/chromium exists. Each program
// runs plain, under jsftrace/register with nothing attached, and with a
// counting ops on every function; the output must be the same.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertSameOutcomes, outcomeOf } from '../support/difference.js';
import { cleanEnv, run, scratchDir } from '../support/process.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/transform/evaluate/', import.meta.url));
const register = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
const count = fileURLToPath(new URL('../fixtures/transform/count.js', import.meta.url));
const nothing = fileURLToPath(new URL('../fixtures/transform/nothing.js', import.meta.url));
const chromium = '/usr/bin/chromium';
const work = scratchDir('jsftrace-evaluate-');
test.after(work.done);

async function threeWays(name: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  const file = join(fixtures, name);
  const base = cleanEnv({ JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(work.dir, 'cache'), ...env });
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

test('page.evaluate(fn) in Chromium through Playwright gives the same results instrumented', {
  skip: existsSync(chromium) ? false : `${chromium} is absent (apt-get install chromium runs this test)`,
}, async () => {
  // Playwright itself is left out of scope: the functions under test are the program's.
  await threeWays('browser.mjs', [chromium], { JSFTRACE_EXCLUDE: ':mod:playwright-core' });
});
