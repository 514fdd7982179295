// `jsftrace cache path|stats|clear` (cacheCommand, wired into the CLI by
// src/cli/main.ts) acts on the directory a program started in the same
// place with the same environment uses.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cacheKey, TransformCache } from '../../src/instrument/cache.js';
import { runNode, tempDir } from './support.js';

const cli = new URL('../../src/cli/cache.js', import.meta.url).href;

function cache(args: string[], cwd: string, env: Record<string, string | undefined>) {
  return runNode(['--input-type=module', '-e', `import { cacheCommand } from ${JSON.stringify(cli)}; process.exitCode = cacheCommand(${JSON.stringify(args)});`],
    { cwd, env: { JSFTRACE_CACHE: undefined, ...env } });
}

test('path, stats and clear', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    const dir = join(t.dir, 'c');
    const env = { JSFTRACE_CACHE_DIR: dir, JSFTRACE_CACHE_MAX: '1m' };
    assert.equal((await cache(['path'], t.dir, env)).stdout, `${dir}\n`);
    const c = new TransformCache({ dir, maxBytes: 1 << 20 });
    c.put(cacheKey(['a']), { status: 'ok', sites: 1, body: 'a' });
    c.put(cacheKey(['b']), { status: 'failed', sites: 0, body: 'SyntaxError' });
    const s = await cache(['stats'], t.dir, env);
    assert.match(s.stdout, /entries: 2 \(1 failed transforms\)/);
    assert.match(s.stdout, /of 1\.0 MiB/);
    const j = JSON.parse((await cache(['stats', '--json'], t.dir, env)).stdout) as { entries: number; enabled: boolean };
    assert.deepEqual([j.entries, j.enabled], [2, true]);
    assert.equal((await cache(['clear'], t.dir, env)).stdout, `removed 2 entries from ${dir}\n`);
    assert.equal(c.stats().entries, 0);
    const bad = await cache(['frobnicate'], t.dir, env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown subcommand/);
    assert.equal((await cache([], t.dir, env)).code, 2);
  } finally {
    t.done();
  }
});
