/**
 * State shared by the instances of our ESM hooks in one thread.
 *
 * Owns: which instance of our hooks transforms. Invariant: at any time
 * exactly one instance in the chain transforms, and once the outer one is
 * in place it is the outer one.
 *
 * Why there are two. Loader hooks form a chain in which the hooks
 * registered last run first and see what the earlier ones produce. If
 * `--import jsftrace/register` comes before `--import tsx`, our hooks are
 * inside tsx's and would see TypeScript. So when the first instance sees
 * the program's entry point being resolved (the one resolve with no
 * parentURL; every preload has registered its hooks by then), it registers
 * the hooks again: that second instance is outermost, sees every loader's
 * output, and the first one passes everything on from then on. Modules
 * loaded before the entry point (the later preloads themselves) are
 * handled by the first instance.
 */

let outerActive = false;
let outerRequested = false;
let ready: (() => void) | null = null;
const outerReady = new Promise<void>((resolve) => { ready = resolve; });

/** Whether the outer instance has been asked for (at most once per thread). */
export function requestOuter(): boolean {
  if (outerRequested) return false;
  outerRequested = true;
  return true;
}

/** Called by the outer instance once it is in the chain. */
export function markOuterActive(): void {
  outerActive = true;
  ready?.();
}

export function isOuterActive(): boolean {
  return outerActive;
}

export function whenOuterReady(): Promise<void> {
  return outerReady;
}

/**
 * CommonJS modules that Node compiles from a load result's source (another
 * loader supplied it). Node 20 gives such a module a require() of its own
 * that loads through the off-thread hooks and, for a CommonJS result
 * without source, reads the file and compiles it without
 * Module.prototype._compile: the modules it requires would reach neither
 * cjs.ts nor us. So esm-loader.ts gives their results the file's source,
 * and they are transformed like their parent.
 */
export const sourcedCjs = new Set<string>();
/** Modules resolved from a parent in sourcedCjs. */
export const requiredBySourced = new Set<string>();
