// page.evaluate(fn) as Playwright does it: fn.toString() is sent to
// Chromium and run in the page, so it must be the function's own text.
// Runs where /usr/bin/chromium exists (Debian's chromium package), in every
// mode (support.ts); Playwright itself is left out of jsftrace's scope, the
// functions under test being the program's.

import { before, after, test } from 'node:test';
import { existsSync } from 'node:fs';
import { ensureInstalled, everyMode, Scratch } from './support.js';

const chromium = '/usr/bin/chromium';
const scratch = new Scratch();
before(ensureInstalled);
after(scratch.done);

test('page.evaluate(fn) in Chromium through Playwright gives the same results', {
  skip: existsSync(chromium) ? false : `${chromium} is absent (apt-get install chromium runs this test)`,
}, async () => {
  // The functions under test run in the page: Node enters none of them.
  await everyMode('page.evaluate', ['browser.mjs', chromium], { scratch, minSites: 0, expectStatus: 0, env: { JSFTRACE_EXCLUDE: ':mod:playwright-core' } });
});
