/**
 * V8's name inference, as far as the text the transform inserts touches it.
 *
 * Owns: the model of what V8's parser does with anonymous functions while
 * it reads an expression (measured on Node 20 to 26, the same on each), and
 * the two things the transform takes from it: the placeholders that keep an
 * insertion neutral, and the count of drops in a copied expression.
 *
 * The model. An anonymous function literal read by the full parser waits
 * for a name. An assignment `=` (or `||=`, `&&=`, `??=`), or a declarator
 * with a plain name, whose value is not a call or `new`, names every
 * waiting function after its target and stops their wait (V8 also sets
 * `name` from an identifier target when the value is the function itself);
 * a call, a compound assignment, or an assignment or declarator whose value
 * is a call or `new`, drops the last waiting one (it stays anonymous). The
 * body of an arrow function is read with the expression around it; the
 * body of a `function` expression is pre-parsed apart, and what it does
 * counts for its own functions only. Stack traces print these inferred names
 * (`Array.inArray`, `Object.$Jr [as a]`).
 *
 * Invariant: every insertion leaves the waiting functions as the program's
 * own code leaves them. Inserted code never names anything (it assigns a
 * value that is not a call only where nothing waits, and never an
 * anonymous function or class). Where functions may be waiting (waitingAt, an
 * upper bound from the program's own code), each drop it makes takes a
 * function literal that never runs (`0&&(()=>0)`, an arrow: no braces
 * for attach's diffs to align with the program's), put before it in
 * the same chunk and after any of the program's code the drop follows;
 * where none can be, drops find nothing to take and none is put (most
 * functions: the placeholders cost parse time and attach's text diffs).
 * Inserted code wraps the program's code only in parentheses, commas and
 * call arguments, whose names V8 forgets before the program's own
 * assignment names anything.
 */

import { childKeys } from './ast-children.js';

/**
 * `expr`, behind `n` placeholders when functions may be waiting where it
 * is: what the drops after it (up to the end of its chunk) take instead of
 * the program's functions. Nothing is added where none can be waiting.
 */
export function held(n: number, waiting: boolean, expr: string): string {
  return waiting && n > 0 ? `${placeholders(n)}||${expr}` : expr;
}

/** `n` (at least 1) function literals that never run, as one expression whose value is 0. */
export function placeholders(n: number): string {
  return `0${'&&(()=>0)'.repeat(n)}`;
}

interface Node {
  type: string;
  [key: string]: unknown;
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && typeof (v as Node).type === 'string';
}

function unparen(n: Node): Node {
  let x = n;
  while (x.type === 'ParenthesizedExpression') x = x['expression'] as Node;
  return x;
}

/** Whether V8 sees `n` as a call (or `new`) when it is the value of an assignment: an optional chain is not. */
function isCallValue(n: Node): boolean {
  const x = unparen(n);
  return x.type === 'CallExpression' || x.type === 'NewExpression';
}

/**
 * The drops V8 makes while reading `n`, an expression with no function in
 * it (a copy of a short return value). Namings are not counted: a copy that
 * names anything finds only the placeholders put before it waiting, since
 * its first reading named (and stopped) everything else.
 */
export function drops(n: Node): number {
  let count = 0;
  const visit = (x: Node): void => {
    if (x.type === 'CallExpression') count++;
    else if (x.type === 'AssignmentExpression') {
      const op = x['operator'] as string;
      const naming = op === '=' || op === '||=' || op === '&&=' || op === '??=';
      if (!naming || isCallValue(x['right'] as Node)) count++;
    }
    for (const key of childKeys(x)) {
      const v = x[key];
      if (Array.isArray(v)) {
        for (const c of v) if (isNode(c)) visit(c);
      } else if (isNode(v)) visit(v);
    }
  };
  visit(n);
  return count;
}

const ANON = new Set(['FunctionExpression', 'ArrowFunctionExpression', 'ClassExpression']);

/**
 * An upper bound of the number of functions waiting for a name at each
 * offset of the program, as V8's full parser reads it. Adds, drops and
 * namings happen where their construct ends. The body of an arrow is read
 * with the code around it; that of a `function` apart (see fn below). Each member of an object literal or a class
 * whose key is not computed names what waits (measured). What the model
 * leaves out (default values, other namings) only makes the bound larger.
 */
export interface Waiting {
  /** Before the code at `offset` (an insertion there runs before it). */
  before(offset: number): number;
  /** Right after `node` (an insertion at its end, inside whatever ends there too). */
  after(node: { start: number; end: number }): number;
  /**
   * Whether the program names anything after `offset` and up to `end`: a
   * function still waiting when V8 stops reading (the end of a function it
   * compiles apart) never gets a name, so a drop before then changes
   * nothing unless a naming follows.
   */
  namedAfter(offset: number, end: number): boolean;
  /** Whether V8 reads this `function` with the code around it (in parentheses), not apart. */
  readWithOuter(fn: object): boolean;
}

