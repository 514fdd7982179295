/**
 * The built-ins jsftrace's own code calls while a module loads, put back for
 * that time when the program has replaced them.
 *
 * Owns: the list (the globals a library or a fake clock shims, and the
 * statics the transform, its parser and the cache call),
 * captured when this module is first loaded, at jsftrace's start, and
 * withOwnIntrinsics. Invariant: the program's values are back before any
 * code of the program's runs again, each with the descriptor it had, and
 * nothing of the program's is called to find out (descriptors are read,
 * never the properties, which may be the program's getters).
 *
 * Why: a test suite that checks a library does without the built-ins
 * (lodash's own sets `Symbol` to undefined, `Object.create` and `Map` to
 * stand-ins, then loads lodash again) runs its load through our transform
 * (acorn calls `Object.create`, the transform `new Set`). With the
 * program's values, the module failed to instrument (and the failure was
 * cached), and the stand-ins counted our calls as the program's. Code of
 * ours that runs elsewhere inside the program's load (a module's site
 * definition, the `_compile` accessor) takes what it calls from
 * shared/builtins.ts instead: one swap per module is enough (about 1.5 us
 * with nothing replaced: 33 descriptor reads).
 */

import { ObjectGetOwnPropertyDescriptor } from '../shared/builtins.js';

interface Slot {
  holder: object;
  key: string;
  own: PropertyDescriptor;
}

const ReflectDefineProperty = Reflect.defineProperty;
const ReflectDeleteProperty = Reflect.deleteProperty;

const slots: Slot[] = [];

function capture(holder: object, keys: readonly string[]): void {
  for (const key of keys) {
    const own = ObjectGetOwnPropertyDescriptor(holder, key);
    if (own !== undefined && own.configurable === true) slots.push({ holder, key, own });
  }
}

// Each is a descriptor read per module load (about 45 ns): the names
// programs shim, and what the load path calls by a global name.
capture(globalThis, ['Symbol', 'Map', 'Set', 'WeakMap', 'WeakSet', 'Promise', 'JSON', 'Array', 'Object', 'Error', 'Buffer', 'Uint8Array',
  'Uint16Array', 'Int32Array', 'Date', 'Math']);
capture(Object, ['create', 'keys', 'defineProperty', 'defineProperties', 'getOwnPropertyDescriptor', 'getOwnPropertySymbols', 'hasOwn',
  'freeze', 'assign']);
capture(Array, ['isArray', 'from']);
capture(JSON, ['parse', 'stringify']);
capture(Symbol, ['for']);
capture(Buffer, ['from', 'alloc', 'allocUnsafe', 'concat', 'byteLength']);

/** `fn()`, with the built-ins of the start in place of any the program replaced (or deleted). */
export function withOwnIntrinsics<T>(fn: () => T): T {
  let replaced: Array<[Slot, PropertyDescriptor | undefined]> | null = null;
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!;
    const now = ObjectGetOwnPropertyDescriptor(s.holder, s.key);
    if (now !== undefined && now.value === s.own.value && now.get === s.own.get && now.set === s.own.set) continue;
    // One the program made unconfigurable cannot be swapped; it stays as it is.
    if (now !== undefined && now.configurable !== true) continue;
    (replaced ??= []).push([s, now]);
  }
  if (replaced === null) return fn();
  // Only those put in place are put back; one that cannot be (a holder the
  // program made non-extensible after deleting the name) stays the program's.
  const swapped: Array<[Slot, PropertyDescriptor | undefined]> = [];
  try {
    for (const r of replaced) if (ReflectDefineProperty(r[0].holder, r[0].key, r[0].own)) swapped.push(r);
    return fn();
  } finally {
    for (const [s, now] of swapped) {
      if (now === undefined) ReflectDeleteProperty(s.holder, s.key);
      else ReflectDefineProperty(s.holder, s.key, now);
    }
  }
}
