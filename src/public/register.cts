/**
 * `node --require jsftrace/register app.js`, for programs started with
 * --require (CommonJS-only setups). Compiles to register.cjs.
 *
 * Owns: when the program starts relative to jsftrace's start (start.ts).
 * Invariant: no module of the program is loaded before the thread has
 * joined the instance and the hooks are in place.
 *
 * The start runs here synchronously, and Node starts the main module as it
 * would without jsftrace, unless the start needs the event loop to finish
 * something first (start.ts says what). Then `Module.runMain` (which Node calls to start the
 * main module and a worker's file, and documents as patchable from
 * --require preloads) is replaced once by a function that waits for the
 * start and then calls the original. Code that runs without runMain (`-e`,
 * `-p`, the REPL, `eval: true` workers) starts before the hooks: see
 * docs/instrumentation.md.
 */

// Before anything of the program's: the clocks and timers jsftrace's own
// work will use, whenever the rest of the start comes (startAtMain).
require('../shared/start-clocks.cjs');
const threadSettings = require('../shared/thread-settings.cjs') as import('../shared/thread-settings.cjs').ThreadSettings;
const inThreadHooks = require('../shared/in-thread-hooks.cjs') as import('../shared/in-thread-hooks.cjs').InThreadHooks;
// A worker that jsftrace reached through the options its program gave it
// (execArgv, or its environment's NODE_OPTIONS): those as given.
threadSettings.giveBackOptions();
const runtimeFile = require('../shared/runtime-file.cjs') as { requireRuntime(name: string): unknown; startCompileCache(): void; hideOwnEntries(): void };
const Module = require('node:module') as { runMain?: (...args: unknown[]) => unknown };
const wt = require('node:worker_threads') as { isMainThread: boolean; parentPort: unknown; isInternalThread?: boolean };

// Node runs --require preloads in its module loader thread too (so that they
// may register hooks there). That thread runs no program code and must not
// join the instance: jsftrace's part in it is esm-loader.ts, which the
// start installs. Node 20 has no isInternalThread; there the loader thread
// is the only worker without a parentPort.
const loaderThread = wt.isInternalThread ?? (!wt.isMainThread && wt.parentPort === null);
// jsftrace's own threads (the drain of a streaming record) run no program code and are not traced.
const ownThread = !wt.isMainThread && (wt as { workerData?: { jsftraceOwnThread?: unknown } }).workerData?.jsftraceOwnThread === true;

const runMain = Module.runMain;
type Start = typeof import('./start.js');

/**
 * Calls Node's runMain with `args` once `done` settles: from the tick
 * queue, not from the promise reaction, so that an exception the main
 * module throws is an uncaught exception, as without us, not a rejection
 * (a bound function makes no stack frame). A failed start (a malformed
 * jsftrace.config.json) surfaces as the uncaught exception it would have
 * been with --import.
 */
function runMainAfter(self: unknown, args: unknown[], done: Promise<unknown>): void {
  const begin = Function.prototype.apply.bind(runMain!, self, args) as () => void;
  done.then(() => { process.nextTick(begin); }, (err: unknown) => { process.nextTick(() => { throw err; }); });
}

/** Holds Module.runMain (the main module, or a worker's file) until `done`. */
function holdMain(done: Promise<unknown>): void {
  if (typeof runMain !== 'function') return;
  Module.runMain = function runMainAfterJsftrace(this: unknown, ...args: unknown[]): void {
    Module.runMain = runMain;
    runMainAfter(this, args, done);
  };
}

/** jsftrace's runtime: one CommonJS file, its modules by path (shared/own-load.ts). */
interface Runtime { load(path: string): unknown }

/**
 * Starts jsftrace in this thread. Returns the start's end when the main
 * module must wait for it, or null when it may start as Node starts it.
 */
function startHere(): Promise<unknown> | null {
  // The start is synchronous: the main module starts as Node starts it,
  // unless the start needs the event loop to finish something first.
  let started: { holdsProgram: boolean; done: Promise<void> };
  try {
    runtimeFile.startCompileCache();
    started = ((runtimeFile.requireRuntime('jsftrace.cjs') as Runtime).load('public/start.js') as Start).start(true);
    // What the start required besides the runtime file.
    runtimeFile.hideOwnEntries();
  } catch (err) {
    started = { holdsProgram: true, done: Promise.reject(err) };
  }
  if (started.holdsProgram) return started.done;
  started.done.catch((err: unknown) => { process.nextTick(() => { throw err; }); });
  return null;
}

