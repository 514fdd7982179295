/**
 * How jsftrace parses a module: the one set of acorn options the transform
 * and attach both use.
 *
 * Owns: those options. Invariant: attach pairs the functions of a script
 * with those of its instrumented text by parsing both, so both must be
 * parsed exactly as the transform parsed its input (CommonJS may return at
 * the top level, an ES module may await there; parentheses kept, since a
 * parenthesised function starts where V8 says it does).
 */

import { parse, type Node } from 'acorn';
import { IntrinsicRegExp, ObjectDefineProperty, ObjectGetOwnPropertyDescriptor } from '../shared/builtins.js';

export function parseModule(code: string, format: 'module' | 'commonjs'): Node {
  return withPatternCopies(() => parse(code, {
    ecmaVersion: 'latest',
    sourceType: format === 'module' ? 'module' : 'script',
    allowHashBang: true,
    allowReturnOutsideFunction: format === 'commonjs',
    allowAwaitOutsideFunction: format === 'module',
    preserveParens: true,
  }));
}

/**
 * acorn compiles every regular expression literal it reads (`new
 * RegExp(pattern, flags)`, the token's value), the pattern being a slice of
 * the text it parses, which keeps that whole text alive. V8 caches compiled
 * regular expressions by pattern and flags with the first pattern string it
 * was given, and gives the same data to the module's own literal when the
 * module runs: every module with a literal of 13 characters or more (shorter
 * slices are copies) kept its original text alive as long as itself, beside
 * the instrumented text V8 runs (marked: 52 KB more). While acorn parses,
 * `RegExp` is one that compiles a copy of the pattern instead.
 */
function withPatternCopies<T>(fn: () => T): T {
  const own = ObjectGetOwnPropertyDescriptor(globalThis, 'RegExp');
  if (own === undefined || own.configurable !== true) return fn();
  ObjectDefineProperty(globalThis, 'RegExp', { value: PatternCopy, writable: true, enumerable: false, configurable: true });
  try {
    return fn();
  } finally {
    ObjectDefineProperty(globalThis, 'RegExp', own);
  }
}

/** Called with `new` by acorn: a RegExp of a copy of `pattern` (flattening the concatenation copies it; the slice is of the copy). */
function PatternCopy(pattern: unknown, flags?: string): RegExp {
  return new IntrinsicRegExp(typeof pattern === 'string' ? `${pattern} `.slice(0, -1) : pattern as RegExp, flags);
}

/**
 * Throws where `code` is not a valid ES module: the check of the
 * transform's own output for a module (instrument/load.ts).
 */
export function checkModuleSyntax(code: string): void {
  parse(code, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true, allowAwaitOutsideFunction: true });
}
