/**
 * The names by which instrumented code reaches the runtime.
 *
 * Owns: the one global binding of the site shape, the site keys it holds,
 * which key each site reads (siteKeyOf), and the key of the runtime object,
 * shared by the transform (which emits them), the runtime (which installs
 * them) and the core (which turns keys on and off). Changing one changes the
 * shape of every cached transform output, so the transform's version must
 * change with it.
 *
 * The static key is the only name a program could see: a global data
 * property, not enumerable, never replaced, of a random name, no constant
 * a program could write (binding-name.cts), holding an object of SITE_KEYS
 * boolean fields `k0`...`k511` and `on`. A site reads its own field
 * (`$jsftrace_….k417`), which is true exactly while some site of that key
 * calls something. V8 treats the global's cell as a constant (it never
 * changes) and each field of the object as a constant until it is first
 * written, so optimised code folds an idle site away; turning one field on
 * deoptimises only the code that read that field (each field is added by
 * its own map transition, so each has its own dependency group), and every
 * other site stays folded: attaching to one function costs nothing
 * elsewhere, as the kernel's per-site patching. Sites of the program's own
 * files (no package) read keys apart from those of its dependencies, so a
 * tracer filtered to the program's files leaves node_modules folded. `on`
 * is true while any key is (module-level catch clauses read it). The
 * runtime object is a field of the key object (RUNTIME_FIELD), not
 * enumerable: a module's prologue reaches it through the key alone, with no
 * global the program may have replaced (a program that sets `Symbol` to
 * undefined, as lodash's own tests do, then loads a module).
 */

import { requireOwnCjs } from './own-cjs.js';
import type { BindingName } from './binding-name.cjs';

const names = requireOwnCjs<BindingName>('./binding-name.cjs');

/**
 * The static key: `$jsftrace_` and random digits, one name for every thread
 * of the process (binding-name.cts), fixed when this module loads: what a
 * thread that runs the program installs and reads.
 */
export const KEY_GLOBAL = names.bindingName();
/** The environment data key under which a thread hands the name on (an attach hands it to workers started before). */
export const KEY_ENV_DATA = names.ENV_KEY;

/**
 * The static key as the transform writes it, read at each transform: the
 * module hooks thread adopts its registering thread's name after this
 * module loaded there (adoptKeyGlobal).
 */
export function keyGlobal(): string {
  return names.bindingName();
}

/** Why the cache directory's name is not the one in use (the transform cache is then off), or null. */
export function keyGlobalProblem(): string | null {
  return names.bindingProblem();
}

/** In the module hooks thread: the name of the thread that registered the hooks (instrument/hooks/esm-loader.ts). */
export function adoptKeyGlobal(name: string): void {
  names.adoptBindingName(name);
}
/** The key object's field that holds the runtime object (runtime.ts): read-only, not enumerable. */
export const RUNTIME_FIELD = 'runtime';

/**
 * The key object's other fields of jsftrace's own, each written once per
 * thread at its start, read-only and not enumerable: what the copies of
 * jsftrace a thread may load (the CommonJS and ES module entries, a second
 * install) share, kept off the global object, where the program would see
 * them (`Reflect.ownKeys(globalThis)`). `hooks`: what the module hooks'
 * install did (instrument/hooks/install.ts); `ipi`: the function another
 * thread's interrupt calls (core/threads.ts); `endHooks`: that a
 * recording's end hooks are in place (recorder/process-hooks.ts); under
 * `jsftrace start` on a plain process, `probe`: what a probe's breakpoint
 * condition calls (attach/probe-runtime.ts), removed at detach;
 * `modules`: the runtime's module table per runtime file (a null-prototype
 * object keyed by the file's path), so that the file evaluated again (a
 * program that clears the require cache) hands on this thread's modules
 * instead of starting a second copy (shared/own-load.ts).
 */
export type OwnField = typeof RUNTIME_FIELD | 'hooks' | 'ipi' | 'endHooks' | 'probe' | 'modules';

/**
 * Fields of the key object. Making the object costs each thread time that
 * grows faster than the count (its map transitions: 1.0 ms of CPU for 512
 * fields, 3.9 ms for 1,000 on Node 20 and 24), and V8 keeps at most 1,020
 * descriptors in a fast object.
 */
export const SITE_KEYS = 512;
/** Keys [0, OWN_SITE_KEYS) serve the program's own files, the rest its dependencies. */
export const OWN_SITE_KEYS = 128;

