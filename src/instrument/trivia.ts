/**
 * Skipping what lies between two tokens, for code that must find a token
 * next to an AST node (the transform: where to insert; attach: where V8
 * starts a function) without a tokenizer.
 *
 * Owns: that skip. Invariant: it stops at the first character that is
 * neither whitespace nor inside a comment, and never past the end of the
 * text; a line comment ends at \n (the line terminators \r, U+2028 and
 * U+2029 alone do not end one here).
 */

/** The offset of the first token at or after `at`: whitespace and comments skipped. */
export function skipTrivia(code: string, at: number): number {
  for (;;) {
    const c = code.charCodeAt(at);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029) {
      at++;
    } else if (c === 47 && code.charCodeAt(at + 1) === 47) {
      while (at < code.length && code.charCodeAt(at) !== 10) at++;
    } else if (c === 47 && code.charCodeAt(at + 1) === 42) {
      const end = code.indexOf('*/', at + 2);
      at = end < 0 ? code.length : end + 2;
    } else {
      return at;
    }
  }
}