export function waitingAt(program: Node): Waiting {
  // Marks in the order V8 meets them: where a construct ends, where it starts, the count after it.
  const at: number[] = [];
  const from: number[] = [];
  const count: number[] = [];
  const named: number[] = [];
  const withOuter = new WeakSet<object>();
  let w = 0;
  const nameAll = (x: Node): void => {
    w = 0;
    named.push(x['end'] as number);
  };
  const mark = (x: Node): void => {
    at.push(x['end'] as number);
    from.push(x['start'] as number);
    count.push(w);
  };
  const children = (x: Node): void => {
    for (const key of childKeys(x)) {
      const v = x[key];
      if (Array.isArray(v)) {
        for (const c of v) if (isNode(c)) visit(c);
      } else if (isNode(v)) visit(v);
    }
  };
  /**
   * A `function` (not an arrow); `added`: it then waits for a name. V8
   * compiles it lazily, its body read apart from the code around (which it
   * then leaves as it was), unless it is in parentheses (V8 takes it for an
   * immediately called function and reads it with that code): after it, the
   * bound is the larger of the two.
   */
  const fn = (x: Node, added: boolean, parenthesized: boolean): void => {
    const before = w;
    if (parenthesized) withOuter.add(x);
    else {
      w = 0;
      // Read apart: nothing waits where it starts.
      at.push(x['start'] as number);
      from.push(x['start'] as number);
      count.push(0);
    }
    children(x);
    w = parenthesized ? Math.max(before, w) : before;
    if (added) w++;
    mark(x);
  };
  const visit = (x: Node, parenthesized = false): void => {
    switch (x.type) {
      case 'ParenthesizedExpression':
        visit(x['expression'] as Node, true);
        return;
      case 'FunctionExpression':
        fn(x, x['id'] === null, parenthesized);
        return;
      case 'FunctionDeclaration':
        fn(x, false, false);
        return;
      case 'Property': case 'MethodDefinition': case 'PropertyDefinition': {
        // A method is named by its key, and each member of an object
        // literal or a class but a computed one names what is waiting
        // after it.
        visit(x['key'] as Node);
        const value = x['value'] as Node | null;
        if (value === null) {
          // A field with no value.
        } else if (value.type === 'FunctionExpression' && (x.type === 'MethodDefinition' || x['method'] === true || x['kind'] !== 'init')) fn(value, false, false);
        else visit(value);
        if (x['computed'] !== true) nameAll(x);
        mark(x);
        return;
      }
      case 'CallExpression':
        children(x);
        w = Math.max(0, w - 1);
        mark(x);
        return;
      case 'AssignmentExpression': {
        children(x);
        const op = x['operator'] as string;
        const names = op === '=' || op === '||=' || op === '&&=' || op === '??=';
        if (names && !isCallValue(x['right'] as Node)) nameAll(x);
        else w = Math.max(0, w - 1);
        mark(x);
        return;
      }
      case 'VariableDeclarator': {
        children(x);
        const init = x['init'] as Node | null;
        if (init !== null && (x['id'] as Node).type === 'Identifier') {
          if (isCallValue(init)) w = Math.max(0, w - 1);
          else nameAll(x);
        }
        mark(x);
        return;
      }
      default:
        children(x);
        if (ANON.has(x.type) && (x.type === 'ArrowFunctionExpression' || x['id'] === null || x['id'] === undefined)) {
          w++;
          mark(x);
        }
    }
  };
  visit(program);
  /** The number of marks at or before `offset`. */
  const upTo = (offset: number): number => {
    let lo = 0;
    let hi = at.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (at[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    before: (offset) => {
      const n = upTo(offset);
      return n === 0 ? 0 : count[n - 1]!;
    },
    namedAfter: (offset, end) => {
      // A naming at the offset itself counts: a construct around the
      // insertion may end there too (`const f = await g()`).
      let lo = 0;
      let hi = named.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (named[mid]! < offset) lo = mid + 1;
        else hi = mid;
      }
      return lo < named.length && named[lo]! <= end;
    },
    readWithOuter: (fn) => withOuter.has(fn),
    after: (node) => {
      // Of the marks where the node ends, those of the node and what it
      // holds come first (V8 finishes them first); those of constructs
      // around it (starting before it) come after, and are not yet met.
      let n = upTo(node.end);
      while (n > 0 && at[n - 1] === node.end && from[n - 1]! < node.start) n--;
      return n === 0 ? 0 : count[n - 1]!;
    },
  };
}
