/**
 * Threads of the instance: joining, loading handlers everywhere, and
 * synchronising with every thread.
 *
 * Owns: the THREADS rows, the broadcast channel, module imports of handlers
 * given as specifiers, and the two cross-thread waits:
 * - loadEverywhere(): every live thread has imported the pending module
 *   handlers (needed before any site may point at them; import is
 *   asynchronous, so a thread busy in a long synchronous loop cannot do it
 *   until it yields, and the wait ends in ETIMEDOUT with nothing changed);
 * - synchronizeThreads(): every live thread has passed a quiescent point
 *   (TH_DEPTH zero: not inside any jsftrace handler) after the call, has
 *   dropped handlers of freed slots, and has applied the static key. This is
 *   the analogue of the kernel's synchronize_rcu_tasks plus the IPI that text
 *   patching sends: a thread acknowledges from its event loop, or, when it
 *   is busy in a synchronous loop, from an inspector interrupt that the main
 *   thread sends it (V8 services interrupts inside running loops). Workers
 *   started from other workers are reached by their event loop only.
 * Invariant: a thread row is ALIVE from join until the thread exits; an exit
 * is seen by the thread that created the Worker (through the worker_threads
 * diagnostics channel), which marks the row DEAD, so no wait hangs on a
 * thread that is gone.
 */

import { createRequire } from 'node:module';
import vm from 'node:vm';
import { isMainThread, threadId, type BroadcastChannel } from 'node:worker_threads';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Worker } from 'node:worker_threads';
import { fail } from '../shared/errors.js';
import { HELD_FIELD, KEY_GLOBAL, SITE_KEYS, siteKeysClassSource, THROW_NOTE_FIELDS, type OwnField } from '../shared/site-abi.js';
import { arenaRead, arenaWrite } from './arena.js';
import {
  H_KEY_GEN, H_LOAD_GEN, H_SYNC_GEN, H_THREADS_TOP, HANDLER_MODULE, O_FLAGS, O_GEN, O_KIND, O_STATE, SLOT_RESERVED,
  THREAD_ALIVE, THREAD_CLAIMING, THREAD_DEAD, THREAD_FREE, THREAD_STRIDE, TH_ACK, TH_CB_ERRORS, TH_DEPTH, TH_ID, TH_KEY,
  TH_LOADED, TH_LOAD_ERR_LEN, TH_LOAD_ERR_OFF, TH_MISSED, TH_RECURSION, TH_STATE, T_KIND, T_STATE,
} from './layout.js';
import { OPS_FL_ATTRIBUTES, targetOfOps, targetOfTramp } from './flags.js';
import { FtraceOps, type OpsFunc, type OpsPauseFunc, type OpsRetFunc } from './ops.js';
import { opsRow, slotText, trampRow, trampText, TRAMP_READY } from './slots.js';
import {
  initHandlers, invalidateList, setHandler, makeOpsEnter, missing,
} from './dispatch.js';
import { makeLocalOps } from './ops-handlers.js';
import { makeLocalTramp, makeTrampEnter } from './tramp-handlers.js';
import { setThreadRow, threadView, type LocalTramp, type ThreadView } from './thread.js';
import { atExit } from '../shared/exit-hooks.js';
import { loadOwn, shareOwnModules } from '../shared/own-load.js';
import { AtomicsAdd, AtomicsCompareExchange, AtomicsLoad, AtomicsNotify, AtomicsStore, DateNow, MathAbs, ObjectHasOwn, SetTimeout, SymbolHasInstance } from '../shared/builtins.js';
import { requireOwnCjs } from '../shared/own-cjs.js';
import type { ThreadSettings } from '../shared/thread-settings.cjs';
import type { DataChannels } from '../shared/data-channel.cjs';

/** The global every instrumented site tests first: the static key (its object of site keys). */
export const STATIC_KEY_GLOBAL = KEY_GLOBAL;
const CHANNEL = 'jsftrace:control:v1';

const tv: ThreadView = threadView();
const i32 = tv.i32;
const L = tv.inst.L;

