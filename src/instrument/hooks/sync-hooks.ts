/**
 * In-thread module hooks, where the running Node has `module.registerHooks`
 * (22.15 and 23.5 on; stable from 24.13 and 25.1).
 *
 * Owns: the synchronous `resolve` and `load` hooks. Invariant: the load
 * hook transforms ES module sources only; CommonJS stays with cjs.ts
 * (Module.prototype._compile), which sees the code after any
 * require-extension transpiler (tsx, ts-node, babel/register) whichever
 * registered first, while a load hook would see the file before them, or
 * not at all when a transpiler reads the file itself.
 *
 * As with the off-thread hooks (loader-state.ts), a second, outermost set
 * is registered when the program's entry point is resolved, so that loaders
 * registered after jsftrace (`--import tsx` after us) run inside ours.
 */

import module from 'node:module';
import { isOuterActive, markOuterActive, requestOuter } from './loader-state.js';
import { instrumentLoadResult, type LoadResult } from './load-result.js';

interface ResolveContext { parentURL?: string }
type NextResolveSync = (specifier: string, context?: ResolveContext) => { url: string };
type NextLoadSync = (url: string, context?: unknown) => LoadResult;
interface SyncHooks {
  resolve?: (specifier: string, context: ResolveContext, nextResolve: NextResolveSync) => { url: string };
  load?: (url: string, context: unknown, nextLoad: NextLoadSync) => LoadResult;
}
type RegisterHooks = (hooks: SyncHooks) => { deregister(): void };

/** `module.registerHooks` when this Node has it. */
export function syncHooksApi(): RegisterHooks | null {
  const f = (module as unknown as { registerHooks?: unknown }).registerHooks;
  return typeof f === 'function' ? (f as RegisterHooks).bind(module) : null;
}

function hooks(registerHooks: RegisterHooks, outer: boolean): SyncHooks {
  return {
    resolve(specifier, context, nextResolve) {
      const result = nextResolve(specifier, context);
      // The chain of this resolve was fixed when it started; the new hooks
      // apply from the next request on, which is the entry point's load.
      if (!outer && context.parentURL === undefined && requestOuter()) {
        registerHooks(hooks(registerHooks, true));
        markOuterActive();
      }
      return result;
    },
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      if (!outer && isOuterActive()) return result;
      return instrumentLoadResult(url, result, false);
    },
  };
}

/** Registers the hooks in this thread; false when Node lacks the API. */
export function installSyncHooks(): boolean {
  const registerHooks = syncHooksApi();
  if (registerHooks === null) return false;
  registerHooks(hooks(registerHooks, false));
  return true;
}
