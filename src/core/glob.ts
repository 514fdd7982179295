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
 * Invariant: `*` matches any run of characters including `/` and `:`, as in
 * the kernel, so `src/*` selects everything under src/.
 */

import { fail } from '../shared/errors.js';

export const MATCH_FULL = 0;
export const MATCH_FRONT = 1;
export const MATCH_END = 2;
export const MATCH_MIDDLE = 3;
export const MATCH_GLOB = 4;
export const MATCH_INDEX = 5;
export const MATCH_ALL = 6;

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

function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '\\') {
      i++;
      if (i >= glob.length) fail('EINVAL', `glob ${JSON.stringify(glob)} ends with a lone backslash`);
      re += escapeRe(glob[i]!);
    } else if (c === '[') {
      // As the kernel's glob_match: `!` right after `[` negates, and the
      // first member (after any `!`) may be `]` itself.
      let start = i + 1;
      const neg = glob[start] === '!';
      if (neg) start++;
      const close = glob.indexOf(']', start + 1);
      if (close < 0) fail('EINVAL', `glob ${JSON.stringify(glob)} has an unclosed [`);
      const body = glob.slice(start, close);
      re += '[' + (neg ? '^' : '') + body.replace(/[\\\]^]/g, (m) => '\\' + m) + ']';
      i = close;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(re + '$');
  } catch {
    fail('EINVAL', `glob ${JSON.stringify(glob)} is not valid`);
  }
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? '\\' + c : c;
}

/** Classifies and compiles one glob, as filter_parse_regex does. */
export function compileGlob(glob: string): Matcher {
  if (glob === '' || glob === '*') return { kind: MATCH_ALL, text: '', test: () => true };
  if (/[?[\\]/.test(glob)) {
    const re = globToRegExp(glob);
    return { kind: MATCH_GLOB, text: glob, test: (s) => re.test(s) };
  }
  const lead = glob.startsWith('*');
  const trail = glob.endsWith('*') && glob.length > 1;
  const inner = glob.slice(lead ? 1 : 0, trail ? -1 : undefined);
  if (inner.includes('*')) {
    const re = globToRegExp(glob);
    return { kind: MATCH_GLOB, text: glob, test: (s) => re.test(s) };
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
    if (n < 1) fail('EINVAL', `index ${s} is out of range (indices start at 1)`);
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
