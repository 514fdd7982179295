/**
 * jsftrace's own async resources in this thread, known by async id, so
 * that the async_hook runtime events (events/runtime.ts) leave their hops
 * out: they are jsftrace's, not the program's.
 *
 * Owns: the set of those ids, the count of own resources being made, and
 * whether this thread's program has begun. Invariants: an id is known from
 * its init (made inside ownResource, or made before the program's first
 * line: jsftrace's start, its session, recording and workers) or from its
 * first callback (noteOwnTurn, for a timer made before the hook was on);
 * async ids are never reused, so an id is never forgotten; nothing here
 * asks for the resource object (executionAsyncResource would make Node keep
 * every callback's resource for the rest of the process).
 */

import { executionAsyncId } from 'node:async_hooks';

const ids = new Set<number>();
let making = 0;
/** False from jsftrace's start until the program's first line; true where jsftrace was not started before the program (attached, or loaded as a library). */
let programBegun = true;

/** jsftrace starts before the program (public/start.ts): what is made until programBegins() is its own. */
export function jsftraceStarts(): void {
  programBegun = false;
}

/** The program's first line is next: resources made from now on are the program's unless made by ownResource. */
export function programBegins(): void {
  programBegun = true;
}

/** Makes a resource of jsftrace's own: its init, if an async hook sees it, is not the program's. */
export function ownResource<T>(make: () => T): T {
  making++;
  try {
    return make();
  } finally {
    making--;
  }
}

/** Whether an init seen now is jsftrace's: made by ownResource, or before the program began. */
export function makingOwn(): boolean {
  return making !== 0 || !programBegun;
}

/** Called from an own timer's callback: that timer is own. */
export function noteOwnTurn(): void {
  ids.add(executionAsyncId());
}

export function noteOwnId(id: number): void {
  ids.add(id);
}

export function isOwn(id: number): boolean {
  return ids.has(id);
}