const { settingsEnv } = requireOwnCjs<ThreadSettings>('./thread-settings.cjs');
let timeoutMs = Number(settingsEnv()['JSFTRACE_THREAD_TIMEOUT_MS'] ?? '') || 10_000;

/** How long cross-thread waits last before ETIMEDOUT. */
export function setThreadTimeout(ms: number): void {
  if (!(Number.isFinite(ms) && ms > 0)) fail('EINVAL', 'thread timeout must be a positive number of milliseconds');
  timeoutMs = ms;
}

function rowAt(no: number): number {
  return L.threads + no * THREAD_STRIDE;
}

export function threadAlive(no: number): boolean {
  return no >= 0 && no < L.maxThreads && AtomicsLoad(i32, rowAt(no) + TH_STATE) === THREAD_ALIVE;
}

export interface ThreadInfo {
  row: number;
  threadId: number;
  state: 'alive' | 'dead';
  missed: number;
  recursion: number;
  callbackErrors: number;
}

export function listThreads(): ThreadInfo[] {
  const out: ThreadInfo[] = [];
  const top = AtomicsLoad(i32, H_THREADS_TOP);
  for (let no = 0; no < top; no++) {
    const r = rowAt(no);
    const st = AtomicsLoad(i32, r + TH_STATE);
    if (st === THREAD_FREE) continue;
    out.push({
      row: no, threadId: i32[r + TH_ID]!, state: st === THREAD_ALIVE ? 'alive' : 'dead',
      missed: i32[r + TH_MISSED]!, recursion: i32[r + TH_RECURSION]!, callbackErrors: i32[r + TH_CB_ERRORS]!,
    });
  }
  return out;
}

/**
 * Marks the row of thread `id` dead, so that no wait hangs on it. The
 * thread that created a worker does this itself; a tool that learns of a
 * worker's end another way (an attach, which came after the worker was
 * made) calls it too.
 */
export function markDead(id: number): void {
  const top = AtomicsLoad(i32, H_THREADS_TOP);
  for (let no = 0; no < top; no++) {
    const r = rowAt(no);
    if (i32[r + TH_ID] === id && AtomicsCompareExchange(i32, r + TH_STATE, THREAD_ALIVE, THREAD_DEAD) === THREAD_ALIVE) {
      AtomicsNotify(i32, r + TH_STATE);
    }
  }
}

function claimRow(): number {
  for (let no = 0; no < L.maxThreads; no++) {
    const r = rowAt(no);
    const st = AtomicsLoad(i32, r + TH_STATE);
    if (st === THREAD_ALIVE || st === THREAD_CLAIMING) continue;
    // Claimed, then named, then alive: a late markDead of the row's previous
    // thread compares ids and finds ours.
    if (AtomicsCompareExchange(i32, r + TH_STATE, st, THREAD_CLAIMING) !== st) continue;
    AtomicsStore(i32, r + TH_ID, threadId);
    i32[r + TH_DEPTH] = 0;
    i32[r + TH_MISSED] = 0;
    i32[r + TH_RECURSION] = 0;
    i32[r + TH_CB_ERRORS] = 0;
    i32[r + TH_LOAD_ERR_LEN] = 0;
    // A reused row still holds its dead thread's static key and loads: this
    // thread has applied no key (so applyStaticKey sets its global) and loaded
    // nothing yet (so a registration waits for its join), as on a fresh row.
    i32[r + TH_KEY] = -1;
    AtomicsStore(i32, r + TH_LOADED, 0);
    // A new thread has seen everything published before it joined.
    AtomicsStore(i32, r + TH_ACK, AtomicsLoad(i32, H_SYNC_GEN));
    for (;;) {
      const t = AtomicsLoad(i32, H_THREADS_TOP);
      if (t > no || AtomicsCompareExchange(i32, H_THREADS_TOP, t, no + 1) === t) break;
    }
    AtomicsStore(i32, r + TH_STATE, THREAD_ALIVE);
    return no;
  }
  return -1;
}

// ---- loading module handlers ---------------------------------------------

interface ModuleHandler {
  func?: OpsFunc;
  retfunc?: OpsRetFunc;
  suspend?: OpsPauseFunc;
  resume?: OpsPauseFunc;
  entry?: LocalTramp['entry'];
  exit?: LocalTramp['exit'];
}

