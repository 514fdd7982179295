/**
 * What a control file is: how it reads, and how it takes `>` and `>>`.
 * Each file module declares its files with these shapes; tree.ts puts them
 * at their paths.
 *
 * Owns: the file shape and the parsing helpers every file shares
 * (integers and booleans as ftrace's kstrtoul takes them). Invariants: a
 * parser throws before anything is changed, with the byte position of what
 * it refused (`pos` on the error) so error_log can point at it; a number is
 * decimal digits only (except a command's count, which takes kstrtoul's
 * base 0, as the kernel's), and one outside its range is refused, never
 * wrapped or rounded into it.
 */

import { JsftraceError, type ErrnoCode } from '../shared/errors.js';

export interface ControlFile {
  /** The text of `cat`; absent for write-only files (trace_marker). */
  read?: () => string | Promise<string>;
  /** The same text in pieces, for files that can be large (trace, trace_pipe): surface.ts, stream. */
  stream?: () => AsyncIterable<string>;
  /** `echo text > file`. Absent for read-only files (EACCES, as tracefs' 0444 files). */
  write?: (text: string) => void | Promise<void>;
  /** `echo text >> file`; files without it take `>>` as `>` (ftrace's, for most single-value files). */
  append?: (text: string) => void | Promise<void>;
}

/** A refusal at byte `pos` of the written text. */
export function failAt(code: ErrnoCode, message: string, pos = 0): never {
  throw Object.assign(new JsftraceError(code, message), { pos });
}

/** The position a refusal carries, 0 when none. */
export function errorPos(e: unknown): number {
  const p = (e as { pos?: unknown }).pos;
  return typeof p === 'number' ? p : 0;
}

/** The largest value of a kernel `unsigned long` (kstrtoul's range). */
const ULONG_MAX = (1n << 64n) - 1n;

/** Whether `digits` (decimal, any length) is above `max`, compared exactly. */
function above(digits: string, max: bigint): boolean {
  return BigInt(digits) > max;
}

/**
 * A decimal number in [0, max] at `pos` of the written text: ftrace's
 * kstrtoul, with the range of what the value is stored in. `noun` names
 * what the number is in messages (`a thread id`, `a count for traceoff`).
 */
export function parseUintAt(word: string, what: string, pos: number, max = 0x7fffffff, noun = 'a non-negative integer'): number {
  if (!/^[0-9]+$/.test(word)) failAt('EINVAL', `${what}: "${word}" is not ${noun}`, pos);
  if (above(word, BigInt(max))) failAt('EINVAL', `${what}: ${word} is out of range for ${noun} (0 to ${max})`, pos);
  return Number(word);
}

/**
 * A filter command's count at `pos`: the kernel parses it with
 * kstrtoul(number, 0), so a leading `+` is taken, `0x` starts hexadecimal
 * and a leading 0 octal (`010` is 8); anything else after the digits is
 * EINVAL. A value beyond kstrtoul's range is ERANGE, as the kernel's; one
 * within it but above `max` (what the count is stored in) is EINVAL.
 */
export function parseCountAt(word: string, what: string, pos: number, max: number, noun: string): number {
  const m = /^\+?(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))$/.exec(word);
  if (m === null) failAt('EINVAL', `${what}: "${word}" is not ${noun}`, pos);
  const [, hex, oct, dec] = m;
  const v = hex !== undefined ? BigInt(`0x${hex}`) : oct !== undefined ? BigInt(`0o${oct.slice(1) || '0'}`) : BigInt(dec!);
  if (v > ULONG_MAX) failAt('ERANGE', `${what}: ${word} is out of range for ${noun} (0 to ${max})`, pos);
  if (v > BigInt(max)) failAt('EINVAL', `${what}: ${word} is out of range for ${noun} (0 to ${max})`, pos);
  return Number(v);
}

/** ftrace's kstrtoul on a trimmed value: decimal digits only, at most `max`. */
export function parseUint(text: string, what: string, max = 0x7fffffff): number {
  return parseUintAt(text.trim(), what, text.length - text.trimStart().length, max);
}

/**
 * tracing_on and function_profile_enabled: as ftrace's, any unsigned long
 * (kstrtoul: 0 to 2^64 - 1), non-zero is on; a sign, a fraction or a value
 * beyond 2^64 - 1 is EINVAL.
 */
export function parseSwitch(text: string, what: string): boolean {
  const t = text.trim();
  const lead = text.length - text.trimStart().length;
  if (!/^[0-9]+$/.test(t)) failAt('EINVAL', `${what}: "${t}" is not a non-negative integer (0 is off, any other value on)`, lead);
  if (above(t, ULONG_MAX)) failAt('EINVAL', `${what}: ${t} is out of range (0 to ${ULONG_MAX})`, lead);
  return /[1-9]/.test(t);
}

/** Whitespace-separated words with their byte offsets in `text`. */
export function wordsAt(text: string): { word: string; pos: number }[] {
  const out: { word: string; pos: number }[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out.push({ word: m[0], pos: m.index });
  return out;
}
