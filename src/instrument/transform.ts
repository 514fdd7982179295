/**
 * Source to source: a patchable site in every function of a module.
 *
 * Owns: the shape of instrumented code and the edits that produce it.
 * Invariant: the output behaves as the input (G4) whatever the tracer does;
 * the transform decides where sites are and never what they call.
 *
 * The shape. `P` stands for a prefix chosen per file so that no text of the
 * file starts with it (usually `$J`); `$jfk` is the static key and `$jfw`
 * the call-target words, both globals installed by runtime.ts; `PB` (the
 * module's first site id), `PH` (the handler table), `PL`, `PC`, `PS`, `PR`
 * are module variables bound by the prologue:
 *
 *   function f(a, b) {
 *     var Pt = $jfk && (Pt = $jfw[PB + 3]) && PH[Pt](PB + 3, this, Pt & 1 ? [a, b] : null), Pr;   // token
 *     ...
 *     return (Pr = EXPR, Pt ? PL(Pt, Pr) : Pr);   // or Pt ? PL(Pt, x) : x for a plain x
 *     ...
 *     if (Pt) PL(Pt);                             // falling off the end
 *   }
 *
 * - Idle: one load of a global that V8 treats as a constant until it is first
 *   written, so optimised code folds the whole site away; `arguments` is
 *   never touched and nothing is allocated.
 * - Exits are rewritten returns, not try/finally (which costs 11-19% on the
 *   TypeScript compiler, see docs/design.md). A throw leaves its frames for
 *   the next exit of a traced ancestor, or for a catch clause in a traced
 *   function, which reports it ($jfC) so they are discarded at once.
 * - `await` and `yield` suspend the call: its frames are taken off the
 *   thread's stack before the suspension ($jfS) and put back after ($jfR),
 *   so no frame stays open while other code runs. The operand is evaluated
 *   before the suspension, inside the call.
 * - A function called before its module's prologue ran (a circular import)
 *   sees `PB` undefined: the words are a global, so the index is NaN, the
 *   load gives undefined, and `| 0` makes it nop.
 * - The code is terse on purpose: every byte is parsed at each load, and a
 *   function's bytecode size decides whether V8 inlines it.
 */

import { createHash } from 'node:crypto';
import { parse, type Node as AcornNode } from 'acorn';
import MagicString from 'magic-string';
import remapping from '@jridgewell/remapping';
import { KEY_GLOBAL, RUNTIME_GLOBAL, WORDS_GLOBAL } from '../shared/site-abi.js';

export { TRANSFORM_VERSION } from './transform-version.js';

export interface EncodedMap {
  version: number;
  sources: (string | null)[];
  names: string[];
  mappings: string;
  file?: string | null;
  sourcesContent?: (string | null)[] | null;
}

export interface TransformInput {
  /** The source text (JavaScript; TypeScript must be compiled first). */
  code: string;
  /** Absolute path (or URL) of the file, for source maps and errors. */
  filename: string;
  /** How the module is evaluated: decides strictness and top-level return. */
  format: 'module' | 'commonjs';
  /** The file as site names show it: relative to its package or program root. */
  file: string;
  /** The npm package the file belongs to; '' for the program's own code. */
  package: string;
  /** A source map of `code` (e.g. from tsx or tsc), chained into the result. */
  inputMap?: EncodedMap | null;
}

export interface TransformResult {
  code: string;
  map: EncodedMap | null;
  /** Number of sites (functions) the module defines. */
  sites: number;
}

interface N extends AcornNode {
  [key: string]: unknown;
}

type Fn = N & { params: N[]; body: N; async: boolean; generator: boolean; id?: N | null; expression?: boolean };

/** A function being instrumented, with what its exits need. */
interface FnCtx {
  node: Fn;
  k: number;
  suspends: boolean;
  /** Enclosing loops of the function body, innermost last (for `continue`). */
  loops: Loop[];
}

