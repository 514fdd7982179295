/**
 * `node --require jsftrace/register app.js`, for programs started with
 * --require (CommonJS-only setups). Compiles to register.cjs.
 *
 * Owns: when the program starts relative to jsftrace's start (start.ts).
 * Invariant: no module of the program is loaded before the thread has
 * joined the instance and the hooks are in place.
 *
 * Where Node can require() an ES module (20.19, 22.12 and later), the start
 * runs here synchronously up to the hooks, and Node starts the main module
 * as it would without jsftrace, unless the start must finish something
 * first (start.ts says what). Then, and on older Node where the start is
 * an asynchronous import, `Module.runMain` (which Node calls to start the
 * main module and a worker's file, and documents as patchable from
 * --require preloads) is replaced once by a function that waits for the
 * start and then calls the original. Code that runs without runMain (`-e`,
 * `-p`, the REPL, `eval: true` workers) starts before the hooks: see
 * docs/instrumentation.md.
 */

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

/** Holds Module.runMain (the main module, or a worker's file) until `done`. */
function holdMain(done: Promise<unknown>): void {
  if (typeof runMain !== 'function') return;
  Module.runMain = function runMainAfterJsftrace(this: unknown, ...args: unknown[]): void {
    Module.runMain = runMain;
    // From the tick queue, not from the promise reaction: an exception the
    // main module throws is then an uncaught exception, as without us, not
    // a rejection. A bound function makes no stack frame.
    const begin = Function.prototype.apply.bind(runMain, this, args) as () => void;
    done.then(
      () => { process.nextTick(begin); },
      (err: unknown) => {
        // Surface a failed start (a malformed jsftrace.config.json) as the
        // uncaught exception it would have been with --import.
        process.nextTick(() => { throw err; });
      },
    );
  };
}

if (!loaderThread && !ownThread) {
  const requireEsm = (process.features as { require_module?: boolean }).require_module === true;
  if (requireEsm) {
    // The start is synchronous up to the hooks: the main module starts as
    // Node starts it, unless the start has something it must finish first.
    let started: { holdsProgram: boolean; done: Promise<void> };
    try {
      started = (require('./start.js') as Start).start(true);
    } catch (err) {
      started = { holdsProgram: true, done: Promise.reject(err) };
    }
    if (started.holdsProgram) holdMain(started.done);
    else started.done.catch((err: unknown) => { process.nextTick(() => { throw err; }); });
  } else {
    holdMain(import('./start.js').then((m: Start) => m.start(true).done));
  }
}
