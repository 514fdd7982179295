/**
 * Work done when this thread's process object says the thread or process
 * ends ('beforeExit', 'exit'), without a listener the program could see.
 *
 * Owns: the one wrapper of this thread's `process.emit`, and where a
 * wrapper of it goes (setProcessEmit); through it, the moment Node reports
 * an uncaught exception (atFatal). Invariants: the
 * program's own listeners run first and exactly as without us
 * (`process.listeners('exit')`, `listenerCount`, `eventNames` and the
 * MaxListeners warning are untouched, and the process's own keys too); our hooks run after them, each once
 * per emission, each isolated (a hook that throws is reported on stderr and
 * the others still run); a listener of the program that throws still throws.
 *
 * Why `emit`: Node ends a process or a worker by calling `process.emit`
 * ('exit' from process.exit, from the end of the event loop and from a
 * fatal exception), so wrapping it sees every end, as tools such as
 * signal-exit do; a listener would be counted among the program's.
 *
 * The last step (atLast) runs once, after every hook, and only at a real
 * end (Node marks the process as exiting first; a program's own
 * `process.emit('exit')` is not one). The wrapper and the step's tail are
 * compiled as scripts named by no file, strict as the module was: what
 * runs after the tail is no code of a jsftrace file (V8's coverage lists
 * what ran after its last take: original/coverage-files.ts).
 */

import { EventEmitter } from 'node:events';
import vm from 'node:vm';
import { oneFrameMore, ReflectApply } from './builtins.js';

type Hook = (code: number) => void;
/** The last step: runs after every hook at 'exit'; may return its tail (see atLast). */
type LastStep = (code: number) => (() => void) | void;

const hooks: Record<'exit' | 'beforeExit', Hook[]> = { exit: [], beforeExit: [] };

/**
 * What to do when Node is about to report an uncaught exception (atFatal):
 * called as it is seen, it returns what to do at the report, if anything.
 */
type FatalHook = (error: unknown, fromPromise: boolean) => (() => void) | null;
const fatalHooks: FatalHook[] = [];

/**
 * An uncaught exception on its way to Node's report: Node emits
 * 'uncaughtException' (its listeners may handle it), then, when they did
 * not and the process was not exiting yet, 'exit', then prints the
 * exception. `seen` runs at the first, `report` at the last of those.
 */
const fatal = {
  reports: null as (() => void)[] | null,
  seen(error: unknown, fromPromise: boolean): void {
    const reports: (() => void)[] = [];
    for (const h of fatalHooks) {
      try {
        const r = h(error, fromPromise);
        if (r !== null) reports.push(r);
      } catch {
        // the report is Node's; nothing of ours may stand in its way
      }
    }
    fatal.reports = reports;
  },
  report(): void {
    const reports = fatal.reports;
    fatal.reports = null;
    for (const r of reports ?? []) {
      try {
        r();
      } catch {
        // as above
      }
    }
  },
};

const last: { step: LastStep | null } = { step: null };
let wrapped = false;

function run(type: 'exit' | 'beforeExit', code: number): void {
  for (const h of hooks[type].slice()) {
    try {
      h(code);
    } catch (e) {
      try {
        process.stderr.write(`jsftrace: at exit: ${(e as Error)?.message ?? String(e)}\n`);
      } catch {
        // nothing left to report with
      }
    }
  }
}

/**
 * The wrapper's text. It is compiled as a script of its own, named by no
 * file: what it runs after the last step's tail is then no code of a
 * jsftrace file, which V8's coverage (coverage-files.ts) would list after
 * its last take. `run` and the last step are jsftrace's functions; the
 * tail is compiled the same way by its owner.
 */