async function importExport(spec: string): Promise<unknown> {
  const { url, name } = JSON.parse(spec) as { url: string; name: string };
  const mod = await loadOwn<Record<string, unknown>>(url);
  if (!(name in mod)) throw new Error(`${url} has no export ${JSON.stringify(name)}`);
  return mod[name];
}

interface OpsCallbacks {
  func: OpsFunc;
  retfunc: OpsRetFunc | undefined;
  suspend: OpsPauseFunc | undefined;
  resume: OpsPauseFunc | undefined;
}

function asOpsCallbacks(v: unknown): OpsCallbacks {
  if (typeof v === 'function') return { func: v as OpsFunc, retfunc: undefined, suspend: undefined, resume: undefined };
  const o = v as ModuleHandler | null;
  if (o !== null && typeof o === 'object' && typeof o.func === 'function') {
    for (const k of ['retfunc', 'suspend', 'resume'] as const) {
      if (o[k] !== undefined && typeof o[k] !== 'function') throw new Error(`${k} is not a function`);
    }
    return { func: o.func, retfunc: o.retfunc, suspend: o.suspend, resume: o.resume };
  }
  throw new Error('the export is neither a function nor { func, retfunc }');
}

export interface TrampolineParts {
  entry: LocalTramp['entry'];
  exit: LocalTramp['exit'];
  suspend: LocalTramp['suspend'];
  resume: LocalTramp['resume'];
}

export function asTrampoline(v: unknown): TrampolineParts {
  if (typeof v === 'function') return { entry: v as LocalTramp['entry'], exit: undefined, suspend: undefined, resume: undefined };
  const o = v as (ModuleHandler & { suspend?: unknown; resume?: unknown }) | null;
  if (o !== null && typeof o === 'object' && typeof o.entry === 'function') {
    for (const k of ['exit', 'suspend', 'resume'] as const) {
      if (o[k] !== undefined && typeof o[k] !== 'function') throw new Error(`${k} is not a function`);
    }
    return { entry: o.entry, exit: o.exit, suspend: o.suspend as LocalTramp['suspend'], resume: o.resume as LocalTramp['resume'] };
  }
  throw new Error('a trampoline is a function (its entry) or { entry, exit? }');
}

/** Installs the local view of ops `slot` and its direct handler in H. */
export function installLocalOps(slot: number, ops: FtraceOps, func: OpsFunc | undefined, retfunc: OpsRetFunc | undefined): void {
  const r = opsRow(tv.inst, slot);
  const o = makeLocalOps(slot, i32[r + O_GEN]!, ops, i32[r + O_FLAGS]!, func, retfunc);
  tv.ops[slot] = o;
  setHandler(targetOfOps(slot), makeOpsEnter(o));
  invalidateList();
}

export function installLocalTramp(id: number, name: string, parts: TrampolineParts): void {
  const t = makeLocalTramp(id, name, parts.entry, parts.exit, parts.suspend, parts.resume);
  tv.tramps[id] = t;
  setHandler(targetOfTramp(L.maxOps, id), makeTrampEnter(t));
}

function dropLocalOps(slot: number): void {
  tv.ops[slot] = undefined;
  setHandler(targetOfOps(slot), missing);
  invalidateList();
}

function dropLocalTramp(id: number): void {
  tv.tramps[id] = undefined;
  setHandler(targetOfTramp(L.maxOps, id), missing);
}

/** Drops local views of freed or reused slots and trampolines. */
function refreshHandlers(): void {
  for (let s = 0; s < L.maxOps; s++) {
    const o = tv.ops[s];
    if (o === undefined) continue;
    const r = opsRow(tv.inst, s);
    if (AtomicsLoad(i32, r + O_STATE) !== SLOT_RESERVED || i32[r + O_GEN] !== o.gen) dropLocalOps(s);
  }
  for (let t = 0; t < L.maxTramps; t++) {
    if (tv.tramps[t] !== undefined && AtomicsLoad(i32, trampRow(tv.inst, t) + T_STATE) !== TRAMP_READY) dropLocalTramp(t);
  }
}

