/**
 * Sites made at run time: attach(object, key) wraps a function property in
 * a site; detach restores it.
 *
 * Owns: the run-time wrapper and its bookkeeping. This is the way to trace
 * code loaded before the module hooks (or built-ins); the load-time
 * transform gives every other function a site without a wrapper.
 * Invariants (G4): the wrapper keeps the original's name, length, own
 * properties (prototype included, so `new` and instanceof behave), static
 * prototype chain, `this`, arguments, return value and thrown value; it is
 * constructible exactly when the original is, and `new` on it gives the
 * original its own new.target; detach puts back the very descriptor attach
 * found. Limits of any wrapper, written in docs/design.md: a static method
 * called on the wrapped class runs with `this` = the wrapper, so static
 * private members (`this.#x`) are not found; instances' `constructor` is
 * the original.
 * When the site's target word is nop, the wrapper makes one load and calls
 * the original.
 */

import { fail } from '../shared/errors.js';
import {
  ObjectDefineProperty, ObjectGetOwnPropertyDescriptors, ObjectGetPrototypeOf, ObjectSetPrototypeOf,
  ReflectApply, ReflectConstruct,
} from '../shared/builtins.js';
import { defineSite } from '../core/lifecycle.js';
import { leave, unwind } from '../core/dispatch.js';
import { threadView } from '../core/thread.js';
import type { SiteMeta } from '../core/records.js';

const tv = threadView();
const i32 = tv.i32;
const H = tv.H;
const targetBase = tv.inst.L.target;

interface Attachment {
  readonly site: number;
  readonly original: Function;
  readonly object: object;
  readonly key: PropertyKey;
  readonly descriptor: PropertyDescriptor;
}

const attachments = new WeakMap<Function, Attachment>();

export type AttachOptions = Partial<SiteMeta>;

function traced(t: number, site: number, orig: Function, self: unknown, args: IArguments, newTarget: Function | undefined): unknown {
  const tok = H[t]!(site, self, (t & 1) !== 0 ? args : null);
  let r: unknown;
  try {
    r = newTarget === undefined ? ReflectApply(orig, self, args) : ReflectConstruct(orig, args, newTarget);
  } catch (e) {
    throw tok !== 0 ? unwind(tok, e) : e;
  }
  return tok !== 0 ? leave(tok, r) : r;
}

/** Whether `f` has [[Construct]], found without calling it. */
function isConstructor(f: Function): boolean {
  try {
    ReflectConstruct(Object, [], f);
    return true;
  } catch {
    return false;
  }
}

function makeWrapper(orig: Function, site: number): Function {
  const at = targetBase + site;
  if (isConstructor(orig)) {
    // `new wrapper()` constructs the original with itself as new.target, so
    // a class that tests `new.target === ClassName` (its own inner name)
    // behaves as before; a subclass's new.target passes through.
    const wrapper = function (this: unknown) {
      const t = i32[at]!;
      const nt = new.target === wrapper ? orig : new.target;
      if (t === 0) {
        return nt === undefined ? ReflectApply(orig, this, arguments) : ReflectConstruct(orig, arguments, nt);
      }
      return traced(t, site, orig, this, arguments, nt);
    };
    return wrapper;
  }
  // Method shape: not constructible and without `prototype`, like arrows,
  // methods and async functions.
  return {
    m(this: unknown) {
      const t = i32[at]!;
      if (t === 0) return ReflectApply(orig, this, arguments);
      return traced(t, site, orig, this, arguments, undefined);
    },
  }.m;
}

function defaultName(object: object, key: PropertyKey): string {
  const k = typeof key === 'symbol' ? `[${key.description ?? ''}]` : String(key);
  if (typeof object === 'function' && object.name !== '') return `${object.name}.${k}`;
  const ctor = Object.prototype.hasOwnProperty.call(object, 'constructor') ? (object as { constructor?: unknown }).constructor : undefined;
  if (typeof ctor === 'function' && ctor.name !== '') return `${ctor.name}.${k}`;
  return k;
}