interface Loop {
  labels: string[];
  /** A `for await` loop of a traced async function: leaving it for its next
   * iteration (continue) or for good (break) must suspend the call. */
  suspends: boolean;
  /** What `continue` and an unlabelled `break` may target. */
  kind: 'loop' | 'switch' | 'label';
}

const LOOPS = new Set(['ForStatement', 'WhileStatement', 'DoWhileStatement', 'ForInStatement', 'ForOfStatement']);

// Child keys of each node type, in source order. Unknown types fall back to
// every own key (rare: new syntax acorn learns before this table does).
const CHILDREN: Record<string, readonly string[]> = {
  Program: ['body'], ExpressionStatement: ['expression'], BlockStatement: ['body'], StaticBlock: ['body'],
  EmptyStatement: [], DebuggerStatement: [], WithStatement: ['object', 'body'], ReturnStatement: ['argument'],
  LabeledStatement: ['body'], BreakStatement: [], ContinueStatement: [], IfStatement: ['test', 'consequent', 'alternate'],
  SwitchStatement: ['discriminant', 'cases'], SwitchCase: ['test', 'consequent'], ThrowStatement: ['argument'],
  TryStatement: ['block', 'handler', 'finalizer'], CatchClause: ['param', 'body'], WhileStatement: ['test', 'body'],
  DoWhileStatement: ['body', 'test'], ForStatement: ['init', 'test', 'update', 'body'], ForInStatement: ['left', 'right', 'body'],
  ForOfStatement: ['left', 'right', 'body'], FunctionDeclaration: ['params', 'body'], VariableDeclaration: ['declarations'],
  VariableDeclarator: ['id', 'init'], ClassDeclaration: ['superClass', 'body'], ClassExpression: ['superClass', 'body'],
  ClassBody: ['body'], MethodDefinition: ['key', 'value'], PropertyDefinition: ['key', 'value'], ArrayExpression: ['elements'],
  ObjectExpression: ['properties'], Property: ['key', 'value'], FunctionExpression: ['params', 'body'],
  ArrowFunctionExpression: ['params', 'body'], UnaryExpression: ['argument'], UpdateExpression: ['argument'],
  BinaryExpression: ['left', 'right'], LogicalExpression: ['left', 'right'], AssignmentExpression: ['left', 'right'],
  MemberExpression: ['object', 'property'], ConditionalExpression: ['test', 'consequent', 'alternate'],
  CallExpression: ['callee', 'arguments'], NewExpression: ['callee', 'arguments'], SequenceExpression: ['expressions'],
  YieldExpression: ['argument'], AwaitExpression: ['argument'], TemplateLiteral: ['expressions'],
  TaggedTemplateExpression: ['tag', 'quasi'], SpreadElement: ['argument'], RestElement: ['argument'],
  ObjectPattern: ['properties'], ArrayPattern: ['elements'], AssignmentPattern: ['left', 'right'],
  ImportDeclaration: [], ExportNamedDeclaration: ['declaration'], ExportDefaultDeclaration: ['declaration'],
  ExportAllDeclaration: [], ImportExpression: ['source', 'options'], ChainExpression: ['expression'],
  ParenthesizedExpression: ['expression'], MetaProperty: [], Identifier: [], Literal: [], ThisExpression: [], Super: [],
  PrivateIdentifier: [], TemplateElement: [],
};


/** A prefix that starts no text of `code`, so our names cannot collide. */
function freePrefix(code: string): string {
  if (!code.includes('$J')) return '$J';
  for (let n = 0; ; n++) if (!code.includes(`$J${n}_`)) return `$J${n}_`;
}

/** Line starts, for 1-based line and column of an offset. */
function lineStarts(code: string): Int32Array {
  let n = 1;
  for (let i = 0; i < code.length; i++) if (code.charCodeAt(i) === 10) n++;
  const out = new Int32Array(n);
  let k = 1;
  for (let i = 0; i < code.length; i++) if (code.charCodeAt(i) === 10) out[k++] = i + 1;
  return out;
}

function position(starts: Int32Array, offset: number): [number, number] {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return [lo + 1, offset - starts[lo]! + 1];
}

