/**
 * ftrace's glob grammar for function filters.
 *
 * Owns: parsing one filter token and matching it against a record. The
 * classes follow the kernel's filter_parse_regex: `abc` (whole name),
 * `abc*` (prefix), `*abc` (suffix), `*abc*` (substring), and anything else
 * with `*`, `?`, `[...]` or `\` is a full glob. A leading `!` removes
 * instead of adds; a leading digit selects by 1-based index into
 * available_filter_functions; `:mod:<glob>` restricts by package (a leading
 * `!` in the package glob negates it, an empty glob is every package).
 * Invariants: `*` matches any run of characters including `/` and `:`, as
 * in the kernel, so `src/*` selects everything under src/; matching takes
 * at most (name length + 1) x (glob elements + 2) steps, whatever the glob
 * (the kernel's one-backtrack-point glob_match, never a regular
 * expression, whose backtracking is exponential in the number of stars).
 */

import { fail } from '../shared/errors.js';

export const MATCH_FULL = 0;
export const MATCH_FRONT = 1;
export const MATCH_END = 2;
export const MATCH_MIDDLE = 3;
export const MATCH_GLOB = 4;
export const MATCH_INDEX = 5;
export const MATCH_ALL = 6;

/** The largest index a token may name (record ids are int32). */
const MAX_INDEX = 0x7fffffff;

export type MatchKind = typeof MATCH_FULL | typeof MATCH_FRONT | typeof MATCH_END | typeof MATCH_MIDDLE
  | typeof MATCH_GLOB | typeof MATCH_INDEX | typeof MATCH_ALL;

export interface Matcher {
  readonly kind: MatchKind;
  /** The text to compare (without the `*`s of the simple classes). */
  readonly text: string;
  readonly test: (s: string) => boolean;
}

export interface FilterToken {
  /** The token as written, for error messages and read-back. */
  readonly source: string;
  /** `!`: remove matches. */
  readonly negate: boolean;
  readonly func: Matcher;
  /** Package restriction, or null when no `:mod:` was given. */
  readonly mod: { readonly negate: boolean; readonly match: Matcher } | null;
  /** For MATCH_INDEX: the 0-based record id. */
  readonly index: number;
}

// A compiled full glob: one op per pattern element. Literals and `?` are
// one op each; a class keeps its spans as [lo, hi] code-unit pairs.
const G_LIT = 0;
const G_ANY = 1;
const G_STAR = 2;
const G_CLASS = 3;

interface GlobOp {
  readonly op: typeof G_LIT | typeof G_ANY | typeof G_STAR | typeof G_CLASS;
  /** G_LIT: the code unit. */
  readonly c: number;
  /** G_CLASS: lo, hi pairs; `negate` for `[!...]`. */
  readonly spans: readonly number[];
  readonly negate: boolean;
}

interface GlobProgram {
  readonly ops: readonly GlobOp[];
  /** Elements that consume exactly one character: a shorter name cannot match. */
  readonly minLength: number;
}

/** Loop steps taken by full-glob matching in this thread (a bound the tests check). */
let steps = 0;

/** The steps full-glob matching has taken in this thread so far. */
export function globSteps(): number {
  return steps;
}

function compileProgram(glob: string): GlobProgram {
  const ops: GlobOp[] = [];
  const NONE: readonly number[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charCodeAt(i);
    if (c === 0x2a /* * */) {
      // Runs of stars are one star: the same language, and no extra backtracking state.
      if (ops.length === 0 || ops[ops.length - 1]!.op !== G_STAR) ops.push({ op: G_STAR, c: 0, spans: NONE, negate: false });
    } else if (c === 0x3f /* ? */) {
      ops.push({ op: G_ANY, c: 0, spans: NONE, negate: false });
    } else if (c === 0x5c /* \ */) {
      i++;
      if (i >= glob.length) fail('EINVAL', `glob ${JSON.stringify(glob)} ends with a lone backslash`);
      ops.push({ op: G_LIT, c: glob.charCodeAt(i), spans: NONE, negate: false });
    } else if (c === 0x5b /* [ */) {
      // As the kernel's glob_match: `!` right after `[` negates; the first
      // member (after any `!`) may be `]` itself; `a-b` is a range unless
      // the `-` is followed by the closing `]`.
      let j = i + 1;
      const negate = glob.charCodeAt(j) === 0x21 /* ! */;
      if (negate) j++;
      const spans: number[] = [];
      let first = true;
      for (;;) {
        if (j >= glob.length) fail('EINVAL', `glob ${JSON.stringify(glob)} has an unclosed [`);
        const a = glob.charCodeAt(j);
        if (a === 0x5d /* ] */ && !first) break;
        first = false;
        let b = a;
        if (glob.charCodeAt(j + 1) === 0x2d /* - */ && j + 2 < glob.length && glob.charCodeAt(j + 2) !== 0x5d) {
          b = glob.charCodeAt(j + 2);
          if (b < a) fail('EINVAL', `glob ${JSON.stringify(glob)}: range ${glob.slice(j, j + 3)} is out of order`);
          j += 2;
        }
        spans.push(a, b);
        j++;
      }
      ops.push({ op: G_CLASS, c: 0, spans, negate });
      i = j;
    } else {
      ops.push({ op: G_LIT, c, spans: NONE, negate: false });
    }
  }
  let minLength = 0;
  for (const o of ops) if (o.op !== G_STAR) minLength++;
  return { ops, minLength };
}

