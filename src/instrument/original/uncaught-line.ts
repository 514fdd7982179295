/**
 * The source line Node prints above an uncaught exception.
 *
 * Owns: that line, for an exception V8 places on a line of an
 * instrumented module where the transform inserted code. Invariant: what
 * the process prints of an uncaught exception is what the plain run
 * prints, or lacks the source line when where V8 placed it cannot be known
 * for sure; never a line of instrumented text, and never two lines.
 *
 * Node takes the line from V8's message for the exception, from the text V8
 * compiled, before any JavaScript can see it, and skips it on a line that
 * holds `node-do-not-add-exception-line`. The transform puts that mark on
 * every line where it inserts code (transform.ts), so Node prints the line
 * only where it is the original's. For those lines this module prints it,
 * as Node would have from the original text, at the moment Node would have
 * (after the 'exit' listeners, shared/exit-hooks.ts), once it knows where
 * V8 placed the exception:
 * - a rejection no handler took: Node makes the message from the error's
 *   stack, whose first frame with a position is the place;
 * - a throw statement of the program: its place, noted as it threw
 *   (transform.ts, throwNote), when no catch of the program took the value
 *   since (a catch may hand it to code that is not instrumented, which
 *   throws it from its own line); an object's notes are kept per object,
 *   another value's for the last one (shared/site-abi.ts);
 * - else an error V8 or a builtin threw where it was made (a TypeError of
 *   a property read, JSON.parse): the first frame of its stack, for one of
 *   V8's error classes with no property code set on it, unless that
 *   frame's code is a `new` or `super` (an error the program made, then
 *   thrown by code that is not instrumented, whose line Node prints
 *   itself); not an error Node's EventEmitter threw for an 'error' event;
 * - an exception that left a sync generator through jsftrace's catch, which
 *   V8 then places there (a marked line): its origin as above, printed
 *   whether its line is marked or not.
 * The original text is the file read again, used only when its hash is
 * the tag of the text that was instrumented.
 */

import { writeSync } from 'node:fs';
import { isNativeError, isProxy } from 'node:util/types';
import { isMainThread } from 'node:worker_threads';
import { ReflectApply } from '../../shared/builtins.js';
import { atFatal } from '../../shared/exit-hooks.js';
import { firstFrameOf } from './call-sites.js';
import { moduleOfScriptName, moduleOfTag } from './registry.js';
import { originalText } from './module-text.js';
import { lineEndOf, lineIndexAt, v8LineStarts } from './v8-lines.js';
import { originalColumn, type EditTable } from './table.js';

/** What the key object (shared/site-abi.ts, THROW_NOTE_FIELDS) answers of a value. */
interface ThrowNotes {
  noted?: (x: unknown) => Noted;
}

/** How a value was noted: the place of the statement that threw it, and how (`ef`). */
interface Noted {
  es: unknown;
  ef: unknown;
}

/** Where V8 placed an exception, in the original text. */
interface Place {
  readonly script: string;
  /** The original text. */
  readonly text: string;
  /** V8's line (1-based) and the offset of its start and end in the text. */
  readonly line: number;
  readonly start: number;
  readonly end: number;
  /** The column (0-based, UTF-16 units), as V8's message gives it. */
  readonly column: number;
}

/** The notes' `ef`: how the last value noted was seen (0: thrown by a statement). */
const CAUGHT = 1;
const THROUGH_GENERATOR = 2;

let installed = false;

export function installUncaughtLine(notes: ThrowNotes): void {
  // A worker's uncaught exception goes to its parent, with no line printed.
  if (installed || !isMainThread) return;
  installed = true;
  atFatal((error, fromPromise) => {
    // The notes as the exception left them: the program's 'exit' listeners
    // may throw and catch before Node prints it.
    let seen: Noted = { es: null, ef: -1 };
    try {
      if (typeof notes.noted === 'function') seen = ReflectApply(notes.noted, notes, [error]) as Noted;
    } catch {
      // an older key object's notes
    }
    return () => {
      const text = lineAbove(error, fromPromise, seen);
      if (text !== null) write(text);
    };
  });
}

/** Node's print, as its C++ writes it: to file descriptor 2, at once. */
function write(text: string): void {
  const b = Buffer.from(text, 'utf8');
  try {
    let off = 0;
    while (off < b.length) off += writeSync(2, b, off, b.length - off);
  } catch {
    // stderr closed: Node's own print fails the same way
  }
}

/**
 * The text Node prints above the exception (for an error object, with the
 * empty line after it; for any other value, with the empty line before
 * it), or null where it prints its own or none is known.
 */
function lineAbove(error: unknown, fromPromise: boolean, seen: Noted): string | null {
  const place = placeOf(error, fromPromise, seen);
  if (place === null) return null;
  const arrow = arrowText(place);
  return isNativeError(error) ? `${arrow}\n` : `\n${arrow}`;
}

function placeOf(error: unknown, fromPromise: boolean, seen: Noted): Place | null {
  // Thrown by Node's EventEmitter (an 'error' event with no listener), which
  // marks the error for its report: V8 places it at that throw, whose line
  // Node prints itself (a rejection it places by the error's frames).
  if (!fromPromise && isNativeError(error) && !isProxy(error)
    && Object.getOwnPropertySymbols(error).some((k) => k.description === 'kEnhanceStackBeforeInspector')) return null;
  if (!fromPromise) {
    if (seen.ef === CAUGHT) return null;
    const always = seen.ef === THROUGH_GENERATOR;
    if (typeof seen.es === 'string') return atNote(seen.es, always);
    if (always) return atFirstFrame(error, true, true);
  }
  return atFirstFrame(error, false, !fromPromise);
}