/** The text of a simple name-like expression (a.b.c, this.x), else null. */
function dotted(n: N | null | undefined, code: string): string | null {
  if (n === null || n === undefined) return null;
  switch (n.type) {
    case 'Identifier': return n['name'] as string;
    case 'PrivateIdentifier': return '#' + (n['name'] as string);
    case 'ThisExpression': return 'this';
    case 'Super': return 'super';
    case 'ParenthesizedExpression': return dotted(n['expression'] as N, code);
    case 'MemberExpression': {
      const o = dotted(n['object'] as N, code);
      if (o === null) return null;
      const p = n['computed'] === true ? null : dotted(n['property'] as N, code);
      if (p === null) return null;
      return o === 'this' ? p : `${o}.${p}`;
    }
    default: return null;
  }
}

/** A property key as a name: identifiers and literals as written, computed keys in brackets. */
function keyName(key: N, computed: boolean, code: string): string {
  if (!computed) {
    if (key.type === 'Identifier') return key['name'] as string;
    if (key.type === 'PrivateIdentifier') return '#' + (key['name'] as string);
    if (key.type === 'Literal') return String(key['value']);
  }
  return '[' + code.slice(key.start, key.end).replace(/\s+/g, '').slice(0, 60) + ']';
}

function clean(name: string): string {
  // Names are filter words: no whitespace, bounded length.
  return name.replace(/\s+/g, '').slice(0, 200);
}

/** Names, literals and member reads of those: no nested function, safe to repeat as text. */
function isPlain(n: N): boolean {
  switch (n.type) {
    case 'Identifier': case 'Literal': case 'ThisExpression': return true;
    case 'MemberExpression':
      return n['optional'] !== true && isPlain(n['object'] as N) && (n['computed'] !== true || (n['property'] as N).type === 'Literal');
    default: return false;
  }
}

function paramNames(params: N[], out: string[]): void {
  for (const p of params) {
    switch (p.type) {
      case 'Identifier': out.push(p['name'] as string); break;
      case 'AssignmentPattern': paramNames([p['left'] as N], out); break;
      case 'RestElement': paramNames([p['argument'] as N], out); break;
      case 'ArrayPattern': paramNames((p['elements'] as (N | null)[]).filter((e): e is N => e !== null), out); break;
      case 'ObjectPattern':
        for (const prop of p['properties'] as N[]) paramNames([prop.type === 'RestElement' ? prop : prop['value'] as N], out);
        break;
      default: break;
    }
  }
}

class Instrumenter {
  readonly s: MagicString;
  readonly starts: Int32Array;
  readonly names: string[] = [];
  readonly positions: number[] = [];
  private readonly fnStack: FnCtx[] = [];
  private readonly moduleLoops: Loop[] = [];
  readonly code: string;
  /** Prefix of every name the transform adds (see freePrefix). */
  readonly P: string;

  constructor(code: string) {
    this.code = code;
    this.P = freePrefix(code);
    this.s = new MagicString(code);
    this.starts = lineStarts(code);
  }

