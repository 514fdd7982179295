/**
 * The engine mutex, in shared memory.
 *
 * Owns: H_LOCK. Invariant: every write to FLAGS, META, KEYS, OPS, LIST, COV,
 * TRAMPS and every TARGET store happens while this thread holds the lock, so
 * the update engine is one writer at a time across all threads (ftrace's
 * ftrace_lock). The word holds the owner's thread row + 1, so a waiter can
 * tell a live owner from a dead one; a lock held by a thread that died is an
 * inconsistency and stops the tracer (its half-done update cannot be trusted).
 */

import { warnOn } from '../shared/assert.js';
import { H_LOCK } from './layout.js';
import type { Instance } from './instance.js';
import { AtomicsCompareExchange, AtomicsNotify, AtomicsStore, AtomicsWait } from '../shared/builtins.js';

const SPIN_WAIT_MS = 20;

let heldDepth = 0;

export interface LockOwnerProbe {
  /** Whether the thread in row `row` is still alive. */
  alive(row: number): boolean;
}

export function lockEngine(inst: Instance, row: number, probe: LockOwnerProbe): void {
  if (heldDepth > 0) {
    heldDepth++;
    return;
  }
  const me = row + 1;
  const i32 = inst.i32;
  for (;;) {
    const prev = AtomicsCompareExchange(i32, H_LOCK, 0, me);
    if (prev === 0) break;
    if (!probe.alive(prev - 1)) {
      // The owner died holding the lock; take it over and stop tracing,
      // since the records it was changing may be half updated.
      if (AtomicsCompareExchange(i32, H_LOCK, prev, me) === prev) {
        heldDepth = 1;
        warnOn(true, `engine lock held by thread row ${prev - 1}, which exited during an update`);
        return;
      }
      continue;
    }
    AtomicsWait(i32, H_LOCK, prev, SPIN_WAIT_MS);
  }
  heldDepth = 1;
}

export function unlockEngine(inst: Instance): void {
  if (heldDepth === 0) {
    warnOn(true, 'engine lock released by a thread that does not hold it');
    return;
  }
  if (--heldDepth > 0) return;
  AtomicsStore(inst.i32, H_LOCK, 0);
  AtomicsNotify(inst.i32, H_LOCK);
}

export function engineLocked(): boolean {
  return heldDepth > 0;
}
