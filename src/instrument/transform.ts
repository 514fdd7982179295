/**
 * Source to source: a patchable site in every function of a module.
 *
 * Owns: the shape of instrumented code and the insertions that produce it.
 * Invariants:
 * - the output behaves as the input (G4) whatever the tracer does; the
 *   transform decides where sites are and never what they call;
 * - the output is the input with text inserted (insertions.ts): no character
 *   is removed or moved and no line break is added, so lines keep their
 *   numbers and the module's edit table (original/table.ts, appended to the
 *   output) gives back the original text and columns; the one exception is
 *   the URL of the module's closing `sourceMappingURL` comment, replaced
 *   by a map of the output (source-map.ts);
 * - every insertion is safe under the ASI rules of the code around it: an
 *   insertion that opens a statement in a statement list is preceded by
 *   `;`, one that ends a statement which relied on ASI is followed by `;`.
 *
 * The shape. `P` stands for a prefix chosen per file so that no text of the
 * file starts with it (usually `$J`), `K` for the static key (a global
 * object whose field `k<n>` is the key of the sites that read it,
 * shared/site-abi.ts: siteKeyOf gives n from the tag and the site's index);
 * `PB<tag>` is the module's first site id (the tag, from
 * the source's hash, lets Function.prototype.toString find the module of a
 * function from its text alone), `PW` the call-target words, `PE` the
 * dispatcher (the site's handler, by its word), `PA`, `PL`, `PP`, `PQ`, `PY`, `PZ`, `PU`, `PC`, `PS`, `PR`
 * runtime functions, all module variables bound by the prologue
 * (docs/design.md, "Load-time sites", has every shape):
 *
 *   function f(a, b) {
 *     {var Pt} {K.k417 && ((Pt |= PB+3, PW?.[Pt]) ? (Pt = PE(Pt, this)) < 0 && (Pt = PA(a, b)) : Pt &= 0)}
 *     ...
 *     return Pt ? PQ(x, Pt) : x;                                       // a name, a literal, this
 *     return Pt ? (PN(Pt), null) : null;                               // null, true, false
 *     return Pt ? (PP(Pt), (x + y) instanceof(PY), PZ()) : x + y;     // short, no function inside
 *     return (Pk = EXPR, Pt ? Pt = PQ(Pk, Pt) : Pt = Pk, Pk = void 0, Pt);   // long, with a call
 *     return ((0,PI)(EXPR, Pt));                                        // anything else
 *     ...
 *     if (Pt) PL(Pt)                                                   // falling off the end (see exitAfter)
 *   }
 *
 * - Idle (the site's key `K.k<n>` false, shared/site-abi.ts): a load of a
 *   field that V8 treats as a constant until it is first written, so
 *   optimised code folds the site away, and keeps it folded while other
 *   keys are turned on; `arguments` is never touched and nothing is
 *   allocated. The site keeps the function's frame one register larger
 *   than the plain function's (a cold recursion goes about 92% as deep):
 *   one local (`Pt`), and an entry that holds one temporary (a callee
 *   whose arguments are `Pt` and `this`, read in place) and exits that hold
 *   two at most, as a recursion's own call does (no receiver, one argument
 *   besides a local). A long return value with a call passes through the
 *   module's variable `Pk`, which takes no register of the frame; `Pr`,
 *   which a return deferred to a finally clause needs, adds one to the
 *   functions that have one (docs/design.md, "Load-time sites").
 * - Enabled: the word is read through `Pt`, which holds the site; `PE`
 *   reads it again and calls its handler (a word turned nop in between
 *   makes the call untraced, as if it began after the switch); a word
 *   that asks for the arguments (odd) makes the handler answer -1, and the
 *   site then hands them to `PA`, which completes the entry: no array is
 *   made unless an ops wants the arguments.
 * - Exits are rewritten returns, not try/finally (which costs 11-19% on the
 *   TypeScript compiler, see docs/design.md). A return inside a try block
 *   with a finally clause defers its exit to the end of the outermost such
 *   finally (`Pf`), so calls made by the finally are inside the call; a
 *   return in the scope of a `using` declaration defers it to a disposable
 *   of ours declared first in that scope, so disposed last (`PO`). A throw
 *   leaves its frames for the next exit of a traced ancestor, or for a catch
 *   clause in a traced function, which reports it (`PC`).
 * - `await` and `yield` suspend the call: its frames leave the thread's
 *   stack before the suspension (`PS`) and come back after (`PR`):
 *   `await X` becomes `(Pv = await (Pv = X, suspend, Pv), resume, Pv)`, the
 *   keyword and everything around X where it was. Finally clauses resume
 *   first. The body of an async function or a generator is wrapped in a
 *   try whose catch resumes and unwinds the call with the thrown value
 *   (`PU`), so a rejected await or a throw after a suspension ends the call;
 *   a generator's also has a finally for return() at a yield.
 * - A function called before its module's prologue ran (a circular import)
 *   sees `PW` undefined: the optional load is undefined, the site nop. A
 *   module whose sites could not be defined has a base that indexes no
 *   word (runtime.ts).
 * - A function that contains a `with` statement, or is inside one, gets no
 *   site: inside `with`, every name the site uses would be looked up on the
 *   `with` object first (a Proxy would see it).
 */

import { exportsShapes } from './cjs-exports.js';
import { type Node as AcornNode } from 'acorn';
import { parseModule } from './parse.js';
import { pathToFileURL } from 'node:url';
import { keyGlobal, RUNTIME_FIELD, siteKeyOf } from '../shared/site-abi.js';
import { Insertions } from './insertions.js';
import { encodeTable } from './original/table.js';
import { sourceDigest, tagOfDigest } from './original/source-tag.js';
import { lineIndexAt, v8LineStarts } from './original/v8-lines.js';
import { carrySourceMap, readProgramMap, writtenAt, type ProgramMap } from './source-map.js';
import { skipTrivia } from './trivia.js';
import { childKeys, forEachChild } from './ast-children.js';
import { drops, held, placeholders, waitingAt, type Waiting } from './name-inference.js';

export { TRANSFORM_VERSION } from './transform-version.js';
import { NOT_COMPILED_HERE, USING_DECLARATIONS } from './transform-version.js';

export interface TransformInput {
  /** The source text (JavaScript; TypeScript must be compiled first). */
  code: string;
  /** Absolute path of the file: how stack traces name it (a file URL for an ES module). */
  filename: string;
  /** How the module is evaluated: decides strictness and top-level return. */
  format: 'module' | 'commonjs';
  /** The file as site names show it: relative to its package or program root. */
  file: string;
  /** The npm package the file belongs to; '' for the program's own code. */
  package: string;
  /**
   * Whether to carry a source map the module keeps in a file of its own
   * (source-map.ts): only worth reading when Node will apply it, that is
   * when source maps are on as the module is compiled. An inline map is
   * carried always. Default false.
   */
  sourceMapFiles?: boolean;
  /**
   * The output is patched into a running script (attach): each await and
   * yield passes its values through calls of `PV`, a shape V8's LiveEdit
   * matches (attach/matching.ts decides), rather than through the key's
   * holder, which keeps a cold recursion's frames smaller. Default false.
   */
  live?: boolean;
}

export interface TransformResult {
  code: string;
  /** Number of sites (functions) the module defines. */
  sites: number;
  /**
   * Where the top-level text the transform adds lies in `code` (the
   * prologue, the edit table), as [start, end) pairs in order; empty when
   * nothing was added (or a replacement transform does not say). Attach runs
   * exactly this text outside the script.
   */
  added?: [number, number][];
}

interface N extends AcornNode {
  [key: string]: unknown;
}

type Fn = N & { params: N[]; body: N; async: boolean; generator: boolean; id?: N | null; expression?: boolean };

/**
 * What a deferred return passes on its way out, and that then exits the
 * call: a try statement's finally clause, or the disposal at the end of
 * the scope of a `using` declaration.
 */
interface TryFinally {
  /** Some return inside its block or catch clause (its scope) deferred its exit here. */
  used: boolean;
}

/** A function being instrumented, with what its exits need. */
interface FnCtx {
  node: Fn;
  k: number;
  suspends: boolean;
  /** Enclosing loops of the function body, innermost last (for `continue`). */
  loops: Loop[];
  /** The outermost try-with-finally or `using` scope that encloses the walk, if any. */
  finallyOwner: TryFinally | null;
  /** Locals beyond `Pt` this function declares. */
  needsPr: boolean;
  needsPf: boolean;
  /** The body holds a `using` declaration and its end can be reached: its fall-off exit is deferred too. */
  fallsOffDeferred: boolean;
  /** Its parameters are being walked: code there cannot see the body's locals (`Pt`). */
  inParams: boolean;
  /**
   * How many `for (using …; …; …)` loops enclose the walk: no function of
   * ours may go there. V8 (13.6 to 14.6, Node 24 to 26) disposes of such a
   * head's resources at the end of every iteration, and again after the
   * loop, once a function is created anywhere in the loop; a disposable
   * of ours (a closure, see disposals) would make a program without one
   * dispose of its resources twice.
   */
  inUsingForStatement: number;
}

interface Loop {
  labels: string[];
  /** A `for await` loop of a traced async function: leaving it for its next
   * iteration (continue) or for good (break) must suspend the call. */
  suspends: boolean;
  /** What `continue` and an unlabelled `break` may target; 'finally' is a
   * finally clause being walked, which none targets: a jump out of it
   * cancels a return it was running for. */
  kind: 'loop' | 'switch' | 'label' | 'finally';
  /** A break leaves a suspending loop for this statement: resume after it. */
  resumes: boolean;
  /** A continue leaves a suspending loop for this loop's next iteration: resume there too. */
  iterates: boolean;
}

/** esbuild's keepNames helper, which defines `name` on its first argument (as tsx emits it, spaced or not). */
const ESBUILD_NAME = /\b__name\s*=\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)\s*=>\s*__defProp\(\s*\1\s*,\s*"name"\s*,\s*\{\s*value(?:\s*:\s*\2)?\s*,\s*configurable\s*:\s*(?:true|!0)\s*\}\s*\)/;
/** What esbuild's `__name(x, "name")` may name. */
const KEPT_NAMES = new Set(['FunctionExpression', 'ArrowFunctionExpression', 'ClassExpression']);
const LOOPS = new Set(['ForStatement', 'WhileStatement', 'DoWhileStatement', 'ForInStatement', 'ForOfStatement']);
/** Statements (with the loops) after which V8's coverage may start a range of its own: the code after a jump. */
const CONTINUED = new Set(['ReturnStatement', 'ThrowStatement', 'BreakStatement', 'ContinueStatement', 'IfStatement', 'TryStatement',
  'SwitchStatement', 'LabeledStatement']);
const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
/** A return value up to this long with no function, class or suspension in it is written twice. */
const SHORT_RETURN = 48;

/**
 * The call suspends (await, yield): its frames leave the stack, and `Pt`
 * holds them (an object) until it resumes; one local for both, so that a
 * frame of a cold recursion through an async function is one register
 * smaller. Neutral to V8's name inference, as all inserted code
 * (name-inference.ts).
 */
function suspendCode(P: string, w: boolean, live: boolean): string {
  // A live patch (TransformInput.live) keeps the frames in a local of
  // their own, `Ps`: the text V8's LiveEdit is known to match.
  if (live) return `${P}t&&(${P}s=${P}S(${held(2, w, `${P}t`)}),${P}t&=${held(1, w, '0')})`;
  return `${P}t&&(${P}t=${P}S(${held(2, w, `${P}t`)}))`;
}

/** The suspended call resumes; a running one's token passes through `PR` unchanged. */
function resumeCode(P: string, w: boolean, live: boolean): string {
  if (live) return `${P}s&&(${P}t=${P}R(${held(2, w, `${P}s`)}),${P}s&=${held(1, w, '0')})`;
  return `${P}t&&(${P}t=${P}R(${held(2, w, `${P}t`)}))`;
}

/** A last argument that only holds placeholders (held), or nothing. */
function heldArg(n: number, w: boolean): string {
  return w ? `,${placeholders(n)}` : '';
}

// Depth keys within one level of the walk (insertions.ts): what wraps a
// statement from outside nests outside the `;` that ends it, which nests
// outside the statement's own insertions; a list statement's leading `;`
// comes before all of them.
const GUARD = -3;
const WRAP = -2;
const SEMICOLON = -1;

