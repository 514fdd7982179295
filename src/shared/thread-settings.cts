/**
 * jsftrace's settings as a thread reads them: the environment variables
 * that configure it (`JSFTRACE_*`, and `XDG_CACHE_HOME` for the cache's
 * place).
 *
 * Owns: what a worker knows of the settings of the thread that started it,
 * and what it gives back of the options its program gave it.
 * Invariants: a worker whose program gave it an environment of its own
 * (`new Worker(file, { env: {} })`) is configured as the thread that
 * started it, wherever that environment does not name a setting itself;
 * and when jsftrace had to put its flag into the worker's own `execArgv`
 * or environment to start there at all (instrument/hooks/propagate.ts),
 * the worker's `process.execArgv` and `process.env.NODE_OPTIONS` are the
 * program's again before the program's first line.
 *
 * Both travel in Node's environment data, of which every worker gets a copy
 * whatever its environment, and which a program reads only by key.
 */

const { getEnvironmentData, isMainThread, setEnvironmentData } = require('node:worker_threads') as typeof import('node:worker_threads');

/** This thread's settings, for the workers it starts. */
const SETTINGS_KEY = 'jsftrace.settings';
/** Set only while one Worker is constructed: what its program gave it (Given). */
const GIVEN_KEY = 'jsftrace.given';

/** What a worker's program gave it where jsftrace's flag went in front. */
interface Given {
  /** Its `execArgv`. */
  execArgv?: string[];
  /** Its environment's NODE_OPTIONS; null: it had none. */
  nodeOptions?: string | null;
}

function isSetting(name: string): boolean {
  return name.startsWith('JSFTRACE_') || name === 'XDG_CACHE_HOME';
}

let view: NodeJS.ProcessEnv | undefined;

/**
 * The environment this thread's settings are read from. The main thread's
 * is `process.env` itself; so is a worker's that names every setting its
 * starter had (the default, where Node copies the starter's environment).
 * Otherwise a copy of the worker's own, with the starter's settings where
 * it names none, taken once: jsftrace reads its settings at its start.
 * Writes (NODE_OPTIONS for children) go to `process.env`, not to this.
 */
function settingsEnv(): NodeJS.ProcessEnv {
  if (view !== undefined) return view;
  const own = process.env;
  let env = own;
  const inherited = isMainThread ? undefined : getEnvironmentData(SETTINGS_KEY) as Record<string, unknown> | undefined;
  if (inherited !== null && typeof inherited === 'object') {
    for (const name of Object.keys(inherited)) {
      const value = inherited[name];
      if (!isSetting(name) || typeof value !== 'string' || own[name] !== undefined) continue;
      if (env === own) env = { ...own };
      env[name] = value;
    }
  }
  view = env;
  const mine: Record<string, string> = {};
  for (const name of Object.keys(env)) {
    const value = env[name];
    if (isSetting(name) && value !== undefined) mine[name] = value;
  }
  setEnvironmentData(SETTINGS_KEY, mine as never);
  return env;
}

/**
 * Hands the worker about to be constructed what its program gave where
 * jsftrace's flag went in (undefined: nothing; it gives back nothing), for
 * it to give back (giveBackOptions). Only that worker gets it: Node copies
 * the environment data when it constructs one. Returns what puts back the
 * entry as it was: a worker constructed while another is (a getter of the
 * other's `workerData`) must not take the other's, nor clear it.
 */
function giveToNext(given: Given | undefined): () => void {
  const before = getEnvironmentData(GIVEN_KEY);
  setEnvironmentData(GIVEN_KEY, given as never);
  return () => {
    setEnvironmentData(GIVEN_KEY, before as never);
  };
}

/**
 * Puts the settings this thread took from its starter (settingsEnv) into
 * its `process.env`, for the child processes it starts: with
 * JSFTRACE_CHILDREN=1 they follow through the environment, as they do from
 * the main thread.
 */
function settingsIntoEnvironment(): void {
  const env = settingsEnv();
  if (env === process.env) return;
  for (const name of Object.keys(env)) {
    if (isSetting(name) && process.env[name] === undefined && env[name] !== undefined) process.env[name] = env[name];
  }
}

/**
 * At a worker's start, before anything of its program's: its `execArgv` and
 * its environment's NODE_OPTIONS as its program gave them. The entry is
 * dropped, so that the workers this one starts do not take it. (Node keeps
 * the flag in the list it passes on to them: they start with jsftrace.)
 */
function giveBackOptions(): void {
  if (isMainThread) return;
  const given = getEnvironmentData(GIVEN_KEY) as Given | undefined;
  if (given === undefined) return;
  setEnvironmentData(GIVEN_KEY, undefined as never);
  if (Array.isArray(given.execArgv)) process.execArgv.splice(0, process.execArgv.length, ...given.execArgv);
  if (typeof given.nodeOptions === 'string') process.env['NODE_OPTIONS'] = given.nodeOptions;
  else if (given.nodeOptions === null) delete process.env['NODE_OPTIONS'];
}

module.exports = { settingsEnv, settingsIntoEnvironment, giveToNext, giveBackOptions };

export interface ThreadSettings {
  settingsEnv: typeof settingsEnv;
  giveToNext: typeof giveToNext;
  settingsIntoEnvironment: typeof settingsIntoEnvironment;
  giveBackOptions: typeof giveBackOptions;
}
