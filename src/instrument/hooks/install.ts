/**
 * Installs the module hooks of this thread: what `jsftrace/register` does
 * after joining the tracing instance.
 *
 * Owns: the choice of mechanism for the running Node and the order of
 * installation. Invariant: by the time it returns, every module this thread
 * loads afterwards, CommonJS or ESM, passes through load.ts exactly once;
 * and it runs at most once per thread.
 *
 * On Node 20 (and later with JSFTRACE_HOOKS=async): ES modules through
 * `module.register` (a loader thread running esm-loader.ts), CommonJS
 * through Module.prototype._compile (cjs.ts). Where `module.registerHooks`
 * exists (and JSFTRACE_HOOKS is not 'async'), on the releases where
 * registering it changes nothing else (shared/in-thread-hooks.cts): ES
 * modules through an in-thread load hook instead; CommonJS stays on
 * _compile. Before Node 20.6
 * (no module.register) ES modules are not instrumented, with a warning.
 */

import module from 'node:module';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { ownField, setOwnField } from '../../core/index.js';
import { fail } from '../../shared/errors.js';
import { ReflectApply } from '../../shared/builtins.js';
import { cacheOptionsFromEnv } from '../cache.js';
import {
  configure, currentSettings, emitFailureWarning, enableCompileCache, setBeforeStats, useTransformModule,
} from '../load.js';
import { readScopeConfig } from '../scope.js';
import { installCjsHook } from './cjs.js';
import { followChildren, followWorkers, type EntryFlag } from './propagate.js';
import { followLoaders } from './follow-loaders.js';
import { installSyncHooks, joinOutermost, prepareSyncHooks, syncHooksApi } from './sync-hooks.js';
import { atExit } from '../../shared/exit-hooks.js';
import { workingDir, workingDirRemoved } from '../../shared/working-dir.js';
import { KEY_GLOBAL } from '../../shared/site-abi.js';
import type { LoaderData } from './esm-loader.js';
import { requireOwnCjs } from '../../shared/own-cjs.js';
import type { ThreadSettings } from '../../shared/thread-settings.cjs';
import type { InThreadHooks } from '../../shared/in-thread-hooks.cjs';

const threadSettings = requireOwnCjs<ThreadSettings>('./thread-settings.cjs');
const inThreadHooks = requireOwnCjs<InThreadHooks>('./in-thread-hooks.cjs');

export interface InstallInfo {
  /** How ES modules are hooked in this thread. */
  readonly esm: 'sync' | 'async' | 'none';
  /** Whether workers created with an explicit execArgv get jsftrace too. */
  readonly workers: boolean;
  /** Whether NODE_OPTIONS was set for child processes. */
  readonly children: boolean;
  /** Node's compile cache directory, when jsftrace turned it on. */
  readonly compileCache: string | null;
}

/** What installHooks did in this thread, or null before it ran (in any copy of jsftrace the thread loaded). */
export function hooksInfo(): InstallInfo | null {
  return (ownField('hooks') as InstallInfo | undefined) ?? null;
}

let loaderPort: MessagePort | null = null;

function onLoaderMessage(m: unknown, atExit = false): void {
  const msg = m as { type?: string; filename?: string; error?: string };
  if (msg.type === 'failure' && typeof msg.filename === 'string') emitFailureWarning(msg.filename, String(msg.error), atExit);
}

/**
 * Takes the failures the loader thread has reported and not yet been
 * delivered. The port is unreferenced (it must not keep the program alive),
 * so a message still queued when the program ends is read here.
 */
export function drainLoaderReports(atExit = false): void {
  if (loaderPort === null) return;
  for (;;) {
    const r = receiveMessageOnPort(loaderPort);
    if (r === undefined) return;
    onLoaderMessage(r.message, atExit);
  }
}

function chooseMode(env: NodeJS.ProcessEnv): 'sync' | 'async' {
  const v = env['JSFTRACE_HOOKS'] ?? 'auto';
  if (v === 'async') return 'async';
  if (v === 'sync') {
    if (syncHooksApi() === null) fail('EINVAL', 'JSFTRACE_HOOKS=sync needs module.registerHooks (Node 22.15, 23.5 or later)');
    return 'sync';
  }
  if (v !== 'auto' && v !== '') fail('EINVAL', `JSFTRACE_HOOKS=${v}: expected auto, sync or async`);
  // Node releases whose in-thread hooks change how imported CommonJS loads
  // get the loader thread (shared/in-thread-hooks.cts).
  return inThreadHooks.inThreadHooksSound() ? 'sync' : 'async';
}

/** Whether Node's permission model (`--permission`, Node 20's `--experimental-permission`) is on and denies worker threads. */
function workersDenied(): boolean {
  const permission = (process as { permission?: { has(scope: string): boolean } }).permission;
  return permission !== undefined && !permission.has('worker');
}

/**
 * A deprecation warning that jsftrace's own call of a Node function took
 * from the program: Node warns once per deprecated function, so the
 * program's first call of it warns instead (followLoaders' `before`).
 */
let heldDeprecation: [string, string, string | undefined] | null = null;

/**
 * Runs `f` with the deprecation warnings it raises held back. Node 26
 * deprecates `module.register`: its warning, printed once, or thrown under
 * `--throw-deprecation`, would be the program's for a call it did not make.
 * Node raises it through `process.emitWarning`, put back at once.
 */
