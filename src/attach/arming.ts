/**
 * What a site of an attached process should become, decided in one place.
 *
 * Owns: the site states and the pure decision between what the site is
 * (`actual`) and what the registered ops want of it (`wanted`: its call
 * target word is not nop), as ftrace's desired/actual pairs. Invariants:
 * - a site is armed by exactly one mechanism at a time;
 * - a patched site stays patched while the process is attached (idle when
 *   nothing wants it: it reads a nop word, as a preloaded site does); only
 *   detach restores the source, since every LiveEdit recompiles and may be
 *   refused by a function on the stack;
 * - a probe that nothing wants is removed at once: a breakpoint costs tens
 *   of microseconds per hit even when its condition is false.
 */

export const SITE_NONE = 0;
export const SITE_PATCHED = 1;
export const SITE_PROBED = 2;
export type SiteState = typeof SITE_NONE | typeof SITE_PATCHED | typeof SITE_PROBED;

export type Mechanism = 'patch' | 'probe';

export const ACT_NONE = 0;
export const ACT_PATCH = 1;
export const ACT_PROBE = 2;
export const ACT_UNPROBE = 3;
export type Action = typeof ACT_NONE | typeof ACT_PATCH | typeof ACT_PROBE | typeof ACT_UNPROBE;

/**
 * The step for one site. `mechanism` is the process's choice; `patchable`
 * says whether this function's instrumented text can be live-patched
 * (LiveEdit available, the function's shape allows it, and V8 did not
 * refuse it before).
 */
export function decide(wanted: boolean, actual: SiteState, mechanism: Mechanism, patchable: boolean): Action {
  if (wanted) {
    if (actual !== SITE_NONE) return ACT_NONE;
    return mechanism === 'patch' && patchable ? ACT_PATCH : ACT_PROBE;
  }
  return actual === SITE_PROBED ? ACT_UNPROBE : ACT_NONE;
}

/** What enabled_functions says of a site's mechanism. */
export function stateText(actual: SiteState, why: string): string {
  switch (actual) {
    case SITE_PATCHED: return 'attach:patch';
    case SITE_PROBED: return why === '' ? 'attach:probe' : `attach:probe (${why})`;
    default: return why === '' ? 'attach:none' : `attach:none (${why})`;
  }
}
