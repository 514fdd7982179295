/**
 * Errors that pass through jsftrace's module hooks, shown without them.
 *
 * Owns: taking jsftrace's frames out of the stack of an
 * error thrown inside a `nextResolve` or `nextLoad` our hooks called (a
 * module that cannot be found, an import attribute missing, a loader of
 * the program's that fails), or inside Node's `register` or
 * `registerHooks` called by their stand-ins (follow-loaders.ts), or by
 * Node's Worker constructor under its Proxy (propagate.ts). Invariant:
 * only lines naming a file of jsftrace's (shared/own-code.ts) go; the
 * message, Node's own frames and the program's stay as V8 and the
 * program's `prepareStackTrace` made them, and a stack that is not a
 * string (a `prepareStackTrace` that returns the frames) is left alone.
 *
 * On Node 22 and later the stack is still formatted when the program first
 * reads it, by the formatter it has then; a `prepareStackTrace` of the
 * program's is given the frames without ours (original/call-sites.ts). On
 * Node 20 it is formatted here, at the throw. Frames the stack trace limit
 * left out because ours took their place stay out.
 */

import { IntrinsicError, ObjectDefineProperty, ObjectGetOwnPropertyDescriptor, ReflectApply, settableStackLimit } from '../../shared/builtins.js';
import { OWN_CODE } from '../../shared/own-code.js';

const escaped = OWN_CODE.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
const OWN_LINE = new RegExp(`\\n[ \\t]+at [^\\n]*(?:${escaped.join('|')})[^\\n]*`, 'g');

/**
 * Whether this V8 keeps an error's `stack` as an accessor that formats it
 * on first read (Node 22 and later): then the frames can be taken out at
 * that read, with the formatter the program has then, as without us. On
 * Node 20 the stack is a value that any look at the property formats.
 */
const LAZY_STACK = typeof ObjectGetOwnPropertyDescriptor(frameless(), 'stack')?.get === 'function';

/**
 * An error with no frames: on Node 20 a look at `stack` formats it, and
 * formatting a frame of jsftrace's file makes V8 keep the offsets of every
 * line of it (128 KB, for the thread's life).
 */
function frameless(): Error {
  const limit = settableStackLimit();
  if (limit === null) return new IntrinsicError();
  IntrinsicError.stackTraceLimit = 0;
  try {
    return new IntrinsicError();
  } finally {
    IntrinsicError.stackTraceLimit = limit;
  }
}


function strip(stack: unknown): unknown {
  return typeof stack === 'string' && OWN_CODE.some((p) => stack.includes(p)) ? stack.replace(OWN_LINE, '') : stack;
}

export function withoutOwnFrames(e: unknown): unknown {
  // The built-ins as they were at the start: a program's mock of them stays out of this.
  if (!(e instanceof IntrinsicError)) return e;
  try {
    if (LAZY_STACK) {
      const own = ObjectGetOwnPropertyDescriptor(e, 'stack');
      const read = own?.get;
      if (own === undefined || typeof read !== 'function' || own.configurable !== true) return e;
      let value: unknown;
      let formatted = false;
      ObjectDefineProperty(e, 'stack', {
        configurable: true,
        enumerable: own.enumerable ?? false,
        get(this: Error): unknown {
          if (!formatted) {
            value = strip(ReflectApply(read, this, []));
            formatted = true;
          }
          return value;
        },
        set(v: unknown) {
          value = v;
          formatted = true;
        },
      });
      return e;
    }
    const stack = (e as { stack?: unknown }).stack;
    const out = strip(stack);
    if (out !== stack) (e as { stack?: unknown }).stack = out;
  } catch {
    // A frozen error keeps its stack.
  }
  return e;
}
