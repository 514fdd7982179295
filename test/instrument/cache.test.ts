// The disk cache: whole entries or none, keyed by content, bounded by LRU
// eviction, shared by concurrent processes without locks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheKey, cacheOptionsFromEnv, CACHE_SCHEMA, defaultCacheDir, parseSize, TransformCache } from '../../src/instrument/cache.js';
import { tempDir, writeTree } from './support.js';

function entryFiles(dir: string): string[] {
  const root = join(dir, `v${CACHE_SCHEMA}`);
  return readdirSync(root).map((n) => join(root, n));
}

test('keys are length-prefixed hashes of their parts', () => {
  assert.notEqual(cacheKey(['ab', 'c']), cacheKey(['a', 'bc']));
  assert.equal(cacheKey(['x']), cacheKey(['x']));
  assert.match(cacheKey(['x']), /^[0-9a-f]{64}$/);
});

test('sizes and the directory come from the environment', () => {
  assert.equal(parseSize('512m'), 512 * 1024 * 1024);
  assert.equal(parseSize('64K'), 65536);
  assert.equal(parseSize('1.5g'), 1.5 * 1024 ** 3);
  assert.throws(() => parseSize('lots'), /EINVAL|not a number/);
  assert.equal(cacheOptionsFromEnv({ JSFTRACE_CACHE: '0' }), null);
  const t = tempDir();
  try {
    writeTree(t.dir, { 'node_modules/.keep': '', 'a/b/.keep': '' });
    assert.equal(defaultCacheDir(join(t.dir, 'a/b')), join(t.dir, 'node_modules/.cache/jsftrace'));
    const o = cacheOptionsFromEnv({ JSFTRACE_CACHE_DIR: 'c', JSFTRACE_CACHE_MAX: '1m' }, t.dir)!;
    assert.deepEqual(o, { dir: join(t.dir, 'c'), maxBytes: 1024 * 1024 });
  } finally {
    t.done();
  }
});

test('put then get returns the entry; other keys, schema or a truncated file miss', () => {
  const t = tempDir();
  try {
    const c = new TransformCache({ dir: t.dir, maxBytes: 1 << 20 });
    const k = cacheKey(['a']);
    assert.equal(c.get(k), null);
    c.put(k, { status: 'ok', sites: 3, body: 'code ✓\nmore' });
    assert.deepEqual(c.get(k), { status: 'ok', sites: 3, body: 'code ✓\nmore' });
    c.put(cacheKey(['b']), { status: 'failed', sites: 0, body: 'SyntaxError: x' });
    assert.equal(c.get(cacheKey(['b']))!.status, 'failed');
    const [file] = entryFiles(t.dir).filter((f) => f.endsWith(k.slice(2)));
    const text = readFileSync(file!, 'utf8');
    writeFileSync(file!, text.slice(0, -2));
    assert.equal(c.get(k), null, 'a body of the wrong length is a miss');
    writeFileSync(file!, text.replace(k, cacheKey(['other'])));
    assert.equal(c.get(k), null, 'a header for another key is a miss');
    const s = c.stats();
    assert.equal(s.entries, 2);
    assert.equal(s.failedEntries, 1);
    assert.equal(c.clear(), 2);
    assert.equal(c.get(cacheKey(['b'])), null);
  } finally {
    t.done();
  }
});

test('a cache directory others can write to, or that is not ours, is not used: a planted entry never runs', async () => {
  const t = tempDir();
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }): void => { if (w.code === 'JSFTRACE_CACHE') warnings.push(w.message); };
  process.on('warning', onWarning);
  try {
    const k = cacheKey(['planted']);
    new TransformCache({ dir: t.dir, maxBytes: 1 << 20 }).put(k, { status: 'ok', sites: 0, body: 'PLANTED' });
    assert.equal(new TransformCache({ dir: t.dir, maxBytes: 1 << 20 }).get(k)!.body, 'PLANTED', 'our own 0700 directory is used');
    chmodSync(join(t.dir, `v${CACHE_SCHEMA}`), 0o777);
    const opened = new TransformCache({ dir: t.dir, maxBytes: 1 << 20 });
    assert.equal(opened.get(k), null);
    opened.put(cacheKey(['x']), { status: 'ok', sites: 0, body: 'x' });
    assert.equal(entryFiles(t.dir).length, 1, 'nothing written into it either');
    if (typeof process.getuid === 'function' && process.getuid() === 0) {
      chmodSync(join(t.dir, `v${CACHE_SCHEMA}`), 0o700);
      chownSync(join(t.dir, `v${CACHE_SCHEMA}`), 65534, 65534);
      assert.equal(new TransformCache({ dir: t.dir, maxBytes: 1 << 20 }).get(k), null, 'owned by another user');
    }
    await new Promise((r) => setImmediate(r)); // warnings arrive on a later tick
  } finally {
    process.off('warning', onWarning);
    t.done();
  }
  assert.ok(warnings.length >= 1 && warnings.every((w) => /the transform cache is off for this process/.test(w)), warnings.join('\n'));
});

test('the cache stays within its bound, evicting the least recently used entries', () => {
  const t = tempDir();
  try {
    const c = new TransformCache({ dir: t.dir, maxBytes: 64 * 1024 });
    const body = 'x'.repeat(4000);
    const keys: string[] = [];
    for (let i = 0; i < 40; i++) {
      const k = cacheKey([String(i)]);
      keys.push(k);
      c.put(k, { status: 'ok', sites: 1, body });
      // Make recency explicit: entry i was last used at i seconds.
      const f = entryFiles(t.dir).find((p) => p.endsWith(k.slice(2)));
      if (f !== undefined) utimesSync(f, 1000 + i, 1000 + i);
    }
    c.sweep();
    const s = c.stats();
    assert.ok(s.bytes <= 64 * 1024, `bytes ${s.bytes}`);
    assert.ok(s.entries > 0);
    // The survivors are the most recent ones.
    assert.notEqual(c.get(keys[39]!), null);
    assert.equal(c.get(keys[0]!), null);
  } finally {
    t.done();
  }
});

test('concurrent processes writing and reading the same keys never see a partial entry', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    const script = `
      import { TransformCache, cacheKey } from ${JSON.stringify(new URL('../../src/instrument/cache.js', import.meta.url).href)};
      const c = new TransformCache({ dir: ${JSON.stringify(t.dir)}, maxBytes: 1 << 30 });
      const body = (i) => ('entry ' + i + ' ').repeat(20000 + i * 1000);
      let reads = 0, hits = 0;
      const end = Date.now() + 1500;
      while (Date.now() < end) {
        for (let i = 0; i < 8; i++) {
          const k = cacheKey(['k', String(i)]);
          const e = c.get(k);
          reads++;
          if (e !== null) {
            hits++;
            if (e.body !== body(i) || e.sites !== i) { console.error('CORRUPT', i); process.exit(3); }
          }
          c.put(k, { status: 'ok', sites: i, body: body(i) });
        }
      }
      console.log(JSON.stringify({ reads, hits, errors: c.errors }));
    `;
    const runs = await Promise.all([0, 1, 2, 3].map(() => new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
    })));
    for (const r of runs) {
      assert.equal(r.code, 0, r.out);
      const s = JSON.parse(r.out) as { reads: number; hits: number; errors: number };
      assert.ok(s.hits > 0, 'processes read each other\'s entries');
      assert.equal(s.errors, 0);
    }
    assert.equal(entryFiles(t.dir).filter((f) => f.endsWith('.tmp')).length, 0, 'no temporary file is left behind');
  } finally {
    t.done();
  }
});