/** Trampoline ids that this thread loaded from a module, by spec text. */
const moduleTramps = new Map<number, string>();

let loadChain: Promise<void> = Promise.resolve();

/** Imports every module handler this thread lacks; acknowledges H_LOAD_GEN. */
function loadPending(): Promise<void> {
  const run = async (): Promise<void> => {
    const gen = AtomicsLoad(i32, H_LOAD_GEN);
    let error: string | null = null;
    refreshHandlers();
    for (let s = 0; s < L.maxOps; s++) {
      const r = opsRow(tv.inst, s);
      if (AtomicsLoad(i32, r + O_STATE) !== SLOT_RESERVED || i32[r + O_KIND] !== HANDLER_MODULE) continue;
      const have = tv.ops[s];
      if (have !== undefined && have.gen === i32[r + O_GEN]) continue;
      const spec = slotText(tv.inst, s, 'spec');
      try {
        const cb = asOpsCallbacks(await importExport(spec));
        const { url, name } = JSON.parse(spec) as { url: string; name: string };
        const ops = new FtraceOps({ func: { module: url, export: name }, name: slotText(tv.inst, s, 'name') }, i32[r + O_FLAGS]! & OPS_FL_ATTRIBUTES);
        ops.func = cb.func;
        ops.retfunc = cb.retfunc;
        ops.suspendfunc = cb.suspend;
        ops.resumefunc = cb.resume;
        ops.slot = s;
        installLocalOps(s, ops, cb.func, cb.retfunc);
      } catch (e) {
        error ??= `thread ${threadId}: ops ${slotText(tv.inst, s, 'name')}: ${(e as Error).message}`;
      }
    }
    for (let t = 0; t < L.maxTramps; t++) {
      const r = trampRow(tv.inst, t);
      if (AtomicsLoad(i32, r + T_STATE) !== TRAMP_READY || i32[r + T_KIND] !== HANDLER_MODULE) continue;
      const spec = trampText(tv.inst, t, 'spec');
      if (tv.tramps[t] !== undefined && moduleTramps.get(t) === spec) continue;
      try {
        const tr = asTrampoline(await importExport(spec));
        installLocalTramp(t, trampText(tv.inst, t, 'name'), tr);
        moduleTramps.set(t, spec);
      } catch (e) {
        error ??= `thread ${threadId}: trampoline ${trampText(tv.inst, t, 'name')}: ${(e as Error).message}`;
      }
    }
    if (tv.row >= 0) {
      if (error !== null) {
        try {
          const ref = arenaWrite(tv.inst, error);
          i32[tv.row + TH_LOAD_ERR_OFF] = ref.off;
          i32[tv.row + TH_LOAD_ERR_LEN] = ref.len;
        } catch { /* the negative ack still reports a failure */ }
        AtomicsStore(i32, tv.row + TH_LOADED, -gen);
      } else {
        AtomicsStore(i32, tv.row + TH_LOADED, gen);
      }
      AtomicsNotify(i32, tv.row + TH_LOADED);
    }
    if (error !== null) throw new Error(error);
  };
  const p = loadChain.then(run, run);
  loadChain = p.catch(() => undefined);
  return p;
}

function rowsBehind(word: number, gen: number, abs: boolean): number[] {
  const out: number[] = [];
  const top = AtomicsLoad(i32, H_THREADS_TOP);
  for (let no = 0; no < top; no++) {
    if (no === tv.rowNo || !threadAlive(no)) continue;
    let v = AtomicsLoad(i32, rowAt(no) + word);
    if (abs) v = MathAbs(v);
    if (v < gen) out.push(no);
  }
  return out;
}

/**
 * A wait between polls. `background`: nothing waits for its result, so its
 * timer is unref'd: it neither keeps the program alive nor shows among the
 * program's active resources (process.getActiveResourcesInfo).
 */
function sleep(ms: number, background = false): Promise<void> {
  return new Promise((resolve) => {
    const t = SetTimeout(resolve, ms);
    if (background) t.unref();
  });
}

