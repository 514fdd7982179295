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

export function parseModule(code: string, format: 'module' | 'commonjs'): Node {
  return parse(code, {
    ecmaVersion: 'latest',
    sourceType: format === 'module' ? 'module' : 'script',
    allowHashBang: true,
    allowReturnOutsideFunction: format === 'commonjs',
    allowAwaitOutsideFunction: format === 'module',
    preserveParens: true,
  });
}

/**
 * Throws where `code` is not a valid ES module: the check of the
 * transform's own output for a module (instrument/load.ts).
 */
export function checkModuleSyntax(code: string): void {
  parse(code, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true, allowAwaitOutsideFunction: true });
}
