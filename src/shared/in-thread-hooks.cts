/**
 * Whether this Node's in-thread module hooks (`module.registerHooks`) can
 * be used without changing how the program's modules load.
 *
 * Owns: the list of Node releases whose in-thread hooks change what Node
 * does by merely being registered. Invariant: read by both sides of the
 * choice (hooks/install.ts, which installs the hooks, and register.cts,
 * which decides whether a loader thread of ours will start), so that they
 * never disagree.
 *
 * Why a list. From 22.15, 23.5 and 24.0 until 22.22.3, 24.11.1 and 25.1,
 * once any in-thread hook is registered, a CommonJS module imported by an
 * ES module is run by the ES module loader's own CommonJS wrapper rather
 * than by Node's CommonJS loader: its `require` has no `cache` or
 * `extensions`, its `module.parent` is undefined, its requires go through
 * the ES module loader, and where another loader runs in Node's loader
 * thread (tsx's `module.register`), such a require fails with
 * ERR_INVALID_RETURN_PROPERTY_VALUE. A load hook cannot undo it: Node
 * refuses a CommonJS result without source there. Those releases get the
 * loader thread and Module.prototype._compile, as Node 20 does. The list
 * is by release because the change is inside Node's loader, where nothing
 * a program can read tells one from the other.
 */

const Module = require('node:module') as { registerHooks?: unknown };

/** [major, minor, patch] from which a line's in-thread hooks leave imported CommonJS to Node's CommonJS loader. */
const SOUND_FROM: Readonly<Record<number, readonly [number, number, number]>> = {
  22: [22, 22, 3],
  23: [24, 0, 0], // every 23.x is before the change
  24: [24, 11, 1],
  25: [25, 1, 0],
};

function atLeast(v: readonly number[], floor: readonly [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) {
    const a = v[i] ?? 0;
    if (a !== floor[i]) return a > floor[i]!;
  }
  return true;
}

/** Whether release `version` (`22.20.0`) leaves imported CommonJS to Node's CommonJS loader while in-thread hooks are registered. */
function soundRelease(version: string): boolean {
  const v = version.split('.').map(Number);
  const floor = SOUND_FROM[v[0]!];
  return floor === undefined || atLeast(v, floor);
}

/** Whether `module.registerHooks` exists and is safe to register on this Node. */
function inThreadHooksSound(): boolean {
  return typeof Module.registerHooks === 'function' && soundRelease(process.versions.node);
}

/** Whether Node has `module.registerHooks` at all (a program can ask for it by JSFTRACE_HOOKS=sync). */
function inThreadHooksPresent(): boolean {
  return typeof Module.registerHooks === 'function';
}

module.exports = { inThreadHooksSound, inThreadHooksPresent, soundRelease };

export interface InThreadHooks {
  inThreadHooksSound: typeof inThreadHooksSound;
  inThreadHooksPresent: typeof inThreadHooksPresent;
  soundRelease: typeof soundRelease;
}
