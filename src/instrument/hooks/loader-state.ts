/**
 * State shared by the instances of our ESM hooks in one thread.
 *
 * Owns: which instance of our hooks transforms. Invariant: at any time
 * exactly one instance in the chain transforms, and it is the one that
 * joined last, so that it is outside every loader registered before it.
 *
 * Why there are several. Loader hooks form a chain in which the hooks
 * registered last run first and see what the earlier ones produce. If
 * `--import jsftrace/register` comes before `--import tsx`, our hooks are
 * inside tsx's and would see TypeScript. So our hooks join the chain again
 * after each loader registered after them: follow-loaders.ts does it after
 * every `module.register` (off-thread) or `module.registerHooks` (in-thread)
 * call the program makes, and the first instance does it once when it sees
 * the program's entry point being resolved (the one resolve with no
 * parentURL; every preload has registered its hooks by then), for a loader
 * registered by a way that passes no call of ours (from a loader thread).
 * Each instance takes a rank when it joins; the one with the highest rank
 * is outermost and transforms, the others pass everything on. Modules
 * loaded before any later instance joined (the later preloads themselves)
 * are handled by the first one (rank 0).
 */

let outermost = 0;
let lastRank = 0;
let outerRequested = false;
let ready: (() => void) | null = null;
const outerReady = new Promise<void>((resolve) => { ready = resolve; });

/**
 * Whether the entry point's resolve should add an outer instance: only if
 * none has joined or been asked for yet.
 */
export function requestOuter(): boolean {
  if (outerRequested) return false;
  outerRequested = true;
  return true;
}

/** Called by an instance once it is in the chain, outermost: its rank. */
export function joinAsOuter(): number {
  outerRequested = true;
  outermost = ++lastRank;
  ready?.();
  return outermost;
}

/** Whether the instance of this rank is the one that transforms. */
export function transforms(rank: number): boolean {
  return rank === outermost;
}

/** Resolved once the first outer instance has joined. */
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