function classHas(o: GlobOp, c: number): boolean {
  const sp = o.spans;
  let hit = false;
  for (let k = 0; k < sp.length; k += 2) if (sp[k]! <= c && c <= sp[k + 1]!) hit = true;
  return hit !== o.negate;
}

/**
 * The kernel's glob_match: a single backtrack point, the last `*` seen.
 * Since `*` matches any run, retrying from the last star alone is complete,
 * and the work is at most (name length + 1) x (pattern elements + 1) steps:
 * no input makes it exponential, unlike a backtracking regular expression.
 */
function runProgram(p: GlobProgram, s: string): boolean {
  if (s.length < p.minLength) return false;
  const ops = p.ops;
  const n = s.length;
  const m = ops.length;
  let pi = 0;
  let si = 0;
  let backPi = -1;
  let backSi = 0;
  let k = 0;
  for (;;) {
    k++;
    if (pi < m) {
      const o = ops[pi]!;
      if (o.op === G_STAR) {
        if (pi + 1 === m) { steps += k; return true; } // a trailing star matches the rest
        backPi = ++pi;
        backSi = si;
        continue;
      }
      if (si < n && (o.op === G_ANY || (o.op === G_LIT ? s.charCodeAt(si) === o.c : classHas(o, s.charCodeAt(si))))) {
        pi++;
        si++;
        continue;
      }
    } else if (si === n) {
      steps += k;
      return true;
    }
    // Mismatch: try again from the last star, one character later in the
    // name; with the name used up, a later start cannot do better.
    if (backPi < 0 || si >= n) { steps += k; return false; }
    pi = backPi;
    si = ++backSi;
  }
}

/** Classifies and compiles one glob, as filter_parse_regex does. */
export function compileGlob(glob: string): Matcher {
  if (glob === '' || glob === '*') return { kind: MATCH_ALL, text: '', test: () => true };
  if (/[?[\\]/.test(glob)) {
    const p = compileProgram(glob);
    return { kind: MATCH_GLOB, text: glob, test: (s) => runProgram(p, s) };
  }
  const lead = glob.startsWith('*');
  const trail = glob.endsWith('*') && glob.length > 1;
  const inner = glob.slice(lead ? 1 : 0, trail ? -1 : undefined);
  if (inner.includes('*')) {
    const p = compileProgram(glob);
    return { kind: MATCH_GLOB, text: glob, test: (s) => runProgram(p, s) };
  }
  if (lead && trail) return { kind: MATCH_MIDDLE, text: inner, test: (s) => s.includes(inner) };
  if (lead) return { kind: MATCH_END, text: inner, test: (s) => s.endsWith(inner) };
  if (trail) return { kind: MATCH_FRONT, text: inner, test: (s) => s.startsWith(inner) };
  return { kind: MATCH_FULL, text: glob, test: (s) => s === glob };
}

/**
 * Parses one whitespace-free token: `[!]glob[:mod:[!]pkgglob]` or `[!]N`.
 * Commands other than `mod` (traceon, traceoff, ...) belong to the control
 * layer, which strips them before calling this.
 */
export function parseToken(source: string): FilterToken {
  if (source.length === 0) fail('EINVAL', 'empty filter token');
  let s = source;
  let negate = false;
  if (s.startsWith('!')) {
    negate = true;
    s = s.slice(1);
  }
  let mod: FilterToken['mod'] = null;
  const at = s.indexOf(':mod:');
  if (at >= 0) {
    let pkg = s.slice(at + 5);
    s = s.slice(0, at);
    let modNeg = false;
    if (pkg.startsWith('!')) {
      modNeg = true;
      pkg = pkg.slice(1);
    }
    mod = { negate: modNeg, match: compileGlob(pkg) };
  }
  if (mod === null && /^[0-9]+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > MAX_INDEX) fail('EINVAL', `index ${s} is out of range (indices run from 1 to ${MAX_INDEX})`);
    return { source, negate, func: { kind: MATCH_INDEX, text: s, test: () => false }, mod: null, index: n - 1 };
  }
  return { source, negate, func: compileGlob(s), mod, index: -1 };
}

/**
 * Whether `tok` selects the record (ignoring its own `!`). A blank (or `*`)
 * package glob selects code that belongs to a package, and with `!` code
 * that does not, as ftrace_match_record does for modules.
 */
export function tokenMatches(tok: FilterToken, id: number, name: string, pkg: string): boolean {
  if (tok.func.kind === MATCH_INDEX) return id === tok.index;
  if (!tok.func.test(name)) return false;
  const m = tok.mod;
  if (m === null) return true;
  const inPkg = m.match.kind === MATCH_ALL ? pkg !== '' : pkg !== '' && m.match.test(pkg);
  return inPkg !== m.negate;
}
