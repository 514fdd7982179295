/**
 * What a probe's breakpoint condition calls: the entry and the exit of a
 * site reached through the inspector instead of code in the function.
 *
 * Owns: the key object's field the conditions name (`probe`), and this thread's stack of the
 * tokens that probe entries returned. Invariants:
 * - every call returns false, so a probe never pauses the program;
 * - an exit runs the frames of the newest entry of the same site and drops
 *   the newer entries above it (their calls left by a throw, which hits no
 *   return breakpoint), as instrumented code's next exit of a traced
 *   ancestor does; an exit with no entry of its site does nothing;
 * - entries left over when the JavaScript stack empties (a throw out of
 *   the outermost probed call) are dropped by a microtask, which runs only
 *   then.
 */

import { deleteOwnField, leave, ownField, setOwnField, threadView } from '../core/index.js';
import { KEY_GLOBAL } from '../shared/site-abi.js';
import { queueJob } from '../shared/builtins.js';

/** What a probe's condition names: a field of the key object (not a global of its own), removed at detach. */
const PROBE = `${KEY_GLOBAL}.probe`;

const MAX = 4096;
const sites = new Int32Array(MAX);
const tokens: unknown[] = new Array(MAX).fill(0);
let top = 0;
let sweepQueued = false;

function sweep(): void {
  sweepQueued = false;
  top = 0;
}

function entry(site: number, self: unknown, args: unknown[] | null): false {
  // The key object's `on` (shared/site-abi.ts): some site calls something.
  const keys = (globalThis as Record<string, unknown>)[KEY_GLOBAL] as { on?: boolean } | false | undefined;
  if (!keys || keys.on !== true) return false;
  const tv = threadView();
  const word = tv.inst.i32[tv.inst.L.target + site]!;
  if (word === 0) return false;
  const handler = tv.H[word] as (site: number, self: unknown, args: unknown[] | null) => unknown;
  const token = handler(site, self, (word & 1) !== 0 ? args : null);
  if (top < MAX) {
    sites[top] = site;
    tokens[top++] = token;
  }
  if (!sweepQueued) {
    sweepQueued = true;
    queueJob(sweep);
  }
  return false;
}

function exit(site: number): false {
  for (let i = top - 1; i >= 0; i--) {
    if (sites[i] !== site) continue;
    const token = tokens[i];
    top = i;
    if (token) leave(token as number, undefined);
    return false;
  }
  return false;
}

/** Installs the conditions' field (idempotent). */
export function installProbeRuntime(): void {
  if (ownField('probe') !== undefined) return;
  setOwnField('probe', Object.freeze({ e: entry, x: exit }));
}

export function removeProbeRuntime(): void {
  deleteOwnField('probe');
}

/** The condition of a site's entry breakpoint: the parameters are read in the paused frame. */
export function entryCondition(site: number, params: readonly string[]): string {
  return `${PROBE}.e(${site},this,[${params.join(',')}])`;
}

export function exitCondition(site: number): string {
  return `${PROBE}.x(${site})`;
}
