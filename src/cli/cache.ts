/**
 * `jsftrace cache clear|path|stats`: the transformed-module cache from the
 * command line.
 *
 * Owns: the command's arguments and output. Invariant: it reads the cache
 * location exactly as a traced program started from the same directory with
 * the same environment would (JSFTRACE_CACHE_DIR, else node_modules/.cache
 * from the cwd up, else the temp directory), so `path` names the directory
 * the program uses and `clear` empties it.
 */

import { cacheOptionsFromEnv, defaultCacheDir, TransformCache } from '../instrument/cache.js';

const USAGE = `usage: jsftrace cache <clear|path|stats> [--json]

  path    the cache directory a program started here would use
  stats   entries, failed entries, bytes and the size bound
  clear   remove every cached entry

Environment: JSFTRACE_CACHE_DIR (directory), JSFTRACE_CACHE_MAX (bound, e.g. 512m),
JSFTRACE_CACHE=0 (off).
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
  const cache = new TransformCache(opts ?? { dir: defaultCacheDir(), maxBytes: 0 });
  switch (sub) {
    case 'path':
      process.stdout.write(json ? `${JSON.stringify({ dir: cache.dir, enabled: opts !== null })}\n` : `${cache.dir}\n`);
      return 0;
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
      const n = cache.clear();
      process.stdout.write(json ? `${JSON.stringify({ dir: cache.dir, removed: n })}\n` : `removed ${n} entries from ${cache.dir}\n`);
      return 0;
    }
    default:
      process.stderr.write(`jsftrace cache: unknown subcommand "${sub}"\n${USAGE}`);
      return 2;
  }
}
