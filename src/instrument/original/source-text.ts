/**
 * Function.prototype.toString gives the original source text of every
 * instrumented function and class.
 *
 * Owns: this thread's Function.prototype.toString, and the functions that
 * stand in for built-ins (`masquerade`: their text is the built-in's).
 * Invariant: for an instrumented function the result is exactly the text
 * V8 would have returned for the original source (what the specification
 * calls its source text), or, should that not be known for sure, V8's own
 * text; for anything else it is V8's own text, and it throws what V8 throws
 * for a receiver that is not a function.
 *
 * How a function is recognised: its instrumented text holds the site of
 * the innermost function (first in the text) as `B<tag>+<k>]`, the tag
 * naming the module (registry.ts) and k the site. The unit of that site,
 * or the first of its enclosing units (a class, an outer function) whose
 * instrumented length is the text's, is the function; taking the module's
 * inserted spans out of the text gives the original, which must have the
 * unit's original length (original/table.ts). Nothing is kept per function:
 * the cost is a scan of the text and, at the first call for a module, the
 * decoding of its table.
 */

import { FunctionToString, ReflectApply } from '../../shared/builtins.js';
import { tableOfTag } from './registry.js';
import { originalTextAround } from './table.js';

/** Functions that stand in for a built-in: toString shows the built-in. */
const standIns = new WeakMap<object, object>();

export function masquerade(standIn: object, builtin: object): void {
  standIns.set(standIn, builtin);
}

/**
 * Makes `fn` stand in for the built-in function `builtin`: its name,
 * length and text are the built-in's. Returns `fn`.
 */
export function standInFor<F extends object>(fn: F, builtin: { readonly name: string; readonly length: number }): F {
  Object.defineProperty(fn, 'length', { value: builtin.length });
  Object.defineProperty(fn, 'name', { value: builtin.name });
  standIns.set(fn, builtin);
  return fn;
}

/** Whether `f` is one of jsftrace's stand-ins (a second install must not wrap it again). */
export function isStandIn(f: object): boolean {
  return standIns.has(f);
}

/** A function's own site, in its entry (`Pt|=PB<tag>+k,`: transform.ts). */
const SITE = /\$J(?:\d+_)?B([0-9a-z]{8})\+(\d+),/;

/** The original text of an instrumented function's text, or the text itself. */
function original(text: string): string {
  const m = SITE.exec(text);
  if (m === null) return text;
  const t = tableOfTag(m[1]!);
  if (t === null) return text;
  const unit = t.unitOfSite[Number(m[2])];
  if (unit === undefined || unit < 0) return text;
  return originalTextAround(t, unit, text) ?? text;
}

let installed = false;

/**
 * Puts the view in place. Where `Function.prototype.toString` cannot be
 * redefined (`--frozen-intrinsics` with `--import`, which freezes the
 * intrinsics before jsftrace starts; by `--require` it starts before),
 * functions keep V8's text, the instrumented one, as stack traces keep
 * their columns (original/call-sites.ts), and one warning says so.
 */
export function installSourceTextView(): void {
  if (installed) return;
  installed = true;
  const current = Object.getOwnPropertyDescriptor(Function.prototype, 'toString');
  if (current !== undefined && current.configurable !== true) {
    process.emitWarning('the intrinsics were frozen (--frozen-intrinsics) before jsftrace started: functions show their instrumented text, and stack traces its columns; start it with --require to keep the original view', {
      code: 'JSFTRACE_ORIGINAL',
    });
    return;
  }
  const { toString } = {
    toString(this: unknown): string {
      const self = (typeof this === 'function' || (typeof this === 'object' && this !== null)) ? standIns.get(this) ?? this : this;
      return original(ReflectApply(FunctionToString, self, []) as string);
    },
  };
  standIns.set(toString, FunctionToString);
  // A data property, as V8 makes it (another tool's accessor would make `{ ...current, value }` invalid).
  Object.defineProperty(Function.prototype, 'toString', {
    value: toString, writable: current === undefined || !('value' in current) || current.writable === true, enumerable: current?.enumerable ?? false, configurable: true,
  });
}
