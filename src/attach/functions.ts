/**
 * The functions of one loaded script, found twice: in the source V8 runs
 * and in the source the transform makes of it, paired one to one.
 *
 * Owns: the parse of both texts and the facts the two mechanisms need per
 * function: where it is in each text, where its body starts, its parameter
 * names (for a probe that passes arguments), whether its instrumented text
 * can be swapped in by V8's LiveEdit, which identifiers of the transform's
 * module prologue it uses, the text the transform inserted into it (its
 * pieces), and where V8 says it begins and ends (what LiveEdit matches by).
 *
 * Invariant: nothing here depends on the shape of the code the transform
 * inserts beyond what it reports: the top-level ranges it added (its
 * prologue, its edit table) and the inserted spans its edit table lists.
 * Inside functions it adds no function of the script's and removes none
 * (the never-run placeholders it inserts lie in its spans), so the k-th
 * function by start offset in one text is the k-th in the other once the
 * added ranges and inserted spans are set aside; the names the added text declares are found
 * by parsing it; an inserted span belongs to the innermost function whose
 * instrumented text holds it. A script whose two parses do not pair up is
 * probed, never patched.
 */

import { type Node as AcornNode } from 'acorn';
import { parseModule } from '../instrument/parse.js';
import { decodeTable } from '../instrument/original/table.js';
import { skipTrivia } from '../instrument/trivia.js';

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
  /**
   * Where V8 says the function starts (its SharedFunctionInfo's start
   * position: the parameters' `(`, an arrow's first token), in the source.
   */
  v8Start: number;
  /** A block body: the offset of its closing brace, else -1. */
  closeAt: number;
  /** A block body: where its last token ends (its last statement, or its `{`). */
  lastTokenEnd: number;
}

/** Text the transform inserted, owned by one function (or by none: its prologue). */
export interface Piece {
  /** The source offset it was inserted at (before the source character there). */
  at: number;
  /** Where it is in the transform's output. */
  from: number;
  to: number;
  /** The innermost function whose instrumented text holds it, -1 for top-level text. */
  fn: number;
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
  /** Every inserted span, split where a function's text ends, in output order. */
  pieces: Piece[];
  /**
   * Every class: its `class` token, its body's `{`, its end. V8 makes
   * functions of its own there (field initializers, a default constructor)
   * that span the class or sit at its start, and matches them as it
   * matches the script's.
   */
  classes: { start: number; bodyStart: number; end: number }[];
}

function parseAs(code: string, format: Format): N {
  return parseModule(code, format) as unknown as N;
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
 * Where V8 starts a function: an arrow at its first token, any other
 * function at the `(` of its parameters (after `async`, `function`, `*`
 * and its name). A method's node already starts there.
 */
function v8StartOf(code: string, n: N): number {
  if (n.type === 'ArrowFunctionExpression') return n.start;
  const id = n['id'] as N | null | undefined;
  let at = id ? id.end : n.start;
  for (let i = 0; i < 8; i++) {
    at = skipTrivia(code, at);
    const c = code[at];
    if (c === '(') return at;
    if (c === '*') at++;
    else if (c !== undefined && /[\w$]/.test(c)) { while (at < code.length && /[\w$]/.test(code[at]!)) at++; }
    else break;
  }
  return n.start;
}

/** The edit table the transform put at the end of the last range it added (after Pn's comment). */
function tableOf(output: string, added: readonly (readonly [number, number])[]): ReturnType<typeof decodeTable> | null {
  const last = added[added.length - 1];
  if (last === undefined) return null;
  const m = /\/\*([^*]*)\*\/\}$/.exec(output.slice(last[0], last[1]));
  if (m === null) throw new Error('the instrumented text has no edit table');
  return decodeTable(m[1]!);
}

/** Where the inserted spans lie in the output, as sorted [start, end) pairs. */
function insertedRanges(output: string, added: readonly (readonly [number, number])[]): number[] {
  const table = tableOf(output, added);
  if (table === null) return [];
  const out: number[] = [];
  let shift = 0;
  const sp = table.spans;
  for (let i = 0; i < sp.length; i += 4) {
    out.push(sp[i]! + shift, sp[i]! + shift + sp[i + 1]!);
    shift += sp[i + 1]!;
  }
  return out;
}

/**
 * The transform's inserted spans (its edit table, in the last added range),
 * each given to the innermost function whose output range holds it; a span
 * that runs past the end of a function (an arrow's closing brace, then its
 * parent's closer) is split there.
 */