  walk(node: N | null | undefined, hint: string | null): void {
    if (node === null || node === undefined || typeof node.type !== 'string') return;
    switch (node.type) {
      case 'FunctionDeclaration':
        this.fn(node as Fn, (node['id'] as N | null) ? (node['id'] as N)['name'] as string : hint, false);
        return;
      case 'FunctionExpression':
      case 'ArrowFunctionExpression': {
        const id = node['id'] as N | null | undefined;
        this.fn(node as Fn, id ? id['name'] as string : hint, false);
        return;
      }
      case 'VariableDeclarator':
        this.walk(node['id'] as N, null);
        this.walk(node['init'] as N, dotted(node['id'] as N, this.code));
        return;
      case 'AssignmentExpression':
        this.walk(node['left'] as N, null);
        this.walk(node['right'] as N, dotted(node['left'] as N, this.code)?.replace(/\.prototype\./, '.') ?? null);
        return;
      case 'AssignmentPattern':
        this.walk(node['left'] as N, null);
        this.walk(node['right'] as N, dotted(node['left'] as N, this.code));
        return;
      case 'ClassDeclaration':
      case 'ClassExpression':
        this.klass(node, (node['id'] as N | null) ? (node['id'] as N)['name'] as string : hint);
        return;
      case 'ObjectExpression':
        for (const p of node['properties'] as N[]) {
          if (p.type !== 'Property') { this.walk(p, null); continue; }
          const computed = p['computed'] === true;
          if (computed) this.walk(p['key'] as N, null);
          const k = keyName(p['key'] as N, computed, this.code);
          const kind = p['kind'] as string;
          const base = hint === null ? k : k.startsWith('[') ? `${hint}${k}` : `${hint}.${k}`;
          this.walk(p['value'] as N, kind === 'get' || kind === 'set' ? `${base}:${kind}` : base);
        }
        return;
      case 'ExportDefaultDeclaration':
        this.walk(node['declaration'] as N, 'default');
        return;
      case 'ReturnStatement':
        this.ret(node);
        this.walk(node['argument'] as N, null);
        return;
      case 'AwaitExpression':
      case 'YieldExpression':
        this.suspension(node);
        this.walk(node['argument'] as N, null);
        return;
      case 'CatchClause':
        this.catchNote(node);
        this.walk(node['param'] as N, null);
        this.walk(node['body'] as N, null);
        return;
      case 'LabeledStatement': {
        const labels: string[] = [];
        let inner: N = node;
        while (inner.type === 'LabeledStatement') {
          labels.push((inner['label'] as N)['name'] as string);
          inner = inner['body'] as N;
        }
        if (LOOPS.has(inner.type)) {
          this.loop(inner, labels, node);
          return;
        }
        this.labelled(node, labels, inner);
        return;
      }
      case 'SwitchStatement': {
        const loops = this.current()?.loops ?? this.moduleLoops;
        loops.push({ labels: [], suspends: false, kind: 'switch' });
        this.children(node);
        loops.pop();
        return;
      }
      case 'ContinueStatement':
        this.cont(node);
        return;
      case 'BreakStatement':
        this.brk(node);
        return;
      default:
        if (LOOPS.has(node.type)) {
          this.loop(node, [], node);
          return;
        }
        break;
    }
    this.children(node);
  }

  /** Walks every child of `node`, with no name hint. */
  private children(node: N): void {
    const keys = CHILDREN[node.type] ?? Object.keys(node).filter((k) => k !== 'type' && k !== 'start' && k !== 'end');
    for (const key of keys) {
      const v = node[key];
      if (Array.isArray(v)) {
        for (const c of v) if (c !== null && typeof c === 'object') this.walk(c as N, null);
      } else if (v !== null && typeof v === 'object') this.walk(v as N, null);
    }
  }

  /**
   * A loop. A `for await` loop suspends the call between iterations, where
   * no expression can be wrapped: the call suspends after evaluating the
   * iterable and at the end of each iteration (and at each `continue` to
   * this loop), and resumes at the start of each iteration and after the
   * loop. `outer` is the statement to wrap (the loop or its labels).
   */
  private loop(node: N, labels: string[], outer: N): void {
    const ctx = this.current();
    const forAwait = node.type === 'ForOfStatement' && node['await'] === true && ctx !== undefined && ctx.suspends;
    const loops = ctx?.loops ?? this.moduleLoops;
    loops.push({ labels, suspends: forAwait, kind: 'loop' });
    if (!forAwait && labels.length > 0) this.resumeAfter(outer);
    if (forAwait) {
      const P = this.P;
      const suspend = `${P}s=${P}t&&${P}S(${P}t),${P}t=0`;
      const resume = `${P}s&&(${P}t=${P}R(${P}s),${P}s=0);`;
      const right = node['right'] as N;
      const body = node['body'] as N;
      this.s.appendLeft(outer.start, '{');
      // Before the body's closer: at one index, prependRight puts later
      // insertions first, and a one-statement body ends where the loop does.
      this.s.prependRight(outer.end, `;${resume}}`);
      this.s.appendLeft(right.start, `(${P}v=`);
      this.s.prependRight(right.end, `,${suspend},${P}v)`);
      if (body.type === 'BlockStatement') {
        this.s.appendLeft(body.start + 1, resume);
        this.s.prependRight(body.end - 1, `;${suspend};`);
      } else {
        this.s.appendLeft(body.start, `{${resume}`);
        this.s.prependRight(body.end, `;${suspend};}`);
      }
    }
    this.children(node);
    loops.pop();
  }

