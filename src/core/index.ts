/**
 * The core's surface for the layers above it (instrument, tracers, control,
 * public). Owns nothing; it names what may be used from outside core.
 * Joining this thread to the instance happens here, once, so that every
 * importer waits for the module handlers already registered (see
 * threads.ts).
 */

import { instance } from './instance.js';
import { installKill } from './kill.js';
import { joinThread } from './threads.js';

installKill(instance());
await joinThread();

export { instance, type Instance } from './instance.js';
export { FtraceOps, createOps, type OpsFunc, type OpsRetFunc, type OpsOptions, type HandlerSpec } from './ops.js';
export {
  registerFtraceFunction, unregisterFtraceFunction, ftraceSetFilter, ftraceSetNotrace, defineSite, defineSites,
  ftraceSetEnabled, ftraceEnabled, coveredIds, locked, opsErrors, type SetFilterOptions,
} from './lifecycle.js';
export {
  registerFtraceDirect, modifyFtraceDirect, unregisterFtraceDirect, prepareTrampoline, directTarget,
  type Trampoline, type TrampolineObject, type TrampolineEntry, type TrampolineExit, type ModifyStats,
} from './direct.js';
export { leave, unwind, caught, currentSite, frameDepth, UNWOUND } from './dispatch.js';
export { record, recordCount, type SiteMeta, type SiteRecord } from './records.js';
export { availableFilterFunctions, enabledFunctions, touchedFunctions, displayName } from './views.js';
export { ftraceKill, isDead, killReason } from './kill.js';
export { listThreads, synchronizeThreads, setThreadTimeout, STATIC_KEY_GLOBAL, type ThreadInfo } from './threads.js';
export { threadView } from './thread.js';
export * as flags from './flags.js';
export { setStoreObserver, checkRecord, testRecord, VERB_NAMES, UPDATE_IGNORE, UPDATE_MAKE_CALL, UPDATE_MODIFY_CALL, UPDATE_MAKE_NOP } from './update.js';
