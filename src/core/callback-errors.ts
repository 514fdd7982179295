/**
 * What a thrown value says, and who hears that a callback threw (G5).
 *
 * Owns: describing any thrown value, and relaying the first error of each
 * ops and trampoline per thread to the listeners of every thread (the
 * control layer's error_log listens in the thread that serves the files).
 * Invariants:
 * - nothing here throws, whatever was thrown: an Error whose `name` or
 *   `message` getter throws, a Proxy whose traps throw, a revoked Proxy, a
 *   value whose toString throws are all described (at worst as "a thrown
 *   object that cannot be described"), never let through to the program;
 * - no value is inspected with `instanceof` or a bare `String()` outside a
 *   try: both run the value's own code;
 * - a description is one line of at most DESCRIPTION_MAX characters;
 * - reports are relayed over a BroadcastChannel (unreferenced, never keeps a
 *   thread alive); the last BACKLOG of them are kept in each thread and
 *   replayed to a listener that subscribes late.
 */

import { threadId, type BroadcastChannel } from 'node:worker_threads';
import { requireOwnCjs } from '../shared/own-cjs.js';
import type { DataChannels } from '../shared/data-channel.cjs';

export const DESCRIPTION_MAX = 512;
const BACKLOG = 8;
const CHANNEL = 'jsftrace:callback-errors:v1';

export interface CallbackErrorReport {
  /** `ops` or `trampoline`. */
  readonly kind: 'ops' | 'trampoline';
  readonly name: string;
  /** The thread the callback ran in. */
  readonly threadId: number;
  /** describeThrown() of what it threw. */
  readonly message: string;
}

function oneLine(s: string): string {
  const t = s.length > DESCRIPTION_MAX ? s.slice(0, DESCRIPTION_MAX) : s;
  return t.replace(/[\r\n]+/g, ' ');
}

/** The value's `name: message`, or its string form, or a fixed text; never throws. */
export function describeThrown(e: unknown): string {
  try {
    if (e === null || (typeof e !== 'object' && typeof e !== 'function')) {
      // Primitives convert without running program code (a symbol needs its own method).
      return oneLine(typeof e === 'symbol' ? e.toString() : String(e));
    }
  } catch {
    return 'a thrown value that cannot be described';
  }
  try {
    // An Error-like value: its getters (or a Proxy's traps) may throw, which we catch.
    const o = e as { name?: unknown; message?: unknown };
    const message = o.message;
    if (typeof message === 'string') {
      const name = o.name;
      return oneLine(`${typeof name === 'string' && name !== '' ? name : 'Error'}: ${message}`);
    }
  } catch {
    // fall through to the string form
  }
  try {
    const s: unknown = String(e);
    if (typeof s === 'string') return oneLine(s);
  } catch {
    // fall through
  }
  return 'a thrown object that cannot be described (its getters or proxy traps threw)';
}

type Listener = (r: CallbackErrorReport) => void;
const listeners = new Set<Listener>();
const backlog: CallbackErrorReport[] = [];
let channel: BroadcastChannel | null = null;

function deliver(r: CallbackErrorReport): void {
  backlog.push(r);
  if (backlog.length > BACKLOG) backlog.shift();
  for (const l of listeners) {
    try {
      l(r);
    } catch {
      // A listener's failure is not the traced program's.
    }
  }
}

function open(): BroadcastChannel | null {
  if (channel !== null) return channel;
  try {
    channel = requireOwnCjs<DataChannels>('./data-channel.cjs').openDataChannel(CHANNEL, (m: unknown): void => {
      const d = m as Partial<CallbackErrorReport> | undefined;
      if (d === undefined || (d.kind !== 'ops' && d.kind !== 'trampoline') || typeof d.name !== 'string'
        || typeof d.threadId !== 'number' || typeof d.message !== 'string') return;
      deliver({ kind: d.kind, name: d.name, threadId: d.threadId, message: d.message });
    });
    channel.unref();
  } catch {
    channel = null;
  }
  return channel;
}

// Opened at load, so that this thread hears the reports of threads that
// throw before anything here subscribes.
open();

/** Tells every thread's listeners (this one's at once) that a callback threw. Never throws. */
export function reportCallbackError(kind: CallbackErrorReport['kind'], name: string, message: string): void {
  const r: CallbackErrorReport = { kind, name, threadId, message };
  deliver(r);
  try {
    open()?.postMessage(r);
  } catch {
    // The count and the warning still tell.
  }
}

/** Calls `fn` with every report from now on, after the recent ones; returns the unsubscribe. */
export function onCallbackError(fn: Listener): () => void {
  for (const r of backlog) {
    try {
      fn(r);
    } catch {
      // as in deliver
    }
  }
  listeners.add(fn);
  return () => listeners.delete(fn);
}
