// How two runs of one program differ, written for a human: the differential
// tests compare whole outputs (status, stdout and stderr as lines), and
// node's own assertion diff elides long ones ("Lines skipped") exactly
// where the difference is. This prints every differing region instead.

import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { isDeepStrictEqual } from 'node:util';

/** Regions where `b` differs from `a` (the plain run), as `-`/`+` lines with their line numbers. */
export function lineDifference(a: readonly string[], b: readonly string[], context = 1, limit = 60): string {
  // A longest common subsequence over lines; outputs are small (thousands of lines at most).
  const n = a.length;
  const m = b.length;
  if (n * m > 25_000_000) return `(${n} and ${m} lines: too long to compare line by line; first lines differ at ${firstDiff(a, b)})`;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const ops: [' ' | '-' | '+', number, string][] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push([' ', i, a[i]!]);
      i++;
      j++;
    }
    else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) ops.push(['+', j, b[j++]!]);
    else ops.push(['-', i, a[i++]!]);
  }
  const keep = ops.map((o, k) => o[0] !== ' ' || ops.slice(Math.max(0, k - context), k + context + 1).some((p) => p[0] !== ' '));
  const out: string[] = [];
  for (let k = 0; k < ops.length && out.length < limit; k++) {
    if (!keep[k]) {
      if (keep[k - 1]) out.push('  (same lines)');
      continue;
    }
    const [op, at, text] = ops[k]!;
    out.push(`${op}${String(at + 1).padStart(5)} ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`);
  }
  return out.join('\n');
}

function firstDiff(a: readonly string[], b: readonly string[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i + 1;
}

/** A finished run: its status (128 + the signal's number when a signal ended it, as a shell says) and output as lines. */
export interface Outcome { status: number | null; stdout: string[]; stderr: string[] }

export function outcomeOf(r: { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }): Outcome {
  return { status: r.signal !== null ? 128 + constants.signals[r.signal] : r.code, stdout: r.stdout.split('\n'), stderr: r.stderr.split('\n') };
}

/**
 * The outcome with the source line and caret that Node prints above an
 * uncaught exception masked: the header before them (`file:line`), the
 * message and the stack are kept. For a known difference of those two lines
 * only (docs/transparency.md, difference 11), so that the rest of the
 * printout is still compared.
 */
export function maskArrows<O extends Outcome>(o: O): O {
  const stderr = o.stderr.slice();
  for (let i = 0; i + 2 < stderr.length; i++) {
    // The caret line: carets under the throw, or only blanks when the
    // column is past what Node underlines; never an empty line.
    if (/^\S.*:\d+$/.test(stderr[i]!) && /^[ \t]*(?:\^+|[ \t])[ \t]*$/.test(stderr[i + 2]!)) {
      stderr[i + 1] = '<source line>';
      stderr[i + 2] = '<caret>';
      i += 2;
    }
  }
  return { ...o, stderr };
}

/**
 * Asserts that every run in `runs` has the outcome `plain` has, saying how
 * each one differs: its status, then each stream of lines (stdout, stderr,
 * and any other the caller adds).
 */
export function assertSameOutcomes<O extends Outcome>(label: string, plain: O, runs: Record<string, O>): void {
  const parts: string[] = [];
  for (const [mode, o] of Object.entries(runs)) {
    if (isDeepStrictEqual(o, plain)) continue;
    parts.push(`== ${mode} (- plain, + ${mode})`);
    if (o.status !== plain.status) parts.push(`status: ${plain.status} plain, ${o.status} ${mode}`);
    for (const [key, lines] of Object.entries(plain)) {
      const other = (o as Record<string, unknown>)[key];
      if (key === 'status' || isDeepStrictEqual(other, lines)) continue;
      parts.push(`${key}:`, lineDifference(lines as string[], other as string[]));
    }
  }
  if (parts.length > 0) assert.fail(`${label}: not as plain\n${parts.join('\n')}`);
}
