// The disk cache: whole entries or none, keyed by content, bounded by LRU
// eviction, shared by concurrent processes without locks; a directory of the
// user's own (every component checked), entries opened without following
// links and checked on their descriptor, and signed with the user's key, so
// that a planted file is never run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheKey, cacheOptionsFromEnv, CACHE_SCHEMA, parseSize, TransformCache } from '../../src/instrument/cache.js';
import { createRequire } from 'node:module';
import type { CacheDirs } from '../../src/shared/cache-dir.cjs';
import { tempDir, writeTree } from './support.js';

const { cacheDirProblem, chooseCacheDir, defaultCacheDirs } = createRequire(import.meta.url)('../../src/shared/cache-dir.cjs') as CacheDirs;

function entryFiles(dir: string): string[] {
  const root = join(dir, `v${CACHE_SCHEMA}`);
  return readdirSync(root).map((n) => join(root, n));
}

test('keys are length-prefixed hashes of their parts', () => {
  assert.notEqual(cacheKey(['ab', 'c']), cacheKey(['a', 'bc']));
  assert.equal(cacheKey(['x']), cacheKey(['x']));
  assert.match(cacheKey(['x']), /^[0-9a-f]{64}$/);
});

test('sizes and the directory come from the environment; the default is the user\'s own, never found from the cwd', () => {
  assert.equal(parseSize('512m'), 512 * 1024 * 1024);
  assert.equal(parseSize('64K'), 65536);
  assert.equal(parseSize('1.5g'), 1.5 * 1024 ** 3);
  assert.throws(() => parseSize('lots'), /EINVAL|not a number/);
  assert.equal(cacheOptionsFromEnv({ JSFTRACE_CACHE: '0' }), null);
  const uid = process.getuid?.() ?? 'user';
  assert.deepEqual(defaultCacheDirs({ XDG_CACHE_HOME: '/x/y' }), ['/x/y/jsftrace', join(homedir(), '.cache', 'jsftrace'), join(tmpdir(), `jsftrace-cache-${uid}`)]);
  // A relative XDG_CACHE_HOME is invalid (XDG spec) and ignored.
  assert.deepEqual(defaultCacheDirs({ XDG_CACHE_HOME: 'rel' }), [join(homedir(), '.cache', 'jsftrace'), join(tmpdir(), `jsftrace-cache-${uid}`)]);
  const t = tempDir();
  try {
    // A node_modules above the cwd (which anyone may own) plays no part.
    writeTree(t.dir, { 'node_modules/.keep': '', 'a/b/.keep': '' });
    const xdg = join(t.dir, 'xdg');
    assert.equal(chooseCacheDir({ XDG_CACHE_HOME: xdg }, join(t.dir, 'a/b')), join(xdg, 'jsftrace'));
    // An XDG_CACHE_HOME that others could write to is passed over for the next default.
    mkdirSync(xdg);
    chmodSync(xdg, 0o777);
    assert.match(cacheDirProblem(join(xdg, 'jsftrace'))!, /can be written by others without the sticky bit/);
    assert.notEqual(chooseCacheDir({ XDG_CACHE_HOME: xdg }, t.dir), join(xdg, 'jsftrace'));
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
    writeFileSync(file!, text);
    assert.deepEqual(c.get(k), { status: 'ok', sites: 3, body: 'code ✓\nmore' }, 'the entry as written reads again');
    const s = c.stats();
    assert.equal(s.entries, 2);
    assert.equal(s.failedEntries, 1);
    // What a process killed while it made the key left, long ago, and one
    // being made now.
    const stale = join(t.dir, `key.${'ab'.repeat(12)}.tmp`);
    const live = join(t.dir, `binding.${'cd'.repeat(12)}.tmp`);
    writeFileSync(stale, 'x');
    writeFileSync(live, 'y');
    const old = new Date(Date.now() - 3600_000);
    utimesSync(stale, old, old);
    assert.equal(c.clear(), 2);
    assert.equal(c.get(cacheKey(['b'])), null);
    assert.equal(existsSync(stale), false, 'a stale temporary file is removed');
    assert.equal(existsSync(live), true, 'a fresh one is left to its writer');
  } finally {
    t.done();
  }
});

