/**
 * Names of the globals that instrumented code reads.
 *
 * Owns: the three global names shared by the transform (which emits them),
 * the runtime (which installs them) and the core (which flips the static
 * key). Changing one changes the shape of every cached transform output,
 * so the transform's version must change with it.
 */

/** The static key: false until some site anywhere calls something. */
export const KEY_GLOBAL = '$jfk';
/** The call-target words (Int32Array), indexed by site id. */
export const WORDS_GLOBAL = '$jfw';
/** The runtime object: D (define a module's sites), H, L, C, S, R. */
export const RUNTIME_GLOBAL = '$jf';
