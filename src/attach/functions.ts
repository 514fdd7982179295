/**
 * The functions of one loaded script, found twice: in the source V8 runs
 * and in the source the transform makes of it, paired one to one.
 *
 * Owns: the parse of both texts and the facts the two mechanisms need per
 * function: where it is in each text, where its body starts, its parameter
 * names (for a probe that passes arguments), whether its instrumented text
 * can be swapped in by V8's LiveEdit, and which identifiers of the
 * transform's module prologue it uses.
 *
 * Invariant: nothing here depends on the shape of the code the transform
 * inserts beyond what it reports: the top-level ranges it added (its
 * prologue, its edit table). Inside functions it adds no function and
 * removes none, so the k-th function by start offset in one text is the
 * k-th in the other once the added ranges are set aside; the names the
 * added text declares are found by parsing it. A script whose two parses
 * do not pair up is probed, never patched.
 */

import { parse, type Node as AcornNode } from 'acorn';

export type Format = 'module' | 'commonjs';

interface N extends AcornNode {
  [key: string]: unknown;
}

export interface Fn {
  /** Offsets in the source as loaded. */
  start: number;
  end: number;
  bodyStart: number;
  /** Offsets in the transform's output. */
  outStart: number;
  outEnd: number;
  /** Index of the enclosing function, -1 at top level. */
  parent: number;
  /** Directly nested functions, by index, in source order. */
  children: number[];
  params: string[];
  /** An async function or a generator: a probe sees it until its first suspension. */
  suspends: boolean;
  /** Why LiveEdit cannot take this function's instrumented text ('' when it can). */
  unpatchable: string;
}

export interface ScriptFunctions {
  fns: Fn[];
  /** Top-level functions, by index. */
  roots: number[];
  /** The top-level statements the transform added, as one text, its function declarations aside. */
  prologue: string;
  /** The names the prologue declares: instrumented functions read them. */
  prologueNames: string[];
  /**
   * The functions the transform declared at top level (its edit table):
   * the prologue names them, but an attached script runs its own text, not
   * the one they describe, so they are left undefined.
   */
  declared: string[];
  /** Offsets in the output of every identifier that names one of prologueNames, sorted. */
  uses: { start: number; end: number; name: string }[];
}

function parseAs(code: string, format: Format): N {
  return parse(code, {
    ecmaVersion: 'latest',
    sourceType: format === 'module' ? 'module' : 'script',
    allowHashBang: true,
    allowReturnOutsideFunction: format === 'commonjs',
    allowAwaitOutsideFunction: format === 'module',
    preserveParens: true,
  }) as unknown as N;
}

const FUNCTION = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

function isNode(v: unknown): v is N {
  return typeof v === 'object' && v !== null && typeof (v as N).type === 'string';
}

/** Every node under `root`, parents before children, with the innermost enclosing function. */
function visit(root: N, fn: (n: N, owner: N | null) => void): void {
  const stack: [N, N | null][] = [[root, null]];
  while (stack.length > 0) {
    const [n, owner] = stack.pop()!;
    fn(n, owner);
    const inner = FUNCTION.has(n.type) ? n : owner;
    const kids: N[] = [];
    for (const key of Object.keys(n)) {
      if (key === 'type' || key === 'start' || key === 'end') continue;
      const v = n[key];
      if (Array.isArray(v)) for (const c of v) { if (isNode(c)) kids.push(c); }
      else if (isNode(v)) kids.push(v);
    }
    for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i]!, inner]);
  }
}

function bindingNames(p: N, out: string[]): void {
  if (p.type === 'Identifier') out.push(p['name'] as string);
  else if (p.type === 'AssignmentPattern') bindingNames(p['left'] as N, out);
  else if (p.type === 'RestElement') bindingNames(p['argument'] as N, out);
  else if (p.type === 'ArrayPattern') for (const e of p['elements'] as (N | null)[]) { if (e !== null) bindingNames(e, out); }
  else if (p.type === 'ObjectPattern') for (const q of p['properties'] as N[]) bindingNames(q.type === 'RestElement' ? q : q['value'] as N, out);
}

/** A call `eval(...)` that V8 treats as direct: every variable of the scopes around it lives in a context. */
function isDirectEval(n: N): boolean {
  const callee = n['callee'] as N | undefined;
  return n.type === 'CallExpression' && callee?.type === 'Identifier' && callee['name'] === 'eval';
}