const WRAPPER = `(function (emit, apply, run, last, proc, fatal, oneFrameMore) {
  'use strict';
  return { emit(type, ...args) {
    if (type !== 'exit' && type !== 'beforeExit') {
      const putBack = oneFrameMore();
      if (type !== 'uncaughtException') try { return apply(emit, this, [type, ...args]) } finally { putBack() }
      const exiting = proc._exiting === true;
      let handled;
      try { handled = apply(emit, this, [type, ...args]) } finally { putBack() }
      if (!handled) {
        fatal.seen(args[0], args[1] === 'unhandledRejection');
        if (exiting) fatal.report();
      }
      return handled;
    }
    const putBack = oneFrameMore();
    try {
      return apply(emit, this, [type, ...args]);
    } finally {
      putBack();
      const code = typeof args[0] === 'number' ? args[0] : Number(proc.exitCode ?? 0);
      run(type, code);
      // Node's own 'exit' of an uncaught exception: code 1, exiting.
      if (type === 'exit' && proc._exiting === true && code === 1) fatal.report();
      else fatal.reports = null;
      const step = type === 'exit' && proc._exiting === true ? last.step : null;
      if (step !== null) {
        last.step = null;
        let tail;
        try { tail = step(code); } catch {}
        if (typeof tail === 'function') try { tail(); } catch {}
      }
    }
  } }.emit;
})`;

/** The name V8 gives the wrapper's script (not a file's URL, so coverage tools pass it by). */
export const EXIT_SCRIPT = 'jsftrace:exit-hooks';

function wrap(): void {
  if (wrapped) return;
  wrapped = true;
  const emit = process.emit;
  const make = vm.runInThisContext(WRAPPER, { filename: EXIT_SCRIPT }) as (
    emit: unknown, apply: typeof Reflect.apply, run: (type: 'exit' | 'beforeExit', code: number) => void, last: { step: LastStep | null }, proc: NodeJS.Process,
    f: typeof fatal, more: typeof oneFrameMore,
  ) => NodeJS.Process['emit'];
  // The wrapper's frame is left out of stack traces (original/call-sites.ts):
  // the program's listeners get one frame more, so their stacks are as long as without us.
  const wrappedEmit = make(emit, ReflectApply, run, last, process, fatal, oneFrameMore);
  Object.defineProperty(wrappedEmit, 'length', { value: emit.length });
  setProcessEmit(wrappedEmit);
}

/**
 * Puts a wrapper of `process.emit` in place where the program does not
 * see it among the process's own keys: on the object between the process
 * and EventEmitter.prototype (whose own key is `constructor` alone), with
 * the descriptor EventEmitter's `emit` has. A process that has an `emit`
 * of its own already (a wrapper the program, or signal-exit, put there)
 * has it replaced, as the wrapper found it.
 */
export function setProcessEmit(fn: NodeJS.Process['emit']): void {
  const proto = Object.getPrototypeOf(process) as object | null;
  if (Object.prototype.hasOwnProperty.call(process, 'emit') || proto === null || proto === EventEmitter.prototype) {
    (process as { emit: unknown }).emit = fn;
    return;
  }
  const d = Object.getOwnPropertyDescriptor(EventEmitter.prototype, 'emit');
  Object.defineProperty(proto, 'emit', { value: fn, writable: true, enumerable: d?.enumerable ?? false, configurable: true });
}

function add(list: Hook[], fn: Hook): () => void {
  wrap();
  list.push(fn);
  return () => {
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  };
}

/** Runs `fn` when this thread's process emits 'exit' (the thread or process ends); returns its removal. */
export function atExit(fn: Hook): () => void {
  return add(hooks.exit, fn);
}

/** Runs `fn` when this thread's process emits 'beforeExit' (the event loop emptied); returns its removal. */
export function beforeExit(fn: Hook): () => void {
  return add(hooks.beforeExit, fn);
}

/**
 * Calls `fn` when no 'uncaughtException' listener handled an uncaught
 * exception (`fromPromise`: a rejection no handler took), and what it
 * returns when Node is about to print the exception: after the program's
 * and our 'exit' listeners, where Node emits 'exit' first. Not when a
 * program's listener ends the process first.
 */
export function atFatal(fn: FatalHook): void {
  wrap();
  fatalHooks.push(fn);
}

/**
 * Runs `step` at the thread's real end, after every hook, once: the last
 * JavaScript of jsftrace's files in this thread. The function it returns,
 * if any (its tail, compiled by its owner as a script named by no file),
 * runs after it. One step per thread: a second replaces the first.
 */
export function atLast(step: LastStep): void {
  wrap();
  last.step = step;
}