function piecesOf(output: string, added: readonly (readonly [number, number])[], outRanges: readonly (readonly [number, number])[]): Piece[] {
  const table = tableOf(output, added);
  if (table === null) return [];
  const out: Piece[] = [];
  // Functions by output start (they nest); `open` holds those around the walk.
  const open: number[] = [];
  let next = 0;
  let shift = 0;
  const sp = table.spans;
  for (let i = 0; i < sp.length; i += 4) {
    const at = sp[i]!;
    const len = sp[i + 1]!;
    let from = at + shift;
    const to = from + len;
    shift += len;
    while (from < to) {
      while (open.length > 0 && outRanges[open[open.length - 1]!]![1] <= from) open.pop();
      while (next < outRanges.length && outRanges[next]![0] <= from) {
        while (open.length > 0 && outRanges[open[open.length - 1]!]![1] <= outRanges[next]![0]) open.pop();
        if (outRanges[next]![1] > from) open.push(next);
        next++;
      }
      const fn = open.length > 0 ? open[open.length - 1]! : -1;
      const end = fn >= 0 ? Math.min(to, outRanges[fn]![1]) : to;
      out.push({ at, from, to: end, fn });
      from = end;
    }
  }
  return out;
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
  const classes: ScriptFunctions['classes'] = [];
  visit(a, (n, owner) => {
    if (FUNCTION.has(n.type)) { origNodes.push(n); origOwner.set(n, owner); }
    if (isDirectEval(n) || n.type === 'WithStatement') evalIn = true;
    if (n.type === 'ClassDeclaration' || n.type === 'ClassExpression') classes.push({ start: n.start, bodyStart: (n['body'] as N).start, end: n.end });
  });
  // The added statements: the output's top-level statements inside a range the transform reports.
  const outTop = b['body'] as N[];
  const isAdded = (n: N): boolean => added.some(([from, to]) => n.start >= from && n.end <= to);
  const pro = outTop.filter(isAdded);
  if (pro.length === 0 && added.length > 0) throw new Error('the instrumented text has no prologue where the transform put one');
  const inAdded = (n: N): boolean => pro.some((st) => n.start >= st.start && n.end <= st.end);
  // The function literals the inserted text holds (placeholders that never
  // run: instrument/name-inference.ts) are the transform's, not the script's.
  const inserted = insertedRanges(output, added);
  const isInserted = (n: N): boolean => {
    let lo = 0;
    let hi = inserted.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (inserted[mid * 2 + 1]! <= n.start) lo = mid + 1;
      else hi = mid;
    }
    return lo < inserted.length / 2 && inserted[lo * 2]! <= n.start;
  };
  const outNodes: N[] = [];
  visit(b, (n) => { if (FUNCTION.has(n.type) && !inAdded(n) && !isInserted(n)) outNodes.push(n); });
  if (origNodes.length !== outNodes.length) throw new Error(`${origNodes.length} functions in the script, ${outNodes.length} in its instrumented text`);
  origNodes.sort((x, y) => x.start - y.start);
  outNodes.sort((x, y) => x.start - y.start);

  const prologueNames: string[] = [];
  const declared: string[] = [];
  // The edit table is the declared function with an empty body whose name
  // ends in x (Px); the other declarations (the helpers every await and
  // long return calls, and Pn, whose comment the prologue's site
  // definition reads) are part of the prologue, whose values the attached
  // functions read.
  const isTable = (st: N): boolean => st.type === 'FunctionDeclaration' && ((st['body'] as N)['body'] as N[]).length === 0
    && ((st['id'] as N)['name'] as string).endsWith('x');
  for (const st of pro) {
    if (st.type === 'VariableDeclaration') for (const d of st['declarations'] as N[]) bindingNames(d['id'] as N, prologueNames);
    else if (isTable(st)) bindingNames(st['id'] as N, declared);
    else if (st.type === 'FunctionDeclaration') bindingNames(st['id'] as N, prologueNames);
  }
  const prologue = pro.filter((st) => !isTable(st)).map((st) => output.slice(st.start, st.end)).join('\n');
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
    const block = body.type === 'BlockStatement';
    const stmts = block ? body['body'] as N[] : [];
    return {
      start: n.start, end: n.end, bodyStart: body.start, outStart: o.start, outEnd: o.end,
      parent: -1, children: [], params, suspends: n['async'] === true || n['generator'] === true, unpatchable,
      v8Start: v8StartOf(source, n), closeAt: block ? body.end - 1 : -1,
      lastTokenEnd: !block ? -1 : stmts.length > 0 ? stmts[stmts.length - 1]!.end : body.start + 1,
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
  const pieces = piecesOf(output, added, fns.map((f) => [f.outStart, f.outEnd] as const));
  return { fns, roots, prologue, prologueNames, declared, uses, pieces, classes };
}
