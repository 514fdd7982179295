/**
 * What a control file is: how it reads, and how it takes `>` and `>>`.
 * Each file module declares its files with these shapes; tree.ts puts them
 * at their paths.
 *
 * Owns: the file shape and the parsing helpers every file shares
 * (integers and booleans as ftrace's kstrtoul takes them). Invariant: a
 * parser throws before anything is changed, with the byte position of what
 * it refused (`pos` on the error) so error_log can point at it.
 */

import { JsftraceError, type ErrnoCode } from '../shared/errors.js';

export interface ControlFile {
  /** The text of `cat`; absent for write-only files (trace_marker). */
  read?: () => string | Promise<string>;
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

/** ftrace's kstrtoul on a trimmed value: decimal digits only. */
export function parseUint(text: string, what: string, max = 0x7fffffff): number {
  const t = text.trim();
  const lead = text.length - text.trimStart().length;
  if (!/^[0-9]+$/.test(t)) failAt('EINVAL', `${what}: "${t}" is not a non-negative integer`, lead);
  const n = Number(t);
  if (n > max) failAt('EINVAL', `${what}: ${t} is above ${max}`, lead);
  return n;
}

/** tracing_on and function_profile_enabled take any integer; non-zero is on. */
export function parseSwitch(text: string, what: string): boolean {
  const t = text.trim();
  if (!/^-?[0-9]+$/.test(t)) failAt('EINVAL', `${what}: "${t}" is not an integer`, text.length - text.trimStart().length);
  return Number(t) !== 0;
}

/** Whitespace-separated words with their byte offsets in `text`. */
export function wordsAt(text: string): { word: string; pos: number }[] {
  const out: { word: string; pos: number }[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out.push({ word: m[0], pos: m.index });
  return out;
}
