// Site names: a file is named relative to its package root (under
// node_modules, by path) or to the program's root, with '/' separators, the
// same in every thread and run; jsftrace's own files are recognised.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { identify, isOwnFile, resetPackageCache } from '../../src/instrument/packages.js';
import { tempDir, writeTree } from './support.js';

test('a file under node_modules belongs to the package named by the path', () => {
  assert.deepEqual(identify('/app/node_modules/lodash/fp/map.js'), { root: '/app/node_modules/lodash', file: 'fp/map.js', package: 'lodash' });
  assert.deepEqual(identify('/app/node_modules/@aws-sdk/client-s3/dist-cjs/index.js'),
    { root: '/app/node_modules/@aws-sdk/client-s3', file: 'dist-cjs/index.js', package: '@aws-sdk/client-s3' });
  // Nested node_modules: the innermost package.
  assert.equal(identify('/app/node_modules/a/node_modules/b/x.js').package, 'b');
  // pnpm's store layout.
  const p = identify('/app/node_modules/.pnpm/express@4.19.2/node_modules/express/lib/router/index.js');
  assert.equal(p.package, 'express');
  assert.equal(p.file, 'lib/router/index.js');
  // A file URL is accepted too.
  assert.equal(identify('file:///app/node_modules/x/y.mjs').file, 'y.mjs');
});

test("the program's own code is named from the nearest named package.json, passing over type markers", () => {
  const t = tempDir();
  try {
    writeTree(t.dir, {
      'package.json': JSON.stringify({ name: 'app' }),
      'dist/esm/package.json': JSON.stringify({ type: 'module' }),
      'dist/esm/index.js': '',
      'src/lib/util.js': '',
    });
    resetPackageCache();
    assert.deepEqual(identify(join(t.dir, 'dist/esm/index.js')), { root: t.dir, file: 'dist/esm/index.js', package: '' });
    assert.equal(identify(join(t.dir, 'src/lib/util.js')).file, 'src/lib/util.js');
  } finally {
    t.done();
  }
});

test('without a named package.json the nearest nameless one is the root; JSFTRACE_ROOT pins it', () => {
  const t = tempDir();
  const saved = process.env['JSFTRACE_ROOT'];
  try {
    writeTree(t.dir, { 'p/package.json': '{"type":"commonjs"}', 'p/a/b.js': '' });
    resetPackageCache();
    const id = identify(join(t.dir, 'p/a/b.js'));
    // tmpdir may itself sit under a named package.json on some machines; the
    // nameless one is the answer only when none is named above it.
    if (id.root === join(t.dir, 'p')) assert.equal(id.file, 'a/b.js');
    process.env['JSFTRACE_ROOT'] = t.dir;
    resetPackageCache();
    assert.deepEqual(identify(join(t.dir, 'p/a/b.js')), { root: t.dir, file: 'p/a/b.js', package: '' });
  } finally {
    if (saved === undefined) delete process.env['JSFTRACE_ROOT'];
    else process.env['JSFTRACE_ROOT'] = saved;
    resetPackageCache();
    t.done();
  }
});

test("jsftrace's own files are recognised, here and when installed as a package", () => {
  const own = fileURLToPath(new URL('../../src/instrument/load.js', import.meta.url));
  assert.equal(isOwnFile(own), true);
  assert.equal(isOwnFile(fileURLToPath(import.meta.url)), false, 'tests and fixtures are not jsftrace itself');
  assert.equal(isOwnFile('/app/node_modules/jsftrace/dist/src/public/register.js'), true);
  assert.equal(isOwnFile('/app/node_modules/jsftrace-plugin/index.js'), false);
});