function holdingDeprecations(f: () => void): void {
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, type?: unknown, code?: unknown, ...rest: unknown[]): void {
    if (type === 'DeprecationWarning' && typeof warning === 'string') {
      heldDeprecation ??= [warning, type, typeof code === 'string' ? code : undefined];
      return;
    }
    // Any other warning (jsftrace's own, from the settings read here) goes out as it would.
    ReflectApply(emitWarning, this, [warning, type, code, ...rest]);
  } as typeof process.emitWarning;
  try {
    f();
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** At the program's first call of `module.register`: the warning jsftrace's call held back. */
function releaseDeprecation(standIn: (...args: unknown[]) => unknown): void {
  if (heldDeprecation === null) return;
  const [warning, type, code] = heldDeprecation;
  heldDeprecation = null;
  process.emitWarning(warning, type, code, standIn);
}

function registerLoaderThread(): boolean {
  const register = (module as unknown as { register?: unknown }).register;
  if (typeof register !== 'function') return false;
  const registerOurs = register as (url: URL, opts?: unknown) => void;
  const { port1, port2 } = new MessageChannel();
  port1.on('message', onLoaderMessage);
  port1.unref();
  loaderPort = port1;
  holdingDeprecations(() => registerOurs.call(module, new URL('./esm-loader.js', import.meta.url), {
    data: { settings: currentSettings(), port: port2, binding: KEY_GLOBAL } satisfies LoaderData,
    transferList: [port2],
  }));
  // Each later registration of the program's gets an instance of ours
  // outside it (loader-state.ts); the URL differs so that each is a module
  // of its own.
  let outers = 0;
  followLoaders('register', () => registerOurs.call(module, new URL(`./esm-loader.js?outer=${++outers}`, import.meta.url)), releaseDeprecation);
  return true;
}

/**
 * Installs the hooks, after loading what they need first: a replacement
 * transform (JSFTRACE_TRANSFORM_MODULE). `flag` is how this thread loaded jsftrace,
 * passed on to workers and children.
 */
export async function installHooks(flag: EntryFlag, env: NodeJS.ProcessEnv = process.env): Promise<InstallInfo> {
  const done = hooksInfo();
  if (done !== null) return done;
  const tm = env['JSFTRACE_TRANSFORM_MODULE'];
  if (tm !== undefined && tm !== '') {
    // Read the settings first: a malformed config fails before anything loads.
    chooseMode(env);
    readScopeConfig(workingDir(), env);
    await useTransformModule(tm);
  }
  return installHooksSync(flag, env);
}

/** Whether installHooksSync can install this thread's hooks now (nothing to load first). */
export function hooksInstallSync(env: NodeJS.ProcessEnv = process.env): boolean {
  const tm = env['JSFTRACE_TRANSFORM_MODULE'];
  return tm === undefined || tm === '';
}

/** installHooks, when hooksInstallSync says nothing needs loading first. */
export function installHooksSync(flag: EntryFlag, env: NodeJS.ProcessEnv = process.env): InstallInfo {
  const done = hooksInfo();
  if (done !== null) return done;
  // Read the settings first: a malformed config fails the start here, with
  // nothing installed, rather than module by module later.
  const mode = chooseMode(env);
  configure({ scope: readScopeConfig(workingDir(), env), cache: cacheOptionsFromEnv(env, workingDir()) });

  const compileCache = enableCompileCache(env);
  installCjsHook();
  let esm: InstallInfo['esm'];
  if (mode === 'sync' && installSyncHooks()) {
    esm = 'sync';
    // In-thread hooks run outside every off-thread one; only another
    // in-thread set can come outside ours.
    followLoaders('registerHooks', joinOutermost);
  }
  else if (workingDirRemoved()) {
    // Node's module loader thread never answers in a removed working
    // directory (any loader: the program hangs before its first line), so
    // none is registered; the program runs, its ES modules as they are.
    esm = 'none';
    process.emitWarning('the working directory was removed: a module loader thread would hang, so ES modules are not instrumented (CommonJS is)', {
      code: 'JSFTRACE_HOOKS',
    });
  }
  else if (workersDenied()) {
    // Node's module loader thread is a worker: under the permission model
    // without --allow-worker, module.register throws, and the program with it.
    esm = 'none';
    process.emitWarning('the permission model allows no worker threads (--allow-worker): a module loader thread cannot start, so ES modules are not instrumented (CommonJS is)', {
      code: 'JSFTRACE_HOOKS',
    });
  }
  else if (registerLoaderThread()) {
    esm = 'async';
    // A program's own in-thread hooks run before every off-thread loader,
    // ours included, and may answer without passing a request on: a set of
    // our in-thread hooks joins outside each, from its first on. Until the
    // program registers one there is none (shared/in-thread-hooks.cts: on
    // some releases registering one changes how Node loads; once the
    // program has, ours changes nothing more).
    if (prepareSyncHooks()) followLoaders('registerHooks', joinOutermost);
  }
  else {
    esm = 'none';
    process.emitWarning('this Node has no module.register: ES modules are not instrumented (CommonJS is)', {
      code: 'JSFTRACE_HOOKS',
    });
  }
  setBeforeStats(() => drainLoaderReports());
  atExit(() => drainLoaderReports(true));

  const workers = env['JSFTRACE_WORKERS'] !== '0' && followWorkers(flag);
  const children = env['JSFTRACE_CHILDREN'] === '1';
  // Into process.env, which the program's children inherit (`env` may be a
  // copy, with settings a worker took from its starter: start.ts).
  if (children) {
    followChildren(flag);
    threadSettings.settingsIntoEnvironment();
  }
  const info: InstallInfo = { esm, workers, children, compileCache };
  setOwnField('hooks', info);
  return info;
}
