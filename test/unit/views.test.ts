// The inspection files, byte for byte: available_filter_functions,
// enabled_functions and touched_functions (ftrace's t_show format), through
// their transitions, and the control surface's readFile.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createOps, defineSite, defineSites, ftraceSetFilter, readAvailableFilterFunctions, readEnabledFunctions,
  readTouchedFunctions, registerFtraceDirect, registerFtraceFunction, siteCount, siteInfo, unregisterFtraceDirect,
  unregisterFtraceFunction, OPS_FL,
} from '../../src/public/index.js';
import { listFiles, readFile } from '../../src/public/control.js';

function noop(): void { /* counts on the records only */ }

function isEnoent(e: unknown): boolean {
  assert.ok(e instanceof Error);
  assert.equal((e as { code?: unknown }).code, 'ENOENT');
  return true;
}

/** The lines of a view that belong to sites whose name starts with `prefix`. */
function linesOf(view: string, prefix: string): string {
  // A direct site's second line starts with a tab and follows its site.
  const out: string[] = [];
  let keep = false;
  for (const line of view.split('\n')) {
    if (line === '') continue;
    if (!line.startsWith('\t')) keep = line.startsWith(prefix);
    if (keep) out.push(line + '\n');
  }
  return out.join('');
}

test('available_filter_functions: `name` or `name [package]`, one per line, in id order', () => {
  assert.equal(siteCount(), 0);
  assert.equal(readAvailableFilterFunctions(), '');
  const a = defineSite({ name: 'src/app.ts:Router.handle', file: 'src/app.ts', line: 10, column: 3 });
  const b = defineSite({ name: 'lib/router/index.js:next', file: 'lib/router/index.js', line: 5, column: 1, package: 'express' });
  const c = defineSites('views-block', [
    { name: 'main' },
    { name: 'index.js:<anonymous>', package: '@scope/pkg' },
  ]);
  assert.deepEqual([a, b, c], [0, 1, 2]);
  assert.equal(readAvailableFilterFunctions(),
    'src/app.ts:Router.handle\n'
    + 'lib/router/index.js:next [express]\n'
    + 'main\n'
    + 'index.js:<anonymous> [@scope/pkg]\n');
  assert.deepEqual(siteInfo(b), { id: 1, name: 'lib/router/index.js:next', file: 'lib/router/index.js', line: 5, column: 1, package: 'express' });
  assert.deepEqual(siteInfo(2), { id: 2, name: 'main', file: '', line: 0, column: 0, package: '' });
  // The same key is the same site: nothing is added.
  assert.equal(defineSite({ name: 'src/app.ts:Router.handle', file: 'src/app.ts', line: 10, column: 3 }), a);
  assert.equal(defineSites('views-block', [{ name: 'main' }, { name: 'index.js:<anonymous>', package: '@scope/pkg' }]), c);
  assert.equal(siteCount(), 4);
  assert.equal(readAvailableFilterFunctions().split('\n').length, 5);
  // Nothing is enabled or touched yet.
  assert.equal(readEnabledFunctions(), '');
  assert.equal(readTouchedFunctions(), '');
});

test('two packages with the same file, position and name are two sites', () => {
    const x = defineSite({ name: 'index.js:main', file: 'index.js', line: 1, column: 1, package: 'alpha' });
    const y = defineSite({ name: 'index.js:main', file: 'index.js', line: 1, column: 1, package: 'beta' });
    assert.notEqual(x, y);
    assert.equal(siteInfo(y).package, 'beta');
    assert.ok(readAvailableFilterFunctions().includes('index.js:main [beta]\n'));
  });

test('enabled_functions: one ops, then two, then back to one, then none', async () => {
  defineSite({ name: 'v1/a' });
  defineSite({ name: 'v1/b', package: 'vpkg' });
  const one = createOps({ name: 'one', func: noop });
  const two = createOps({ name: 'two', func: noop });
  await ftraceSetFilter(one, 'v1/*');
  await ftraceSetFilter(two, 'v1/b');

  await registerFtraceFunction(one);
  assert.equal(readEnabledFunctions(),
    'v1/a (1)       O   \tops: one (one)\n'
    + 'v1/b [vpkg] (1)       O   \tops: one (one)\n');
  assert.equal(readTouchedFunctions(), readEnabledFunctions());

  await registerFtraceFunction(two);
  assert.equal(readEnabledFunctions(),
    'v1/a (1)       O   \tops: one (one)\n'
    + 'v1/b [vpkg] (2)           \n');

  await unregisterFtraceFunction(one);
  assert.equal(readEnabledFunctions(), 'v1/b [vpkg] (1)       O   \tops: two (two)\n');
  assert.equal(readTouchedFunctions(),
    'v1/a (0)           \n'
    + 'v1/b [vpkg] (1)       O   \tops: two (two)\n');

  await unregisterFtraceFunction(two);
  assert.equal(readEnabledFunctions(), '');
  assert.equal(readTouchedFunctions(),
    'v1/a (0)           \n'
    + 'v1/b [vpkg] (0)           \n');
});

