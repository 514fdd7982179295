/**
 * Following the program into worker threads and child processes.
 *
 * Owns: the flag that starts jsftrace in another thread or process, and the
 * two places that pass it on. Invariant: a thread or process started by the
 * program loads jsftrace before its own code, with the same entry
 * (`--import` or `--require`) as this one, and never loads it twice.
 *
 * Workers inherit `process.execArgv` unless the program passes `execArgv`;
 * then Node gives the worker exactly that list. And a worker given an
 * environment of its own (`env: {}`) takes its NODE_OPTIONS from that
 * environment, not from the process's. So that such workers are traced
 * too, the Worker class of `node:worker_threads` is replaced by a Proxy of
 * it whose construct trap adds our flag to an explicit `execArgv` that
 * lacks it, or else, where neither the inherited execArgv nor the given
 * environment's NODE_OPTIONS names it (`jsftrace record` passes it by
 * NODE_OPTIONS), to that NODE_OPTIONS, which the worker then sets back as
 * given (shared/thread-settings.cts). The Proxy keeps the class's identity
 * for `instanceof`, `prototype`, statics and subclassing. JSFTRACE_WORKERS=0
 * leaves Worker alone; so do options carrying UNTRACED_WORKER (jsftrace's
 * own workers, which must not trace themselves). Children are followed only when asked (JSFTRACE_CHILDREN=1):
 * NODE_OPTIONS gets the flag, so every Node child that inherits the
 * environment loads jsftrace (`fork` already passes execArgv on).
 */

import module from 'node:module';
import * as wt from 'node:worker_threads';
import { masquerade } from '../original/source-text.js';
import { withoutOwnFrames } from './own-frames.js';
import { oneFrameMore } from '../../shared/builtins.js';
import { requireOwnCjs } from '../../shared/own-cjs.js';
import type { ThreadSettings } from '../../shared/thread-settings.cjs';

const { giveToNext } = requireOwnCjs<ThreadSettings>('./thread-settings.cjs');
type ThreadGiven = NonNullable<Parameters<ThreadSettings['giveToNext']>[0]>;

const PATCHED = Symbol.for('jsftrace.workerProxy');
/** In a Worker's options: start it as given, without jsftrace (the OTLP export worker). */
export const UNTRACED_WORKER = Symbol.for('jsftrace.untracedWorker');

/** The flag as execArgv words, for `--import <url>` or `--require <path>`. */
export interface EntryFlag {
  readonly words: readonly string[];
  /** Substring by which an execArgv or NODE_OPTIONS already names our entry. */
  readonly marks: readonly string[];
}

function mentions(list: readonly string[], flag: EntryFlag): boolean {
  return list.some((w) => flag.marks.some((m) => w.includes(m)));
}

function quote(word: string): string {
  return /[\s"\\]/.test(word) ? `"${word.replace(/["\\]/g, (c) => `\\${c}`)}"` : word;
}

/** NODE_OPTIONS with the flag in front of `current`'s options. */
function withFlag(flag: EntryFlag, current: string): string {
  return [...flag.words.map(quote), current].filter((s) => s !== '').join(' ');
}

interface WorkerOptions {
  execArgv?: unknown;
  env?: unknown;
  eval?: unknown;
}

/**
 * The options that start the worker with jsftrace, and what the program
 * gave where the flag went in (undefined: the options are as given). The
 * options made are the program's object as prototype, with our `execArgv`
 * or `env` over it: Node reads them by property, inherited ones included.
 */
function optionsWithFlag(opts: WorkerOptions, flag: EntryFlag): { opts: WorkerOptions; given?: ThreadGiven } {
  if ((opts as Record<symbol, unknown>)[UNTRACED_WORKER] === true) return { opts };
  // Node runs no --import preload in an `eval: true` worker.
  if (Boolean(opts.eval) && flag.words.some((w) => w.startsWith('--import'))) return { opts };
  const over = (key: 'execArgv' | 'env', value: unknown): WorkerOptions =>
    Object.create(opts, { [key]: { value, writable: true, enumerable: true, configurable: true } }) as WorkerOptions;
  const execArgv = opts.execArgv;
  if (Array.isArray(execArgv)) {
    // Anything but strings is Node's to refuse, as without jsftrace.
    if (!execArgv.every((w): w is string => typeof w === 'string') || mentions(execArgv, flag)) return { opts };
    return { opts: over('execArgv', [...flag.words, ...execArgv]), given: { execArgv } };
  }
  const env = opts.env;
  // SHARE_ENV (a symbol) and no env: the process's NODE_OPTIONS, as the main thread's.
  if (env === null || typeof env !== 'object' || mentions(process.execArgv, flag)) return { opts };
  // Copied once, as Node copies it (its own enumerable string keys, in
  // order, each getter called once); Node then copies the copy.
  const entries = Object.entries(env as Record<string, unknown>);
  const at = entries.findIndex(([k]) => k === 'NODE_OPTIONS');
  const given = at < 0 ? null : `${entries[at]![1] as string}`;
  if (given !== null && flag.marks.some((m) => given.includes(m))) return { opts };
  const copy: Record<string, unknown> = {};
  for (const [k, v] of entries) copy[k] = v;
  copy['NODE_OPTIONS'] = withFlag(flag, given ?? '');
  return { opts: over('env', copy), given: { nodeOptions: given } };
}

export function followWorkers(flag: EntryFlag): boolean {
  const holder = wt as unknown as { Worker: typeof wt.Worker };
  // The namespace object of a builtin is frozen; its CommonJS exports object
  // is not, and syncBuiltinESMExports copies it to the ES module's bindings.
  const cjs = module.createRequire(import.meta.url)('node:worker_threads') as { Worker: typeof wt.Worker };
  const Original = cjs.Worker;
  if ((Original as unknown as Record<symbol, unknown>)[PATCHED] === true) return true;
  const proxy = new Proxy(Original, {
    construct(target, args, newTarget) {
      // What Node throws at once (a bad path, option or environment, no
      // permission) shows no frame of this trap, and as many of the program's.
      let putBack: (() => void) | null = null;
      let restore: (() => void) | null = null;
      try {
        const opts = args[1] as WorkerOptions | null | undefined;
        const started = opts === null || typeof opts !== 'object' ? null : optionsWithFlag(opts, flag);
        if (started !== null) args = [args[0], started.opts, ...args.slice(2)];
        putBack = oneFrameMore();
        restore = giveToNext(started?.given);
        return Reflect.construct(target, args, newTarget) as object;
      } catch (e) {
        throw withoutOwnFrames(e);
      } finally {
        restore?.();
        putBack?.();
      }
    },
    get(target, key, receiver) {
      if (key === PATCHED) return true;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  // Its text is the class's (a Proxy's own is `function () { [native code] }`).
  masquerade(proxy, Original);
  // Instances' `constructor` is then the class the program sees.
  Object.defineProperty(Original.prototype, 'constructor', { value: proxy, writable: true, configurable: true, enumerable: false });
  cjs.Worker = proxy;
  module.syncBuiltinESMExports();
  return holder.Worker === proxy;
}

/**
 * Puts the flag into NODE_OPTIONS for the processes this one starts, ahead
 * of the options already there: a `--require` preload of the user's then
 * runs after jsftrace's start, which would otherwise have to hold the main
 * module (docs/instrumentation.md), and is instrumented like the program.
 */
export function followChildren(flag: EntryFlag, env: NodeJS.ProcessEnv = process.env): void {
  const current = env['NODE_OPTIONS'] ?? '';
  if (flag.marks.some((m) => current.includes(m))) return;
  env['NODE_OPTIONS'] = withFlag(flag, current);
}
