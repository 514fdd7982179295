/**
 * The names by which instrumented code reaches the runtime.
 *
 * Owns: the one global binding of the site shape and the key of the runtime
 * object, shared by the transform (which emits them), the runtime (which
 * installs them) and the core (which flips the static key). Changing one
 * changes the shape of every cached transform output, so the transform's
 * version must change with it.
 *
 * The static key is the only name a program could see: a global data
 * property, not enumerable, false until some site anywhere calls something.
 * It must be a global property: V8 treats a global property cell as a
 * constant until it is first written, which folds every idle site away in
 * optimised code. The runtime object hangs off a registered symbol of the
 * global object, out of reach of identifiers, `with` scopes and key lists.
 */

/** The static key. */
export const KEY_GLOBAL = '$jsftrace';
/** `Symbol.for(RUNTIME_SYMBOL)` on globalThis: the runtime object (runtime.ts). */
export const RUNTIME_SYMBOL = 'jsftrace.runtime';
