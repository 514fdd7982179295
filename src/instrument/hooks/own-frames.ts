/**
 * Errors that pass through jsftrace's module hooks, shown without them.
 *
 * Owns: taking the frames of this folder's modules out of the stack of an
 * error thrown inside a `nextResolve` or `nextLoad` our hooks called (a
 * module that cannot be found, an import attribute missing, a loader of
 * the program's that fails), or inside Node's `register` or
 * `registerHooks` called by their stand-ins (follow-loaders.ts). Invariant: only lines naming a file of this
 * folder go; the message, Node's own frames and the program's stay as V8
 * and the program's `prepareStackTrace` made them, and a stack that is not
 * a string (a `prepareStackTrace` that returns the frames) is left alone.
 *
 * The stack is formatted here, at the throw, rather than when the program
 * first reads it: the same formatter and frames, only earlier. Frames the
 * stack trace limit left out because ours took their place stay out.
 */

const HERE = new URL('.', import.meta.url).href;
const OWN_LINE = new RegExp(`\\n[ \\t]+at [^\\n]*${HERE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^\\n]*`, 'g');

export function withoutOwnFrames(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const stack = (e as { stack?: unknown }).stack;
  if (typeof stack !== 'string' || !stack.includes(HERE)) return e;
  try {
    (e as { stack?: unknown }).stack = stack.replace(OWN_LINE, '');
  } catch {
    // A frozen error keeps its stack.
  }
  return e;
}
