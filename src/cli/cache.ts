/**
 * `jsftrace cache clear|path|stats`: the transformed-module cache from the
 * command line.
 *
 * Owns: the command's arguments and output. Invariant: it reads the cache
 * location exactly as a traced program started from the same directory with
 * the same environment would (JSFTRACE_CACHE_DIR, else $XDG_CACHE_HOME/jsftrace,
 * else ~/.cache/jsftrace, else the temp directory: shared/cache-dir.cts), so `path`
 * names the directory the program uses and `clear` empties it.
 */

import { cacheOptionsFromEnv, TransformCache } from '../instrument/cache.js';
import { createRequire } from 'node:module';
import type { CacheDirs } from '../shared/cache-dir.cjs';

const { cacheDirProblem, chooseCacheDir } = createRequire(import.meta.url)('../shared/cache-dir.cjs') as CacheDirs;

const USAGE = `usage: jsftrace cache <clear|path|stats> [--json]

  path    the cache directory a program started here would use (and, when
          it would refuse it, why)
  stats   entries, failed entries, bytes and the size bound
  clear   remove every cached entry (only in a directory of your own)

The default directory is $XDG_CACHE_HOME/jsftrace, else ~/.cache/jsftrace,
else <tmpdir>/jsftrace-cache-<uid>. Every directory on the way to it must
belong to you or root and be writable by no one else (a sticky /tmp is
fine); entries are signed with a key only you can read (<dir>/key).

Environment: JSFTRACE_CACHE_DIR (directory), JSFTRACE_CACHE_MAX (bound, e.g. 512m),
JSFTRACE_CACHE=0 (off).

Examples:
  jsftrace cache path
  JSFTRACE_CACHE_DIR=/var/cache/me jsftrace cache stats --json
`;

function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export function cacheCommand(argv: string[]): number {
  const [sub, ...rest] = argv;
  const json = rest.includes('--json');
  const unknown = rest.filter((a) => a !== '--json');
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    process.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (unknown.length > 0) {
    process.stderr.write(`jsftrace cache: unexpected argument "${unknown[0]}"\n${USAGE}`);
    return 2;
  }
  let opts;
  try {
    opts = cacheOptionsFromEnv();
  } catch (e) {
    process.stderr.write(`jsftrace cache: ${(e as Error).message}\n`);
    return 2;
  }
  // With the cache off, path/stats/clear still act on where it would be.
  const cache = new TransformCache(opts ?? { dir: chooseCacheDir(), maxBytes: 0 });
  switch (sub) {
    case 'path': {
      const problem = cacheDirProblem(cache.dir);
      if (json) process.stdout.write(`${JSON.stringify({ dir: cache.dir, enabled: opts !== null, problem })}\n`);
      else {
        process.stdout.write(`${cache.dir}\n`);
        if (problem !== null) process.stderr.write(`jsftrace cache: a program would not use it: ${problem}\n`);
      }
      return 0;
    }
    case 'stats': {
      const s = cache.stats();
      if (json) process.stdout.write(`${JSON.stringify({ ...s, enabled: opts !== null })}\n`);
      else {
        process.stdout.write(
          `dir: ${s.dir}${opts === null ? ' (cache off: JSFTRACE_CACHE=0)' : ''}\n`
          + `entries: ${s.entries} (${s.failedEntries} failed transforms)\n`
          + `size: ${mib(s.bytes)} of ${mib(s.maxBytes)}\n`,
        );
      }
      return 0;
    }
    case 'clear': {
      let n: number;
      try {
        n = cache.clear();
      } catch (e) {
        process.stderr.write(`jsftrace cache: ${(e as Error).message}\n`);
        return 1;
      }
      process.stdout.write(json ? `${JSON.stringify({ dir: cache.dir, removed: n })}\n` : `removed ${n} entries from ${cache.dir}\n`);
      return 0;
    }
    default:
      process.stderr.write(`jsftrace cache: unknown subcommand "${sub}"\n${USAGE}`);
      return 2;
  }
}