  private cont(node: N): void {
    const loops = this.current()?.loops ?? this.moduleLoops;
    const label = node['label'] as N | null;
    let target: Loop | undefined;
    for (let i = loops.length - 1; i >= 0 && target === undefined; i--) {
      const l = loops[i]!;
      if (l.kind === 'loop' && (label === null || l.labels.includes(label['name'] as string))) target = l;
    }
    if (target?.suspends === true) this.suspendBefore(node);
  }

  /**
   * A `break` that leaves a `for await` loop: the loop's implicit await of
   * the iterator's return() runs next, so the call suspends first; it
   * resumes after the loop, or after the labelled statement the break
   * targets (every labelled statement of a suspending function resumes
   * after itself, which costs a test when nothing is suspended).
   */
  private brk(node: N): void {
    const loops = this.current()?.loops ?? this.moduleLoops;
    const label = node['label'] as N | null;
    let leaves = false;
    for (let i = loops.length - 1; i >= 0; i--) {
      const l = loops[i]!;
      if (l.suspends) leaves = true;
      if (label === null ? l.kind !== 'label' : l.labels.includes(label['name'] as string)) break;
    }
    if (leaves) this.suspendBefore(node);
  }

  private suspendBefore(node: N): void {
    const P = this.P;
    this.s.appendLeft(node.start, `{${P}s=${P}t&&${P}S(${P}t),${P}t=0;`);
    this.s.prependRight(node.end, '}');
  }

  /** Wraps `outer` so that a suspended call resumes after it (see brk). */
  private resumeAfter(outer: N): void {
    const ctx = this.current();
    if (ctx === undefined || !ctx.suspends) return;
    const P = this.P;
    this.s.appendLeft(outer.start, '{');
    this.s.prependRight(outer.end, `;${P}s&&(${P}t=${P}R(${P}s),${P}s=0);}`);
  }

  /** A labelled statement that is not a loop (a block, a switch, ...). */
  private labelled(outer: N, labels: string[], inner: N): void {
    const loops = this.current()?.loops ?? this.moduleLoops;
    loops.push({ labels, suspends: false, kind: 'label' });
    this.resumeAfter(outer);
    this.walk(inner, null);
    loops.pop();
  }

  private klass(node: N, name: string | null): void {
    this.walk(node['superClass'] as N, null);
    const cname = name ?? this.anonymous(node.start);
    const derived = node['superClass'] !== null && node['superClass'] !== undefined;
    for (const m of (node['body'] as N)['body'] as N[]) {
      if (m.type === 'StaticBlock') { this.walk(m, null); continue; }
      const computed = m['computed'] === true;
      if (computed) this.walk(m['key'] as N, null);
      const k = keyName(m['key'] as N, computed, this.code);
      const kind = m['kind'] as string | undefined;
      const member = k.startsWith('[') ? `${cname}${k}` : `${cname}.${k}`;
      const mname = kind === 'get' || kind === 'set' ? `${member}:${kind}` : member;
      const value = m['value'] as N | null;
      if (m.type === 'MethodDefinition' && value !== null) {
        this.fn(value as Fn, mname, kind === 'constructor' && derived);
      } else {
        this.walk(value, mname);
      }
    }
  }

  private anonymous(offset: number): string {
    const [line, col] = position(this.starts, offset);
    return `<anonymous>@${line}:${col}`;
  }