/**
 * Pairs the functions of `source` with those of `output` (the transform's
 * result for it, which added the top-level text in `added`). Throws when
 * the two do not pair up.
 */
export function scriptFunctions(source: string, output: string, format: Format, added: readonly (readonly [number, number])[]): ScriptFunctions {
  const a = parseAs(source, format);
  const b = parseAs(output, format);

  const origNodes: N[] = [];
  const origOwner = new Map<N, N | null>();
  let evalIn = false;
  visit(a, (n, owner) => {
    if (FUNCTION.has(n.type)) { origNodes.push(n); origOwner.set(n, owner); }
    if (isDirectEval(n) || n.type === 'WithStatement') evalIn = true;
  });
  // The added statements: the output's top-level statements inside a range the transform reports.
  const outTop = b['body'] as N[];
  const isAdded = (n: N): boolean => added.some(([from, to]) => n.start >= from && n.end <= to);
  const pro = outTop.filter(isAdded);
  if (pro.length === 0 && added.length > 0) throw new Error('the instrumented text has no prologue where the transform put one');
  const inAdded = (n: N): boolean => pro.some((st) => n.start >= st.start && n.end <= st.end);
  const outNodes: N[] = [];
  visit(b, (n) => { if (FUNCTION.has(n.type) && !inAdded(n)) outNodes.push(n); });
  if (origNodes.length !== outNodes.length) throw new Error(`${origNodes.length} functions in the script, ${outNodes.length} in its instrumented text`);
  origNodes.sort((x, y) => x.start - y.start);
  outNodes.sort((x, y) => x.start - y.start);

  const prologueNames: string[] = [];
  const declared: string[] = [];
  for (const st of pro) {
    if (st.type === 'VariableDeclaration') for (const d of st['declarations'] as N[]) bindingNames(d['id'] as N, prologueNames);
    else if (st.type === 'FunctionDeclaration') bindingNames(st['id'] as N, declared);
  }
  const prologue = pro.filter((st) => st.type !== 'FunctionDeclaration').map((st) => output.slice(st.start, st.end)).join('\n');
  const named = new Set(prologueNames);
  const uses: ScriptFunctions['uses'] = [];
  visit(b, (n) => {
    if (n.type === 'Identifier' && named.has(n['name'] as string) && !inAdded(n)) uses.push({ start: n.start, end: n.end, name: n['name'] as string });
  });
  uses.sort((x, y) => x.start - y.start);

  const index = new Map<N, number>();
  origNodes.forEach((n, i) => index.set(n, i));
  const fns: Fn[] = origNodes.map((n, i) => {
    const body = n['body'] as N;
    const params: string[] = [];
    for (const p of n['params'] as N[]) bindingNames(p, params);
    const o = outNodes[i]!;
    // V8 maps an old function to a new one by where it starts and ends; a
    // change that reaches its last character leaves it unmatched, and V8
    // then keeps the old code without saying so (an arrow whose expression
    // body becomes a block).
    let unpatchable = '';
    if (body.type !== 'BlockStatement') unpatchable = 'an arrow with an expression body';
    else if (output.charCodeAt(o.end - 1) !== 125) unpatchable = 'its instrumented text changes its end';
    return {
      start: n.start, end: n.end, bodyStart: body.start, outStart: o.start, outEnd: o.end,
      parent: -1, children: [], params, suspends: n['async'] === true || n['generator'] === true, unpatchable,
    };
  });
  const roots: number[] = [];
  origNodes.forEach((n, i) => {
    const owner = origOwner.get(n) ?? null;
    const p = owner === null ? -1 : index.get(owner)!;
    fns[i]!.parent = p;
    if (p < 0) roots.push(i);
    else fns[p]!.children.push(i);
  });
  // Variables of a scope that holds a direct eval (or a with), and of every
  // scope around it, live in contexts: the locals an instrumented function
  // adds would change a context that functions inside it close over, and
  // V8 leaves those unpatched without saying so.
  if (evalIn) for (const f of fns) f.unpatchable ||= 'the script calls eval or uses with';
  return { fns, roots, prologue, prologueNames, declared, uses };
}