/** The comment that tells Node not to print a line above an uncaught exception thrown on it. */
const NO_EXCEPTION_LINE = '/*node-do-not-add-exception-line*/';

/**
 * Whether V8 can place no exception of the program's on a line of these
 * shapes (then it needs no mark, which costs 34 characters): punctuation,
 * `else`, `try`, `finally`, `do`, a return of a literal. A function's head
 * is marked: a recursion's stack overflow lands in its entry.
 */
function placesNothing(line: string): boolean {
  return NOTHING_PLACED.test(line);
}
const NOTHING_PLACED = /^(?:[\s{}()[\];,]|\b(?:else|try|finally|do|return|true|false|null|void 0)\b|\b\d+\b)*$/;

/** A prefix that starts no text of `code`, so our names cannot collide. */
function freePrefix(code: string): string {
  if (!code.includes('$J')) return '$J';
  for (let n = 0; ; n++) if (!code.includes(`$J${n}_`)) return `$J${n}_`;
}

/** 1-based line and column of an offset. */
function position(starts: Int32Array, offset: number): [number, number] {
  const line = lineIndexAt(starts, offset);
  return [line + 1, offset - starts[line]! + 1];
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

/**
 * Whether the value of a return may be written twice: short, on one line,
 * and nothing inside that the transform edits or whose identity comes from
 * its place in the source.
 */
function duplicable(n: N, code: string): boolean {
  if (n.end - n.start > SHORT_RETURN || /[\n\r\u2028\u2029]/.test(code.slice(n.start, n.end))) return false;
  // After `:`, a comma would end the conditional.
  if (n.type === 'SequenceExpression') return false;
  let ok = true;
  const visit = (x: N): void => {
    if (!ok) return;
    switch (x.type) {
      case 'FunctionExpression': case 'ArrowFunctionExpression': case 'ClassExpression':
      case 'AwaitExpression': case 'YieldExpression': case 'TaggedTemplateExpression':
        // A tag gets one template object per place in the source: two
        // copies would hand it two.
        ok = false;
        return;
      default:
        break;
    }
    forEachChild(x, visit);
  };
  visit(n);
  return ok;
}

/**
 * Whether V8 compiles a statement into a block of its own: a for-of or
 * for-await loop (its iterator is closed in a finally of V8's), or a for-in
 * or for loop that declares with let or const (a binding per iteration).
 * The code after such a statement keeps its coverage range even where the
 * statement is the last of its list (V8 leaves the range out after other
 * last statements).
 */
function desugaredLoop(st: N): boolean {
  let n = st;
  while (n.type === 'LabeledStatement') n = n['body'] as N;
  if (n.type === 'ForOfStatement') return true;
  const decl = (n.type === 'ForStatement' ? n['init'] : n.type === 'ForInStatement' ? n['left'] : null) as N | null;
  return decl !== null && decl.type === 'VariableDeclaration' && decl['kind'] !== 'var';
}

/**
 * Whether a value is better not written twice: it has a conditional or
 * logical operator, whose branches V8's coverage counts as ranges of their
 * own, which two copies would split between them (a range whose count
 * equals its copy's is not reported, so the plain run's ranges could not
 * be put together again: original/coverage-map.ts), and no call. It goes
 * through PI, whose arguments take the registers the copy's PL call would
 * (a local would add one to every frame of the function, and cost a
 * recursion through any of its calls depth: transparency.test.ts). A value
 * with a call is still written twice, which keeps its call out of PI's
 * arguments.
 */
function branchesApart(n: N): boolean {
  let branches = false;
  let calls = false;
  const visit = (x: N): void => {
    if (calls) return;
    if (x.type === 'CallExpression' || x.type === 'NewExpression') {
      calls = true;
      return;
    }
    if (x.type === 'ConditionalExpression' || x.type === 'LogicalExpression') branches = true;
    forEachChild(x, visit);
  };
  visit(n);
  return branches && !calls;
}

/**
 * Whether evaluating a value calls something of its own (a call, `new`, a
 * tagged template; not the functions it makes). A value that cannot be
 * written twice and calls nothing (an object literal over lines, a long
 * sum of names) is returned through PI, whose callee then sits beside the
 * value's few temporaries: the frame keeps the size it had (a function
 * building a tree returns one such literal after its recursive call: 92%
 * of plain depth, against 86% with a local for it). A value with a call
 * goes into a local: through PI, the callee would sit beside the call's
 * own registers, one more as the local is, and PI would be one more call
 * while untraced.
 */
function callsOwn(n: N): boolean {
  let calls = false;
  const visit = (x: N): void => {
    if (calls || FUNCTIONS.has(x.type) || x.type === 'ClassExpression') return;
    if (x.type === 'CallExpression' || x.type === 'NewExpression' || x.type === 'TaggedTemplateExpression') {
      calls = true;
      return;
    }
    forEachChild(x, visit);
  };
  visit(n);
  return calls;
}

/** The runtime's exit of each literal it knows the value of, by its text. */
const LITERAL_EXITS = new Map([['null', 'N'], ['true', 'T'], ['false', 'X']]);

function literalExit(n: N): string | undefined {
  return n.type === 'Literal' ? LITERAL_EXITS.get(n['raw'] as string) : undefined;
}

/**
 * Whether a return value can call nothing (a name, a literal, `this`, or
 * `void`/`!`/`typeof` of one): its exit is then one call, `PQ(X, Pt)`, with
 * X evaluated as its argument (or for `null`, `true` and `false`, the exit
 * of that value: `(PN(Pt), null)`), instead of marking the exit pending
 * around X (PP, PX), which only a value whose evaluation may call other
 * traced functions needs. Written twice as a short value is.
 */
function callsNothing(n: N): boolean {
  switch (n.type) {
    case 'Identifier': case 'Literal': case 'ThisExpression':
      return true;
    case 'UnaryExpression': {
      const op = n['operator'];
      const a = n['argument'] as N;
      return (op === 'void' || op === '!' || op === 'typeof') && (a.type === 'Identifier' || a.type === 'Literal' || a.type === 'ThisExpression');
    }
    default:
      return false;
  }
}

/**
 * A traced call's exit with a value that calls nothing (callsNothing),
 * around the value: `PQ(X, Pt)`, the leave with the token last
 * (core/dispatch.ts, leaveWith). `PL(Pt, X)` would hold three registers
 * (the callee and two for the arguments, though the token's is never
 * written), and a function whose own calls need two would have its frame
 * grow by one (a recursion through it goes less deep). `PQ` holds two
 * where X is not a local (a literal takes a register as an argument): a
 * function whose own expressions hold one temporary at most (as a
 * recursive-descent parser's often do: `if (!tok) return null`) would grow
 * by one, so the commonest literals have exits of their own that take the
 * token alone, `(PN(Pt), null)`. One drop; where
 * functions may wait, its placeholder goes before the value or the token
 * (`PQ(0&&(()=>0)||X, Pt)`), as the token must stay a bare local
 * (name-inference.ts).
 */
function quietExit(P: string, n: N, waiting: boolean): [string, string] {
  const lit = literalExit(n);
  if (lit !== undefined) return [`(${P}${lit}(${held(1, waiting, `${P}t`)}),`, ')'];
  return [`${P}Q(${waiting ? `${placeholders(1)}||` : ''}`, `,${P}t)`];
}

/**
 * The exit of a return value kept in the module's variable (`Pk = X`,
 * Instrumenter.intoLocal), after X: a traced call leaves with it; either
 * way the value moves to Pt, which the call no longer needs, and Pk is
 * cleared, so that the module holds on to no value a program returned (a
 * WeakRef to it clears as without us). Pk is read before anything runs
 * that could use it again (the exit's handlers may run the module's code).
 */
function keptExit(P: string): string {
  return `,${P}t?${P}t=${P}Q(${P}k,${P}t):${P}t=${P}k,${P}k=void 0,${P}t`;
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

const USING = new Set(['using', 'await using']);

const locals = new WeakMap<N, Set<string>>();

/** The names a function declares itself: its parameters, and the declarations of its body's own statements. */
function localNames(fn: Fn): Set<string> {
  let names = locals.get(fn);
  if (names !== undefined) return names;
  const out: string[] = [];
  paramNames(fn.params, out);
  if (fn.type !== 'ArrowFunctionExpression') out.push('arguments');
  for (const st of fn.body.type === 'BlockStatement' ? fn.body['body'] as N[] : []) {
    if (st.type === 'VariableDeclaration') paramNames((st['declarations'] as N[]).map((d) => d['id'] as N), out);
    else if ((st.type === 'FunctionDeclaration' || st.type === 'ClassDeclaration') && st['id'] != null) out.push((st['id'] as N)['name'] as string);
  }
  locals.set(fn, (names = new Set(out)));
  return names;
}

/** Whether a statement of a list declares a `using` binding in the list's scope or in the head of a loop (through labels). */
function declaresUsing(st: N): boolean {
  while (st.type === 'LabeledStatement') st = st['body'] as N;
  const decl = st.type === 'VariableDeclaration' ? st
    : st.type === 'ForStatement' ? st['init'] as N | null
      : st.type === 'ForOfStatement' ? st['left'] as N : null;
  return decl !== null && decl.type === 'VariableDeclaration' && USING.has(decl['kind'] as string);
}

/**
 * `P<name>` in a `using` declaration: one of ours, whose disposal runs
 * `code`, where the call is traced (else null, which `using` passes over).
 */
function disposable(P: string, name: string, code: string): string {
  return `${P}${name}=${P}t?${P}.O(()=>${code}):null`;
}

/**
 * What each of ours runs first at a disposal: the resume, where the call
 * may be suspended there (an async function: after an `await using`
 * disposal, or a `for await` body left for good, whose finally suspended
 * it; a generator closed at a yield).
 */
function resumeAtDisposal(P: string, ctx: FnCtx): string {
  return ctx.node.async || ctx.node.generator ? resumeCode(P, false, false) : '';
}

/** The non-empty parts as one expression: a comma sequence in parentheses where there are several. */
function sequence(parts: string[]): string {
  const some = parts.filter((p) => p !== '');
  return some.length > 1 ? `(${some.join(',')})` : some[0] ?? '';
}

/** Whether a statement of a list is a `for (await using … of …)` loop (through labels), whose disposals await after its body. */
function awaitsDisposalEachIteration(st: N): boolean {
  while (st.type === 'LabeledStatement') st = st['body'] as N;
  const left = st.type === 'ForOfStatement' && st['await'] !== true ? st['left'] as N : null;
  return left !== null && left.type === 'VariableDeclaration' && left['kind'] === 'await using';
}

/** The statement that ends `st`: through the last branch of an if, the body of a loop, a with or a label. */
function tailOf(st: N): N {
  for (;;) {
    switch (st.type) {
      case 'IfStatement':
        st = (st['alternate'] ?? st['consequent']) as N;
        break;
      case 'ForStatement': case 'ForInStatement': case 'ForOfStatement': case 'WhileStatement':
      case 'WithStatement': case 'LabeledStatement':
        st = st['body'] as N;
        break;
      default:
        return st;
    }
  }
}

/**
 * Whether a statement ends so that another may follow it on the same line:
 * its tail (tailOf) ends with its own `;`, or with the brace of a block (a
 * function's, a class's, a try's). An expression ending with a brace
 * (`x = {}`) does not, nor a do-while (whose `;` ASI would supply).
 */
function endsItself(st: N, code: string): boolean {
  const tail = tailOf(st);
  if (code.charCodeAt(tail.end - 1) === 59 /* ; */) return true;
  return ENDS_WITH_BLOCK.has(tail.type);
}

const ENDS_WITH_BLOCK = new Set(['BlockStatement', 'FunctionDeclaration', 'ClassDeclaration', 'TryStatement', 'SwitchStatement', 'StaticBlock']);

/** Statements that may stand in a block where they stand (the branch of an if, a loop's body) with no change of meaning. */
const BRACEABLE = new Set([
  'ExpressionStatement', 'ReturnStatement', 'ThrowStatement', 'BreakStatement', 'ContinueStatement', 'DebuggerStatement',
  'DoWhileStatement', 'VariableDeclaration',
]);

/**
 * Names declared twice at the top level of a function body in a way that is
 * legal there and not in a block (a var and a function of one name; two
 * functions of one name in strict code): such a body cannot be wrapped in
 * the try of an async function or generator.
 */
function blockConflict(body: N): boolean {
  const vars = new Set<string>();
  const fns = new Set<string>();
  let twice = false;
  const collectVars = (x: N | null | undefined): void => {
    if (x === null || x === undefined || typeof x.type !== 'string') return;
    if (FUNCTIONS.has(x.type) || x.type === 'ClassDeclaration' || x.type === 'ClassExpression') return;
    if (x.type === 'VariableDeclaration' && x['kind'] === 'var') {
      for (const d of x['declarations'] as N[]) {
        const names: string[] = [];
        paramNames([d['id'] as N], names);
        for (const nm of names) vars.add(nm);
      }
    }
    for (const key of childKeys(x)) {
      const v = x[key];
      if (Array.isArray(v)) { for (const c of v) if (c !== null && typeof c === 'object') collectVars(c as N); } else if (v !== null && typeof v === 'object') collectVars(v as N);
    }
  };
  for (const st of body['body'] as N[]) {
    if (st.type === 'FunctionDeclaration' && st['id'] !== null) {
      const nm = (st['id'] as N)['name'] as string;
      if (fns.has(nm)) twice = true;
      fns.add(nm);
    } else {
      collectVars(st);
    }
  }
  if (twice) return true;
  for (const f of fns) if (vars.has(f)) return true;
  return false;
}

/**
 * The names a program binds in its own top-level scope (imports, its
 * top-level lexical declarations, and `var`s and function declarations at any
 * depth outside functions), so that the prologue, which runs in that scope,
 * reaches the globals it needs by another path when the program has taken
 * their names (`var Symbol = require('./_Symbol')`): a declared name there
 * would be undefined, or in its temporal dead zone, when the prologue runs.
 */
function topLevelBindings(program: N): Set<string> {
  const out: string[] = [];
  const statement = (st: N | null | undefined, top: boolean): void => {
    if (st === null || st === undefined) return;
    switch (st.type) {
      case 'VariableDeclaration':
        if (top || st['kind'] === 'var') paramNames((st['declarations'] as N[]).map((d) => d['id'] as N), out);
        break;
      case 'FunctionDeclaration': case 'ClassDeclaration': {
        // Nested function declarations too: sloppy code hoists them (Annex B).
        const id = st['id'] as N | null;
        if (id !== null && (top || st.type === 'FunctionDeclaration')) out.push(id['name'] as string);
        break;
      }
      case 'ImportDeclaration':
        for (const sp of st['specifiers'] as N[]) out.push((sp['local'] as N)['name'] as string);
        break;
      case 'ExportNamedDeclaration': case 'ExportDefaultDeclaration': statement(st['declaration'] as N | null, top); break;
      case 'BlockStatement': case 'StaticBlock': for (const c of st['body'] as N[]) statement(c, false); break;
      case 'IfStatement': statement(st['consequent'] as N, false); statement(st['alternate'] as N | null, false); break;
      case 'ForStatement': statement(st['init'] as N | null, false); statement(st['body'] as N, false); break;
      case 'ForInStatement': case 'ForOfStatement': statement(st['left'] as N, false); statement(st['body'] as N, false); break;
      case 'WhileStatement': case 'DoWhileStatement': case 'LabeledStatement': case 'WithStatement': statement(st['body'] as N, false); break;
      case 'TryStatement':
        statement(st['block'] as N, false);
        statement((st['handler'] as N | null)?.['body'] as N | undefined, false);
        statement(st['finalizer'] as N | null, false);
        break;
      case 'SwitchStatement': for (const c of st['cases'] as N[]) for (const x of c['consequent'] as N[]) statement(x, false); break;
      default: break;
    }
  };
  for (const st of program['body'] as N[]) statement(st, true);
  return new Set(out);
}

/** Functions that contain a `with` statement of their own (not of a nested function). */
function functionsWithWith(program: N): Set<N> {
  const out = new Set<N>();
  const stack: N[] = [];
  const visit = (x: N | null | undefined): void => {
    if (x === null || x === undefined || typeof x.type !== 'string') return;
    const isFn = FUNCTIONS.has(x.type);
    if (isFn) stack.push(x);
    if (x.type === 'WithStatement' && stack.length > 0) out.add(stack[stack.length - 1]!);
    for (const key of childKeys(x)) {
      const v = x[key];
      if (Array.isArray(v)) { for (const c of v) if (c !== null && typeof c === 'object') visit(c as N); } else if (v !== null && typeof v === 'object') visit(v as N);
    }
    if (isFn) stack.pop();
  };
  visit(program);
  return out;
}

class Instrumenter {
  readonly ins = new Insertions();
  readonly starts: Int32Array;
  readonly names: string[] = [];
  readonly positions: number[] = [];
  /** The module's own source map, which names anonymous functions where they were written. */
  written: ProgramMap | null = null;
  /** Whether the module defines esbuild's `__name` helper (keepNames). */
  keepNames = false;
  private readonly writtenNames = new Set<string>();
  /** Per unit (original/table.ts): start, end, parent, site. */
  readonly units: number[] = [];
  private readonly unitStack: number[] = [];
  /** null: a function that gets no site (see `with`). */
  private readonly fnStack: (FnCtx | null)[] = [];
  private readonly moduleLoops: Loop[] = [];
  /** Expression statements in statement lists (a `;` may precede them): start, end, depth. */
  private readonly listStatements: number[] = [];
  /**
   * The statements of lists that enclose the walk, innermost last, each with
   * where V8's coverage ends the code that follows it (its list's block's
   * end; a function body's closing brace): for the suspensions
   * (original/table.ts).
   */
  private readonly openStatements: N[] = [];
  private readonly openListEnds: number[] = [];
  /** Blocks whose list ends elsewhere than at their closing brace (a try block's: tryStatement). */
  private readonly blockEnds = new WeakMap<N, number>();
  /** Statements that end without `;`, where an insertion at their end needs one: start, end, depth. */
  private readonly asiEnds: number[] = [];
  /** Where statements end that end a block with an exit of ours joined to them or in braces of ours: nothing follows them that needs a `;`. */
  private readonly lastOperands = new Set<number>();
  /** How deep the walk is: insertions at one offset nest by it (insertions.ts). */
  private depth = 0;
  private readonly withFns: Set<N>;
  private withDepth = 0;
  readonly code: string;
  /** Upper bound of the program's functions waiting for a name at an offset (name-inference.ts). */
  private readonly waiting: Waiting;
  /** Prefix of every name the transform adds (see freePrefix). */
  readonly P: string;
  /** How sites read the static key. */
  readonly K: string;
  readonly B: string;
  readonly tag: string;
  /** The program's own file (no package): its sites read the program's keys (shared/site-abi.ts). */
  readonly own: boolean;
  /** How the prologue and sites reach the global object, `Symbol` and `Object` (see topLevelBindings). */
  readonly G: string;
  readonly O: string;
  /** A live patch (TransformInput.live). */
  readonly live: boolean;
  /** CommonJS whose exports Node may find by lexing its text (cjs-exports.ts). */
  private readonly lexed: boolean;
  /** Functions left as they are, for that lexer to read (no site, nothing inside them changed). */
  private readonly lexerFns = new Set<N>();
  /** Offsets of the catch clauses of ours that throw on an exception of the program's (a sync generator's). */
  readonly rethrows: number[] = [];

  constructor(code: string, program: N, tag: string, own: boolean, strict: boolean, live: boolean, lexed: boolean) {
    this.code = code;
    this.live = live;
    this.lexed = lexed;
    this.waiting = waitingAt(program);
    this.tag = tag;
    this.own = own;
    this.P = freePrefix(code);
    this.B = `${this.P}B${tag}`;
    const taken = topLevelBindings(program);
    // Node has both names for the global object; a program that takes both
    // gets it from a function made sloppy by the Function constructor.
    this.G = !taken.has('globalThis') ? 'globalThis' : !taken.has('global') ? 'global' : `${this.P}G`;
    this.O = taken.has('Object') ? `${this.G}.Object` : 'Object';
    // A file that names the key itself (jsftrace's own sources, say) reads it through the global object.
    const key = keyGlobal();
    this.K = code.includes(key) ? `${this.G}.${key}` : key;
    this.starts = v8LineStarts(code);
    // Strict code has no `with`: no walk of the whole program to look for one.
    this.withFns = strict ? new Set() : functionsWithWith(program);
  }

  walk(node: N | null | undefined, hint: string | null): void {
    if (node === null || node === undefined || typeof node.type !== 'string') return;
    this.depth++;
    this.visit(node, hint);
    this.depth--;
  }

  /** Inserts at the start of a node of this depth that ends at `end` (`sub`: see WRAP). */
  private open(offset: number, text: string, end: number, sub = 0): number {
    return this.ins.open(offset, text, end, this.depth * 4 + sub);
  }

  /** Inserts at the end of a node of this depth that starts at `start`. */
  private close(offset: number, text: string, start: number, sub = 0): number {
    return this.ins.close(offset, text, start, this.depth * 4 + sub);
  }

  private visit(node: N, hint: string | null): void {
    switch (node.type) {
      case 'Program':
      case 'BlockStatement':
      case 'StaticBlock':
        // A function body's code runs to its closing brace, a block's past it.
        this.statementList(node['body'] as N[], this.blockEnds.get(node) ?? (this.current()?.node.body === node ? node.end - 1 : node.end), node.type !== 'Program');
        return;
      case 'SwitchCase':
        this.walk(node['test'] as N | null, null);
        this.statementList(node['consequent'] as N[], node.end, false);
        return;
      case 'FunctionDeclaration':
        this.fn(node as Fn, (node['id'] as N | null) ? (node['id'] as N)['name'] as string : hint, false, node.start);
        return;
      case 'FunctionExpression':
      case 'ArrowFunctionExpression': {
        const id = node['id'] as N | null | undefined;
        this.fn(node as Fn, id ? id['name'] as string : hint, false, node.start);
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
          const name = kind === 'get' || kind === 'set' ? `${base}:${kind}` : base;
          const value = p['value'] as N;
          // A method's text (Function.prototype.toString) starts at the property.
          if ((p['method'] === true || kind === 'get' || kind === 'set') && value.type === 'FunctionExpression') this.fn(value as Fn, name, false, p.start);
          else this.walk(value, name);
        }
        return;
      case 'ExportDefaultDeclaration':
        this.walk(node['declaration'] as N, 'default');
        return;
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement':
      case 'WhileStatement':
      case 'DoWhileStatement':
        if (node.type === 'DoWhileStatement') this.asiStatement(node);
        this.loop(node, [], node);
        return;
      case 'VariableDeclaration':
        // Where V8 has no `using`, the module does not compile: it must
        // fail as without us, with Node's message and the line it prints,
        // so it is loaded untouched, as any source that does not parse.
        if (!USING_DECLARATIONS && USING.has(node['kind'] as string)) throw new SyntaxError(`${NOT_COMPILED_HERE} \`${node['kind'] as string}\` declarations`);
        // A loop's head declaration ends where the head's own `;` or `of`
        // follows: no ASI there, and a `;` after it would end the head.
        if (!this.forHeads.has(node)) this.asiStatement(node);
        break;
      case 'ExpressionStatement':
        this.asiStatement(node);
        break;
      case 'ThrowStatement':
        this.asiStatement(node);
        this.throwNote(node);
        break;
      case 'ReturnStatement':
        this.asiStatement(node);
        this.ret(node);
        this.walk(node['argument'] as N, null);
        return;
      case 'AwaitExpression':
      case 'YieldExpression':
        this.suspension(node);
        this.walk(node['argument'] as N, null);
        return;
      case 'TryStatement':
        this.tryStatement(node);
        return;
      case 'CatchClause':
        this.catchNote(node);
        this.walk(node['param'] as N, null);
        this.walk(node['body'] as N, null);
        return;
      case 'WithStatement':
        this.walk(node['object'] as N, null);
        this.withDepth++;
        this.walk(node['body'] as N, null);
        this.withDepth--;
        return;
      case 'LabeledStatement': {
        const labels: string[] = [];
        let inner: N = node;
        while (inner.type === 'LabeledStatement') {
          labels.push((inner['label'] as N)['name'] as string);
          inner = inner['body'] as N;
        }
        if (LOOPS.has(inner.type)) {
          if (inner.type === 'DoWhileStatement') this.asiStatement(inner);
          this.loop(inner, labels, node);
          return;
        }
        this.labelled(node, labels, inner);
        return;
      }
      case 'SwitchStatement': {
        const loops = this.loops();
        loops.push({ labels: [], suspends: false, kind: 'switch', resumes: false, iterates: false });
        this.children(node);
        loops.pop();
        return;
      }
      case 'TaggedTemplateExpression':
        this.noteCallee(node['tag'] as N);
        break;
      case 'CallExpression': {
        if (this.lexed) for (const f of exportsShapes(node)) this.lexerFns.add(f as N);
        this.noteCallee(node['callee'] as N);
        // esbuild's keepNames (what tsx serves): `__name(fn, "name")` gives
        // a function the name its declaration would have given it; only
        // where the module defines esbuild's helper, which sets `name`.
        const args = node['arguments'] as N[];
        const callee = node['callee'] as N;
        const named = args[1];
        if (this.keepNames && callee.type === 'Identifier' && callee['name'] === '__name' && args.length === 2 && KEPT_NAMES.has(args[0]!.type)
          && named !== undefined && named.type === 'Literal' && typeof named['value'] === 'string') {
          this.walk(callee, null);
          this.walk(args[0]!, named['value']);
          return;
        }
        break;
      }
      case 'ContinueStatement':
        this.asiStatement(node);
        this.cont(node);
        return;
      case 'BreakStatement':
        this.asiStatement(node);
        this.brk(node);
        return;
      default:
        break;
    }
    this.children(node);
  }

  /** An await or yield that is called (its value the callee or the tag): see suspension. */
  private noteCallee(callee: N): void {
    let x = callee;
    while (x.type === 'ParenthesizedExpression') x = x['expression'] as N;
    if (x.type === 'AwaitExpression' || x.type === 'YieldExpression') this.calledSuspensions.add(x);
  }

  /** Walks every child of `node`, with no name hint. */
  private children(node: N): void {
    for (const key of childKeys(node)) {
      const v = node[key];
      if (Array.isArray(v)) {
        for (const c of v) if (c !== null && typeof c === 'object') this.walk(c as N, null);
      } else if (v !== null && typeof v === 'object') this.walk(v as N, null);
    }
  }

  /**
   * Notes the statements of a list (`end`: where the list's code ends, see
   * openStatements) and walks them. `scope`: the list is a block's or a
   * function body's, where a `using` declaration may stand.
   */
  private statementList(stmts: N[], end: number, scope: boolean): void {
    const last = stmts[stmts.length - 1];
    if (last !== undefined && desugaredLoop(last)) this.keptContinuations.push(last.end);
    let previous: N | undefined;
    for (const st of stmts) {
      if (CONTINUED.has(st.type) || LOOPS.has(st.type)) this.continuations.push(st.end);
      // The statements are walked one level down. The first of a list, and
      // one after a statement that ends itself, need no `;` before them
      // (what is inserted before a list ends with a brace or a `;`).
      if (st.type === 'ExpressionStatement' && typeof st['directive'] !== 'string'
        && previous !== undefined && !endsItself(previous, this.code)) this.listStatements.push(st.start, st.end, this.depth + 1);
      previous = st;
    }
    this.openListEnds.push(end);
    const ctx = this.current();
    const first = scope && ctx !== null && ctx !== undefined && !this.live && USING_DECLARATIONS && ctx.inUsingForStatement === 0
      ? stmts.findIndex(declaresUsing) : -1;
    const owns = first >= 0 && ctx!.finallyOwner === null;
    const own: TryFinally = { used: false };
    stmts.forEach((st, i) => {
      if (i === first && owns) ctx!.finallyOwner = own;
      this.openStatements.push(st);
      this.walk(st, null);
      this.openStatements.pop();
    });
    this.openListEnds.pop();
    if (first < 0) return;
    if (owns) ctx!.finallyOwner = null;
    const exits = owns && (own.used || (ctx!.fallsOffDeferred && stmts === ctx!.node.body['body']));
    const decls = stmts.filter((st) => st.type === 'VariableDeclaration' && USING.has(st['kind'] as string));
    this.disposals(stmts[first]!, ctx!, exits, decls, stmts.some(awaitsDisposalEachIteration));
  }

  /**
   * Disposables of ours in the scope of a `using` declaration, for what
   * the scope's disposal does once the code of the scope has run; only
   * where the call is traced do they hold an object (`using` passes over
   * null).
   * - A return there exits the call only once the scope has disposed of
   *   what it holds (the program's disposers run inside the call): the
   *   return defers its exit (see ret), and the disposable of ours
   *   declared before the scope's first `using`, so disposed after every
   *   one of the program's, exits then (`exits`).
   * - One declared after each of the program's declarations (`decls`), so
   *   disposed just before its resources, ends the frames a throw left
   *   above the call, as a finally clause does: the program's disposers
   *   are called by this call, not by the function that threw.
   *   A declaration of several (`using a = …, b = …`) has one between
   *   each two as well (an `await using` declaration cannot: ours would be
   *   awaited).
   * - In an async function, the disposal of an `await using` waits as an
   *   `await` would: the call suspends after that, and resumes in the
   *   next of ours, or in the first one. A generator closed at a `yield`
   *   (return(), a `for…of` left early), and an async function whose `for
   *   await` body was left by a return or a jump out of the scope (the
   *   body's finally suspended it), dispose while suspended: in an async
   *   function or a generator each of ours resumes the call first.
   */
  private disposals(first: N, ctx: FnCtx, exits: boolean, decls: N[], loopAwaits: boolean): void {
    const P = this.P;
    const ours = (name: string, code: string): string => disposable(P, name, code);
    const awaits = ctx.node.async && (loopAwaits || decls.some((st) => st['kind'] === 'await using'));
    const resume = resumeAtDisposal(P, ctx);
    const exit = exits ? `${P}f&&(${P}f&=0,${P}t&&${P}L(${P}t,${P}r))` : '';
    if (exits || awaits) this.open(first.start, `using ${ours('u', sequence([resume, exit]))};`, first.end);
    const ends = sequence([resume, `${P}t&&${P}C(${P}t)`]);
    decls.forEach((st, i) => {
      const declarators = st['declarations'] as N[];
      if (st['kind'] === 'using') declarators.slice(0, -1).forEach((d, j) => this.close(d.end, `,${ours(`u${i}_${j}`, ends)}`, d.start));
      const code = st['kind'] === 'await using' && awaits ? sequence([resume, `${P}t&&${P}C(${P}t)`, `${P}t&&(${P}t=${P}S(${P}t))`]) : ends;
      const semicolon = this.code.charCodeAt(st.end - 1) === 59 /* ; */ ? '' : ';';
      this.close(st.end, `${semicolon}using ${ours(`u${i}`, code)};`, st.start);
    });
  }

  /** A statement whose end an insertion may reach: noted when it relies on ASI. */
  private asiStatement(node: N): void {
    if (this.code.charCodeAt(node.end - 1) !== 59 /* ; */) this.asiEnds.push(node.start, node.end, this.depth);
  }

  /**
   * After the walk: `;` before an insertion that opens a statement of a list
   * (the line above may lack its `;`), and after the insertions that end a
   * statement which relied on ASI (the line below may start with `(`).
   */
  finishAsi(): void {
    const l = this.listStatements;
    for (let i = 0; i < l.length; i += 3) if (this.ins.has(l[i]!)) this.ins.open(l[i]!, ';', l[i + 1]!, l[i + 2]! * 4 + GUARD);
    const a = this.asiEnds;
    for (let i = 0; i < a.length; i += 3) {
      const end = a[i + 1]!;
      if (this.ins.has(end) && !this.lastOperands.has(end) && !this.braceNext(end)) this.ins.close(end, ';', a[i]!, a[i + 2]! * 4 + SEMICOLON);
    }
  }

  /**
   * How an exit of ours (`exit`, an expression) follows `last`, the last
   * statement of a block, at the block's closing brace, with no `;` where
   * the program wrote none: Node 22.21, 24.9 and later read a failed
   * `assert(...)`'s text up to its first `;`, and Node 26 throws a
   * TypeError for the assertion where that text is cut inside the call (a
   * function passed to it). `joined`: a last expression statement takes
   * the exit as one more operand of its comma (`{ f(x) }` becomes
   * `{ f(x),Pt&&PL(Pt) }`), and nothing is to be put at the brace;
   * otherwise `lead` goes before the exit there: nothing after a statement
   * that ends itself, or one that ends an if or a loop (`if (c) return
   * x`), or a last `var`, do-while or debugger, which stands in braces;
   * else `;` (a last `let` or `const`). A
   * directive stays one. `place` makes the insertions at the statement,
   * once those at the brace are made: where the statement starts the
   * block and ends at its brace (minified), the later call of one place
   * nests inside. What ends so needs no `;` of its own (asiStatement).
   */
  private exitAfter(last: N | undefined, exit: string): { joined: boolean; lead: string; place(): void } {
    const tail = last === undefined ? undefined : tailOf(last);
    if (last === undefined || tail === undefined || endsItself(tail, this.code)) return { joined: false, lead: '', place() {} };
    if (tail === last && last.type === 'ExpressionStatement' && typeof last['directive'] !== 'string') {
      return {
        joined: true, lead: '', place: () => {
          this.lastOperands.add(last.end);
          this.close(last.end, `,${exit}`, last.start);
        },
      };
    }
    // A last statement that needs its `;` stands in braces too where a
    // block changes nothing: a `var` (function-scoped), a do-while, a
    // debugger; a `let` or `const` would leave its scope.
    const alone = tail === last && (tail.type === 'DebuggerStatement' || tail.type === 'DoWhileStatement'
      || (tail.type === 'VariableDeclaration' && tail['kind'] === 'var'));
    if ((tail === last && !alone) || !BRACEABLE.has(tail.type)) return { joined: false, lead: ';', place() {} };
    return {
      joined: false, lead: '', place: () => {
        this.lastOperands.add(tail.end);
        this.open(tail.start, '{', tail.end);
        this.close(tail.end, '}', tail.start);
      },
    };
  }

  /**
   * Statements of ours that open a block of the program's (a catch's, a
   * finally's): one block of one comma expression, which needs no `;` (see
   * braceNext) and compiles as the statements would. A live patch keeps
   * the statements, the text V8's LiveEdit is known to match.
   */
  private lead(parts: string[]): string {
    const some = parts.filter((p) => p !== '');
    return this.live ? some.map((p) => `${p};`).join('') : `{${some.join(',')}}`;
  }

  /**
   * Whether only white space and comments lie between `at` and a closing brace: a
   * statement ending there needs no `;` after what is inserted at its end,
   * as what is inserted at the brace starts with a brace, a `;` or a
   * statement that follows a block (the fall-off exit: exitAfter). Node 22.21,
   * 24.9 and later read a failed `assert(...)`'s text up to its first `;`,
   * and a one-line `function () { return x }` inside it is common.
   * Comments between them are skipped.
   */
  private braceNext(at: number): boolean {
    const code = this.code;
    for (;;) {
      const c = code.charCodeAt(at);
      if (c === 125 /* } */) return true;
      if (c === 32 || c === 9 || c === 10 || c === 13) {
        at++;
      } else if (c === 47 /* / */ && code.charCodeAt(at + 1) === 42 /* * */) {
        const end = code.indexOf('*/', at + 2);
        if (end < 0) return false;
        at = end + 2;
      } else if (c === 47 && code.charCodeAt(at + 1) === 47) {
        // To the line's end, by any of the language's line terminators.
        at += 2;
        for (let d = code.charCodeAt(at); at < code.length && d !== 10 && d !== 13 && d !== 0x2028 && d !== 0x2029; d = code.charCodeAt(++at));
      } else {
        return false;
      }
    }
  }

  private loops(): Loop[] {
    const ctx = this.current();
    return ctx === undefined ? this.moduleLoops : ctx === null ? [] : ctx.loops;
  }

  /**
   * A loop. A `for await` loop suspends the call between iterations, where
   * no expression can be wrapped: the call suspends after evaluating the
   * iterable and however its body is left (its end, a `continue` or a
   * `break`, a throw: the loop then awaits the iterator's next() or
   * return()), and resumes at the start of each iteration and after the
   * loop. So does a `for (await using … of …)` loop, whose disposal awaits
   * after the body (the iterable is evaluated inside the call: the loop
   * awaits nothing before its first iteration). `outer` is the statement
   * to wrap (the loop or its labels).
   */
  private loop(node: N, labels: string[], outer: N): void {
    const head = (node.type === 'ForStatement' ? node['init'] : node['left']) as N | null | undefined;
    if (head?.type === 'VariableDeclaration') this.forHeads.add(head);
    const ctx = this.current();
    const traced = ctx !== undefined && ctx !== null;
    const forAwait = node.type === 'ForOfStatement' && node['await'] === true && traced && ctx.suspends;
    const usingHead = head?.type === 'VariableDeclaration' && USING.has(head['kind'] as string) && traced && !this.live && USING_DECLARATIONS
      ? head['kind'] as string : null;
    // `for (await using x of …)`: each iteration's disposal awaits, after
    // the body, as a for-await loop's next() does before it.
    const awaitsDisposal = node.type === 'ForOfStatement' && !forAwait && usingHead === 'await using' && traced && ctx.suspends;
    const loops = this.loops();
    const entry: Loop = { labels, suspends: forAwait || awaitsDisposal, kind: 'loop', resumes: false, iterates: false };
    loops.push(entry);
    if (awaitsDisposal) {
      const P = this.P;
      const body = node['body'] as N;
      this.open(outer.start, '{', outer.end, WRAP);
      this.close(outer.end, `;${resumeCode(P, this.wa(outer), false)};}`, outer.start, WRAP);
      this.suspendingBody(body);
    } else if (usingHead !== null && !forAwait && node.type !== 'ForStatement' && ctx!.inUsingForStatement === 0) this.headDisposal(node, ctx!);
    const closureFree = usingHead !== null && node.type === 'ForStatement';
    if (closureFree) ctx!.inUsingForStatement++;
    if (forAwait) {
      const P = this.P;
      const right = node['right'] as N;
      const body = node['body'] as N;
      const suspend = suspendCode(P, this.wa(right), this.live);
      // V8 names the iterable by its text in the error of one that cannot
      // be iterated (`s is not async iterable`): an iterable that runs
      // nothing of the program's (`this`, a literal, a parameter or a
      // local of the function's body; a global may be a getter) keeps its
      // text, the call suspending before the loop, which is the same where
      // nothing runs in between. Any other is evaluated inside the call,
      // which suspends after it (through PV: no other shape is named as
      // the program's text either).
      const quiet = !this.live && this.withDepth === 0 && (right.type === 'ThisExpression' || right.type === 'Literal'
        || (right.type === 'Identifier' && localNames(ctx.node).has(right['name'] as string)));
      this.open(outer.start, quiet ? `{${suspendCode(P, this.w(outer.start), false)};` : '{', outer.end, WRAP);
      // Made before the body's closer, so after it: a one-statement body
      // ends where the loop does.
      this.close(outer.end, `;${resumeCode(P, this.wa(outer), this.live)};}`, outer.start, WRAP);
      if (!quiet) {
        this.open(right.start, `(0,${P}V(`, right.end);
        this.close(right.end, `,${suspend}${heldArg(1, this.wa(right))}))`, right.start);
      }
      this.suspendingBody(body);
    }
    this.children(node);
    if (closureFree) ctx!.inUsingForStatement--;
    loops.pop();
    if (!(forAwait || awaitsDisposal) && entry.iterates) {
      // Resumed where the next iteration's body begins, and after the loop
      // should it end instead (its test and update run still suspended).
      const body = node['body'] as N;
      const resume = `${resumeCode(this.P, this.w(body.start), this.live)};`;
      if (body.type === 'BlockStatement') this.open(body.start + 1, resume, body.end - 1);
      else {
        this.open(body.start, `{${resume}`, body.end);
        this.close(body.end, '}', body.start);
      }
    }
    if (!(forAwait || awaitsDisposal) && (entry.resumes || entry.iterates)) this.resumeAfter(outer);
  }

  /**
   * The body of a loop that suspends the call between iterations: resumed
   * where it begins, suspended in a finally clause however it is left (its
   * end, a throw, a break or a continue, a return whose exit is then
   * already made, where the suspension finds no frame and keeps none).
   * The finally runs once the body's own finally clauses and `using`
   * disposals have, inside the call; then the loop awaits (the iterator's
   * next() or return(), a disposal) with the call off the stack. A live
   * patch keeps the shape V8's LiveEdit is known to match: a catch clause
   * that suspends and throws again, a suspension after the body, and a
   * break or continue that leaves the loop suspending before itself
   * (cont, brk).
   */
  private suspendingBody(body: N): void {
    const P = this.P;
    const resume = `${resumeCode(P, this.w(body.start), this.live)};`;
    const last = suspendCode(P, this.wa(body), this.live);
    const leaving = this.live ? `}catch(${P}e){${last};throw ${P}e}${last};` : `}finally{${last}}`;
    if (body.type !== 'BlockStatement') {
      this.open(body.start, `{${resume}try{`, body.end);
      this.close(body.end, `${leaving}}`, body.start);
    } else if (body.end - body.start === 2) {
      this.open(body.start + 1, `${resume}try{${leaving}`, body.end - 1);
    } else {
      this.open(body.start + 1, `${resume}try{`, body.end - 1);
      this.close(body.end - 1, leaving, body.start + 1);
    }
  }

  /**
   * A for…of loop whose head declares a `using` binding: a disposable of
   * ours at the start of the body, disposed each iteration just before the
   * binding, ends the frames a throw left above the call, so that the
   * program's disposer is called by the call (see disposals). (A for
   * statement's head gets none: see FnCtx.inUsingForStatement.)
   */
  private headDisposal(node: N, ctx: FnCtx): void {
    const P = this.P;
    const ours = disposable(P, 'h', sequence([resumeAtDisposal(P, ctx), `${P}t&&${P}C(${P}t)`]));
    const body = node['body'] as N;
    if (body.type === 'BlockStatement') this.open(body.start + 1, `using ${ours};`, body.end - 1);
    else {
      this.open(body.start, `{using ${ours};`, body.end);
      this.close(body.end, '}', body.start);
    }
  }

  private cont(node: N): void {
    const loops = this.loops();
    const label = node['label'] as N | null;
    let target: Loop | undefined;
    // Leaving a for-await loop for an outer loop's next iteration awaits
    // the loop's iterator's return(): the call suspends there as well.
    let leaves = false;
    let cancels = false;
    for (let i = loops.length - 1; i >= 0 && target === undefined; i--) {
      const l = loops[i]!;
      if (l.kind === 'loop' && (label === null || l.labels.includes(label['name'] as string))) target = l;
      else if (l.suspends) leaves = true;
      else if (l.kind === 'finally') cancels = true;
    }
    if (target === undefined) return;
    if (leaves && !target.suspends) target.iterates = true;
    if (cancels) this.cancelPendingReturn(node);
    // Otherwise the body's finally clause suspends (suspendingBody).
    if (this.live && (target.suspends || leaves)) this.suspendBefore(node);
  }

  /**
   * A `continue` or `break` out of a finally clause ends the return that
   * clause may be running for: the return's exit, deferred (ret) to a
   * `using` scope's disposal, must not be made when that scope is left.
   * (A try statement's own deferred exit is at its finally's end, which a
   * jump out of it does not reach, and is cleared at its next pass.)
   */
  private cancelPendingReturn(node: N): void {
    const ctx = this.current();
    if (ctx === undefined || ctx === null || ctx.finallyOwner === null || this.live) return;
    ctx.needsPf = true;
    const P = this.P;
    this.open(node.start, `{${P}f&=${held(1, this.w(node.start), '0')};`, node.end, WRAP);
    this.close(node.end, '}', node.start, WRAP);
  }

  /**
   * A `break` that leaves a `for await` loop: the loop's implicit await of
   * the iterator's return() runs next, so the call suspends first (in the
   * body's finally clause, after the body's own cleanup: suspendingBody;
   * a live patch before the break); it resumes after the loop, or after
   * the labelled statement the break targets (which is then wrapped to
   * resume after itself).
   */
  private brk(node: N): void {
    const loops = this.loops();
    const label = node['label'] as N | null;
    let leaves = false;
    let cancels = false;
    let found = false;
    for (let i = loops.length - 1; i >= 0; i--) {
      const l = loops[i]!;
      if (l.suspends) leaves = true;
      if (l.kind === 'finally') {
        cancels = true;
        continue;
      }
      if (label === null ? l.kind !== 'label' : l.labels.includes(label['name'] as string)) {
        // A for-await loop resumes after itself; anything else must be told to.
        if (leaves && !l.suspends) l.resumes = true;
        found = true;
        break;
      }
    }
    if (found && cancels) this.cancelPendingReturn(node);
    if (this.live && leaves) this.suspendBefore(node);
  }

  private suspendBefore(node: N): void {
    const P = this.P;
    this.open(node.start, `{${suspendCode(P, this.w(node.start), this.live)};`, node.end, WRAP);
    this.close(node.end, '}', node.start, WRAP);
  }

  /** Wraps `outer`, after its contents are walked, so that a suspended call resumes after it (see brk). */
  private resumeAfter(outer: N): void {
    const P = this.P;
    this.open(outer.start, '{', outer.end, WRAP);
    this.close(outer.end, `;${resumeCode(P, this.wa(outer), this.live)};}`, outer.start, WRAP);
  }

  /** A labelled statement that is not a loop (a block, a switch, a function declaration, ...). */
  private labelled(outer: N, labels: string[], inner: N): void {
    const loops = this.loops();
    const entry: Loop = { labels, suspends: false, kind: 'label', resumes: false, iterates: false };
    loops.push(entry);
    this.walk(inner, null);
    loops.pop();
    if (entry.resumes) this.resumeAfter(outer);
  }

  /**
   * A try statement. Returns inside its block or catch clause (not its
   * finally) pass through its finally clause first, so when it has one they
   * defer their exit to the end of the outermost such finally clause of the
   * function; that clause then exits (`Pf` set) after its own code.
   */
  private tryStatement(node: N): void {
    const ctx = this.current();
    const finalizer = node['finalizer'] as N | null;
    // V8's coverage ends the code after a suspension in the try block where
    // the catch clause, or the finally clause, begins.
    const handler = node['handler'] as N | null;
    const block = node['block'] as N;
    this.blockEnds.set(block, handler !== null ? handler.start : this.code.lastIndexOf('finally', finalizer!.start));
    if (ctx === undefined || ctx === null || finalizer === null) {
      // Module level: a throw may have left frames above the module's depth.
      if (ctx === undefined && finalizer !== null) this.open(finalizer.start + 1, this.lead([`${this.K}.on&&${this.P}K&&${this.P}K(${held(1, this.w(finalizer.start), `${this.P}D`)})`]), finalizer.end - 1);
      this.children(node);
      return;
    }
    const outermost = ctx.finallyOwner === null;
    const own: TryFinally = { used: false };
    if (outermost) ctx.finallyOwner = own;
    this.walk(node['block'] as N, null);
    this.walk(node['handler'] as N, null);
    if (outermost) ctx.finallyOwner = null;
    const P = this.P;
    // Resumed if suspended; and a throw that brought it here may have left
    // the frames of the calls it went through: they end here, as at a catch.
    const wf = this.w(finalizer.start);
    const lead = this.lead([ctx.suspends ? resumeCode(P, wf, this.live) : '', `${P}t&&${P}C(${held(1, wf, `${P}t`)})`]);
    const empty = finalizer.end - finalizer.start === 2;
    const opened = this.open(finalizer.start + 1, lead, finalizer.end - 1);
    ctx.loops.push({ labels: [], suspends: false, kind: 'finally', resumes: false, iterates: false });
    this.walk(finalizer, null);
    ctx.loops.pop();
    if (own.used) {
      // A return left pending by an earlier pass through this statement
      // (a finally that continued a loop) must not exit now.
      const block = node['block'] as N;
      this.open(block.start + 1, this.lead([`${P}f&=${held(1, this.w(block.start), '0')}`]), block.end - 1);
      const we = this.wa(finalizer);
      const pending = `${P}f&&(${P}f&=${held(1, we, '0')},${P}t&&${P}L(${held(1, we, `${P}t`)},${P}r))`;
      if (this.live) {
        const exit = `;${pending};`;
        if (!empty) this.close(finalizer.end - 1, exit, finalizer.start + 1);
        else this.ins.setText(opened, lead + exit);
      } else if (empty) {
        // An empty finally: the exit after the resume, in one insertion.
        this.ins.setText(opened, lead + pending);
      } else {
        const stmts = finalizer['body'] as N[];
        const after = this.exitAfter(stmts[stmts.length - 1], pending);
        if (!after.joined) this.close(finalizer.end - 1, `${after.lead}${pending}`, finalizer.start + 1);
        after.place();
      }
    }
  }

  private klass(node: N, name: string | null): void {
    this.walk(node['superClass'] as N, null);
    const unit = this.openUnit(node.start, node.end, -1);
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
        // A method's text starts after `static`; a constructor's is the class's.
        const start = m['static'] === true ? skipTrivia(this.code, m.start + 6) : m.start;
        this.fn(value as Fn, mname, kind === 'constructor' && derived, start);
      } else {
        this.walk(value, mname);
      }
    }
    this.closeUnit(unit);
  }

  /**
   * An anonymous function is named by where it starts: in the module's own
   * file as written, when the module's map says it was compiled in place
   * (tsx serves a TypeScript file as one line of JavaScript), else in the
   * module's text. A second function at the same written place (code a
   * compiler made up) keeps the name of its place in the text.
   */
  private anonymous(offset: number): string {
    const [line, col] = position(this.starts, offset);
    const at = this.written === null ? null : writtenAt(this.written, line, col - 1);
    if (at !== null) {
      const name = `<anonymous>@${at[0]}:${at[1] + 1}`;
      if (!this.writtenNames.has(name)) {
        this.writtenNames.add(name);
        return name;
      }
    }
    return `<anonymous>@${line}:${col}`;
  }

  private openUnit(start: number, end: number, site: number): number {
    const u = this.units.length / 4;
    this.units.push(start, end, this.unitStack.length > 0 ? this.unitStack[this.unitStack.length - 1]! : -1, site);
    this.unitStack.push(u);
    this.ins.owner = u;
    return u;
  }

  private closeUnit(u: number): void {
    this.unitStack.pop();
    this.ins.owner = this.unitStack.length > 0 ? this.unitStack[this.unitStack.length - 1]! : -1;
    void u;
  }

  private fn(node: Fn, name: string | null, derivedCtor: boolean, unitStart: number): void {
    if (this.lexerFns.has(node as unknown as N)) {
      // Read by Node's CommonJS lexer for an export's name: left as written.
      this.closeUnit(this.openUnit(unitStart, node.end, -1));
      return;
    }
    if (this.withDepth > 0 || this.withFns.has(node)) {
      // No site (see the header): walked for what it contains, as nothing.
      const unit = this.openUnit(unitStart, node.end, -1);
      this.fnStack.push(null);
      for (const p of node.params) this.walk(p, null);
      this.walk(node.body, null);
      this.fnStack.pop();
      this.closeUnit(unit);
      return;
    }
    const k = this.names.length;
    this.names.push(clean(name ?? this.anonymous(node.start)));
    this.positions.push(node.start);
    const unit = this.openUnit(unitStart, node.end, k);
    const ctx: FnCtx = {
      node, k, suspends: node.async || node.generator, loops: [], finallyOwner: null, needsPr: false, needsPf: false, fallsOffDeferred: false, inUsingForStatement: 0,
      inParams: true,
    };
    this.fnStack.push(ctx);
    for (const p of node.params) this.walk(p, null);
    ctx.inParams = false;
    const P = this.P;
    const body = node.body;
    const wrap = ctx.suspends && (body.type !== 'BlockStatement' || !blockConflict(body));
    // A rejected await, or a throw after a suspension, ends the call: its
    // frames come back, then unwind with the thrown value; a generator
    // closed at a yield (return()) ends it too, in the finally: whether
    // still suspended there or resumed first by a finally clause of the
    // program's that awaited or yielded. After an exit the call already
    // made (its end, a return, the catch), the token names no frame and
    // that leave does nothing. No space in it: a live patch
    // (attach/splice.ts) puts it before the space in `...; }`, and V8's
    // LiveEdit must match that space, then the brace, to the source's.
    const wb = this.wa(body);
    // The thrown value reaches PU through the key's holder (see
    // suspension): a call of two arguments would make this clause, not the
    // body, the largest user of the frame's registers. PU answers 0: `Pt`
    // must not keep frames it resumed, which a generator's finally would
    // resume again.
    // A live patch keeps the text V8's LiveEdit is known to match
    // (attach/matching.ts decides): resume, then unwind with the value as
    // a second argument.
    const unwinds = this.live ? `${resumeCode(P, wb, true)};${P}t&&${P}U(${held(1, wb, `${P}t`)},${P}e)`
      : `${P}t&&((${P}e)instanceof(${this.K}),${P}t=${P}U(${held(2, wb, `${P}t`)}))`;
    // A sync generator's exception leaves through this clause, so V8 places
    // it here; the key notes that it passed (original/uncaught-line.ts).
    const passed = node.generator && !node.async && this.notes ? `(${P}e)instanceof(${this.K})||${this.K}.g` : '';
    const caught = `}catch(${P}e){${this.lead([passed, unwinds])}throw(${P}e)}`
      + (node.generator ? `finally{${resumeCode(P, wb, this.live)}${this.live ? ';' : ','}${P}t&&${P}L(${held(1, wb, `${P}t`)})}` : '');
    let entry: number;
    let entryAt = body.start;
    let directive = false;
    if (body.type === 'BlockStatement') {
      let at = body.start + 1;
      for (const st of body['body'] as N[]) {
        if (st.type === 'ExpressionStatement' && typeof st['directive'] === 'string') at = st.end;
        else break;
      }
      directive = at !== body.start + 1;
      // The entry's text is set once the body is walked and its locals are
      // known; the placeholder keeps its place before what the walk inserts.
      const stmts = body['body'] as N[];
      const last = stmts[stmts.length - 1];
      // Only where the end can be reached by falling through the last
      // statement, and after it as exitAfter says.
      const reached = last === undefined || (last.type !== 'ReturnStatement' && last.type !== 'ThrowStatement');
      // Falling off a body that holds a `using` declaration is a return in
      // its scope: deferred to the disposal (disposeLast).
      const deferred = reached && !this.live && USING_DECLARATIONS && stmts.some(declaresUsing);
      if (deferred) ctx.needsPr = ctx.needsPf = ctx.fallsOffDeferred = true;
      const exit = deferred ? `${P}r=void 0,${P}f|=1` : `${P}t&&${P}L(${held(1, wb, `${P}t`)})`;
      const after = reached ? this.exitAfter(last, exit) : null;
      const fallOff = after === null || after.joined ? '' : deferred ? `${after.lead}${exit}` : `${after.lead}if(${P}t)${P}L(${held(1, wb, `${P}t`)})`;
      const closing = fallOff + (wrap ? caught : '');
      // V8 places a sync generator's exception at this catch's throw.
      if (wrap && passed !== '') this.rethrows.push(body.end - 1);
      // Nothing between the entry and the brace: one insertion in order.
      const empty = at === body.end - 1;
      entry = this.open(at, '', body.end - 1);
      entryAt = at;
      if (wrap) this.open(at, 'try{', body.end - 1);
      if (empty) this.open(at, closing, body.end - 1);
      // Made before the body is walked, so after a return's closer that
      // ends at the brace (`if (x) return y}`): closers run innermost first.
      else if (closing !== '') this.close(body.end - 1, closing, at);
      after?.place();
    } else {
      // An expression body becomes a block that returns it.
      this.open(body.start, '{', body.end);
      entry = this.open(body.start, '', body.end);
      if (wrap) this.open(body.start, 'try{', body.end);
      const quiet = callsNothing(body);
      const apart = branchesApart(body);
      const twice = !apart && duplicable(body, this.code);
      if (quiet && twice) {
        const [lead, tail] = quietExit(P, body, this.w(body.start));
        this.open(body.start, `return ${P}t?${lead}`, body.end);
        this.copyAfter(body, `${tail}:`, `${wrap ? caught : ''}}`);
      } else if (twice) {
        this.twice(body, `return ${P}t?`, `${wrap ? caught : ''}}`);
      } else if (this.intoLocal(body)) {
        this.open(body.start, `return(${P}k=`, body.end);
        this.close(body.end, `${keptExit(P)})${wrap ? caught : ''}}`, body.start);
      } else {
        this.open(body.start, `return(0,${P}I)(`, body.end);
        this.close(body.end, `,${held(1, wb, `${P}t`)})${wrap ? caught : ''}}`, body.start);
      }
    }
    this.walk(body, null);
    const args: string[] = [];
    paramNames(node.params, args);
    // An arrow or a derived constructor before super() passes no `this`
    // (the handler's second parameter is then undefined, as it was given).
    const self = node.type === 'ArrowFunctionExpression' || derivedCtor ? '' : ',this';
    const B = this.B;
    const locals = `${ctx.needsPr ? `,${P}r` : ''}${ctx.needsPf ? `,${P}f` : ''}${ctx.suspends && this.live ? `,${P}s` : ''}`;
    // After a directive, `;` ends it in case it relied on ASI. Pt is set
    // only by compound assignments and by calls (six drops, held before
    // them): see name-inference.ts. Pt first holds the site, then the
    // token: the site's word is read through it, and the dispatcher PE is
    // called with Pt and `this`, which V8 reads in place, so that the entry
    // holds one temporary besides Pt (the callee, or the word table): a
    // function whose own expressions hold one at most gets one register
    // more than without us (docs/design.md, "Load-time sites"). The read is
    // optional: a function called before its module's prologue ran (an
    // import cycle) finds PW undefined, and its key may be on for another
    // module's sites; it then runs untraced. A site whose word is nop
    // leaves Pt 0.
    //
    // The declaration and the test are each a block, which needs no `;`
    // (V8 compiles a block without lexical declarations to nothing of its
    // own): Node from 22.21 and 24.9 reads a failed `assert(value)`'s text
    // on V8's line up to the first `;` after the call, and finds none when
    // the call holds a function whose instrumented body has one (Node 26
    // then throws a TypeError instead of the AssertionError:
    // original/assert-message.ts). A live patch keeps the shape V8's
    // LiveEdit was matched with.
    const test = `${this.K}.k${siteKeyOf(this.tag, this.own, k)}`
      + `&&((${P}t|=${held(6, this.w(entryAt), `${B}+${k}`)},${P}W?.[${P}t])`
      + `?(${P}t=${P}E(${P}t${self}))<0&&(${P}t=${P}A(${args.join(',')})):${P}t&=0)`;
    this.ins.setText(entry, this.live
      ? `${directive ? ';' : ''}var ${P}t${locals};${test};`
      : `${directive ? ';' : ''}{var ${P}t${locals}}{${test}}`);
    this.fnStack.pop();
    this.closeUnit(unit);
  }

  /** Inserts after `node` a copy of its text between `before` and `after`, noting the copy (original/table.ts). */
  private copyAfter(node: N, before: string, after: string): void {
    const text = this.code.slice(node.start, node.end);
    const ix = this.close(node.end, `${before}${text}${after}`, node.start);
    this.copies.push(ix, before.length, text.length, node.start);
  }

  /**
   * A short return value written twice, after `lead` (which ends where the
   * choice between a traced and an untraced call is made): for a traced
   * call the exit is marked pending, the value evaluated, and the pending
   * exit taken with it; otherwise the copy. The copy's drops find
   * placeholders of their own (name-inference.ts).
   */
  private twice(node: N, lead: string, after: string): void {
    const P = this.P;
    // `(X)instanceof PY,PZ()` takes the exit with X (runtime.ts says why not PX(X)).
    this.open(node.start, `${lead}(${P}P(${held(1, this.w(node.start), `${P}t`)}),(`, node.end);
    const w = this.wa(node);
    const n = w ? drops(node) : 0;
    this.copyAfter(node, `)instanceof(${P}Y),${P}Z(${w ? placeholders(1) : ''})):${n > 0 ? `(${placeholders(n)},` : ''}`,
      `${n > 0 ? ')' : ''}${after}`);
  }

  /** Copies: insertion, start in its text, length, original offset. */
  readonly copies: number[] = [];

  /** Ends of lists' last statements whose continuation V8's coverage keeps (original/table.ts). */
  readonly keptContinuations: number[] = [];

  /** Ends of the statements of lists after which V8's coverage may start a range of its own (original/table.ts). */
  readonly continuations: number[] = [];

  /**
   * The insertions that close the wrapper of an await or a yield that is
   * (in) a statement of a list, where in each the await or yield ends, and
   * where V8's coverage has the code after it start and end (the
   * statement's end, the list's end), 4 per suspension (original/table.ts).
   */
  readonly suspensions: number[] = [];
  /** The declarations of loop heads (`for (let i = ...;`, `for (const x of`): not statements. */
  private readonly forHeads = new Set<N>();
  /** Awaits and yields whose value is called (noteCallee), met before the walk reaches them. */
  private readonly calledSuspensions = new Set<N>();

  /**
   * Whether a return value that cannot be written twice goes into the
   * module's variable `Pk` (`Pk = X`, no call on the untraced path, and no
   * register of the frame: V8 stores it in the module's context from the
   * accumulator once X is computed, and it is read back before anything
   * else runs, so calls X makes, suspensions in X and other calls of the
   * module's functions find it free; keptExit) rather than through `PI`: when
   * X calls something (a call-free value goes through PI, whose callee sits
   * beside X's few temporaries: callsOwn; a call-free value with branches,
   * branchesApart, is one of those) and the assignment can give no name, as
   * X holds no function or class (an anonymous one would take the
   * variable's name, one inside an array or a nested literal the variable's
   * as a prefix, as one passed to PI
   * would take the callee's were it not called as `(0,PI)(...)`) and no
   * function waits for a name once X is read (it would be named or
   * dropped).
   */
  private intoLocal(x: N): boolean {
    if (!callsOwn(x)) return false;
    let literal = false;
    const visit = (n: N): void => {
      if (literal) return;
      if (FUNCTIONS.has(n.type) || n.type === 'ClassExpression') {
        literal = true;
        return;
      }
      forEachChild(n, visit);
    };
    visit(x);
    return !literal && this.waiting.after(x) === 0;
  }

  /** Whether functions of the program may wait for a name where an insertion at `offset` runs (name-inference.ts). */
  private w(offset: number): boolean {
    return this.waiting.before(offset) > 0 && this.waiting.namedAfter(offset, this.readEnd());
  }

  /** The same, right after `node` (an insertion at its end). */
  private wa(node: N): boolean {
    return this.waiting.after(node) > 0 && this.waiting.namedAfter(node.end, this.readEnd());
  }

  /**
   * Where V8 stops reading the code being instrumented: the end of the
   * innermost function it compiles apart (an arrow, or a function in
   * parentheses, is read with the code around it), else of the module.
   */
  private readEnd(): number {
    for (let i = this.fnStack.length - 1; i >= 0; i--) {
      const ctx = this.fnStack[i];
      if (ctx === null || ctx === undefined) continue;
      const n = ctx.node;
      if (n.type !== 'ArrowFunctionExpression' && !this.waiting.readWithOuter(n)) return n.end;
    }
    return this.code.length;
  }

  /**
   * The function whose code is being walked: null where it has no site,
   * and in its parameters, whose code (a class's static block in a default
   * value: the only statements there) runs before the body declares the
   * locals that inserted statements would use.
   */
  private current(): FnCtx | null | undefined {
    const ctx = this.fnStack[this.fnStack.length - 1];
    return ctx?.inParams === true ? null : ctx;
  }

  private ret(node: N): void {
    const ctx = this.current();
    if (ctx === undefined || ctx === null) return; // a CommonJS top-level return, or a function without a site
    const arg = node['argument'] as N | null;
    const P = this.P;
    if (ctx.finallyOwner !== null) {
      // Deferred to the end of the finally clause (see tryStatement).
      ctx.finallyOwner.used = true;
      ctx.needsPr = true;
      ctx.needsPf = true;
      // After the keyword of a bare return: part of the statement, before an ASI `;`.
      // Pr is set through a call, Pf by a compound assignment: plain ones would name functions.
      const w = arg === null ? this.w(node.start + 6) : this.wa(arg);
      if (arg === null) this.close(node.start + 6, ` void(${P}r=${P}V(void 0${heldArg(2, w)}),${P}f|=${held(1, w, '1')})`, node.start);
      else {
        // A comma expression would be more than one argument.
        const seq = arg.type === 'SequenceExpression';
        this.open(arg.start, `(${P}r=${P}V(${seq ? '(' : ''}`, arg.end);
        this.close(arg.end, `${seq ? ')' : ''}${heldArg(2, w)}),${P}f|=${held(1, w, '1')},${P}r)`, arg.start);
      }
      return;
    }
    if (arg === null) {
      this.close(node.start + 6, ` ${P}t?${P}L(${held(1, this.w(node.start), `${P}t`)}):void 0`, node.start);
      return;
    }
    const quiet = callsNothing(arg);
    const apart = branchesApart(arg);
    const twice = !apart && duplicable(arg, this.code);
    if (quiet && twice) {
      // The space: `return(x)` would otherwise become `return$Jt...`.
      const [lead, tail] = quietExit(P, arg, this.w(arg.start));
      this.open(arg.start, ` ${P}t?${lead}`, arg.end);
      this.copyAfter(arg, `${tail}:`, '');
      return;
    }
    if (twice) {
      // The value goes into Pt itself once the exit is marked pending: no
      // local and no extra register for a short return.
      // The space: `return(x)` would otherwise become `return$Jt...`.
      this.twice(arg, ` ${P}t?`, '');
      return;
    }
    const seq = arg.type === 'SequenceExpression';
    if (this.intoLocal(arg)) {
      // Into the module's variable, and no call while the function is untraced.
      this.open(arg.start, seq ? `(${P}k=(` : `(${P}k=`, arg.end);
      this.close(arg.end, `${seq ? ')' : ''}${keptExit(P)})`, arg.start);
      return;
    }
    // Through a call, which names nothing (name-inference.ts); Pt is read
    // after the value, which may have suspended and resumed the call.
    // In parentheses, as `return(x)` would otherwise become `return$JI...`.
    this.open(arg.start, `((0,${P}I)(${seq ? '(' : ''}`, arg.end);
    this.close(arg.end, `${seq ? ')' : ''},${held(1, this.wa(arg), `${P}t`)}))`, arg.start);
  }

  private suspension(node: N): void {
    const ctx = this.current();
    if (ctx === undefined || ctx === null || !ctx.suspends) return; // top-level await, or no site
    const arg = node['argument'] as N | null;
    const P = this.P;
    const w = this.wa(arg ?? node);
    const suspend = suspendCode(P, arg === null ? this.w(node.start) : w, this.live);
    const resume = resumeCode(P, w, this.live);
    // The values pass through the key's holder: `(X)instanceof K` keeps X
    // (the key object's Symbol.hasInstance, shared/site-abi.ts) and `K.v`
    // hands it back, with no call around X, so that nothing of ours holds
    // a register of the frame while X runs (a call's callee would: a cold
    // recursion through an async function then went less deep), and no
    // assignment, which would name X's functions (name-inference.ts). The
    // value after the keyword is read back by an optional chain (`?.v`, K is
    // always an object): V8 names a chain `(intermediate value)` in an
    // error message, as it names the `await` or `yield` itself, so
    // `(await o).f()` still fails with `(intermediate value).f is not a
    // function`; and an assignment of a chain names what the program's
    // would have. Nothing runs between the keep and the read but PS or PR,
    // which keep the holder's value across what they call.
    // A value that is called reads back through a method (`?.w()`): the
    // getter's reference would call it with the key as `this`. The method's
    // callee takes a register; no recursion goes through such a call.
    // Where functions of the program may wait for a name across the
    // suspension, its values pass through calls of PV, as in a live patch:
    // V8 names no function that is the direct operand of `instanceof` in
    // parentheses (`o.f = await function () {}` would lose `o.f`), and the
    // method's call would drop one (name-inference.ts); the calls' drops
    // take placeholders instead.
    if (this.live || w || (arg === null && this.w(node.start))) {
      this.callSuspension(node, arg, ctx, suspend, resume, w);
      return;
    }
    const K = this.K;
    const after = `)instanceof ${K},${resume},${K})?.${this.calledSuspensions.has(node) ? 'w()' : 'v'})`;
    if (arg === null) {
      // A bare yield: suspend, yield, resume.
      this.open(node.start, `(((${suspend},`, node.end);
      this.noteSuspension(this.close(node.end, after, node.start), 0, ctx);
      return;
    }
    // The operand runs inside the call, the keyword stays where it was. The
    // operand in parentheses: a yield's may be an assignment or an arrow,
    // and `yield[x]` (minified) must not become `yield$J...`.
    this.open(node.start, '(((', node.end);
    this.open(arg.start, '((', arg.end);
    const operand = `)instanceof ${K},${suspend},${K}.v)`;
    this.noteSuspension(this.close(arg.end, `${operand}${after}`, node.start), operand.length, ctx);
  }

  /**
   * An await or yield whose values pass through PV, called optionally
   * around the keyword (V8 prints an optional chain `(intermediate value)`,
   * see suspension): in a live patch (TransformInput.live), and where
   * functions may wait for a name. No space, and a last argument that is
   * not a parenthesis: with either, V8's diff can align the program's
   * spaces or closing parentheses with inserted ones.
   */
  private callSuspension(node: N, arg: N | null, ctx: FnCtx, suspend: string, resume: string, w: boolean): void {
    const P = this.P;
    if (arg === null) {
      this.open(node.start, `(${P}V?.((${suspend},`, node.end);
      this.noteSuspension(this.close(node.end, `),${resume}${heldArg(1, w)}))`, node.start), 0, ctx);
      return;
    }
    this.open(node.start, `(${P}V?.(`, node.end);
    // The operand in `(0,...)`: `yield[x]` (minified) would otherwise become `yield$JV(...`.
    this.open(arg.start, `(0,${P}V(`, arg.end);
    const operand = `,${suspend}${heldArg(1, w)}))`;
    this.noteSuspension(this.close(arg.end, `${operand},${resume}${w ? heldArg(1, w) : ',0'}))`, node.start), operand.length, ctx);
  }

  /**
   * Notes a suspension's wrapper for the coverage of the code after it:
   * where the suspension is in an expression statement or a declaration
   * of the function's own statement lists (V8 has that code start after
   * the statement).
   */
  private noteSuspension(ix: number, at: number, ctx: FnCtx): void {
    const st = this.openStatements[this.openStatements.length - 1];
    if (st === undefined || st.start < ctx.node.start || (st.type !== 'ExpressionStatement' && st.type !== 'VariableDeclaration')) return;
    this.suspensions.push(ix, at, st.end, this.openListEnds[this.openListEnds.length - 1]!);
  }

  private catchNote(node: N): void {
    const ctx = this.current();
    if (ctx === null) return;
    const body = node['body'] as N;
    const P = this.P;
    // The value caught, for the source line Node prints above an uncaught
    // exception (original/uncaught-line.ts): a value the program caught
    // may be thrown again from code that is not instrumented. A catch
    // whose value has no name notes that something was caught.
    const param = node['param'] as N | null;
    const noted = !this.notes || this.withDepth > 0 ? ''
      : param !== null && param.type === 'Identifier' ? `(${param['name'] as string})instanceof(${this.K})||${this.K}.c` : `${this.K}.c`;
    if (ctx === undefined) {
      // Module level: frames above the depth at which the module began.
      this.open(body.start + 1, this.lead([noted, `${this.K}.on&&${P}K&&${P}K(${held(1, this.w(body.start), `${P}D`)})`]), body.end - 1);
      return;
    }
    const w = this.w(body.start);
    const resume = ctx.suspends ? resumeCode(P, w, this.live) : '';
    this.open(body.start + 1, this.lead([noted, resume, `${P}t&&${P}C(${held(1, w, `${P}t`)})`]), body.end - 1);
  }

  /**
   * A throw statement notes its value and its place (the module's tag and
   * the statement's offset) as it throws, for the source line Node prints
   * above an uncaught exception (original/uncaught-line.ts): where a throw
   * happened is not otherwise visible to JavaScript. The value passes
   * through the key's holder, as an await's does (no register of the frame
   * is held while the program's expression runs), and the note is a call
   * after it, in the throw's own expression, where nothing of the program's
   * can name a function after it.
   */
  private throwNote(node: N): void {
    if (!this.notes || this.current() === null || this.withDepth > 0) return;
    const arg = node['argument'] as N;
    this.open(arg.start, '(', arg.end);
    this.close(arg.end, `)instanceof(${this.K})||${held(1, this.wa(arg), `${this.K}.t(${JSON.stringify(`${this.tag}:${node.start}`)})`)}`, arg.start);
    this.throwNotes += 2;
  }

  /** How many insertions the throw notes made (a module with nothing else needs no transform). */
  throwNotes = 0;

  /**
   * Whether the lines with inserted code get Node's mark, and throws and
   * catches their notes (transformSource): not in a live patch, nor in a
   * module with a source map of its own, whose lines Node prints from the
   * map where source maps are on (it checks the mark first) and which is
   * rarely its file's text (a loader's output) where they are off.
   */
  notes = false;
}

/** Whether the program's directive prologue has "use strict" (then none of its code can contain `with`). */
function useStrict(program: N): boolean {
  for (const st of program['body'] as N[]) {
    if (st.type !== 'ExpressionStatement' || typeof st['directive'] !== 'string') return false;
    if (st['directive'] === 'use strict') return true;
  }
  return false;
}

function prologueAt(program: N): { at: number; afterDirective: boolean } {
  let at = -1;
  for (const st of program['body'] as N[]) {
    if (st.type === 'ExpressionStatement' && typeof st['directive'] === 'string') at = st.end;
    else return at < 0 ? { at: st.start, afterDirective: false } : { at, afterDirective: true };
  }
  return { at, afterDirective: at >= 0 };
}

/**
 * Instruments `input`. Throws a SyntaxError when the source does not parse;
 * the caller then loads the file untouched and counts a warning.
 */
export function transformSource(input: TransformInput): TransformResult {
  const { code, format } = input;
  const program = parseModule(code, format) as unknown as N;
  const digest = sourceDigest(code);
  const tag = tagOfDigest(digest);
  const inst = new Instrumenter(code, program, tag, input.package === '', format === 'module' || useStrict(program), input.live === true, format !== 'module');
  const programMap = readProgramMap(code, input.filename, input.sourceMapFiles === true);
  inst.written = programMap;
  inst.keepNames = ESBUILD_NAME.test(code);
  inst.notes = input.live !== true && programMap === null;
  inst.walk(program, null);
  const sites = inst.names.length;
  // A module with no function still needs its prologue when its top level
  // catches (a try around calls): the frames a throw left above the
  // module's depth end there. Notes of its throws alone do not need it:
  // Node then prints the line above their exceptions itself.
  if (sites === 0 && inst.ins.count === inst.throwNotes) return { code, sites: 0, added: [] };
  inst.finishAsi();
  const positions: string[] = [];
  for (const off of inst.positions) {
    const [l, c] = position(inst.starts, off);
    positions.push(`${l}:${c}`);
  }
  const key = `${input.package}\u0000${input.file}\u0000${digest.toString('base64url').slice(0, 16)}`;
  // How V8 names the script in stack traces: a path for CommonJS, a URL for an ES module.
  const where = format === 'module' ? pathToFileURL(input.filename).href : input.filename;
  const P = inst.P;
  const K = JSON.stringify(keyGlobal());
  const G = inst.G;
  const global = G === `${P}G` ? `${G}=(0,{}.constructor.constructor)("return this")(),` : '';
  // The runtime is read through the key alone (shared/site-abi.ts): none
  // while no runtime runs in this thread (the key undeclared, a bare holder
  // made by a module that ran first, or `false` for the moment an attach
  // takes to install it).
  // Lines get the mark (below) where the notes are taken (Instrumenter,
  // notes); the runtime is told which.
  const marks = inst.notes;
  const prologue = `var ${global}${P}=typeof ${inst.K}==="object"&&${inst.K}&&${inst.K}.${RUNTIME_FIELD},${inst.B}=${P}?${P}.D(${JSON.stringify(key)},`
    + `${JSON.stringify(input.file)},${JSON.stringify(input.package)},${P}n,${JSON.stringify(tag)},${JSON.stringify(where)},${P}x,${marks ? 1 : 0}):-1,`
    + `${P}W=${P}&&${P}.W,${P}E=${P}&&${P}.E,${P}A=${P}&&${P}.A,${P}L=${P}&&${P}.L,${P}P=${P}&&${P}.P,`
    + `${P}U=${P}&&${P}.U,${P}C=${P}&&${P}.C,${P}S=${P}&&${P}.S,${P}R=${P}&&${P}.R,${P}K=${P}&&${P}.K,${P}D=${P}?${P}.F():0,`
    + `${P}Y=${P}&&${P}.Y,${P}Z=${P}&&${P}.Z,${P}Q=${P}&&${P}.Q,${P}N=${P}&&${P}.N,${P}T=${P}&&${P}.T,${P}X=${P}&&${P}.X,${P}k;`
    // Where no runtime runs, the key is a holder alone (the await and yield
    // wrappers pass their values through it, see suspension), with no
    // Symbol the program may have replaced: Function.prototype's one
    // symbol-keyed property is Symbol.hasInstance. Its parts are inherited,
    // as the key object's are, so that `delete (await x)`, which deletes
    // `K.v`, deletes nothing.
    + `typeof ${inst.K}==="undefined"&&${inst.O}.defineProperty(${G},${K},{value:${inst.O}.create(${inst.O}.defineProperty({get v(){var x=this.h;this.h=void 0;return x},w(){return this.v},t(){return this.v}},`
    + `${inst.O}.getOwnPropertySymbols(${inst.O}.getPrototypeOf(${inst.O}))[0],{value:function(x){this.h=x;return!1}})),writable:true});`
    // The runtime's PV and PI, compiled already (runtime.ts says why); a
    // runtime of an older jsftrace, installed first, has none.
    + `${P}&&${P}.I&&(${P}V=${P}.V,${P}I=${P}.I);`;
  const { at, afterDirective } = prologueAt(program);
  inst.ins.owner = -1;
  const head = (afterDirective ? ';' : '') + prologue;
  // Outside everything: the extent to the end of the source, above the top.
  inst.ins.open(at, head, code.length + 1, -1e9);
  // Node quotes the line of an uncaught exception's throw from the text it
  // compiled, unless the line holds this mark: on a line with inserted
  // code, jsftrace prints the original line itself
  // (original/uncaught-line.ts).
  if (marks) {
    const v8 = inst.starts;
    const needs = new Map<number, boolean>();
    for (const o of inst.rethrows) needs.set(position(v8, o)[0], true);
    inst.ins.markLines((o) => {
      const line = position(v8, o)[0];
      let need = needs.get(line);
      if (need === undefined) needs.set(line, need = !placesNothing(code.slice(v8[line - 1], v8[line] ?? code.length)));
      return need ? line : -1;
    }, NO_EXCEPTION_LINE, code);
  }
  const applied = inst.ins.apply(code);
  // Nothing is inserted before the first statement, and the prologue opens
  // before anything else inserted there; found by search should that change.
  const headAt = applied.code.startsWith(head, at) ? at : applied.code.indexOf(head);
  const copies: number[] = [];
  for (let i = 0; i < inst.copies.length; i += 4) {
    const ix = inst.copies[i]!;
    copies.push(applied.spanOf[ix]!, applied.inSpan[ix]! + inst.copies[i + 1]!, inst.copies[i + 2]!, position(inst.starts, inst.copies[i + 3]!)[1] - 1);
  }
  const spans = spanRecords(inst.starts, applied.spans);
  const sorted = sortedCopies(copies);
  // By span and place: the walk notes an outer await before the inner one that ends first.
  const records: number[][] = [];
  for (let i = 0; i < inst.suspensions.length; i += 4) {
    const ix = inst.suspensions[i]!;
    records.push([applied.spanOf[ix]!, applied.inSpan[ix]! + inst.suspensions[i + 1]!, inst.suspensions[i + 2]!, inst.suspensions[i + 3]!]);
  }
  const suspensions = records.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!).flat();
  const table = encodeTable(unitRecords(inst, applied.spans), spans, sorted, suspensions, inst.keptContinuations.sort((a, b) => a - b),
    inst.continuations.sort((a, b) => a - b), code.length);
  // The module's own source map, if it names one, made to fit the output.
  const body = carrySourceMap(code, applied.code, programMap, spans, sorted);
  // The table, where the prologue finds it (a hoisted declaration) and
  // only Function.prototype.toString reads it: in a comment, so that it
  // costs a scan at parse and no memory beyond the script's source.
  // Before it, the two functions long returns and `for await` loops call,
  // traced or not: declarations, so that they exist before the prologue
  // runs (an ES module's function called from a module it imports, in an
  // import cycle, runs before its own module's first line); the prologue
  // replaces them by the runtime's. PV carries a
  // value through a call; PI returns a value that cannot be written twice
  // (a call rather than an assignment to a local, which would name an
  // anonymous function: name-inference.ts), exiting the call when traced.
  const helpers = `function ${P}V(v){return v}function ${P}I(v,t){return t?${P}L(t,v):v}`;
  // The functions' names and positions, as the table: in a comment the
  // runtime reads through Function.prototype.toString, not on the first
  // line of the program, where Node quotes the prologue above an error
  // thrown there (a module's names run to tens of kilobytes).
  const sitesText = JSON.stringify([inst.names.join('\n'), positions.join(',')]).replace(/\*\//g, '*\\/');
  const tail = `${helpers}function ${P}n(){/*${sitesText}*/}function ${P}x(){/*${table}*/}`;
  const tailAt = body.length + 1;
  return { code: `${body}\n${tail}`, sites, added: [[headAt, headAt + head.length], [tailAt, tailAt + tail.length]] };
}

/** Copies in the order of their spans (then of their start). */
function sortedCopies(copies: number[]): number[] {
  const idx = Array.from({ length: copies.length / 4 }, (_, i) => i);
  idx.sort((a, b) => copies[a * 4]! - copies[b * 4]! || copies[a * 4 + 1]! - copies[b * 4 + 1]!);
  return idx.flatMap((i) => copies.slice(i * 4, i * 4 + 4));
}

/** Spans as the table records them: offset, length, 1-based line, 0-based column. */
function spanRecords(starts: Int32Array, spans: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < spans.length; i += 2) {
    const [line, col] = position(starts, spans[i]!);
    out.push(spans[i]!, spans[i + 1]!, line, col - 1);
  }
  return out;
}

/** Units as the table records them: start, olen, tlen, endIns, parent, site. */
function unitRecords(inst: Instrumenter, spans: number[]): number[] {
  const u = inst.units;
  const n = u.length / 4;
  // Inserted length before each span, to sum the spans inside a unit.
  const prefix = new Float64Array(spans.length / 2 + 1);
  for (let i = 0; i < spans.length; i += 2) prefix[i / 2 + 1] = prefix[i / 2]! + spans[i + 1]!;
  const firstAfter = (offset: number): number => {
    let lo = 0;
    let hi = spans.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (spans[mid * 2]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const inside = (owner: number, unit: number): boolean => {
    for (let o = owner; o >= 0; o = u[o * 4 + 2]!) if (o === unit) return true;
    return false;
  };
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = u[i * 4]!;
    const end = u[i * 4 + 1]!;
    const from = firstAfter(start);
    const to = firstAfter(end - 1);
    const endIns = inst.ins.ownedAt(end, (owner) => inside(owner, i));
    out.push(start, end - start, end - start + (prefix[to]! - prefix[from]!) + endIns, endIns, u[i * 4 + 2]!, u[i * 4 + 3]!);
  }
  return out;
}
