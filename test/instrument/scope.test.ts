// Scope rules: ftrace's filter tokens over files (`glob[:mod:pkg]`), from
// JSFTRACE_INCLUDE / JSFTRACE_EXCLUDE and jsftrace.config.json; malformed
// rules fail at start with EINVAL; jsftrace itself is never in scope.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { compileScope, findConfigFile, readScopeConfig } from '../../src/instrument/scope.js';
import { JsftraceError } from '../../src/shared/errors.js';
import { tempDir, writeTree } from './support.js';

const app = (file: string) => ({ id: { root: '/app', file, package: '' }, filename: `/app/${file}` });
const dep = (pkg: string, file: string) => ({ id: { root: `/app/node_modules/${pkg}`, file, package: pkg }, filename: `/app/node_modules/${pkg}/${file}` });

function covers(include: string[], exclude: string[], f: { id: { root: string; file: string; package: string }; filename: string }): boolean {
  return compileScope({ include, exclude, origin: 'test' }).covers(f.id, f.filename);
}

test('everything is in scope by default', () => {
  assert.equal(covers([], [], app('src/a.js')), true);
  assert.equal(covers([], [], dep('lodash', 'index.js')), true);
});

test('include globs select files; * crosses directories; :mod: selects packages', () => {
  assert.equal(covers(['src/*'], [], app('src/db/x.js')), true);
  assert.equal(covers(['src/*'], [], app('test/x.js')), false);
  assert.equal(covers([':mod:lodash'], [], dep('lodash', 'fp/map.js')), true);
  assert.equal(covers([':mod:lodash'], [], app('src/a.js')), false);
  assert.equal(covers(['lib/*:mod:express'], [], dep('express', 'lib/router.js')), true);
  assert.equal(covers(['lib/*:mod:express'], [], dep('express', 'index.js')), false);
  assert.equal(covers([':mod:@aws-sdk/*'], [], dep('@aws-sdk/client-s3', 'index.js')), true);
  // `!` in the include list removes.
  assert.equal(covers(['src/*', '!*.test.js'], [], app('src/a.test.js')), false);
  assert.equal(covers(['!:mod:'], [], dep('lodash', 'index.js')), false);
  assert.equal(covers(['!:mod:'], [], app('src/a.js')), true);
});

test('exclude wins over include', () => {
  assert.equal(covers(['src/*'], ['*.min.js'], app('src/vendor/x.min.js')), false);
  assert.equal(covers([], [':mod:'], dep('lodash', 'index.js')), false, ':mod: with a blank glob is every package');
  assert.equal(covers([], [':mod:'], app('src/a.js')), true);
});

test("jsftrace's own files are out of scope whatever the rules", () => {
  assert.equal(covers(['*'], [], dep('jsftrace', 'dist/src/public/index.js')), false);
});

test('environment variables: comma or space separated, and they replace the config file lists', () => {
  const t = tempDir();
  try {
    writeTree(t.dir, { 'jsftrace.config.json': JSON.stringify({ instrument: { include: ['src/*'], exclude: ['*.min.js'] }, other: {} }) });
    const fromFile = readScopeConfig(t.dir, {});
    assert.deepEqual([fromFile.include, fromFile.exclude], [['src/*'], ['*.min.js']]);
    assert.equal(fromFile.origin, join(t.dir, 'jsftrace.config.json'));
    const env = readScopeConfig(t.dir, { JSFTRACE_INCLUDE: 'lib/*, :mod:x  :mod:y' });
    assert.deepEqual(env.include, ['lib/*', ':mod:x', ':mod:y']);
    assert.deepEqual(env.exclude, ['*.min.js'], 'an unset variable keeps the file list');
    // Found from a subdirectory, or named by JSFTRACE_CONFIG.
    writeTree(t.dir, { 'sub/deeper/.keep': '', 'other.json': JSON.stringify({ instrument: { include: 'x/*' } }) });
    assert.equal(findConfigFile(join(t.dir, 'sub/deeper'), {}), join(t.dir, 'jsftrace.config.json'));
    assert.deepEqual(readScopeConfig(t.dir, { JSFTRACE_CONFIG: 'other.json' }).include, ['x/*']);
  } finally {
    t.done();
  }
});

test('malformed configuration is EINVAL (or ENOENT for a missing JSFTRACE_CONFIG)', () => {
  const t = tempDir();
  try {
    const bad = (files: Record<string, string>, env: Record<string, string> = {}, code = 'EINVAL') => {
      const d = join(t.dir, String(Math.random()).slice(2));
      writeTree(d, files);
      assert.throws(() => readScopeConfig(d, env), (e: unknown) => e instanceof JsftraceError && e.code === code);
    };
    bad({ 'jsftrace.config.json': '{ not json' });
    bad({ 'jsftrace.config.json': JSON.stringify({ instrument: { includes: ['x'] } }) });
    bad({ 'jsftrace.config.json': JSON.stringify({ instrument: { include: [1] } }) });
    bad({ 'jsftrace.config.json': JSON.stringify({ instrument: [] }) });
    bad({ '.keep': '' }, { JSFTRACE_INCLUDE: 'src/[abc' });
    bad({ '.keep': '' }, { JSFTRACE_INCLUDE: '12' });
    bad({ '.keep': '' }, { JSFTRACE_EXCLUDE: '!src/*' });
    bad({ '.keep': '' }, { JSFTRACE_CONFIG: 'missing.json' }, 'ENOENT');
  } finally {
    t.done();
  }
});
