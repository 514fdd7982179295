/**
 * `node --require jsftrace/register app.js`, for programs started with
 * --require (CommonJS-only setups). Compiles to register.cjs.
 *
 * Owns: holding the program back until the ES module entry (register.js)
 * has run. Invariant: no module of the program is loaded before the thread
 * has joined the instance and the hooks are in place.
 *
 * jsftrace is an ES module whose start is asynchronous (joining the
 * instance awaits other threads), so a --require preload cannot run it to
 * the end synchronously. Node starts the main module (and a worker's file)
 * through `Module.runMain`, which Node documents as patchable from --require
 * preloads; we replace it once with a function that awaits register.js and
 * then calls the original. Code that runs without runMain (`-e`, `-p`, the
 * REPL, `eval: true` workers) starts before the hooks: see
 * docs/instrumentation.md.
 */

const Module = require('node:module') as { runMain?: (...args: unknown[]) => unknown };
const wt = require('node:worker_threads') as { isMainThread: boolean; parentPort: unknown; isInternalThread?: boolean };

const ENTRY = Symbol.for('jsftrace.registerEntry');
const g = globalThis as { [ENTRY]?: string };

// Node runs --require preloads in its module loader thread too (so that they
// may register hooks there). That thread runs no program code and must not
// join the instance: jsftrace's part in it is esm-loader.ts, which
// register.js installs. Node 20 has no isInternalThread; there the loader
// thread is the only worker without a parentPort.
const loaderThread = wt.isInternalThread ?? (!wt.isMainThread && wt.parentPort === null);
// jsftrace's own threads (the drain of a streaming record) run no program code and are not traced.
const ownThread = !wt.isMainThread && (wt as { workerData?: { jsftraceOwnThread?: unknown } }).workerData?.jsftraceOwnThread === true;

const runMain = Module.runMain;
if (!loaderThread && !ownThread) {
  g[ENTRY] ??= 'require';
}
const ready = loaderThread || ownThread ? null : import('./register.js');
if (ready !== null && typeof runMain === 'function') {
  Module.runMain = function runMainAfterJsftrace(this: unknown, ...args: unknown[]): void {
    Module.runMain = runMain;
    // A bound function makes no stack frame: the program's stack traces
    // from its first line on show Node's runMain and nothing of ours.
    ready.then(
      Function.prototype.apply.bind(runMain, this, args) as () => void,
      (err: unknown) => {
        // Surface a failed start (a malformed jsftrace.config.json) as the
        // uncaught exception it would have been with --import.
        process.nextTick(() => { throw err; });
      },
    );
  };
}
