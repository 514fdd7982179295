/**
 * A direct trampoline in this thread: its entry function, and the exit,
 * suspend and resume parts its frames run.
 *
 * Owns: LocalTramp objects and their entry functions. Invariants: whatever
 * a trampoline throws is handed to callback-faults.ts and the call goes on
 * with its own value (a trampoline cannot replace it); a trampoline with
 * no exit, suspend or resume part pushes no frame and allocates nothing.
 * Direct trampolines are left inlinable (no ballast, dispatch.ts): they
 * are meant for a few hot functions, where inlining into the site pays.
 */

import { trampError } from './callback-faults.js';
import { push } from './dispatch.js';
import type { EnterFn, LocalTramp } from './thread.js';

function trampLeave(this: LocalTramp, site: number, value: unknown, threw: boolean, data: unknown): unknown {
  const exit = this.exit;
  if (exit === undefined) return value;
  try {
    exit(site, value, threw, data);
  } catch (e) {
    trampError(this, e);
  }
  return value;
}

function trampPauseCall(t: LocalTramp, fn: LocalTramp['suspend'], site: number, data: unknown): unknown {
  if (fn === undefined) return data;
  try {
    const r = fn(site, data);
    return r === undefined ? data : r;
  } catch (e) {
    trampError(t, e);
    return data;
  }
}

function trampPause(this: LocalTramp, site: number, data: unknown): unknown {
  return trampPauseCall(this, this.suspend, site, data);
}

function trampUnpause(this: LocalTramp, site: number, data: unknown): unknown {
  return trampPauseCall(this, this.resume, site, data);
}

export function makeLocalTramp(id: number, name: string, entry: LocalTramp['entry'], exit: LocalTramp['exit'],
  suspend?: LocalTramp['suspend'], resume?: LocalTramp['resume']): LocalTramp {
  return { id, name, entry, exit, suspend, resume, warned: false, leave: trampLeave, pause: trampPause, unpause: trampUnpause };
}

/** Entry function for a site that calls a direct trampoline. */
export function makeTrampEnter(t: LocalTramp): EnterFn {
  const entry = t.entry;
  if (t.exit === undefined && t.suspend === undefined && t.resume === undefined) {
    return function trampEnter(site, thisArg, args) {
      try {
        entry(site, thisArg, args ?? null);
      } catch (e) {
        trampError(t, e);
      }
      return 0;
    };
  }
  return function trampEnterExit(site, thisArg, args) {
    let data: unknown;
    try {
      data = entry(site, thisArg, args ?? null);
    } catch (e) {
      trampError(t, e);
    }
    return push(site, 0, t, data);
  };
}
