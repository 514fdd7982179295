/**
 * Stack traces in the trace (the func_stack_trace option and the
 * `stacktrace` filter command): the JavaScript stack where the traced
 * function was entered, as ftrace's `<stack trace>` event.
 *
 * Owns: capturing and trimming the stack. Invariants: frames of jsftrace
 * itself (dispatch, callbacks) are left out, so the first frame is the
 * traced function; at most STACK_DEPTH frames; capturing never calls
 * program code (a program's Error.prepareStackTrace is set aside while the
 * stack is taken, and V8's text form is parsed instead).
 */

import { writeStringField, type RingWriter } from '../ring/index.js';
import { OWN_CODE } from '../shared/own-code.js';
import { AtomicsLoad, MathCeil, settableStackLimit } from '../shared/builtins.js';
import { C_OPTIONS, C_STATE, ctl, EV_STACK, OPT_FUNC_STACK_TRACE, threadTraced, threadWriter } from './session.js';

export const STACK_DEPTH = 32;
const enc = new TextEncoder();
/**
 * jsftrace's own files: the compiled ones (dist/src/: the runtime's files
 * and the modules beside them) and, for a program that turns source maps on
 * where jsftrace's own maps were built (a checkout), the sources they map
 * to (src/).
 */
const OWN_DIRS = [...OWN_CODE, ...[new URL('../../../src/', import.meta.url)].flatMap((u) => [u.href, decodeURIComponent(u.pathname)])];

// Where this file's frames show in a stack (through a source map, that may be
// neither of the above): the directory of the runtime's file, or of a source
// file's folder.
function whereAmI(): string {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder);
  const line = (holder.stack ?? '').split('\n')[1] ?? '';
  const runtime = /\(?((?:file:\/\/)?\/[^():]*\/)jsftrace[^/():]*\.cjs:\d+:\d+\)?$/m.exec(line);
  if (runtime !== null) return runtime[1]!;
  const m = /\(?((?:file:\/\/)?\/[^():]*\/)[^/():]+\/[^/():]+:\d+:\d+\)?$/m.exec(line);
  return m?.[1] ?? '';
}
{
  const dir = whereAmI();
  if (dir !== '') OWN_DIRS.push(dir);
}

function own(frame: string): boolean {
  for (const d of OWN_DIRS) if (frame.includes(d)) return true;
  return false;
}

/** The caller's stack, newest first, without jsftrace's frames; one frame per line. */
export function captureStack(): string {
  // The program's own hook (source-map tools, depd, callsites) is not run:
  // V8's text form is read instead. Frozen (`--frozen-intrinsics`), both
  // stay as they are: the hook is then Node's own, which gives that text.
  const savedHook = Error.prepareStackTrace;
  const E = Error as { prepareStackTrace?: unknown; stackTraceLimit: number };
  const hook = Object.getOwnPropertyDescriptor(E, 'prepareStackTrace');
  const hookSettable = hook === undefined ? Object.isExtensible(E) : 'value' in hook ? hook.writable === true : typeof hook.set === 'function';
  const savedLimit = settableStackLimit();
  let text: unknown;
  try {
    if (hookSettable) E.prepareStackTrace = undefined;
    if (savedLimit !== null) E.stackTraceLimit = STACK_DEPTH + 16;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder);
    text = holder.stack;
  } finally {
    if (savedLimit !== null) E.stackTraceLimit = savedLimit;
    if (hookSettable) E.prepareStackTrace = savedHook;
  }
  const lines = (typeof text === 'string' ? text : '').split('\n').slice(1);
  const out: string[] = [];
  for (const l of lines) {
    const f = l.replace(/^\s*at /, '');
    if (own(f)) continue;
    out.push(f);
    if (out.length === STACK_DEPTH) break;
  }
  return out.join('\n');
}

/** Writes a stack event into this thread's ring; false if it was not written. */
export function writeStack(w: RingWriter): boolean {
  const bytes = enc.encode(captureStack());
  const e = EV_STACK;
  const p = w.reserve(e.id, e.words - 1 + MathCeil(bytes.length / 4));
  if (p < 0) return false;
  writeStringField(w.words, p - 1, e.fields[2]!, e.words * 4, bytes);
  w.filled();
  return true;
}

let seen = -1;
let on = false;
let w: RingWriter | null = null;

function refresh(): void {
  const s = AtomicsLoad(ctl, C_STATE);
  seen = s;
  on = (s & 1) !== 0 && (AtomicsLoad(ctl, C_OPTIONS) & OPT_FUNC_STACK_TRACE) !== 0 && threadTraced();
  if (on) {
    w = threadWriter();
    if (w === null) {
      on = false;
      seen = -1;
    }
  }
}

function stackEntry(): void {
  if (ctl[C_STATE] !== seen) refresh();
  if (on) writeStack(w!);
}

/**
 * func_stack_trace: an ops registered before the function tracer's, so
 * that at each site it runs just after the function event (newest first).
 */
export const stackOps = { func: stackEntry };
