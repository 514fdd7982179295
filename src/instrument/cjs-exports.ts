/**
 * The functions of a CommonJS module that Node reads to find its exports.
 *
 * Owns: the recognition of those functions in the syntax tree. Invariant:
 * every function whose text Node's CommonJS lexer (cjs-module-lexer, which
 * names the exports an ES module may import from a CommonJS one) matches
 * as part of an export is found here, so that the transform leaves it as
 * written; finding a few more costs only their sites.
 *
 * Why: the lexer reads the text, not the running module. Transpilers
 * (Babel, and packages built with it: graphql's index.js) export names as
 * getters, `Object.defineProperty(exports, "parse", { enumerable: true,
 * get: function () { return _p.parse; } })`, and re-export whole modules
 * with `Object.keys(_p).forEach(function (key) { ... })`. The lexer takes
 * a name from such a getter only when its body is exactly `return` of a
 * name or a member, and a getter it cannot read takes the name away: a
 * site in the getter, or in the loop's callback, made `import { parse }
 * from 'graphql'` fail where Node lexes the text it compiles (the in-thread
 * module hooks, Node 22 and later). The forms, from the lexer's grammar
 * (frozen, the same on every Node line): a getter of
 * `Object.defineProperty(exports | module.exports, name, { ... })` that
 * takes no parameter and returns a name, `a.b` or `a[...]`; and the
 * function passed to `Object.keys(x).forEach(...)` when it does nothing but
 * copy the key into `exports` (with `if`s that return), with all it
 * contains.
 */

import type { Node } from 'acorn';

type N = Node & Record<string, unknown>;

function isName(n: unknown, name: string): boolean {
  return (n as N | null)?.type === 'Identifier' && (n as N)['name'] === name;
}

/** `object.property`, written with a dot. */
function isMember(n: unknown, object: string, property: string): boolean {
  const m = n as N | null;
  return m?.type === 'MemberExpression' && m['computed'] === false && isName(m['object'], object) && isName(m['property'], property);
}

function isExportsObject(n: unknown): boolean {
  return isName(n, 'exports') || isMember(n, 'module', 'exports');
}

/** A getter the lexer can read: no parameter, a body of one `return` of a name or a member of a name. */
function isPlainGetter(f: N): boolean {
  if (f.type !== 'FunctionExpression' || f['async'] === true || f['generator'] === true || (f['params'] as N[]).length !== 0) return false;
  const body = (f['body'] as N)['body'] as N[];
  if (body.length !== 1 || body[0]!.type !== 'ReturnStatement') return false;
  const value = body[0]!['argument'] as N | null;
  if (value === null) return false;
  return value.type === 'Identifier' || (value.type === 'MemberExpression' && (value['object'] as N).type === 'Identifier');
}

/**
 * The functions of this call that the lexer reads, if the call is one of
 * its forms (an empty list for any other call).
 */
export function exportsShapes(call: Node): Node[] {
  const c = call as N;
  const callee = c['callee'] as N;
  const args = c['arguments'] as N[];
  if (isMember(callee, 'Object', 'defineProperty') && args.length >= 3 && isExportsObject(args[0]) && args[2]!.type === 'ObjectExpression') {
    const out: Node[] = [];
    for (const p of args[2]!['properties'] as N[]) {
      if (p.type !== 'Property' || p['computed'] === true) continue;
      const key = p['key'] as N;
      const named = isName(key, 'get') || (key.type === 'Literal' && key['value'] === 'get');
      if (named && isPlainGetter(p['value'] as N)) out.push(p['value'] as N);
    }
    return out;
  }
  if (callee?.type === 'MemberExpression' && callee['computed'] === false && isName(callee['property'], 'forEach') && args.length === 1) {
    const keys = callee['object'] as N;
    const f = args[0]!;
    if (keys.type === 'CallExpression' && isMember(keys['callee'], 'Object', 'keys') && (keys['arguments'] as N[]).length === 1
      && f.type === 'FunctionExpression' && (f['params'] as N[]).length === 1 && isReexportLoop(f)) return [f];
  }
  return [];
}

/**
 * Whether a `forEach` callback is a re-export loop of the lexer's kind:
 * `if`s that return or copy, and copies of the key into `exports` (an
 * assignment, or a plain getter); nothing else, so that any loop that does
 * work of its own (calls, inner functions, other statements) keeps its
 * sites. Wider than the lexer's grammar in the details of the tests.
 */
function isReexportLoop(f: N): boolean {
  const key = ((f['params'] as N[])[0] as N | undefined);
  if (key?.type !== 'Identifier') return false;
  const k = key['name'] as string;
  let copies = 0;
  const copy = (st: N): boolean => {
    if (st.type !== 'ExpressionStatement') return false;
    const e = st['expression'] as N;
    if (e.type === 'AssignmentExpression' && e['operator'] === '=') {
      const left = e['left'] as N;
      const right = e['right'] as N;
      const ok = left.type === 'MemberExpression' && left['computed'] === true && isExportsObject(left['object']) && isName(left['property'], k)
        && right.type === 'MemberExpression' && right['computed'] === true && (right['object'] as N).type === 'Identifier' && isName(right['property'], k);
      if (ok) copies++;
      return ok;
    }
    if (e.type === 'CallExpression' && isMember(e['callee'], 'Object', 'defineProperty')) {
      const a = e['arguments'] as N[];
      const ok = a.length === 3 && isExportsObject(a[0]) && isName(a[1], k) && a[2]!.type === 'ObjectExpression'
        && (a[2]!['properties'] as N[]).every((p) => p.type === 'Property' && p['computed'] === false
          && ((p['value'] as N).type === 'Literal' || isPlainGetter(p['value'] as N)));
      if (ok) copies++;
      return ok;
    }
    return false;
  };
  const statement = (st: N): boolean => {
    if (st.type === 'IfStatement') {
      if (st['alternate'] !== null || !isTest(st['test'] as N)) return false;
      const then = st['consequent'] as N;
      return (then.type === 'ReturnStatement' && then['argument'] === null) || copy(then);
    }
    return copy(st);
  };
  const body = (f['body'] as N)['body'] as N[];
  return body.every(statement) && copies > 0;
}

/** A test of the key made of comparisons, `in`, negation and `hasOwnProperty` (no other call). */
function isTest(e: N): boolean {
  switch (e.type) {
    case 'Identifier': case 'Literal':
      return true;
    case 'MemberExpression':
      return isTest(e['object'] as N) && (e['computed'] === false || isTest(e['property'] as N));
    case 'LogicalExpression': case 'BinaryExpression':
      return isTest(e['left'] as N) && isTest(e['right'] as N);
    case 'UnaryExpression':
      return e['operator'] === '!' && isTest(e['argument'] as N);
    case 'CallExpression': {
      const c = e['callee'] as N;
      const named = (m: N, name: string): boolean => m.type === 'MemberExpression' && m['computed'] === false && isName(m['property'], name);
      const own = named(c, 'hasOwnProperty') || (named(c, 'call') && named(c['object'] as N, 'hasOwnProperty'));
      return own && (e['arguments'] as N[]).every(isTest);
    }
    default:
      return false;
  }
}