/**
 * Wraps `object[key]` in a site and returns the site's id. The property must
 * be an own data property holding a function.
 */
export function attach(object: object, key: PropertyKey, opts: AttachOptions = {}): number {
  if ((typeof object !== 'object' && typeof object !== 'function') || object === null) fail('EINVAL', 'attach: object must be an object');
  const descriptor = Object.getOwnPropertyDescriptor(object, key);
  if (descriptor === undefined) fail('EINVAL', `attach: ${String(key)} is not an own property (attach to the object that owns it)`);
  if (!('value' in descriptor)) fail('EINVAL', `attach: ${String(key)} is an accessor, not a function property`);
  const orig: unknown = descriptor.value;
  if (typeof orig !== 'function') fail('EINVAL', `attach: ${String(key)} is not a function`);
  if (attachments.has(orig)) fail('EBUSY', `attach: ${String(key)} is already attached (site ${attachments.get(orig)!.site})`);
  if (!descriptor.writable && !descriptor.configurable) fail('EPERM', `attach: ${String(key)} is read-only and not configurable`);
  const meta: SiteMeta = {
    name: opts.name ?? defaultName(object, key),
    file: opts.file ?? '', line: opts.line ?? 0, column: opts.column ?? 0, package: opts.package ?? '',
  };
  // Static and prototype methods of one class may share a name; the key
  // tells them apart.
  const kind = typeof object === 'function' ? 'static' : 'member';
  const site = defineSite(meta, ['attach', kind, meta.package, meta.file, meta.line, meta.column, meta.name].join('\u0000'));
  const wrapper = makeWrapper(orig, site);
  // Start from no own properties, then copy the original's exactly.
  for (const k of ['name', 'length']) if (!Object.prototype.hasOwnProperty.call(orig, k)) delete (wrapper as unknown as Record<string, unknown>)[k];
  if (!Object.prototype.hasOwnProperty.call(orig, 'prototype') && Object.prototype.hasOwnProperty.call(wrapper, 'prototype')) {
    // A bound constructor has no prototype; ours cannot be deleted.
    (wrapper as { prototype: unknown }).prototype = undefined;
  }
  const own = ObjectGetOwnPropertyDescriptors(orig);
  for (const k of Reflect.ownKeys(own)) {
    if (k === 'arguments' || k === 'caller') continue;
    const d = own[k as keyof typeof own]!;
    try {
      ObjectDefineProperty(wrapper, k, d);
    } catch {
      // Only the non-configurable `prototype` of an ordinary function can
      // refuse; keep its value, which is what `new` reads.
      if (k === 'prototype') (wrapper as { prototype: unknown }).prototype = d.value;
    }
  }
  ObjectSetPrototypeOf(wrapper, ObjectGetPrototypeOf(orig));
  attachments.set(wrapper, { site, original: orig, object, key, descriptor });
  if (descriptor.configurable) ObjectDefineProperty(object, key, { ...descriptor, value: wrapper });
  else (object as Record<PropertyKey, unknown>)[key] = wrapper;
  return site;
}

/** Restores the property `attach` wrapped; returns its site id. */
export function detach(object: object, key: PropertyKey): number {
  const d = Object.getOwnPropertyDescriptor(object, key);
  const a = d !== undefined && 'value' in d && typeof d.value === 'function' ? attachments.get(d.value as Function) : undefined;
  if (a === undefined) fail('EINVAL', `detach: ${String(key)} is not attached (or was replaced since)`);
  if (a.object !== object || a.key !== key) fail('EINVAL', `detach: that wrapper belongs to another property`);
  if (a.descriptor.configurable) ObjectDefineProperty(object, key, a.descriptor);
  else (object as Record<PropertyKey, unknown>)[key] = a.original;
  attachments.delete(d!.value as Function);
  return a.site;
}

/** The site id of an attached wrapper, or -1. */
export function siteOf(fn: unknown): number {
  return typeof fn === 'function' ? (attachments.get(fn)?.site ?? -1) : -1;
}
