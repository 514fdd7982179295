/**
 * jsftrace's programmatic API: ops, filters, direct trampolines, sites.
 *
 * Owns: the public names. Everything here is re-exported from internal
 * modules; the package's `exports` map makes this, `./register` and
 * `./control` the only entry points.
 */

import {
  flags, instance, record, recordCount, availableFilterFunctions, enabledFunctions, touchedFunctions,
  ftraceKill, killReason, threadView, type SiteRecord,
} from '../core/index.js';

export {
  FtraceOps, createOps, registerFtraceFunction, unregisterFtraceFunction, ftraceSetFilter, ftraceSetNotrace,
  registerFtraceDirect, modifyFtraceDirect, unregisterFtraceDirect, prepareTrampoline,
  defineSite, defineSites, ftraceSetEnabled, ftraceEnabled, opsErrors, listThreads, synchronizeThreads, setThreadTimeout,
  leave, unwind, caught, currentSite, UNWOUND, ready,
  type OpsFunc, type OpsRetFunc, type OpsPauseFunc, type OpsOptions, type HandlerSpec, type SetFilterOptions,
  type Trampoline, type TrampolineObject, type TrampolineEntry, type TrampolineExit, type ModifyStats,
  type SiteMeta, type SiteRecord, type ThreadInfo,
} from '../core/index.js';
export { attach, detach, siteOf, type AttachOptions } from '../instrument/attach.js';
export { JsftraceError, type ErrnoCode } from '../shared/errors.js';

/** Ops flags (ftrace's FTRACE_OPS_FL_* that apply to JavaScript). */
export const OPS_FL = Object.freeze({
  RECURSION: flags.OPS_FL_RECURSION,
  ARGS: flags.OPS_FL_ARGS,
  IPMODIFY: flags.OPS_FL_IPMODIFY,
  STUB: flags.OPS_FL_STUB,
  DIRECT: flags.OPS_FL_DIRECT,
  PERMANENT: flags.OPS_FL_PERMANENT,
  ENABLED: flags.OPS_FL_ENABLED,
  ADDING: flags.OPS_FL_ADDING,
  REMOVING: flags.OPS_FL_REMOVING,
  MODIFYING: flags.OPS_FL_MODIFYING,
  DELETED: flags.OPS_FL_DELETED,
});

/** The record of site `id`: name, file, line, column, package. */
export function siteInfo(id: number): SiteRecord {
  return record(instance(), id);
}

/** How many sites exist (in every thread). */
export function siteCount(): number {
  return recordCount(instance());
}

/** `available_filter_functions`: every site, `name [package]`, in id order. */
export function readAvailableFilterFunctions(): string {
  return availableFilterFunctions(instance());
}

/** `enabled_functions`: sites that call something, with ops and direct targets. */
export function readEnabledFunctions(): string {
  return enabledFunctions(instance());
}

/** `touched_functions`: sites that have ever had a callback. */
export function readTouchedFunctions(): string {
  return touchedFunctions(instance());
}

/** Stops tracing for good (ftrace_kill): every site nop, the reason kept. */
export function kill(reason: string): void {
  ftraceKill(instance(), reason);
}

/** Why tracing was stopped, or null while it runs. */
export function stoppedReason(): string | null {
  return killReason(instance());
}

/**
 * What instrumented code calls: the site words, the handler table and the
 * exits. Load-time instrumentation emits code against this; the fields are
 * stable for the life of the thread.
 */
export function siteAbi(): {
  words: Int32Array; targetBase: number; handlers: ReadonlyArray<(site: number, thisArg: unknown, args: ArrayLike<unknown> | null) => number>;
} {
  const tv = threadView();
  return { words: tv.i32, targetBase: tv.inst.L.target, handlers: tv.H };
}