  private fn(node: Fn, name: string | null, derivedCtor: boolean): void {
    const k = this.names.length;
    this.names.push(clean(name ?? this.anonymous(node.start)));
    this.positions.push(node.start);
    const ctx: FnCtx = { node, k, suspends: node.async || node.generator, loops: [] };
    for (const p of node.params) this.walk(p, null);
    const isArrow = node.type === 'ArrowFunctionExpression';
    const args: string[] = [];
    paramNames(node.params, args);
    const self = isArrow || derivedCtor ? 'void 0' : 'this';
    const P = this.P;
    // The token is falsy (false, 0 or undefined) when there is nothing to
    // exit. The word read once, held in `Pt` meanwhile, picks the handler
    // in `PH` and tells whether it wants the arguments (odd word): only then
    // is an array of them made.
    const entry = `var ${P}t=${KEY_GLOBAL}&&(${P}t=${WORDS_GLOBAL}[${P}B+${k}])&&${P}H[${P}t](${P}B+${k},${self},`
      + `${P}t&1?[${args.join(',')}]:null),${P}r${ctx.suspends ? `,${P}v,${P}s` : ''};`;
    const body = node.body;
    this.fnStack.push(ctx);
    if (body.type === 'BlockStatement') {
      let at = body.start + 1;
      for (const st of body['body'] as N[]) {
        if (st.type === 'ExpressionStatement' && typeof st['directive'] === 'string') at = st.end;
        else break;
      }
      // After a directive, `;` ends it in case it relied on ASI.
      this.s.appendLeft(at, at === body.start + 1 ? entry : ';' + entry);
      const stmts = body['body'] as N[];
      const last = stmts[stmts.length - 1];
      // Only when the end can be reached by falling through the last
      // statement. Inserted before the body is walked: at the same index,
      // prependRight puts later insertions first, so a return closer that
      // ends at the brace (`if (x) return y}`) stays before it. The `;`
      // ends a last statement that relied on ASI.
      if (last === undefined || (last.type !== 'ReturnStatement' && last.type !== 'ThrowStatement')) {
        this.s.prependRight(body.end - 1, `;if(${P}t)${P}L(${P}t);`);
      }
      this.walk(body, null);
    } else {
      // An expression body becomes a block that returns it.
      this.s.appendLeft(body.start, `{${entry}return(${P}r=`);
      this.s.prependRight(body.end, `,${P}t?${P}L(${P}t,${P}r):${P}r);}`);
      this.walk(body, null);
    }
    this.fnStack.pop();
  }

  private current(): FnCtx | undefined {
    return this.fnStack[this.fnStack.length - 1];
  }

  private ret(node: N): void {
    if (this.current() === undefined) return; // a CommonJS top-level return
    const arg = node['argument'] as N | null;
    const P = this.P;
    if (arg === null) {
      this.s.appendLeft(node.start + 6, ` ${P}t?${P}L(${P}t):void 0`);
      return;
    }
    // A short expression without nested functions needs no temporary: its
    // text is repeated, but only one of the two branches runs.
    if (arg.end - arg.start <= 24 && isPlain(arg)) {
      const text = this.code.slice(arg.start, arg.end);
      // The space: `return""` would otherwise become `return$Jt...`.
      this.s.appendLeft(arg.start, ` ${P}t?${P}L(${P}t,`);
      this.s.prependRight(arg.end, `):${text}`);
      return;
    }
    // A comma expression binds looser than the assignment to Pr.
    const seq = arg.type === 'SequenceExpression';
    this.s.appendLeft(arg.start, seq ? `(${P}r=(` : `(${P}r=`);
    this.s.prependRight(arg.end, (seq ? ')' : '') + `,${P}t?${P}L(${P}t,${P}r):${P}r)`);
  }