/**
 * Makes every live thread import the module handlers now in the tables.
 * Rejects (EINVAL with the thread's message, or ETIMEDOUT) when a thread
 * fails or does not answer in time; the caller then undoes its rows.
 */
export async function loadEverywhere(): Promise<void> {
  const gen = AtomicsAdd(i32, H_LOAD_GEN, 1) + 1;
  try {
    await loadPending();
  } catch (e) {
    fail('EINVAL', (e as Error).message);
  }
  channel?.postMessage({ type: 'load', gen });
  const deadline = DateNow() + timeoutMs;
  for (;;) {
    const behind = rowsBehind(TH_LOADED, gen, true);
    for (let no = 0; no < AtomicsLoad(i32, H_THREADS_TOP); no++) {
      if (no === tv.rowNo || !threadAlive(no)) continue;
      const r = rowAt(no);
      // A failure at this or a later round (which loaded everything this
      // round asked for, and more) is this round's failure too.
      const v = AtomicsLoad(i32, r + TH_LOADED);
      if (v < 0 && -v >= gen) {
        fail('EINVAL', arenaRead(tv.inst, i32[r + TH_LOAD_ERR_OFF]!, i32[r + TH_LOAD_ERR_LEN]!));
      }
    }
    if (behind.length === 0) return;
    if (DateNow() > deadline) {
      fail('ETIMEDOUT', `thread(s) ${behind.map((no) => i32[rowAt(no) + TH_ID]).join(', ')} did not load the handlers within ${timeoutMs} ms `
        + '(a thread busy in a synchronous loop imports nothing until it yields)');
    }
    await sleep(1);
  }
}

// ---- synchronisation ------------------------------------------------------

type SiteKeys = Record<string, boolean>;
let keyObject: SiteKeys | null = null;
/** Per key, what this thread's key object holds (1 on). */
const appliedKeys = new Uint8Array(SITE_KEYS);
const KEY_NAMES = Array.from({ length: SITE_KEYS }, (_, b) => `k${b}`);

/**
 * This thread's key object, the value of the static key global
 * (shared/site-abi.ts), made on first use. Its class is compiled from text
 * so that each field is added by its own map transition (V8 then tracks
 * each field's constness apart); the global is read-only, so that V8
 * treats it as a constant for good. A module that ran before the runtime
 * (its prologue made the global a bare holder, writable) gets it assigned.
 * A key object of another copy of jsftrace is adopted; one made by an older
 * copy, with no holder for the values of awaits and yields (site-abi.ts),
 * which this copy's transform passes through it, is lent this class's.
 */
export function siteKeyObject(): SiteKeys {
  if (keyObject !== null) return keyObject;
  const g = globalThis as Record<string, unknown>;
  const d = Object.getOwnPropertyDescriptor(g, STATIC_KEY_GLOBAL);
  // Another copy's key object has `on`; the prologue's bare holder has not.
  if (d !== undefined && typeof d.value === 'object' && d.value !== null && ObjectHasOwn(d.value, 'on')) {
    keyObject = d.value as SiteKeys;
    const lend: (string | symbol)[] = HELD_FIELD in keyObject ? [] : [SymbolHasInstance, HELD_FIELD, 'w'];
    for (const k of THROW_NOTE_FIELDS) if (!(k in keyObject)) lend.push(k);
    if (lend.length > 0) {
      const proto = siteKeysClass().prototype as object;
      for (const k of lend) {
        Object.defineProperty(keyObject, k, { ...Object.getOwnPropertyDescriptor(proto, k)!, configurable: true });
      }
    }
    shareOwnModules(keyObject);
    return keyObject;
  }
  const Keys = siteKeysClass();
  keyObject = new Keys();
  if (d === undefined) {
    Object.defineProperty(g, STATIC_KEY_GLOBAL, { value: keyObject, writable: false, enumerable: false, configurable: false });
  } else {
    g[STATIC_KEY_GLOBAL] = keyObject;
  }
  shareOwnModules(keyObject);
  return keyObject;
}

function siteKeysClass(): new () => SiteKeys {
  const make = vm.runInThisContext(siteKeysClassSource(), { filename: 'jsftrace:site-keys' }) as (has: symbol) => new () => SiteKeys;
  return make(SymbolHasInstance);
}

