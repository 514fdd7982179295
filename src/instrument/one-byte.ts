/**
 * The representation of the instrumented text V8 compiles.
 *
 * Owns: turning a text of Latin-1 characters that V8 holds two bytes a
 * character back into one byte a character. Invariant: the characters are
 * never changed; only a text with no character above U+00FF is copied.
 *
 * Why: V8 builds a string two-byte when any piece it concatenates or joins
 * is two-byte, and counts a string that has served as a property key as
 * two-byte (it becomes a ThinString, whose type carries no one-byte mark),
 * whatever its characters. The transform joins such names (parameters,
 * identifiers) into the text it inserts, so the instrumented text of a
 * plain ASCII module came out two-byte: for typescript.js, 29 MB held for
 * the program's life instead of 14.6 MB, and only on the run that
 * transformed it (a cache hit reads the text from a file, one-byte).
 */

import { BufferFrom, BufferToString, ReflectApply } from '../shared/builtins.js';

const WIDE = /[^\x00-\xff]/;

/** `text`, one byte a character where its characters allow it. */
export function oneByte(text: string): string {
  if (WIDE.test(text)) return text;
  return ReflectApply(BufferToString, BufferFrom(text, 'latin1'), ['latin1']) as string;
}
