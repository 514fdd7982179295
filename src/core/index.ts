/**
 * The core's surface for the layers above it (instrument, tracers, control,
 * public). Owns nothing; it names what may be used from outside core.
 * Joining this thread to the instance happens here, once, synchronously:
 * this module graph has no top-level await, so CommonJS can require it
 * (`node --require jsftrace/register`). Module handlers registered before
 * the thread joined load asynchronously; `ready()` resolves when they have
 * (`jsftrace/register` awaits it for the program).
 */

import { instance } from './instance.js';
import { installKill } from './kill.js';
import { joinThread } from './threads.js';

installKill(instance());
const joined = joinThread();

/** Resolves once this thread has loaded every handler registered so far. */
export function ready(): Promise<void> {
  return joined;
}

export { instance, type Instance } from './instance.js';
export { FtraceOps, createOps, type OpsFunc, type OpsRetFunc, type OpsPauseFunc, type OpsOptions, type HandlerSpec } from './ops.js';
export {
  registerFtraceFunction, unregisterFtraceFunction, ftraceSetFilter, ftraceSetNotrace, defineSite, defineSites, defineSitesTrusted,
  ftraceSetEnabled, ftraceEnabled, coveredIds, locked, opsErrors, type SetFilterOptions,
} from './lifecycle.js';
export {
  registerFtraceDirect, modifyFtraceDirect, unregisterFtraceDirect, prepareTrampoline, directTarget,
  type Trampoline, type TrampolineObject, type TrampolineEntry, type TrampolineExit, type ModifyStats,
} from './direct.js';
export {
  leave, leaveWith, unwind, caught, caughtAt, suspend, resume, isSuspended, currentSite, frameDepth, completeEntry, pendExit, exitPending, UNWOUND, type Suspended,
} from './dispatch.js';
export { record, recordCount, type SiteMeta, type SiteRecord } from './records.js';
export { availableFilterFunctions, enabledFunctions, touchedFunctions, displayName } from './views.js';
export { ftraceKill, isDead, killReason } from './kill.js';
export { deleteOwnField, listThreads, markDead, onWorkerExit, ownField, setOwnField, synchronizeThreads, setThreadTimeout, siteKeyObject, STATIC_KEY_GLOBAL, type ThreadInfo } from './threads.js';
export { threadView } from './thread.js';
export * as flags from './flags.js';
export { setStoreObserver } from './slots.js';
export { checkRecord, testRecord, VERB_NAMES, UPDATE_IGNORE, UPDATE_MAKE_CALL, UPDATE_MODIFY_CALL, UPDATE_MAKE_NOP } from './update.js';
export { parseToken, tokenMatches, MATCH_ALL, MATCH_INDEX, type FilterToken } from './glob.js';
export { parsePatterns, selectedIds, selectsAny } from './filter.js';
export { describeThrown, onCallbackError, type CallbackErrorReport } from './callback-errors.js';
