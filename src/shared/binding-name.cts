/**
 * The name of jsftrace's one global binding (the static key,
 * shared/site-abi.ts): `$jsftrace_` and twelve random base-36 digits.
 *
 * Owns: the choice of that name. Invariants:
 * - no program can know it in advance: it is drawn at random, never a
 *   constant of jsftrace's (a program may still find it among the global
 *   object's own names; it is not enumerable);
 * - every thread of a process uses the same name, whatever it does to its
 *   environment: the first thread that starts jsftrace puts the name in
 *   Node's environment data, which every thread it then starts inherits;
 *   Node's module hooks thread (Node 20, where it transforms) may have been
 *   started before, by a loader of the program's: it is handed the name
 *   with its settings and adopts it (adoptBindingName) before it
 *   transforms anything;
 * - code in the transform cache names the binding of the processes that
 *   read it: with the cache on, the name is drawn once per cache directory
 *   and kept there (`<dir>/binding`, made as the cache's key is); with it
 *   off, once per process;
 * - it is checked against its pattern wherever it comes from, since it is
 *   written into the code of every module.
 */

import type { CacheDirs } from './cache-dir.cjs';

const { getEnvironmentData, setEnvironmentData } = require('node:worker_threads') as typeof import('node:worker_threads');
const { isAbsolute, parse } = require('node:path') as typeof import('node:path');

/** The environment data key the name is handed on under (not a global: only a thread that asks by this key sees it). */
const ENV_KEY = 'jsftrace.binding';
const PREFIX = '$jsftrace_';
const DIGITS = 12;
const NAME = /^\$jsftrace_[0-9a-z]{12}$/;
/** The file in the cache directory. */
const FILE = 'binding';

function randomName(): string {
  const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
  // 128 random bits in base 36 (25 digits), of which the last twelve.
  return PREFIX + BigInt(`0x${randomBytes(16).toString('hex')}`).toString(36).padStart(25, '0').slice(-DIGITS);
}

/** The name kept in the cache directory, or null when the cache is off or that directory cannot hold it. */
function cachedName(): string | null {
  const env = process.env;
  const on = env['JSFTRACE_CACHE'];
  if (on === '0' || on === 'false' || on === 'off') return null;
  let cwd: string;
  try {
    cwd = process.cwd();
  } catch {
    // A removed working directory: resolved as the transform cache does (working-dir.ts).
    const pwd = env['PWD'];
    cwd = pwd !== undefined && isAbsolute(pwd) ? pwd : parse(process.execPath).root;
  }
  // Required here, not above: a thread that inherits the name never loads it.
  const { chooseCacheDir, ownFileOnce, prepareCacheDir } = require('./cache-dir.cjs') as CacheDirs;
  const dir = prepareCacheDir(chooseCacheDir(env, cwd));
  if (!('real' in dir)) return null;
  const r = ownFileOnce(dir.real, FILE, () => Buffer.from(randomName()), (b) => (NAME.test(b.toString('latin1')) ? null : 'is not a binding name'));
  return 'bytes' in r ? r.bytes.toString('latin1') : null;
}

let name: string | null = null;

/** This process's name for the binding: inherited, kept in the cache directory, or drawn now. */
function bindingName(): string {
  if (name !== null) return name;
  const inherited = getEnvironmentData(ENV_KEY);
  if (typeof inherited === 'string' && NAME.test(inherited)) {
    name = inherited;
  } else {
    name = cachedName() ?? randomName();
    setEnvironmentData(ENV_KEY, name);
  }
  return name;
}

/**
 * Makes `given` this thread's name, in a thread that runs no program code
 * and has no key of its own (the module hooks thread): the name of the
 * thread that registered the hooks, which its transforms must write.
 */
function adoptBindingName(given: string): void {
  if (!NAME.test(given)) throw new Error(`jsftrace: ${JSON.stringify(given)} is not a binding name`);
  name = given;
  setEnvironmentData(ENV_KEY, name);
}

module.exports = { adoptBindingName, bindingName, BINDING_PATTERN: NAME, ENV_KEY };

/** What the modules that require this one get. */
export interface BindingName {
  adoptBindingName: typeof adoptBindingName;
  bindingName: typeof bindingName;
  BINDING_PATTERN: RegExp;
  ENV_KEY: string;
}