/**
 * The key of site `k` of a module whose source tag is `tag` (8 base-36
 * digits, transform.ts): consecutive functions of a module read consecutive
 * keys from a start given by the tag, so one function shares its key with
 * about 1/384 of the dependencies' functions (1/128 of the program's own).
 */
export function siteKeyOf(tag: string, own: boolean, k: number): number {
  const h = parseInt(tag.slice(0, 6), 36) || 0;
  return own ? (h + k) % OWN_SITE_KEYS : OWN_SITE_KEYS + (h + k) % (SITE_KEYS - OWN_SITE_KEYS);
}

/**
 * The source of a function that makes the key object's class, given
 * `Symbol.hasInstance`: one field per key, then `on`; and on its prototype
 * the holder every await and yield passes its values through
 * (transform.ts, suspension): `X instanceof key` keeps X and answers false,
 * `key.v` hands the kept value back and forgets it, as `key.w()` does
 * where the value is then called (a getter's reference would be its
 * `this`). One place per thread: nothing runs between a keep and its read
 * but the suspend or resume of the call, which keeps the value across what
 * it calls (runtime.ts).
 */
export function siteKeysClassSource(): string {
  let s = `(function (hasInstance) { let held; ${THROW_NOTE_HELPERS} return class SiteKeys {`;
  for (let i = 0; i < SITE_KEYS; i++) s += ` k${i} = false;`;
  return `${s} on = false; es = null; ev = undefined; ef = 1; [hasInstance](x) { held = x; return false; } get v() { const x = held; held = undefined; return x; } w() { return this.v; }${THROW_NOTES} }; })`;
}

/**
 * What a program's throw statements and catch clauses, and the catch of
 * jsftrace's around a sync generator's body, note on the key object, for
 * the source line Node prints above an uncaught exception
 * (instrument/original/uncaught-line.ts): of an object, in weak maps of the
 * key's class, the place of the statement that threw it last ("tag:offset")
 * and whether a catch of the program took it since, or it passed out of a
 * generator through jsftrace's catch (which V8 then names as where it was
 * thrown); of any other value, the last one alone, in `ev` (how: thrown by
 * the statement at `es`, `ef` 0; caught, 1; passed, 2). `noted(x)` answers
 * for a value: `{ es, ef }`, `ef` -1 where nothing was noted. Each note
 * takes the value from the holder (`X instanceof key`), through `v`, so
 * that they can be lent to a key object of an older copy (core/threads.ts).
 */
export const THROW_NOTE_FIELDS = ['t', 'c', 'g', 'noted'] as const;
/** The fields the notes write, declared with the keys so that the object's shape never changes. */
export const THROW_NOTE_STATE = ['es', 'ev', 'ef'] as const;
/** The weak maps, and the built-ins they are used through, as the thread started with them. */
const THROW_NOTE_HELPERS = 'const apply = Reflect.apply, WM = WeakMap.prototype, WS = WeakSet.prototype;'
  + ' const thrown = new WeakMap(), caught = new WeakSet(), passed = new WeakSet();'
  + ' const mset = WM.set, mget = WM.get, sadd = WS.add, shas = WS.has, sdel = WS.delete;'
  + ' const isObject = (x) => (typeof x === "object" && x !== null) || typeof x === "function";';
const THROW_NOTES = ' t(s) { const x = this.v; if (isObject(x)) { apply(mset, thrown, [x, s]); apply(sdel, caught, [x]); } else { this.ev = x; this.es = s; this.ef = 0; } return x; }'
  + ' get c() { const x = this.v; if (isObject(x)) apply(sadd, caught, [x]); else { this.ev = x; this.es = null; this.ef = 1; } return undefined; }'
  + ' get g() { const x = this.v; if (isObject(x)) apply(sadd, passed, [x]); else if (this.ev !== x) { this.ev = x; this.es = null; this.ef = 2; } else if (this.ef === 0) this.ef = 2; return undefined; }'
  + ' noted(x) { if (!isObject(x)) return this.ev === x ? { es: this.es, ef: this.ef } : { es: null, ef: -1 };'
  + ' const es = apply(mget, thrown, [x]) ?? null;'
  + ' return { es, ef: apply(shas, caught, [x]) ? 1 : apply(shas, passed, [x]) ? 2 : es !== null ? 0 : -1 }; }';

/** The getter of the key object that hands back the value its Symbol.hasInstance kept. */
export const HELD_FIELD = 'v' as const;