test('enabled_functions: R for an ops that wants the arguments; the ops name defaults to its function\'s name', async () => {
  defineSite({ name: 'v2/a' });
  defineSite({ name: 'v2/b' });
  const withArgs = createOps({ func: function argsWatcher() { /* */ }, flags: OPS_FL.ARGS });
  const plain = createOps({ name: 'plain2', func: noop });
  await ftraceSetFilter(withArgs, 'v2/a');
  await ftraceSetFilter(plain, 'v2/*');
  await registerFtraceFunction(withArgs);
  assert.equal(linesOf(readEnabledFunctions(), 'v2/'), 'v2/a (1) R     O   \tops: argsWatcher (argsWatcher)\n');
  await registerFtraceFunction(plain);
  assert.equal(linesOf(readEnabledFunctions(), 'v2/'),
    'v2/a (2) R         \n'
    + 'v2/b (1)       O   \tops: plain2 (plain2)\n');
  await unregisterFtraceFunction(withArgs);
  assert.equal(linesOf(readEnabledFunctions(), 'v2/'),
    'v2/a (1)       O   \tops: plain2 (plain2)\n'
    + 'v2/b (1)       O   \tops: plain2 (plain2)\n');
  await unregisterFtraceFunction(plain);
  assert.equal(readEnabledFunctions(), '');
  // ARGS is not kept once the count is 0.
  assert.equal(linesOf(readTouchedFunctions(), 'v2/'), 'v2/a (0)           \nv2/b (0)           \n');
});

test('enabled_functions: a direct ops shows R, D, M and its trampoline; M stays in touched_functions', async () => {
  defineSite({ name: 'v3/d' });
  defineSite({ name: 'v3/e', package: 'dpkg' });
  const direct = createOps({ name: 'dir3' });
  await ftraceSetFilter(direct, 'v3/*');
  const myTramp = function myTramp(): void { /* */ };
  await registerFtraceDirect(direct, myTramp);
  assert.equal(readEnabledFunctions(),
    'v3/d (1) R   D   M \n\tdirect-->myTramp\n'
    + 'v3/e [dpkg] (1) R   D   M \n\tdirect-->myTramp\n');
  assert.equal(linesOf(readTouchedFunctions(), 'v3/'), readEnabledFunctions());

  // Another ops on one of the sites: two ops, the list function, D still shown.
  const other = createOps({ name: 'other3', func: noop });
  await ftraceSetFilter(other, 'v3/d');
  await registerFtraceFunction(other);
  assert.equal(readEnabledFunctions(),
    'v3/d (2) R   D   M \n\tdirect-->myTramp\n'
    + 'v3/e [dpkg] (1) R   D   M \n\tdirect-->myTramp\n');
  await unregisterFtraceFunction(other);
  assert.equal(readEnabledFunctions(),
    'v3/d (1) R   D   M \n\tdirect-->myTramp\n'
    + 'v3/e [dpkg] (1) R   D   M \n\tdirect-->myTramp\n');

  await unregisterFtraceDirect(direct, myTramp);
  assert.equal(readEnabledFunctions(), '');
  assert.equal(linesOf(readTouchedFunctions(), 'v3/'),
    'v3/d (0)         M \n'
    + 'v3/e [dpkg] (0)         M \n');

  // A plain ops afterwards: M is never cleared.
  const later = createOps({ name: 'later3', func: noop });
  await ftraceSetFilter(later, 'v3/d');
  await registerFtraceFunction(later);
  assert.equal(readEnabledFunctions(), 'v3/d (1)       O M \tops: later3 (later3)\n');
  await unregisterFtraceFunction(later);
  assert.equal(linesOf(readTouchedFunctions(), 'v3/'),
    'v3/d (0)         M \n'
    + 'v3/e [dpkg] (0)         M \n');
});

test('enabled_functions: an IPMODIFY ops shows I and M; a STUB ops counts but is not called directly', async () => {
  defineSite({ name: 'v4/i' });
  defineSite({ name: 'v4/s' });
  const ipm = createOps({ name: 'ipm4', func: noop, retfunc: (_s, _o, r) => r, flags: OPS_FL.IPMODIFY });
  await ftraceSetFilter(ipm, 'v4/i');
  await registerFtraceFunction(ipm);
  assert.equal(readEnabledFunctions(), 'v4/i (1)   I   O M \tops: ipm4 (ipm4)\n');
  await unregisterFtraceFunction(ipm);
  assert.equal(linesOf(readTouchedFunctions(), 'v4/'), 'v4/i (0)         M \n');

  const stub = createOps({ name: 'stub4', flags: OPS_FL.STUB });
  await ftraceSetFilter(stub, 'v4/s');
  await registerFtraceFunction(stub);
  assert.equal(readEnabledFunctions(), 'v4/s (1)           \n');
  await unregisterFtraceFunction(stub);
  assert.equal(readEnabledFunctions(), '');
});

test('control readFile serves the inspection files and refuses others with ENOENT', async () => {
  defineSite({ name: 'v5/a' });
  const ops = createOps({ name: 'ctl5', func: noop });
  await ftraceSetFilter(ops, 'v5/a');
  await registerFtraceFunction(ops);
  try {
    const files = await listFiles();
    for (const f of ['available_filter_functions', 'enabled_functions', 'touched_functions']) assert.ok(files.includes(f), f);
    assert.equal(await readFile('available_filter_functions'), readAvailableFilterFunctions());
    assert.equal(await readFile('enabled_functions'), readEnabledFunctions());
    assert.equal(await readFile('enabled_functions'), 'v5/a (1)       O   \tops: ctl5 (ctl5)\n');
    assert.equal(await readFile('/touched_functions'), readTouchedFunctions());
    for (const bad of ['nope', 'set_ftrace_filter_x', '', 'per_thread/../trace', 'ENABLED_FUNCTIONS']) {
      await assert.rejects(readFile(bad), isEnoent, JSON.stringify(bad));
    }
  } finally {
    await unregisterFtraceFunction(ops);
  }
});

test('control readFile: names of Object.prototype members are unknown files too', async () => {
  for (const bad of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'per_thread/0/constructor']) {
    await assert.rejects(readFile(bad), isEnoent, JSON.stringify(bad));
  }
});
