/**
 * How jsftrace parses a module: the one set of acorn options the transform
 * and attach both use.
 *
 * Owns: those options. Invariant: attach pairs the functions of a script
 * with those of its instrumented text by parsing both, so both must be
 * parsed exactly as the transform parsed its input (CommonJS may return at
 * the top level, an ES module may await there; parentheses kept, since a
 * parenthesised function starts where V8 says it does). And what V8
 * compiles, acorn must read: where V8 is laxer than the specification
 * (`v8Grammar` below), so is jsftrace's parser, or the module would load
 * uninstrumented with a warning plain Node never prints.
 */

import { Parser, type Node, type Options } from 'acorn';
import { IntrinsicRegExp, ObjectDefineProperty, ObjectGetOwnPropertyDescriptor } from '../shared/builtins.js';

/** What of acorn's parser `v8Grammar` overrides or reads (not in acorn's types). */
interface ParserInternals {
  toAssignable(node: Node | null, isBinding: boolean, refDestructuringErrors?: unknown): Node | null;
  checkLValSimple(expr: Node, bindingType?: number, checkClashes?: unknown): void;
  readonly allowUsing: boolean;
  scopeStack: unknown[];
  /** The current token: an assignment's operator while its target is checked. */
  readonly type: { readonly isAssign?: boolean };
  readonly value: unknown;
}

const LOGICAL_ASSIGNMENTS = new Set(['&&=', '||=', '??=']);

/** acorn's BIND_NONE: the target of an assignment, not a binding. */
const BIND_NONE = 0;

function unparenthesised(node: Node): Node {
  let n = node as Node & { expression?: Node };
  while (n.type === 'ParenthesizedExpression' && n.expression !== undefined) n = n.expression as Node & { expression?: Node };
  return n;
}

/**
 * acorn, as lax as V8 where V8 departs from the specification (measured on
 * Node 20 to 26, in sloppy and strict code alike):
 * - a call as the target of `=`, a compound assignment, `++`/`--` or a
 *   `for…in`/`for…of` head (`f() = 1`) compiles, and throws a
 *   ReferenceError only when it runs (web compatibility). Not inside a
 *   destructuring pattern, nor with `&&=`, `||=`, `??=`: V8 refuses those;
 * - a CommonJS module's top level is a function's body to V8, where a
 *   `using` declaration is allowed; acorn reads it as a script's.
 */
function v8Grammar(commonjs: boolean) {
  return (Base: typeof Parser): typeof Parser => {
    const Lax = class extends (Base as unknown as new (...args: unknown[]) => ParserInternals) {
      /** True while toAssignable converts the inside of a pattern. */
      inPattern = false;
      override toAssignable(node: Node | null, isBinding: boolean, refDestructuringErrors?: unknown): Node | null {
        if (node !== null && !isBinding && !this.inPattern && unparenthesised(node).type === 'CallExpression') return node;
        const outer = this.inPattern;
        this.inPattern = node !== null && node.type !== 'ParenthesizedExpression' ? true : outer;
        try {
          return super.toAssignable(node, isBinding, refDestructuringErrors);
        } finally {
          this.inPattern = outer;
        }
      }
      override checkLValSimple(expr: Node, bindingType: number = BIND_NONE, checkClashes?: unknown): void {
        if (bindingType === BIND_NONE && !this.inPattern && unparenthesised(expr).type === 'CallExpression'
          && !(this.type.isAssign === true && LOGICAL_ASSIGNMENTS.has(this.value as string))) return;
        super.checkLValSimple(expr, bindingType, checkClashes);
      }
      override get allowUsing(): boolean {
        // acorn's own rule, but for a CommonJS module's top level.
        if (commonjs && this.scopeStack.length === 1) return true;
        return super.allowUsing;
      }
    };
    return Lax as unknown as typeof Parser;
  };
}

const CommonJSParser = Parser.extend(v8Grammar(true));
const ModuleParser = Parser.extend(v8Grammar(false));

function parseAs(code: string, options: Options, commonjs: boolean): Node {
  return (commonjs ? CommonJSParser : ModuleParser).parse(code, options);
}

export function parseModule(code: string, format: 'module' | 'commonjs'): Node {
  return withPatternCopies(() => parseAs(code, {
    ecmaVersion: 'latest',
    sourceType: format === 'module' ? 'module' : 'script',
    allowHashBang: true,
    allowReturnOutsideFunction: format === 'commonjs',
    allowAwaitOutsideFunction: format === 'module',
    preserveParens: true,
  }, format === 'commonjs'));
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
  parseAs(code, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true, allowAwaitOutsideFunction: true }, false);
}