/**
 * Whether the process runs loaders given by `--experimental-loader` (or
 * `--loader`). Node starts their thread at the first ES module it loads, or
 * when a loader is registered (`module.register`), and the thread takes a
 * copy of the environment then. Where jsftrace's hooks are such a loader
 * (loaderThreadOfOurs), starting here would start that thread before the
 * --require preloads after this one have run, and a loader would miss what
 * they put in the environment (`-r dotenv/config --loader ts-node/esm`, a
 * preload that tells a loader which test runs: import-in-the-middle's own
 * suite). Elsewhere the start loads no ES module (jsftrace's own are one
 * CommonJS file) and registers in-thread hooks, which start no thread.
 */
function userLoaders(): boolean {
  const flag = /^--(?:experimental-)?loader(?:=|$)/;
  if (process.execArgv.some((a) => flag.test(a))) return true;
  return /(?:^|\s)--(?:experimental-)?loader(?:=|\s|$)/.test(process.env['NODE_OPTIONS'] ?? '');
}

/**
 * Whether jsftrace's module hooks will be a loader in Node's loader thread
 * (`module.register`) rather than in-thread hooks (`module.registerHooks`,
 * on the releases where they are sound: shared/in-thread-hooks.cts): what
 * hooks/install.ts chooses.
 */
function loaderThreadOfOurs(): boolean {
  const hooks = threadSettings.settingsEnv()['JSFTRACE_HOOKS'];
  if (hooks === 'async') return true;
  if (hooks === 'sync') return !inThreadHooks.inThreadHooksPresent();
  return !inThreadHooks.inThreadHooksSound();
}

/**
 * With such loaders, the start waits for Node to start the main module
 * (Module.runMain), after every --require preload, where the plain run
 * starts the loaders' thread too; the preloads after this one then run
 * before the hooks. Code that runs without runMain (`-e`, `-p`) gets the
 * start from the tick queue once it has run its first turn.
 */
function startAtMain(): void {
  if (typeof runMain !== 'function') {
    const done = startHere();
    if (done !== null) done.catch((err: unknown) => { process.nextTick(() => { throw err; }); });
    return;
  }
  // undefined until the start has run; then its end, or null when nothing waits for it.
  let startDone: Promise<unknown> | null | undefined;
  let mainWaits = false;
  const wrapper = function runMainAfterJsftrace(this: unknown, ...args: unknown[]): unknown {
    if (Module.runMain === wrapper) Module.runMain = runMain;
    // A later preload that held runMain back past the fallback below calls this late.
    startDone ??= startHere();
    if (startDone === null) return runMain.apply(this, args);
    mainWaits = true;
    runMainAfter(this, args, startDone);
    return undefined;
  };
  Module.runMain = wrapper;
  process.nextTick(() => {
    if (startDone !== undefined) return;
    if (Module.runMain === wrapper) Module.runMain = runMain;
    startDone = startHere();
    startDone?.catch((err: unknown) => {
      if (!mainWaits) process.nextTick(() => { throw err; });
    });
  });
}

/**
 * In the loader thread that jsftrace's own module.register starts (Node 20,
 * and 22 before 22.15), in a process with no loaders of its own: Node runs
 * every --require preload there too (as it does in any loader thread; a
 * program that registers loaders later relies on it), and a preload that
 * calls process.exit() ended this thread, which the main thread waits for:
 * the program hung. While a preload of the program's loads here, its
 * process.exit() stops the preload and leaves the thread running; the main
 * thread's own run of the preload ends the process.
 */
function guardPreloadExits(): void {
  const M = Module as unknown as { _load: (request: string, parent: { id?: string } | null | undefined, isMain: boolean) => unknown };
  const load = M._load;
  const stop = new Error('a --require preload called process.exit() in the module loader thread');
  M._load = function loadInLoaderThread(this: unknown, request, parent, isMain): unknown {
    if (parent?.id !== 'internal/preload') return Reflect.apply(load, this, [request, parent, isMain]);
    const exit = process.exit;
    process.exit = (() => { throw stop; }) as typeof process.exit;
    try {
      return Reflect.apply(load, this, [request, parent, isMain]);
    } catch (e) {
      if (e === stop) return {};
      throw e;
    } finally {
      process.exit = exit;
    }
  };
  // Node loads the preloads in one synchronous loop.
  process.nextTick(() => { if (M._load.name === 'loadInLoaderThread') M._load = load; });
}

if (loaderThread && !userLoaders()) guardPreloadExits();

if (!loaderThread && !ownThread) {
  if (wt.isMainThread && userLoaders() && loaderThreadOfOurs()) startAtMain();
  else {
    const done = startHere();
    if (done !== null) holdMain(done);
  }
}

// Whether the start ran now, waits for the main module, or never runs in
// this thread (a loader thread, jsftrace's own): what is in the require
// cache so far is jsftrace's own, and the program's later preloads see its
// own modules only.
runtimeFile.hideOwnEntries();