/** Collects JSFTRACE_CACHE warnings while `fn` runs (they arrive on a later tick). */
async function cacheWarnings(fn: () => void): Promise<string[]> {
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }): void => { if (w.code === 'JSFTRACE_CACHE') warnings.push(w.message); };
  process.on('warning', onWarning);
  try {
    fn();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

test('a directory that is not the user\'s own all the way down is not used, with one warning per cache', async () => {
  const t = tempDir();
  try {
    const k = cacheKey(['planted']);
    const good = join(t.dir, 'good');
    new TransformCache({ dir: good, maxBytes: 1 << 20 }).put(k, { status: 'ok', sites: 0, body: 'OURS' });
    assert.equal(new TransformCache({ dir: good, maxBytes: 1 << 20 }).get(k)!.body, 'OURS', 'our own 0700 directory is used');
    assert.equal(statSync(good).mode & 0o777, 0o700);
    assert.equal(statSync(join(good, 'key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(good, 'key')).size, 32);
    const cases: [string, () => string][] = [
      ['the cache directory can be written by others', () => { const d = join(t.dir, 'open'); mkdirSync(d, { mode: 0o700 }); chmodSync(d, 0o777); return d; }],
      ['its version folder can be written by others', () => {
        const d = join(t.dir, 'vopen');
        new TransformCache({ dir: d, maxBytes: 1 << 20 }).put(k, { status: 'ok', sites: 0, body: 'x' });
        chmodSync(join(d, `v${CACHE_SCHEMA}`), 0o777);
        return d;
      }],
      ['a directory above it can be written by others (no sticky bit)', () => { const p = join(t.dir, 'parent'); mkdirSync(p); chmodSync(p, 0o777); return join(p, 'cache'); }],
      ['it is a symlink to a directory others can write to', () => {
        const target = join(t.dir, 'target');
        mkdirSync(target);
        chmodSync(target, 0o757);
        const link = join(t.dir, 'link');
        symlinkSync(target, link);
        return link;
      }],
    ];
    if (isRoot) {
      cases.push(['a directory above it belongs to another user', () => {
        const p = join(t.dir, 'theirs');
        mkdirSync(p, { mode: 0o755 });
        chownSync(p, NOBODY, NOBODY);
        return join(p, 'cache');
      }]);
      cases.push(['the cache directory belongs to another user', () => {
        const d = join(t.dir, 'given');
        mkdirSync(d, { mode: 0o700 });
        chownSync(d, NOBODY, NOBODY);
        return d;
      }]);
    }
    for (const [what, make] of cases) {
      const dir = make();
      const entriesBefore = (() => { try { return readdirSync(join(dir, `v${CACHE_SCHEMA}`)).length; } catch { return 0; } })();
      let c: TransformCache | undefined;
      const warnings = await cacheWarnings(() => {
        c = new TransformCache({ dir, maxBytes: 1 << 20 });
        assert.equal(c.get(k), null, what);
        c.put(cacheKey(['new']), { status: 'ok', sites: 0, body: 'x' });
        assert.equal(c.get(cacheKey(['new'])), null, what);
      });
      assert.equal(warnings.length, 1, `${what}: ${warnings.join('\n')}`);
      assert.match(warnings[0]!, /^the transform cache is off for this process: /, what);
      assert.equal(c!.settings(), null, `${what}: not handed to other threads`);
      const after = (() => { try { return readdirSync(join(dir, `v${CACHE_SCHEMA}`)).length; } catch { return 0; } })();
      assert.equal(after, entriesBefore, `${what}: nothing written into it`);
    }
  } finally {
    t.done();
  }
});

test('a planted entry is never returned: wrong key, a symlink, writable by others, another user\'s file', () => {
  const t = tempDir();
  try {
    const dir = join(t.dir, 'c');
    const c = new TransformCache({ dir, maxBytes: 1 << 20 });
    const k = cacheKey(['victim.js']);
    c.put(k, { status: 'ok', sites: 1, body: 'GENUINE' });
    const file = join(dir, `v${CACHE_SCHEMA}`, k);
    const genuine = readFileSync(file);
    assert.equal(c.get(k)!.body, 'GENUINE');
    // The same entry written with another key (another user's cache, or a
    // file made from the public inputs of the cache key): refused.
    const other = join(t.dir, 'other');
    const o = new TransformCache({ dir: other, maxBytes: 1 << 20 });
    o.put(k, { status: 'ok', sites: 1, body: 'PLANTED' });
    writeFileSync(file, readFileSync(join(other, `v${CACHE_SCHEMA}`, k)), { mode: 0o600 });
    assert.equal(c.get(k), null, 'signed with another key');
    // The body changed under a genuine header: refused (the tag covers it).
    const text = genuine.toString('latin1');
    writeFileSync(file, Buffer.from(text.replace('GENUINE', 'PLANTED'), 'latin1'));
    assert.equal(c.get(k), null, 'body changed');
    // A symlink to a genuine entry elsewhere: not followed.
    unlinkSync(file);
    writeFileSync(join(t.dir, 'elsewhere'), genuine, { mode: 0o600 });
    symlinkSync(join(t.dir, 'elsewhere'), file);
    assert.equal(c.get(k), null, 'a symlink is not followed');
    unlinkSync(file);
    writeFileSync(file, genuine, { mode: 0o600 });
    chmodSync(file, 0o666);
    assert.equal(c.get(k), null, 'an entry others can write is refused');
    chmodSync(file, 0o600);
    if (isRoot) {
      chownSync(file, NOBODY, NOBODY);
      assert.equal(c.get(k), null, 'an entry of another user is refused');
      chownSync(file, 0, 0);
    }
    assert.equal(c.get(k)!.body, 'GENUINE', 'and the genuine one still reads');
    assert.ok(c.refused >= 3);
  } finally {
    t.done();
  }
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
      // At least three passes, however little processor time this process gets: from the second on it reads its own entries.
      for (let pass = 0; Date.now() < end || pass < 3; pass++) {
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
