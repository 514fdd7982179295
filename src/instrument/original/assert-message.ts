/**
 * The message of a failed `assert(value)` or `assert.ok(value)` without a
 * message of its own, in an instrumented module.
 *
 * Owns: mending that message. Invariant: the message (and the stack's first
 * line, which Node formats from it) is the plain run's; any other error,
 * and any call whose plain message cannot be known for sure, is left as
 * Node made it.
 *
 * Node makes the message of the failed call's source, found through V8's
 * place for the call: before 22.21 and 24.9 (Node 20 included) it reads
 * the file at the frame's line and column; from then on it reads V8's
 * source line, the text V8 compiled. Under jsftrace the column is the
 * instrumented text's and the line may be instrumented, so Node quotes
 * the wrong text or finds none (then it names the value: `0 == true`).
 * The AssertionError's constructor formats its stack before it returns,
 * with the message set: Node's formatter (call-sites.ts) hands the error
 * here first, and the message becomes what Node would have found in the
 * original text at the original column (assert-source.ts), for a call
 * that may be `assert.ok`'s (assert-source.ts, okCallAt). Not mended: with
 * source maps on, from 22.21 and 24.9, a module with a map (Node reads the
 * map, as it would plain), or Node's message of the value where it found
 * no text (as plain); and on Node 26, a lookup that finds nothing throws a
 * TypeError before any AssertionError is made (the transform writes a
 * function's entry without a `;` so that an arrow's does not end Node's
 * reading: transform.ts).
 */

import { readFileSync } from 'node:fs';
import { findSourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { isProxy } from 'node:util/types';
import { ObjectDefineProperty, ObjectGetOwnPropertyDescriptor } from '../../shared/builtins.js';
import { ownModule } from '../../shared/own-load.js';
import { moduleOfScriptName } from './registry.js';
import { originalText } from './module-text.js';
import { originalColumn } from './table.js';
import { lineEndOf, v8LineStarts } from './v8-lines.js';

type AssertSource = typeof import('./assert-source.js');

/** The name an AssertionError has while its constructor formats its stack (then it becomes `AssertionError`). */
const CONSTRUCTING = 'AssertionError [ERR_ASSERTION]';

const [MAJOR, MINOR] = process.versions.node.split('.').map(Number) as [number, number];
/** Whether Node reads the source line V8 compiled (22.21, 24.9 and later), not the file. */
const READS_COMPILED_LINE = MAJOR >= 25 || (MAJOR === 24 && MINOR >= 9) || (MAJOR === 22 && MINOR >= 21);
/** Whether a lookup that finds no text makes `assert.ok` throw a TypeError (Node 26) rather than name the value. */
const NO_TEXT_THROWS = MAJOR >= 26;

/** Whether `error` is an AssertionError whose constructor is formatting its stack: cheap, and runs nothing of the program's. */
export function constructingAssertion(error: unknown): error is object {
  if (typeof error !== 'object' || error === null || isProxy(error)) return false;
  return ObjectGetOwnPropertyDescriptor(error, 'name')?.value === CONSTRUCTING;
}

/** A data property of the error's own, or undefined. */
function own(error: object, key: string): unknown {
  const d = ObjectGetOwnPropertyDescriptor(error, key);
  return d !== undefined && 'value' in d ? d.value : undefined;
}

/**
 * Mends the message of an AssertionError being made (constructingAssertion)
 * whose first frame (V8's: `file`, 1-based `line` and `column`) is the
 * failed call.
 */
export function mendAssertMessage(error: object, file: unknown, line: unknown, column: unknown): void {
  if (own(error, 'operator') !== '==' || own(error, 'expected') !== true || own(error, 'code') !== 'ERR_ASSERTION') return;
  const message = own(error, 'message');
  const generated = own(error, 'generatedMessage');
  if (typeof message !== 'string' || typeof line !== 'number' || typeof column !== 'number') return;
  // A call that fails again fails the same way: kept, as Node 20 keeps its
  // own (and a failing assertion in a loop costs the lookup once).
  const key = `${String(file)}\0${line}\0${column}\0${String(generated)}\0${message}`;
  let mended = MENDED.get(key);
  if (mended === undefined) {
    if (MENDED.size >= MENDED_MAX) MENDED.clear();
    mended = plainMessage(error, file, line, column, message, generated);
    MENDED.set(key, mended);
  }
  if (mended !== null) ObjectDefineProperty(error, 'message', { value: mended });
}

/** Messages mended, by place and message as Node made it: the plain run's, or null to leave it. */
const MENDED = new Map<string, string | null>();
const MENDED_MAX = 1024;

function plainMessage(error: object, file: unknown, line: number, column: number, message: string, generated: unknown): string | null {
  // A message handed to the constructor is the program's, unless it is the
  // one assert.ok made of the call's text; none handed means Node found no
  // text (or the call was another: okCallAt, below).
  const src = ownModule<AssertSource>(new URL('./assert-source.js', import.meta.url));
  if (generated === false ? !message.startsWith(src.GENERATED) : generated !== true) return null;
  const m = moduleOfScriptName(file as string | null | undefined);
  if (m === null) return null;
  if (READS_COMPILED_LINE && (process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled === true) {
    // With source maps on Node reads a module's map, as it would plain (a
    // module with one of its own carries it: source-map.ts); for a module
    // without one, some lines give no text (as plain), later ones the line
    // V8 compiled (instrumented), which is then mended as without maps.
    if (findSourceMap(m.script) !== undefined || generated !== false) return null;
  }
  const at = originalColumn(m.table, line, column - 1);
  let text: string | null;
  let starts: Int32Array;
  let plain: string | undefined | null;
  try {
    // The text Node reads: V8's (the original's) from 22.21 and 24.9, the file before.
    const bytes = READS_COMPILED_LINE ? null : readFileSync(m.script.startsWith('file:') ? fileURLToPath(m.script) : m.script);
    text = bytes === null ? originalText(m) : bytes.toString('utf8');
    if (text === null) return null;
    starts = v8LineStarts(text);
    if (line > starts.length) return null;
    plain = bytes === null
      ? src.fromLine(text.slice(starts[line - 1], lineEndOf(text, starts, line - 1)), at)
      : src.fromFile(bytes, line - 1, at);
  } catch {
    return null;
  }
  // What Node finds in the original text where plain: no text (undefined)
  // makes the message of the value, as the constructor does without one;
  // Node 26 throws a TypeError there instead, which cannot be had now.
  if (plain === undefined && !NO_TEXT_THROWS) plain = `${inspect(own(error, 'actual'))} == true`;
  if (typeof plain !== 'string' || plain === message) return null;
  if (!src.okCallAt(text, starts[line - 1]! + at)) return null;
  return plain;
}
