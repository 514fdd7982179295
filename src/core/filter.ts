/**
 * An ops' filter and notrace sets (ftrace's filter and notrace hashes).
 *
 * Owns: the token lists, their evaluation against a record, their text form
 * in shared memory, and the "matches nothing" check. Invariants:
 * - covered = (filter has no adding token, or the last token that matches
 *   the record adds it) and not (the last notrace token that matches adds
 *   it): an empty filter means every function and notrace wins, as in ftrace;
 * - sets are kept as patterns, not as lists of sites, so a function defined
 *   after the filter was set (a module loaded later) is covered when its
 *   name matches. This differs from the kernel, whose hashes hold addresses
 *   and only `:mod:` is cached for modules not yet loaded; JavaScript loads
 *   code at any time, so patterns are the useful reading (docs/design.md);
 * - a token that matches no defined function is refused with EINVAL, except
 *   one whose `:mod:` names no package loaded yet, which is kept for later
 *   (the kernel's cached `:mod:`).
 */

import { fail } from '../shared/errors.js';
import { MATCH_ALL, MATCH_INDEX, parseToken, tokenMatches, type FilterToken } from './glob.js';
import { record, recordCount } from './records.js';
import type { Instance } from './instance.js';

export class TokenList {
  readonly tokens: readonly FilterToken[];
  /** True when some token adds (is not `!`). */
  readonly adds: boolean;

  constructor(tokens: readonly FilterToken[]) {
    this.tokens = tokens;
    this.adds = tokens.some((t) => !t.negate);
  }

  static parse(sources: readonly string[]): TokenList {
    return new TokenList(sources.map(parseToken));
  }

  get sources(): string[] {
    return this.tokens.map((t) => t.source);
  }

  /** The last matching token's verdict, or `none` when no token matches. */
  verdict(id: number, name: string, pkg: string, none: boolean): boolean {
    let v = none;
    const ts = this.tokens;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      if (tokenMatches(t, id, name, pkg)) v = !t.negate;
    }
    return v;
  }
}

export class FilterPair {
  readonly filter: TokenList;
  readonly notrace: TokenList;

  constructor(filter: TokenList, notrace: TokenList) {
    this.filter = filter;
    this.notrace = notrace;
  }

  static readonly EMPTY = new FilterPair(new TokenList([]), new TokenList([]));

  /** Whether an ops with this pair covers the record. */
  covers(id: number, name: string, pkg: string): boolean {
    const inFilter = this.filter.adds ? this.filter.verdict(id, name, pkg, false) : true;
    return inFilter && !this.notrace.verdict(id, name, pkg, false);
  }

  /** "All functions" in ftrace's words: no adding token in the filter. */
  get allFunctions(): boolean {
    return !this.filter.adds;
  }

  serialize(): string {
    return JSON.stringify({ f: this.filter.sources, n: this.notrace.sources });
  }

  static deserialize(text: string): FilterPair {
    if (text === '') return FilterPair.EMPTY;
    const o = JSON.parse(text) as { f: string[]; n: string[] };
    return new FilterPair(TokenList.parse(o.f), TokenList.parse(o.n));
  }
}

/**
 * Parses `patterns` (strings or whitespace-separated lists) and refuses any
 * token that selects no defined function, unless `allowUnmatched` (a filter
 * given before the program loads, as ftrace's boot-time ftrace_filter=).
 * Nothing is changed on error.
 */
export function parsePatterns(inst: Instance, patterns: string | readonly string[], allowUnmatched = false): FilterToken[] {
  const list = typeof patterns === 'string' ? [patterns] : patterns;
  if (!Array.isArray(list) && typeof patterns !== 'string') fail('EINVAL', 'patterns must be a string or an array of strings');
  const words: string[] = [];
  for (const p of list) {
    if (typeof p !== 'string') fail('EINVAL', `pattern ${String(p)} is not a string`);
    for (const w of p.split(/\s+/)) if (w !== '') words.push(w);
  }
  const tokens = words.map(parseToken);
  if (allowUnmatched) return tokens;
  const n = recordCount(inst);
  const packages = new Set<string>();
  for (let id = 0; id < n; id++) packages.add(record(inst, id).package);
  for (const t of tokens) {
    if (t.func.kind === MATCH_INDEX) {
      if (t.index >= n) fail('EINVAL', `index ${t.index + 1} is beyond the ${n} functions in available_filter_functions`);
      continue;
    }
    if (t.mod !== null && !t.mod.negate && t.mod.match.kind !== MATCH_ALL) {
      const m = t.mod;
      let anyPkg = false;
      for (const p of packages) if (p !== '' && m.match.test(p)) { anyPkg = true; break; }
      if (!anyPkg) continue; // kept for a package not loaded yet
    }
    if (!selectsAny(inst, t)) fail('EINVAL', `${JSON.stringify(t.source)} matches no function`);
  }
  return tokens;
}

/** The ids of the defined functions `tok` selects (its own `!` ignored), in id order. */
export function selectedIds(inst: Instance, tok: FilterToken): number[] {
  const n = recordCount(inst);
  const out: number[] = [];
  for (let id = 0; id < n; id++) {
    const r = record(inst, id);
    if (tokenMatches(tok, id, r.name, r.package)) out.push(id);
  }
  return out;
}

/** Whether `tok` selects any defined function (its own `!` ignored). */
export function selectsAny(inst: Instance, tok: FilterToken): boolean {
  const n = recordCount(inst);
  for (let id = 0; id < n; id++) {
    const r = record(inst, id);
    if (tokenMatches(tok, id, r.name, r.package)) return true;
  }
  return false;
}
