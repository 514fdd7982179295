/**
 * The name of jsftrace's one global binding (the static key,
 * shared/site-abi.ts): `$jsftrace_` and twelve random base-36 digits.
 *
 * Owns: the choice of that name. Invariants:
 * - it is no constant of jsftrace's that a program could name: it is drawn
 *   at random (a program can still learn it: among the global object's own
 *   names, where it is not enumerable, in the cache directory's file, or
 *   from Node's environment data under ENV_KEY);
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
import type { ThreadSettings } from './thread-settings.cjs';

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

/**
 * The name kept in the cache directory; why it cannot be used (a file
 * there that is not one this user made, or not a name); or null when the
 * cache is off or its directory fails its check (the cache says why).
 */
function cachedName(): { name: string } | { problem: string } | null {
  const env = (require('./thread-settings.cjs') as ThreadSettings).settingsEnv();
  const on = env['JSFTRACE_CACHE'];
  if (on === '0' || on === 'false' || on === 'off') return null;
  let cwd = '';
  try {
    cwd = process.cwd();
  } catch {
    // removed: below
  }
  if (cwd === '') {
    // A removed working directory (a worker's process.cwd() is then ''):
    // resolved as the transform cache does (working-dir.ts).
    const pwd = env['PWD'];
    cwd = pwd !== undefined && isAbsolute(pwd) ? pwd : parse(process.execPath).root;
  }
  // Required here, not above: a thread that inherits the name never loads it.
  const { chooseCacheDir, ownFileOnce, prepareCacheDir } = require('./cache-dir.cjs') as CacheDirs;
  const dir = prepareCacheDir(chooseCacheDir(env, cwd));
  if (!('real' in dir)) return null;
  const r = ownFileOnce(dir.real, FILE, () => Buffer.from(randomName()), (b) => (NAME.test(b.toString('latin1')) ? null : 'is not a binding name'));
  return 'bytes' in r ? { name: r.bytes.toString('latin1') } : { problem: `${r.problem}; remove it, and jsftrace makes another` };
}

/** What a thread hands on in its environment data: the name, and why the cache directory's could not be used. */
interface HandOn {
  name: string;
  problem: string | null;
}

function isHandOn(v: unknown): v is HandOn {
  if (typeof v !== 'object' || v === null) return false;
  const h = v as Partial<HandOn>;
  return typeof h.name === 'string' && NAME.test(h.name) && (h.problem === null || typeof h.problem === 'string');
}

let mine: HandOn | null = null;

/** This process's name and problem: inherited, kept in the cache directory, or drawn now. */
function handOn(): HandOn {
  if (mine !== null) return mine;
  const inherited = getEnvironmentData(ENV_KEY);
  if (isHandOn(inherited)) {
    mine = { name: inherited.name, problem: inherited.problem };
  } else {
    const kept = cachedName();
    mine = kept !== null && 'name' in kept ? { name: kept.name, problem: null } : { name: randomName(), problem: kept?.problem ?? null };
    setEnvironmentData(ENV_KEY, mine as never);
  }
  return mine;
}

function bindingName(): string {
  return handOn().name;
}

/**
 * Why the cache directory's name is not the one in use, or null: the
 * transform cache is then off (instrument/cache.ts), since its entries
 * would name a binding no later process has.
 */
function bindingProblem(): string | null {
  return handOn().problem;
}

/**
 * Makes `given` this thread's name, in a thread that runs no program code
 * and has no key of its own (the module hooks thread): the name of the
 * thread that registered the hooks, which its transforms must write.
 */
function adoptBindingName(given: string): void {
  if (!NAME.test(given)) throw new Error(`jsftrace: ${JSON.stringify(given)} is not a binding name`);
  mine = { name: given, problem: handOn().problem };
  setEnvironmentData(ENV_KEY, mine as never);
}

module.exports = { adoptBindingName, bindingName, bindingProblem, BINDING_PATTERN: NAME, ENV_KEY };

/** What the modules that require this one get. */
export interface BindingName {
  adoptBindingName: typeof adoptBindingName;
  bindingName: typeof bindingName;
  bindingProblem: typeof bindingProblem;
  BINDING_PATTERN: RegExp;
  ENV_KEY: string;
}
