/**
 * What `jsftrace/register` does in a thread, for both of its entries
 * (register.ts for --import, register.cts for --require).
 *
 * Owns: the order of the start and what the program must wait for.
 * Invariants: instrumented code expects this thread's runtime, so the thread
 * joins the instance and installs the runtime before any hook can produce
 * instrumented code; and the program's first line runs only once the start
 * has done what that line depends on: the hooks (always), the handlers
 * registered before a worker joined (so that its first calls are traced),
 * the configuration `jsftrace record` passes (JSFTRACE_CONTROL_INIT,
 * JSFTRACE_RECORD). What nothing depends on (the control server listening)
 * goes on beside the program.
 *
 * Everything up to the hooks is synchronous when Node can require() an ES
 * module: then a --require entry lets Node start the main module exactly as
 * it would without jsftrace, unless something above must be waited for.
 */

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { ready } from '../core/index.js';
import { hooksInstallSync, installHooks, installHooksSync } from '../instrument/hooks/install.js';
import type { EntryFlag } from '../instrument/hooks/propagate.js';
import { installRuntime } from '../instrument/runtime.js';
import { jsftraceStarts, programBegins } from '../tracers/own-async.js';

// Loads the control modules synchronously where Node can require() an ES
// module (then, and only then, the start is synchronous: see below).
const requireHere = createRequire(import.meta.url);
const registerJs = new URL('./register.js', import.meta.url);
const registerCjs = new URL('./register.cjs', import.meta.url);

/** How this thread loaded jsftrace, as workers and children are given it. */
function entryFlag(viaRequire: boolean): EntryFlag {
  return viaRequire
    ? { words: ['--require', fileURLToPath(registerCjs)], marks: [fileURLToPath(registerCjs), 'jsftrace/register'] }
    : { words: [`--import=${registerJs.href}`], marks: [registerJs.href, fileURLToPath(registerJs), 'jsftrace/register'] };
}

export interface Started {
  /** Whether the program must wait for `done` before its first line. */
  readonly holdsProgram: boolean;
  /** The whole start, the control server included. */
  readonly done: Promise<void>;
}

export function start(viaRequire: boolean, env: NodeJS.ProcessEnv = process.env): Started {
  jsftraceStarts();
  // The runtime installation point: the globals instrumented code reads
  // must exist before the first hook can hand out instrumented code.
  installRuntime();
  const flag = entryFlag(viaRequire);
  const sync = hooksInstallSync(env);
  const hooks = sync ? Promise.resolve(installHooksSync(flag, env)) : installHooks(flag, env);
  const configured = (env['JSFTRACE_CONTROL_INIT'] ?? '') !== '' || (env['JSFTRACE_RECORD'] ?? '') !== '';
  // Handlers registered before this thread joined (a worker started while a
  // tracer is on) are loaded before the thread's own code runs, so that its
  // first calls are traced with every callback and option in place. The
  // control surface (the session, JSFTRACE_CONTROL_INIT, JSFTRACE_RECORD,
  // the control server) belongs to the process: the main thread sets it up.
  // Its start opens the session synchronously, before the program can start
  // a worker.
  if (sync && isMainThread && !configured) {
    // Nothing to wait for: the session opens now, the control server
    // listens before the first turn of the event loop (startup.ts), and the
    // program is not held.
    const startup = requireHere('../control/startup.js') as typeof import('../control/startup.js');
    const control = startup.startControl(() => (requireHere('../control/server.js') as typeof import('../control/server.js')).serveControl);
    programBegins();
    return { holdsProgram: false, done: Promise.all([hooks.then(() => ready()), control]).then(() => undefined) };
  }
  // What is made until the program's first line is jsftrace's own (the
  // async_hook events leave it out): the program begins once `done` has.
  const done = hooks.then(() => ready()).then(async () => {
    if (isMainThread) await (await import('../control/startup.js')).startControl();
  }).then(programBegins);
  return { holdsProgram: !sync || !isMainThread || configured, done };
}
