/**
 * Lines of a script as V8 counts them: for the inspector's line numbers
 * (where a probe goes) and for LiveEdit's line diff (matching.ts).
 *
 * Owns: splitting a text into lines and finding an offset's line.
 * Invariant: a line ends after \n, after a \r not followed by \n, and after
 * U+2028 and U+2029, as V8's own line ends do; every caller counts lines
 * the same way, so a line number means one line everywhere in attach.
 */

/** The offset each line starts at; the first is 0. */
export function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 0x2028 || c === 0x2029 || (c === 13 && text.charCodeAt(i + 1) !== 10)) out.push(i + 1);
  }
  return out;
}

/** The 0-based line of `offset`, given the text's lineStarts. */
export function lineAt(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
