/**
 * The module that `module.register` loads in Node's loader thread (the
 * off-thread ESM customization hooks of Node 20, and of later Node when
 * JSFTRACE_HOOKS=async).
 *
 * Owns: the `initialize`, `resolve` and `load` hooks. Invariant: this thread
 * runs no program code and joins no tracing instance (it must not import
 * core): it only turns sources into instrumented sources, with the settings
 * the registering thread made, and reports failures back to that thread,
 * which shows them; the counters are shared memory and need no message.
 *
 * The module is registered more than once (see loader-state.ts): as itself
 * by register.js, then as `esm-loader.js?outer=…` after each loader the
 * program registers (follow-loaders.ts), or by the first instance when the
 * program's entry point is resolved, so that the transforming instance is
 * outside every loader registered after jsftrace. All share load.ts.
 */

import { readFileSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import type { LoadSettings } from '../load.js';
import type { LoadResult } from './load-result.js';

// Not part of the runtime's file (each registration is an instance of its
// own): the modules it uses are that file's, taken from it directly rather
// than through the modules that hand them on, which Node's ES module loader
// would resolve one by one in the loader thread.
const runtimeFile = module.createRequire(import.meta.url)('../../shared/runtime-file.cjs') as { requireRuntime(name: string): unknown };
const runtime = runtimeFile.requireRuntime('jsftrace.cjs') as { load(path: string): unknown };
const { applySettings } = runtime.load('instrument/load.js') as typeof import('../load.js');
const { joinAsOuter, requestOuter, requiredBySourced, sourcedCjs, transforms, whenOuterReady } = runtime.load('instrument/hooks/loader-state.js') as typeof import('./loader-state.js');
const { instrumentLoadResult } = runtime.load('instrument/hooks/load-result.js') as typeof import('./load-result.js');
const { withoutOwnFrames } = runtime.load('instrument/hooks/own-frames.js') as typeof import('./own-frames.js');
const { adoptKeyGlobal } = runtime.load('shared/site-abi.js') as typeof import('../../shared/site-abi.js');
const { settableStackLimit } = runtime.load('shared/builtins.js') as typeof import('../../shared/builtins.js');

export interface LoaderData {
  settings: LoadSettings;
  /** The registering thread's static key (shared/binding-name.cts): this thread may have started before it was chosen. */
  binding: string;
  /** Failures go back to the registering thread through it. */
  port: MessagePort;
}

const isOuter = new URL(import.meta.url).searchParams.has('outer');
/** This instance's place in the chain: 0 for the first, then the order of joining. */
let rank = 0;
const always = (): boolean => true;

export async function initialize(data: LoaderData | undefined): Promise<void> {
  if (isOuter) {
    rank = joinAsOuter();
    return;
  }
  const { port } = data!;
  port.unref();
  adoptKeyGlobal(data!.binding);
  await applySettings(data!.settings, (filename, error) => {
    port.postMessage({ type: 'failure', filename, error });
  });
}

interface ResolveContext { parentURL?: string }
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<{ url: string }>;
type NextLoad = (url: string, context?: unknown) => Promise<LoadResult>;

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<{ url: string }> {
  let result: { url: string };
  try {
    result = await nextResolve(specifier, context);
  } catch (e) {
    throw withoutOwnFrames(e);
  }
  if (context.parentURL !== undefined && sourcedCjs.has(context.parentURL)) requiredBySourced.add(result.url);
  if (!isOuter && context.parentURL === undefined && requestOuter()) {
    // Registered from this thread, the hooks join the chain directly (no
    // round trip to the module thread); the entry point loads after our
    // outer instance's initialize has run.
    // Node 26 deprecates module.register; the registering thread has said
    // so once already (it registered us), and this thread runs no program
    // code whose warnings the flag could hide. Under `--no-deprecation`
    // Node made the property read-only (and true): assigning would throw.
    if (process.noDeprecation !== true) process.noDeprecation = true;
    module.register(new URL('./esm-loader.js?outer=entry', import.meta.url).href);
    await whenOuterReady();
  }
  return result;
}

/**
 * Whether this load was asked for by the loader thread itself: the hook
 * module of a loader registered after us (tsx's, when `--import tsx` comes
 * second) is imported through the hooks already in place, ours included,
 * and then runs here, where no program code runs and no site could be
 * called. Node's API does not say who asked; the stack does: a request from
 * a module thread arrives through the loader worker's message handler, an
 * import made in this thread through the ModuleLoader and a ModuleJob. When
 * the stack shows neither (another Node), the load is treated as the
 * program's.
 */
function forLoaderThread(): boolean {
  // Read-only under --frozen-intrinsics: then the frames the limit gives.
  const limit = settableStackLimit();
  if (limit !== null) Error.stackTraceLimit = 100;
  const stack = new Error().stack ?? '';
  if (limit !== null) Error.stackTraceLimit = limit;
  // The frames may be async ones ("at async ModuleLoader.loadAndTranslate").
  // A request from a module thread reaches the hooks from the message
  // handler directly; this thread's own import reaches them through the
  // ModuleLoader, even when the message handler is further down (the
  // request was "register this loader", which imports its module here).
  const own = stack.search(/\b(?:ModuleLoader|ModuleJob)\.[\w#]+ \(node:internal\/modules\/esm\//);
  if (own < 0) return false;
  const asked = stack.indexOf('handleMessage (node:internal/modules/esm/worker');
  return asked < 0 || own < asked;
}

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  const passOn = !transforms(rank) || forLoaderThread();
  let result: LoadResult;
  try {
    result = await nextLoad(url, context);
  } catch (e) {
    throw withoutOwnFrames(e);
  }
  if (passOn) return result;
  if (result.format === 'commonjs') {
    if (result.source !== null && result.source !== undefined) sourcedCjs.add(url);
    else if (requiredBySourced.has(url) && url.startsWith('file:')) {
      result = { ...result, source: readFileSync(fileURLToPath(url), 'utf8') };
      sourcedCjs.add(url);
    }
  }
  return instrumentLoadResult(url, result, always);
}