/** A field of jsftrace's own on this thread's key object (shared/site-abi.ts OwnField); undefined until set. */
export function ownField(name: OwnField): unknown {
  return Object.getOwnPropertyDescriptor(siteKeyObject(), name)?.value as unknown;
}

/** Removes a field of jsftrace's own (attach's, at detach). */
export function deleteOwnField(name: OwnField): void {
  delete (siteKeyObject() as unknown as Record<string, unknown>)[name];
}

/** Sets a field of jsftrace's own: read-only, not enumerable (a second copy of jsftrace in the thread may set it again). */
export function setOwnField(name: OwnField, value: unknown): void {
  Object.defineProperty(siteKeyObject(), name, { value, writable: false, enumerable: false, configurable: true });
}

/**
 * Sets this thread's key object from the shared counts (KEYON): a key is
 * on while any of its sites calls something. Writes only the fields that
 * change, so that the code folding the others keeps its constants.
 */
export function applyStaticKey(): void {
  const gen = AtomicsLoad(i32, H_KEY_GEN);
  if (tv.row >= 0 && i32[tv.row + TH_KEY] === gen) return;
  const keys = siteKeyObject();
  let any = false;
  for (let b = 0; b < SITE_KEYS; b++) {
    const on = i32[L.keyOn + b]! > 0 ? 1 : 0;
    if (on === 1) any = true;
    if (appliedKeys[b] !== on) {
      appliedKeys[b] = on;
      keys[KEY_NAMES[b]!] = on === 1;
    }
  }
  if (keys['on'] !== any) keys['on'] = any;
  if (tv.row >= 0) i32[tv.row + TH_KEY] = gen;
}

/** Whether this thread's key object is behind the shared site keys. */
export function staticKeyBehind(): boolean {
  return tv.row < 0 || i32[tv.row + TH_KEY] !== AtomicsLoad(i32, H_KEY_GEN);
}

/** Acknowledges the latest sync round if this thread is quiescent. */
function onSync(): boolean {
  if (tv.row < 0) return true;
  if (i32[tv.row + TH_DEPTH] !== 0) return false;
  const gen = AtomicsLoad(i32, H_SYNC_GEN);
  refreshHandlers();
  applyStaticKey();
  AtomicsStore(i32, tv.row + TH_ACK, gen);
  AtomicsNotify(i32, tv.row + TH_ACK);
  return true;
}

interface InspectorLike {
  post(method: string, params?: object, cb?: (err: Error | null, res?: unknown) => void): void;
  on(event: string, fn: (msg: { params: Record<string, unknown> }) => void): void;
  connect(): void;
  connectToMainThread(): void;
}

let ipiSession: InspectorLike | null | undefined;
const workerSessions = new Set<string>();
// Read through the global object: a script-scope binding of the program's may share the name.
const IPI_EXPR = `globalThis[${JSON.stringify(KEY_GLOBAL)}]?.ipi?.()`;

async function ipiSessionOrNull(): Promise<InspectorLike | null> {
  if (ipiSession !== undefined) return ipiSession;
  try {
    // Required, not imported: an import() would go through Node's ES module
    // loader, and every loader of the program's would be asked for it.
    const inspector = createRequire(import.meta.url)('node:inspector') as typeof import('node:inspector');
    const s = new inspector.Session() as unknown as InspectorLike;
    if (isMainThread) {
      s.connect();
      s.on('NodeWorker.attachedToWorker', (m) => { workerSessions.add(String(m.params['sessionId'])); });
      s.on('NodeWorker.detachedFromWorker', (m) => { workerSessions.delete(String(m.params['sessionId'])); });
      s.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    } else {
      s.connectToMainThread();
    }
    ipiSession = s;
  } catch {
    ipiSession = null;
  }
  return ipiSession;
}

/** Interrupts the other threads so that even busy ones acknowledge. */
function sendIpis(s: InspectorLike): void {
  if (isMainThread) {
    const msg = JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: IPI_EXPR, silent: true } });
    for (const sessionId of workerSessions) {
      s.post('NodeWorker.sendMessageToWorker', { sessionId, message: msg }, () => undefined);
    }
  } else {
    // The main thread relays to its workers.
    s.post('Runtime.evaluate', { expression: IPI_EXPR, silent: true }, () => undefined);
  }
}

