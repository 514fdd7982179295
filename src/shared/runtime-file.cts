/**
 * Loading jsftrace's runtime files (dist/src/jsftrace.cjs and
 * jsftrace-later.cjs; docs/design.md "One file").
 *
 * Owns: the one way those files are loaded. Invariant: each is compiled as
 * Node's own CommonJS loader compiles a `.cjs` file, into the require cache
 * under its path, but past the extension handlers a program's require hook
 * replaces (tsx, pirates, ts-node: `Module._extensions`): such a hook would
 * transpile a megabyte of jsftrace's code at every start (about a second
 * with `-r tsx/cjs` ahead of jsftrace) and see it as the program's.
 * `Module.prototype._compile` is taken as it is when this file first loads:
 * at jsftrace's preload, before jsftrace puts its own in place.
 * Also owns turning Node's compile cache on before the first file compiles,
 * at a start (startCompileCache), and keeping jsftrace's files out of the
 * program's view of the require cache (hideOwnEntries).
 */

import type { Module as NodeModule } from 'node:module';

import type { CacheDirs } from './cache-dir.cjs';
import type { ThreadSettings } from './thread-settings.cjs';

interface ModuleInternals {
  new (id: string, parent?: unknown): NodeModule & { filename: string; paths: string[]; loaded: boolean; _compile(content: string, filename: string, format?: string): unknown };
  _cache: Record<string, NodeModule | undefined>;
  _nodeModulePaths(dir: string): string[];
  enableCompileCache?: (dir: string) => unknown;
  prototype: { _compile(content: string, filename: string): unknown };
}

const Module = require('node:module') as ModuleInternals;
const { readFileSync } = require('node:fs') as typeof import('node:fs');
const { dirname, join, sep } = require('node:path') as typeof import('node:path');
const compile = Module.prototype._compile;
// Taken now, at jsftrace's preload: hideOwnEntries runs again later, when
// the program may have replaced them.
const { defineProperty, getOwnPropertyDescriptor, keys } = Object;
const startsWith = Function.prototype.call.bind(String.prototype.startsWith) as (s: string, prefix: string) => boolean;
/** dist/src/, where every file of jsftrace's that runs in the program's threads lies. */
const ownDir = join(__dirname, '..') + sep;

/** The exports of the runtime file `name` beside dist/src/ (`jsftrace.cjs`, `jsftrace-later.cjs`). */
function requireRuntime(name: string): unknown {
  const file = join(__dirname, '..', name);
  const cached = Module._cache[file];
  if (cached !== undefined) return cached.exports;
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(dirname(file));
  Module._cache[file] = m;
  try {
    // No third argument: it is the format on Node 22.3 and later, a flag
    // that loads the text as an ES module on 20.17 to 22.2; without it
    // every line compiles a file of CommonJS as CommonJS.
    compile.call(m, readFileSync(file, 'utf8'), file);
  } catch (e) {
    delete Module._cache[file];
    throw e;
  }
  m.loaded = true;
  hideOwnEntries();
  return m.exports;
}

/**
 * Makes the require cache's entries of jsftrace's files (the preload, these
 * loaders, the runtime files, the small CommonJS files they require) not
 * enumerable: `Object.keys(require.cache)` and `for...in` list the
 * program's modules only, as without jsftrace, and a program that clears
 * its cache by those keys (a watcher, `decache`, `clear-module`) leaves
 * jsftrace's alone. Lookups by path still find them: a second `require` of
 * one is the same instance, and an assignment by Node's loader keeps the
 * property as it is. `Object.getOwnPropertyNames` still lists them.
 */
function hideOwnEntries(): void {
  const cache = Module._cache;
  for (const key of keys(cache)) {
    if (!startsWith(key, ownDir)) continue;
    const d = getOwnPropertyDescriptor(cache, key);
    if (d === undefined || d.configurable !== true || !('value' in d)) continue;
    defineProperty(cache, key, { value: d.value, writable: true, enumerable: false, configurable: true });
  }
}

/**
 * At a start (register), turns on Node's compile cache (Node 22.1 and
 * later) where the start would a moment later (instrument/load.ts,
 * enableCompileCache: the same directory, checked the same way; only the
 * transform cache's key is not looked at: shared/cache-dir.cts,
 * compileCacheDir), but before the runtime files compile, so that they are
 * compiled from it too: V8 otherwise parses the first file's 0.55 MB at
 * every start. Not for an attach: a plain process keeps Node's compile
 * cache as it was.
 */
function startCompileCache(): void {
  if (typeof Module.enableCompileCache !== 'function') return;
  let dir: string | null;
  try {
    // process.cwd() throws where the directory was deleted: the start
    // proper reports what it makes of that, not this shortcut.
    const cwd = process.cwd();
    // (In a worker there, '': the same.)
    if (cwd === '') return;
    dir = (require('./cache-dir.cjs') as CacheDirs).compileCacheDir((require('./thread-settings.cjs') as ThreadSettings).settingsEnv(), cwd);
  } catch {
    return;
  }
  if (dir !== null) Module.enableCompileCache(dir);
}

module.exports = { requireRuntime, startCompileCache, hideOwnEntries };