  private suspension(node: N): void {
    const ctx = this.current();
    if (ctx === undefined || !ctx.suspends) return; // top-level await
    const arg = node['argument'] as N | null;
    const isYield = node.type === 'YieldExpression';
    const kw = isYield ? (node['delegate'] === true ? 'yield*' : 'yield') : 'await';
    const P = this.P;
    const suspend = `${P}s=${P}t&&${P}S(${P}t),${P}t=0`;
    const resume = `${P}s&&(${P}t=${P}R(${P}s),${P}s=0)`;
    if (arg === null) {
      this.s.overwrite(node.start, node.end, `(${suspend},${P}v=${kw},${resume},${P}v)`, { contentOnly: true });
      return;
    }
    this.s.overwrite(node.start, arg.start, `(${P}v=`, { contentOnly: true });
    this.s.prependRight(arg.end, `,${suspend},${P}v=${kw} ${P}v,${resume},${P}v)`);
  }

  private catchNote(node: N): void {
    const ctx = this.current();
    const body = node['body'] as N;
    const P = this.P;
    if (ctx === undefined) {
      // Module level: frames above the depth at which the module began.
      this.s.appendLeft(body.start + 1, `${KEY_GLOBAL}&&${P}K&&${P}K(${P}D);`);
      return;
    }
    const resume = ctx.suspends ? `${P}s&&(${P}t=${P}R(${P}s),${P}s=0);` : '';
    this.s.appendLeft(body.start + 1, `${resume}${P}t&&${P}C(${P}t);`);
  }
}

function afterDirective(program: N, at: number): boolean {
  return (program['body'] as N[]).some((st) => st.end === at && typeof st['directive'] === 'string');
}

function prologueAt(program: N): number {
  let at = -1;
  for (const st of program['body'] as N[]) {
    if (st.type === 'ExpressionStatement' && typeof st['directive'] === 'string') at = st.end;
    else return at < 0 ? st.start : at;
  }
  return at;
}

/**
 * Instruments `input`. Throws a SyntaxError when the source does not parse;
 * the caller then loads the file untouched and counts a warning.
 */
export function transformSource(input: TransformInput): TransformResult {
  const { code, format } = input;
  const program = parse(code, {
    ecmaVersion: 'latest',
    sourceType: format === 'module' ? 'module' : 'script',
    allowHashBang: true,
    allowReturnOutsideFunction: format === 'commonjs',
    allowAwaitOutsideFunction: format === 'module',
    preserveParens: true,
  }) as unknown as N;
  const ins = new Instrumenter(code);
  ins.walk(program, null);
  const sites = ins.names.length;
  if (sites === 0) return { code, map: null, sites: 0 };
  const positions: string[] = [];
  for (const off of ins.positions) {
    const [l, c] = position(ins.starts, off);
    positions.push(`${l}:${c}`);
  }
  const hash = createHash('sha1').update(code).digest('base64url').slice(0, 16);
  const key = `${input.package}\u0000${input.file}\u0000${hash}`;
  const at = prologueAt(program);
  const P = ins.P;
  const prologue = `var ${P}=globalThis.${RUNTIME_GLOBAL},${P}B=${P}?${P}.D(${JSON.stringify(key)},${JSON.stringify(input.file)},`
    + `${JSON.stringify(input.package)},${JSON.stringify(ins.names.join('\n'))},${JSON.stringify(positions.join(','))}):-1,`
    + `${P}H=${P}&&${P}.H,${P}L=${P}&&${P}.L,${P}C=${P}&&${P}.C,${P}S=${P}&&${P}.S,${P}R=${P}&&${P}.R,`
    + `${P}K=${P}&&${P}.K,${P}D=${P}?${P}.F():0;`
    + `typeof ${KEY_GLOBAL}==="undefined"&&(globalThis.${KEY_GLOBAL}=false);`;
  if (at < 0) ins.s.prepend(prologue);
  else if (at === 0) ins.s.prependLeft(0, prologue);
  else ins.s.appendLeft(at, (afterDirective(program, at) ? ';' : '') + prologue);
  const out = ins.s.toString();
  const map = ins.s.generateMap({ source: input.filename, hires: 'boundary', includeContent: false }) as unknown as EncodedMap;
  const chained = input.inputMap ? remapping([map as never, input.inputMap as never], () => null) as unknown as EncodedMap : map;
  return { code: out, map: chained, sites };
}