/**
 * Waits until every live thread has acknowledged a new sync round from a
 * quiescent point; resolves with that round's number. Resolves at once
 * when this is the only thread. `background`: no one waits for it (see
 * sleep).
 */
export async function synchronizeThreads(background = false): Promise<number> {
  const gen = AtomicsAdd(i32, H_SYNC_GEN, 1) + 1;
  // This thread is at a quiescent point by construction (a control call is
  // not made from inside a callback), unless it is; then it acks anyway.
  refreshHandlers();
  applyStaticKey();
  if (tv.row >= 0) AtomicsStore(i32, tv.row + TH_ACK, gen);
  if (rowsBehind(TH_ACK, gen, false).length === 0) return gen;
  channel?.postMessage({ type: 'sync', gen });
  const deadline = DateNow() + timeoutMs;
  let nextIpi = DateNow() + 2;
  for (;;) {
    const behind = rowsBehind(TH_ACK, gen, false);
    if (behind.length === 0) return gen;
    const now = DateNow();
    if (now > deadline) {
      fail('ETIMEDOUT', `thread(s) ${behind.map((no) => i32[rowAt(no) + TH_ID]).join(', ')} did not reach a quiescent point within ${timeoutMs} ms`);
    }
    if (now >= nextIpi) {
      const s = await ipiSessionOrNull();
      if (s !== null) sendIpis(s);
      nextIpi = now + 20;
    }
    await sleep(1, background);
  }
}

// ---- joining ----------------------------------------------------------------

let channel: BroadcastChannel | null = null;
let joined: Promise<void> | undefined;

function onMessage(message: unknown): void {
  const data = message as { type?: string } | undefined;
  if (data?.type === 'load') loadPending().catch(() => undefined);
  else if (data?.type === 'sync') onSync();
}

const exitListeners = new Set<(threadId: number) => void>();

/**
 * Calls `fn` with the thread id of every worker this thread created, once
 * that worker's thread has stopped (its Worker's `exit` event: after
 * process.exit, an uncaught throw, terminate(), or its natural end; the
 * stores it made are visible here). Layers above use it to save what such
 * a thread could not.
 */
export function onWorkerExit(fn: (threadId: number) => void): void {
  exitListeners.add(fn);
}

function watchWorkers(): void {
  // Marks the row of a worker this thread created as dead when it exits,
  // including worker.terminate(), where the worker itself runs no handler.
  diagnosticsChannel.subscribe('worker_threads', (msg) => {
    const w = (msg as { worker?: Worker }).worker;
    if (w === undefined) return;
    const id = w.threadId;
    w.once('exit', () => {
      markDead(id);
      for (const fn of exitListeners) {
        try {
          fn(id);
        } catch {
          // A layer's failure to save a thread's events is not the program's.
        }
      }
    });
  });
}

/** Joins this thread to the instance; resolves once its handlers are loaded. */
export function joinThread(): Promise<void> {
  if (joined !== undefined) return joined;
  initHandlers(tv.hSize);
  let no = claimRow();
  if (no < 0) {
    process.emitWarning(`all ${L.maxThreads} thread rows are in use; this thread shares the last row's counters and is not waited for`,
      { code: 'JSFTRACE_THREADS' });
    no = L.maxThreads - 1;
  }
  setThreadRow(tv, no);
  setOwnField('ipi', () => {
    onSync();
    if (isMainThread && ipiSession) sendIpis(ipiSession);
  });
  applyStaticKey();
  watchWorkers();
  atExit(() => markDead(threadId));
  channel = requireOwnCjs<DataChannels>('./data-channel.cjs').openDataChannel(CHANNEL, onMessage);
  channel.unref();
  joined = loadPending().catch((e: Error) => {
    process.emitWarning(`this thread could not load a registered handler: ${e.message}`, { code: 'JSFTRACE_LOAD' });
  });
  return joined;
}

export function threadRowNo(): number {
  return tv.rowNo;
}