/** The place of a throw statement noted as "tag:offset". */
function atNote(note: string, always: boolean): Place | null {
  const colon = note.lastIndexOf(':');
  const m = moduleOfTag(note.slice(0, colon));
  const offset = Number(note.slice(colon + 1));
  if (m === null || !m.marks || !Number.isInteger(offset)) return null;
  const text = originalText(m);
  if (text === null || offset > text.length) return null;
  const starts = v8LineStarts(text);
  const line = lineIndexAt(starts, offset);
  const start = starts[line]!;
  const place: Place = { script: m.script, text, line: line + 1, start, end: lineEndOf(text, starts, line), column: offset - start };
  return always || marked(m.table, place) ? place : null;
}

/**
 * The place of the first frame of the error's stack, where V8 made it:
 * V8's place for a rejection (`fromPromise`), and for an error V8 or a
 * builtin threw where it was made. `notNew`: not where the frame's code is
 * a `new` (see the header).
 */
function atFirstFrame(error: unknown, always: boolean, notNew: boolean): Place | null {
  if (!isNativeError(error) || isProxy(error)) return null;
  // Only a stack not formatted yet: once it is, its frames are gone, and
  // V8 places a rejection elsewhere (where Node reports it).
  const frame = firstFrameOf(() => readStack(error));
  if (frame === null) return null;
  const m = moduleOfScriptName(frame.file);
  // A module whose lines are not marked: Node prints them (from its own map).
  if (m === null || !m.marks) return null;
  const text = originalText(m);
  if (text === null) return null;
  const starts = v8LineStarts(text);
  if (frame.line > starts.length) return null;
  const column = originalColumn(m.table, frame.line, frame.column - 1);
  const place: Place = { script: frame.file!, text, line: frame.line, start: starts[frame.line - 1]!, end: lineEndOf(text, starts, frame.line - 1), column };
  const made = /^new\b/.test(text.slice(place.start + column, place.start + column + 4));
  if (notNew && made) {
    // An exception that passed out of a generator: thrown first by a
    // throw statement (on a line of its own, whose throw was not noted)
    // when the error was made there, where V8 placed it.
    if (!always) return null;
    const before = /\bthrow\s*$/.exec(text.slice(place.start, place.start + column));
    return before === null ? null : { ...place, column: before.index };
  }
  // V8 places a SyntaxError of JSON.parse, eval or the Function
  // constructor in the text it could not parse, which Node prints itself;
  // only one the program made is placed at its frame.
  if (!made && error instanceof SyntaxError) return null;
  if (notNew && !madeByV8(error, text.slice(place.start + column, place.start + column + 6))) return null;
  return always || marked(m.table, place) ? place : null;
}

/** The accessor V8 gives an error's `stack`, where it is one. */
const STACK_GETTER = Object.getOwnPropertyDescriptor(new Error(), 'stack')?.get;

/**
 * Has V8 format the error's stack, where that runs none of the program's
 * code: V8's own property (a data property whose read formats it, on some
 * lines, or V8's accessor), not a getter of the program's, which Node's
 * print reads once and which must not run twice.
 */
function readStack(error: object): void {
  const d = Object.getOwnPropertyDescriptor(error, 'stack');
  if (d !== undefined && d.get !== undefined && d.get === STACK_GETTER) void (error as { stack?: unknown }).stack;
}

/** The errors V8 and its builtins throw where they make them. */
const V8_ERRORS: readonly object[] = [TypeError.prototype, RangeError.prototype, ReferenceError.prototype, URIError.prototype, EvalError.prototype];

/**
 * Whether an uncaught exception looks made by V8 or a builtin at its first
 * frame (then thrown there), not by code that hid its own frames and threw
 * it from elsewhere (Node's errors and warnings, `assert`, a library's
 * Error.captureStackTrace): one of V8's error classes itself, with no
 * property of its own that code set (`code`, `name`), at code that is not
 * a `super` call (an Error subclass's constructor).
 */
function madeByV8(error: object, code: string): boolean {
  if (!V8_ERRORS.includes(Object.getPrototypeOf(error) as object)) return false;
  if (Object.keys(error).length > 0) return false;
  return !/^super\b/.test(code);
}

/** Whether the transform inserted code on the place's line (the line then holds the mark). */
function marked(t: EditTable, p: Place): boolean {
  const s = t.spans;
  for (let i = 0; i < s.length; i += 4) {
    const at = s[i]!;
    if (at > p.end) break;
    if (at >= p.start && s[i + 1]! > 0) return true;
  }
  return false;
}

/**
 * Node's text: the script's name and the line's number, the line, and
 * under it a caret at the column. Node counts the column in UTF-16 units
 * of V8's message but walks the line's UTF-8 bytes to place it, and keeps
 * a tab where the line has one; so does this.
 */
function arrowText(p: Place): string {
  const source = p.text.slice(p.start, p.end);
  // V8 names the script by its `//# sourceURL=` comment where it has one
  // (Node appends one to the TypeScript it strips).
  let named: string | null = null;
  for (const m of p.text.slice(-4096).matchAll(/\/\/[#@] sourceURL=(\S+)/g)) named = m[1]!;
  const head = `${named ?? p.script}:${p.line}\n${source}\n`;
  const bytes = Buffer.from(source, 'utf8');
  const start = p.column;
  const end = start + 1;
  if (start < 0 || end > bytes.length) return head;
  let under = '';
  for (let i = 0; i < start; i++) {
    if (bytes[i] === 0 || under.length >= 1020) break;
    under += bytes[i] === 9 ? '\t' : ' ';
  }
  for (let i = start; i < end; i++) {
    if (bytes[i] === 0 || under.length >= 1020) break;
    under += '^';
  }
  return `${head}${under}\n`;
}
