/**
 * Where a recorded process's end is seen without the program seeing
 * jsftrace: its exit (natural, process.exit) and the signals that would
 * end it (SIGINT, SIGTERM, SIGHUP) when the program does not handle them.
 *
 * Owns: `process.emit` and `process.kill` of the main thread (each
 * replaced once, by a function named as the original that calls it).
 * Invariants:
 * - the program sees no listener of ours: `process.listeners`,
 *   `listenerCount`, `eventNames` and the MaxListeners count are what they
 *   would be without jsftrace. A signal watcher is started by adding a
 *   listener and removing it at once; the removal's event is kept from
 *   Node (which would stop the watcher) and from the program;
 * - `onExit` runs after the program's own 'exit' listeners (they may
 *   still make traced calls), once;
 * - a signal the program does not handle ends the process as it would
 *   have without jsftrace, by the same signal (a shell sees 128 + its
 *   number), after `onSignal` has run: the watcher is stopped, the default
 *   action restored, and the signal raised again. A signal the program
 *   handles goes to the program's handlers alone;
 * - a program that sends itself such a signal (process.kill of its own
 *   pid) dies of it at once, as without jsftrace, after `onSignal`: a
 *   signal caught just as the event loop empties would otherwise be
 *   dropped with the loop;
 * - when the program removes its last handler of a signal, the watcher
 *   is started again.
 * Limit: a signal sent to a program whose main thread is busy in a
 * synchronous loop is handled when the loop yields (a caught signal is
 * delivered through the event loop); docs/tracers.md says so.
 */

import { constants } from 'node:os';
import { ownField, setOwnField } from '../core/index.js';
import { setProcessEmit } from '../shared/exit-hooks.js';
import { AtomicsWait, oneFrameMore } from '../shared/builtins.js';

export const ENDING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type EndingSignal = (typeof ENDING_SIGNALS)[number];

export interface EndHooks {
  onExit(code: number): void;
  onSignal(signal: EndingSignal): void;
}

function isEnding(ev: unknown): ev is EndingSignal {
  return ev === 'SIGINT' || ev === 'SIGTERM' || ev === 'SIGHUP';
}

function signalOf(sig: unknown): EndingSignal | null {
  if (isEnding(sig)) return sig;
  if (sig === undefined) return 'SIGTERM';
  if (typeof sig === 'number') {
    for (const s of ENDING_SIGNALS) if (constants.signals[s] === sig) return s;
  }
  return null;
}

/** Installs the hooks in the main thread; a second call does nothing. */
export function installEndHooks(hooks: EndHooks): void {
  const p = process;
  if (ownField('endHooks') === true) return;
  setOwnField('endHooks', true);
  type Emit = (this: unknown, ev: string | symbol, ...args: unknown[]) => boolean;
  const realEmit = p.emit as unknown as Emit;
  const realKill = p.kill as unknown as (this: unknown, pid: number, signal?: string | number) => boolean;
  let exited = false;
  let ending = false;
  // The listener that starts a watcher; never left in place.
  const arm = (): void => undefined;

  const watch = (sig: EndingSignal): void => {
    p.on(sig, arm);
    p.removeListener(sig, arm);
  };

  /** Runs onSignal, then ends the process by `sig` with its default action. */
  const die = (sig: EndingSignal): void => {
    if (!ending) {
      ending = true;
      try {
        hooks.onSignal(sig);
      } finally {
        // Node stops the watcher when it hears that the last listener went.
        realEmit.call(p, 'removeListener', sig, arm);
        realKill.call(p, p.pid, sig);
        // The signal is on its way; the process must not run on meanwhile.
        AtomicsWait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
      }
    }
  };

  // Bindings named apart from the functions: a bundler renames a function
  // expression that has its binding's name (and its name is what the
  // program sees: process.emit.name).
  const emitWrapper = function emit(this: NodeJS.Process, ev: string | symbol, ...args: unknown[]): boolean {
    if (ev === 'removeListener' && args[1] === arm) return false;
    if (ev === 'newListener' && args[1] === arm) return realEmit.call(this, ev, ...args);
    // This frame is left out of stack traces: the listeners get one more.
    const putBack = oneFrameMore();
    if (ev === 'exit') {
      try {
        return realEmit.call(this, ev, ...args);
      } finally {
        putBack();
        if (!exited) {
          exited = true;
          hooks.onExit(typeof args[0] === 'number' ? args[0] : (process.exitCode as number | undefined) ?? 0);
        }
      }
    }
    let r: boolean;
    try {
      if (isEnding(ev) && this.listenerCount(ev) === 0) {
        die(ev);
        return false;
      }
      r = realEmit.call(this, ev, ...args);
    } finally {
      putBack();
    }
    if (ev === 'removeListener' && isEnding(args[0]) && this.listenerCount(args[0]) === 0) watch(args[0]);
    return r;
  };
  Object.defineProperty(emitWrapper, 'length', { value: realEmit.length });

  const killWrapper = function kill(this: NodeJS.Process, pid: number, signal?: string | number): true {
    const sig = signalOf(signal);
    if (sig !== null && Number(pid) === p.pid && p.listenerCount(sig) === 0) die(sig);
    realKill.call(this, pid, signal);
    return true;
  };
  Object.defineProperty(killWrapper, 'length', { value: realKill.length });

  setProcessEmit(emitWrapper as unknown as typeof p.emit);
  p.kill = killWrapper as unknown as typeof p.kill;
  for (const sig of ENDING_SIGNALS) watch(sig);
}
