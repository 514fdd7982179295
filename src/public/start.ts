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
 * Everything up to the hooks is synchronous (jsftrace's modules are one
 * CommonJS file, shared/own-load.ts), and the rest (a worker's handlers, the configuration, the
 * recording's drain) needs only microtasks, which the start runs itself:
 * then a --require entry lets Node start the main module exactly as it
 * would without jsftrace, unless something above needs the event loop.
 */

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { ready } from '../core/index.js';
import { hooksInstallSync, installHooks, installHooksSync } from '../instrument/hooks/install.js';
import type { EntryFlag } from '../instrument/hooks/propagate.js';
import { installRuntime } from '../instrument/runtime.js';
import { ownModule } from '../shared/own-load.js';
import { requireOwnCjs } from '../shared/own-cjs.js';
import type { ThreadSettings } from '../shared/thread-settings.cjs';
import { openOrCreateSession } from '../tracers/session-layout.js';
import { jsftraceStarts, programBegins } from '../tracers/own-async.js';

const requireHere = createRequire(import.meta.url);
const { settingsEnv } = requireOwnCjs<ThreadSettings>('./thread-settings.cjs');
/** This package's compiled files (dist/). */
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const registerJs = new URL('./register.js', import.meta.url);
const registerCjs = new URL('./register.cjs', import.meta.url);
// The control modules, loaded synchronously from the runtime's file.
type Startup = typeof import('../control/startup.js');
type Server = typeof import('../control/server.js');
const startupUrl = new URL('../control/startup.js', import.meta.url);
const serverUrl = new URL('../control/server.js', import.meta.url);

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

/**
 * `env`: where the settings are read (shared/thread-settings.cts: a
 * worker's starter's settings fill in what its own environment lacks).
 */
export function start(viaRequire: boolean, env: NodeJS.ProcessEnv = settingsEnv()): Started {
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
  // Our own modules come synchronously from the runtime's file (own-load.ts):
  // then the start needs only microtasks, which the --require entry runs
  // before the program.
  if (sync && isMainThread && !configured) {
    // Nothing to wait for: the session opens now (each worker the
    // program starts shares it), the control server listens beside the
    // program (startup.ts), and the program is not held.
    openOrCreateSession();
    const serve = (): Server['serveControl'] => ownModule<Server>(serverUrl).serveControl;
    const control = ownModule<Startup>(startupUrl).startControl(serve).done;
    programBegins();
    const done = Promise.all([hooks.then(() => ready()), control]).then(() => undefined);
    // By --require, what the start queued runs now, not from the tick the
    // program's first promise jobs run in: its stacks have no frame of ours.
    if (viaRequire) settledNow(done);
    return { holdsProgram: false, done };
  }
  // What is made until the program's first line is jsftrace's own (the
  // async_hook events leave it out): the program begins once it depends
  // on nothing more; the control server listens beside it.
  const control = hooks.then(() => ready()).then(() => (isMainThread ? ownModule<Startup>(startupUrl).startControl() : null));
  const applied = control.then((c) => c?.applied).then(programBegins);
  const done = Promise.all([applied, control.then((c) => c?.done)]).then(() => undefined);
  // By --require with synchronous hooks and modules, the start needs only
  // microtasks, which are run here, so that Node starts the program as it
  // would without jsftrace (a held program starts from the tick queue: its
  // stack ends there, and an exception it throws at once is reported from
  // its Error's stack, not from its throw). Something that needs the event
  // loop (an export to start, a handler module of the user's) leaves it held.
  return { holdsProgram: !(viaRequire && sync && settledNow(applied)), done };
}

/**
 * Runs the microtasks and ticks queued so far with Node's own tick entry
 * (`process._tickCallback`, there since Node's first lines, which drains
 * both queues until they are empty), when they can only be the start's
 * (mayRunQueued); whether `p` has then resolved. Otherwise nothing is run
 * and the caller holds the program.
 */
function settledNow(p: Promise<void>): boolean {
  const run = (process as { _tickCallback?: () => void })._tickCallback;
  if (typeof run !== 'function' || !mayRunQueued()) return false;
  const seen: { state: 'pending' | 'resolved' | 'rejected' } = { state: 'pending' };
  p.then(() => { seen.state = 'resolved'; }, () => { seen.state = 'rejected'; });
  run.call(process);
  return seen.state === 'resolved';
}

/**
 * Whether the tick and microtask queues hold nothing but the start's: no
 * preload ran before this one (what it queued would otherwise run before
 * the main module, not after its first synchronous part: a warning before
 * the program's listener, a rejection before its handler, a throw from a
 * tick outside its callback scope), and no option of Node's own start
 * queued a warning. Options that may (the experimental ones, the
 * permission model's, loaders, policies, frozen intrinsics) hold the
 * program, but those measured on Node 20 to 26 to queue nothing at the
 * start (QUEUES_NOTHING; `node --test` gives every file's process one of
 * them on Node 24). And `_tickCallback` is not deprecated out loud
 * (--pending-deprecation would print DEP0134).
 */
const MAY_QUEUE = /^--(?:no-)?(?:experimental|permission|allow-|loader|policy|pending-deprecation|frozen-intrinsics|disable-proto|security-revert)/;
const QUEUES_NOTHING = new RegExp(`^--(?:no-)?experimental-(?:${[
  'vm-modules', 'strip-types', 'transform-types', 'addon-modules', 'require-module', 'detect-module', 'default-type', 'global-navigator',
  'wasm-modules', 'import-meta-resolve', 'shadow-realm', 'async-context-frame', 'print-required-tla', 'sqlite', 'websocket', 'eventsource',
  'webstorage', 'json-modules', 'top-level-await', 'test-[a-z-]+',
].join('|')})(?:=|$)|^--(?:disable-proto|permission|allow-fs-read|allow-fs-write)(?:=|$)`);

function mayRunQueued(): boolean {
  const options = [...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/), ...process.execArgv];
  if (process.env['NODE_PENDING_DEPRECATION'] === '1') return false;
  if (options.some((o) => MAY_QUEUE.test(o) && !QUEUES_NOTHING.test(o))) return false;
  // An earlier --require preload is in the CommonJS cache; ours are this package's files.
  return Object.keys(requireHere.cache).every((f) => f.startsWith(packageRoot));
}
