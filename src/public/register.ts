/**
 * `node --import jsftrace/register app.js` (and, through register.cjs,
 * `node --require jsftrace/register app.js`): joins this thread to the
 * tracing instance, then installs the module hooks that give every
 * function of the program and of its dependencies an entry site as its
 * module loads. Worker threads run this again (they inherit the flag), and
 * so do child processes when JSFTRACE_CHILDREN=1.
 *
 * Invariant: the order below. Instrumented code expects this thread's
 * runtime, so the thread joins the instance and installs the runtime
 * before any hook can produce instrumented code. See
 * docs/instrumentation.md.
 */

import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { ready } from '../core/index.js';
import { installHooks } from '../instrument/hooks/install.js';
import { installRuntime } from '../instrument/runtime.js';

// The runtime installation point: the globals instrumented code reads must
// exist before the first hook can hand out instrumented code.
installRuntime();

const ENTRY = Symbol.for('jsftrace.registerEntry');
const viaRequire = (globalThis as { [ENTRY]?: string })[ENTRY] === 'require';

const registerJs = new URL(import.meta.url);
const registerCjs = new URL('./register.cjs', import.meta.url);

await installHooks(viaRequire
  ? { words: ['--require', fileURLToPath(registerCjs)], marks: [fileURLToPath(registerCjs), 'jsftrace/register'] }
  : { words: [`--import=${registerJs.href}`], marks: [registerJs.href, fileURLToPath(registerJs), 'jsftrace/register'] });

// Handlers registered before this thread joined (a worker started while a
// tracer is on) are loaded before the thread's own code runs, so that its
// first calls are traced with every callback and option in place.
await ready();

// The control surface (the session, JSFTRACE_CONTROL_INIT, JSFTRACE_RECORD, the
// control server) belongs to the process: the main thread sets it up.
if (isMainThread) await (await import('../control/startup.js')).startControl();

/** Counters of this process's instrumentation (all threads): transformed, cached, failed, ... */
export { instrumentStats, type InstrumentStats } from '../instrument/load.js';
