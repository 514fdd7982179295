/**
 * Following the program into worker threads and child processes.
 *
 * Owns: the flag that starts jsftrace in another thread or process, and the
 * two places that pass it on. Invariant: a thread or process started by the
 * program loads jsftrace before its own code, with the same entry
 * (`--import` or `--require`) as this one, and never loads it twice.
 *
 * Workers inherit `process.execArgv` unless the program passes `execArgv`;
 * then Node gives the worker exactly that list. So that such workers are
 * traced too, the Worker class of `node:worker_threads` is replaced by a
 * Proxy of it whose construct trap adds our flag to an explicit `execArgv`
 * that lacks it (the Proxy keeps the class's identity for `instanceof`,
 * `prototype`, statics and subclassing). JSFTRACE_WORKERS=0 leaves Worker
 * alone; so do options carrying UNTRACED_WORKER (jsftrace's own workers,
 * which must not trace themselves). Children are followed only when asked (JSFTRACE_CHILDREN=1):
 * NODE_OPTIONS gets the flag, so every Node child that inherits the
 * environment loads jsftrace (`fork` already passes execArgv on).
 */

import module from 'node:module';
import * as wt from 'node:worker_threads';
import { masquerade } from '../original/source-text.js';

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

export function followWorkers(flag: EntryFlag): boolean {
  const holder = wt as unknown as { Worker: typeof wt.Worker };
  // The namespace object of a builtin is frozen; its CommonJS exports object
  // is not, and syncBuiltinESMExports copies it to the ES module's bindings.
  const cjs = module.createRequire(import.meta.url)('node:worker_threads') as { Worker: typeof wt.Worker };
  const Original = cjs.Worker;
  if ((Original as unknown as Record<symbol, unknown>)[PATCHED] === true) return true;
  const proxy = new Proxy(Original, {
    construct(target, args, newTarget) {
      const opts = args[1] as { execArgv?: unknown } | undefined;
      if (opts !== null && typeof opts === 'object' && Array.isArray(opts.execArgv) && !mentions(opts.execArgv, flag)
        && (opts as Record<symbol, unknown>)[UNTRACED_WORKER] !== true) {
        args = [args[0], { ...opts, execArgv: [...flag.words, ...opts.execArgv] }, ...args.slice(2)];
      }
      return Reflect.construct(target, args, newTarget) as object;
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

function quote(word: string): string {
  return /[\s"\\]/.test(word) ? `"${word.replace(/["\\]/g, (c) => `\\${c}`)}"` : word;
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
  env['NODE_OPTIONS'] = [...flag.words.map(quote), current].filter((s) => s !== '').join(' ');
}
