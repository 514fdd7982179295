/**
 * A small mutex in one word of shared memory, for ring readers (R_LOCK) and
 * the event registry.
 *
 * Owns: the LOCK_* protocol of a word. Invariant: at most one thread holds
 * it; a holder that releases wakes one waiter only when someone waits
 * (LOCK_CONTENDED), so an uncontended lock/unlock is two atomic operations.
 * Not re-entrant: callers never take it twice (no reader calls back into user
 * code while holding it). A thread that dies holding it leaves it held; the
 * next taker gives up after `timeoutMs` with EBUSY rather than hang.
 */

import { fail } from '../shared/errors.js';
import { LOCK_CONTENDED, LOCK_FREE, LOCK_HELD } from './layout.js';
import { AtomicsCompareExchange, AtomicsExchange, AtomicsNotify, AtomicsWait, DateNow } from '../shared/builtins.js';

export const LOCK_TIMEOUT_MS = 5000;

export function lockWord(i32: Int32Array, at: number, what: string, timeoutMs = LOCK_TIMEOUT_MS): void {
  let v = AtomicsCompareExchange(i32, at, LOCK_FREE, LOCK_HELD);
  if (v === LOCK_FREE) return;
  const deadline = DateNow() + timeoutMs;
  for (;;) {
    // Announce a waiter, then sleep until the holder's notify (or a slice
    // passes, so a deadline is noticed).
    if (v === LOCK_CONTENDED || AtomicsCompareExchange(i32, at, LOCK_HELD, LOCK_CONTENDED) !== LOCK_FREE) {
      AtomicsWait(i32, at, LOCK_CONTENDED, 10);
    }
    v = AtomicsCompareExchange(i32, at, LOCK_FREE, LOCK_CONTENDED);
    if (v === LOCK_FREE) return;
    if (DateNow() > deadline) fail('EBUSY', `${what} lock still held after ${timeoutMs} ms (a thread died holding it?)`);
  }
}

export function unlockWord(i32: Int32Array, at: number): void {
  if (AtomicsExchange(i32, at, LOCK_FREE) === LOCK_CONTENDED) AtomicsNotify(i32, at, 1);
}
