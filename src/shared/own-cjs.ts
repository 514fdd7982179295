/**
 * jsftrace's small CommonJS files (start-clocks, node-handlers, cache-dir, thread-settings, in-thread-hooks, data-channel),
 * as its ES modules require them.
 *
 * Owns: that one way. Invariant: none of them stays in the program's view of
 * the require cache, whenever it is first required (at the start, or later
 * by a module of the runtime loaded when first needed, as an attach does):
 * runtime-file.cts, hideOwnEntries.
 */

import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);
const runtimeFile = requireHere('./runtime-file.cjs') as { hideOwnEntries(): void };

/** The exports of `./<name>` of dist/src/shared/. */
export function requireOwnCjs<T>(name: `./${string}.cjs`): T {
  const exports = requireHere(name) as T;
  runtimeFile.hideOwnEntries();
  return exports;
}
