/**
 * Keeping jsftrace's module hooks outside the loaders the program registers.
 *
 * Owns: the stand-ins for `module.register` and `module.registerHooks` in
 * this thread. Invariant: when a call of either returns, having registered
 * a loader of the program's, a set of our hooks has joined the chain
 * outside that loader (loader-state.ts says which set transforms); in
 * every other way the stand-in is the function it stands for: its name,
 * length, own keys and text, its result and its exceptions.
 *
 * Why a stand-in. A loader registered after ours runs first and may answer
 * a request without passing it on (ts-node's resolver, any loader that
 * returns `shortCircuit`): ours would never see the program's modules.
 * Looking for the entry point's resolve (loader-state.ts) cannot catch
 * such a loader, nor one registered while the program runs; the call that
 * registers it can. Node's own code registers through its internals, not
 * through these properties, and is not followed.
 */

import module from 'node:module';
import { ReflectApply } from '../../shared/builtins.js';
import { isStandIn, standInFor } from '../original/source-text.js';
import { withoutOwnFrames } from './own-frames.js';

type Registration = 'register' | 'registerHooks';
type Fn = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Replaces `module[key]` by a stand-in that calls `rejoin` after each call
 * that returns, and `before` ahead of each (what the program's call would
 * have done that jsftrace's own call used up: a deprecation warning). False
 * when this Node has no such function.
 */
export function followLoaders(key: Registration, rejoin: () => void, before?: (standIn: Fn) => void): boolean {
  const holder = module as unknown as Record<Registration, Fn | undefined>;
  const original = holder[key];
  if (typeof original !== 'function') return false;
  if (isStandIn(original)) return true;
  const standIn = standInFor(function (this: unknown, ...args: unknown[]): unknown {
    let result: unknown;
    try {
      before?.(standIn);
      result = ReflectApply(original, this, args);
    } catch (e) {
      // An argument Node rejects: its error, without the stand-in's frame.
      throw withoutOwnFrames(e);
    }
    rejoin();
    return result;
  }, original);
  holder[key] = standIn;
  // An ES module's `import { register } from 'node:module'` reads the
  // binding, which follows the exports object only when synced.
  module.syncBuiltinESMExports();
  return true;
}
