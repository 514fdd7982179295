/**
 * Which files get sites: include and exclude rules.
 *
 * Owns: the scope rules' syntax, where they come from (JSFTRACE_INCLUDE,
 * JSFTRACE_EXCLUDE, a `jsftrace.config.json`), and the decision for one
 * file. Invariant: the decision is a pure function of the rules and the
 * file's identity (packages.ts), so the loader thread and every module
 * thread decide alike; jsftrace's own code is out of scope whatever the
 * rules say.
 *
 * A rule is one token of ftrace's filter grammar (core/glob.ts) read over
 * files instead of functions: `<file-glob>[:mod:<package-glob>]`, where the
 * file glob is matched against the file as site names show it (relative to
 * its package or program root, '/' separators) and `*` crosses '/'.
 * `src/*` is every file under src/ of the program and of any package;
 * `:mod:lodash` is all of lodash; `:mod:` is every package, so `:mod:` in
 * the exclude list keeps sites to the program's own code. A file is
 * in scope when no positive include rule exists or one matches, no `!` rule
 * of the include list matches, and no exclude rule matches. Token lists in
 * the environment are separated by commas or whitespace.
 *
 * The config file is the first `jsftrace.config.json` found from the cwd
 * upwards (or JSFTRACE_CONFIG, a path); it may hold other sections for
 * other layers, and this layer reads only:
 *
 *   { "instrument": { "include": ["src/*"], "exclude": ["*.min.js", ":mod:lodash"] } }
 *
 * An environment variable that is set replaces the list of the same kind
 * from the file (so one run can override the file without editing it).
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MATCH_INDEX, parseToken, tokenMatches, type FilterToken } from '../core/glob.js';
import { fail } from '../shared/errors.js';
import { isOwnFile, type FileIdentity } from './packages.js';
import { workingDir } from '../shared/working-dir.js';

export interface ScopeConfig {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** Where the rules came from, for messages: file path and/or env names. */
  readonly origin: string;
}

export interface Scope {
  readonly config: ScopeConfig;
  /** Whether the file should get sites. */
  covers(id: FileIdentity, filename: string): boolean;
}

export const CONFIG_FILE = 'jsftrace.config.json';

function splitList(s: string): string[] {
  return s.split(/[\s,]+/).filter((t) => t !== '');
}

function stringList(v: unknown, where: string): string[] {
  if (v === undefined) return [];
  if (typeof v === 'string') return splitList(v);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    fail('EINVAL', `${where} must be an array of strings`);
  }
  return (v as string[]).flatMap(splitList);
}

/** Finds the config file: JSFTRACE_CONFIG, else the first one from `cwd` up. */
export function findConfigFile(cwd: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const explicit = env['JSFTRACE_CONFIG'];
  if (explicit !== undefined && explicit !== '') {
    const p = resolve(cwd, explicit);
    if (!existsSync(p)) fail('ENOENT', `JSFTRACE_CONFIG names ${p}, which does not exist`);
    return p;
  }
  let d = resolve(cwd);
  for (;;) {
    const p = join(d, CONFIG_FILE);
    if (existsSync(p)) return p;
    const up = dirname(d);
    if (up === d) return null;
    d = up;
  }
}

/**
 * Reads the rules from the environment and the config file. Throws EINVAL
 * for a file that does not parse, an unknown key in its "instrument"
 * section, or a malformed rule: a scope that silently matches nothing is
 * the failure users of other tools complain about most.
 */
export function readScopeConfig(cwd: string = workingDir(), env: NodeJS.ProcessEnv = process.env): ScopeConfig {
  let include: string[] = [];
  let exclude: string[] = [];
  const origins: string[] = [];
  const file = findConfigFile(cwd, env);
  if (file !== null) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      fail('EINVAL', `${file}: ${(e as Error).message}`);
    }
    const section = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)['instrument'] : undefined;
    if (section !== undefined) {
      if (typeof section !== 'object' || section === null || Array.isArray(section)) {
        fail('EINVAL', `${file}: "instrument" must be an object`);
      }
      for (const k of Object.keys(section)) {
        if (k !== 'include' && k !== 'exclude') fail('EINVAL', `${file}: unknown key "instrument.${k}" (expected include, exclude)`);
      }
      include = stringList((section as Record<string, unknown>)['include'], `${file}: instrument.include`);
      exclude = stringList((section as Record<string, unknown>)['exclude'], `${file}: instrument.exclude`);
      origins.push(file);
    }
  }
  const ei = env['JSFTRACE_INCLUDE'];
  if (ei !== undefined) { include = splitList(ei); origins.push('JSFTRACE_INCLUDE'); }
  const ee = env['JSFTRACE_EXCLUDE'];
  if (ee !== undefined) { exclude = splitList(ee); origins.push('JSFTRACE_EXCLUDE'); }
  const config = { include, exclude, origin: origins.join(', ') || 'defaults' };
  compileScope(config); // validate now, where the error can be shown
  return config;
}

function parseRule(t: string, list: 'include' | 'exclude', origin: string): FilterToken {
  let tok: FilterToken;
  try {
    tok = parseToken(t);
  } catch (e) {
    fail('EINVAL', `scope rule ${JSON.stringify(t)} (${origin}): ${(e as Error).message}`);
  }
  if (tok.func.kind === MATCH_INDEX) {
    fail('EINVAL', `scope rule ${JSON.stringify(t)} (${origin}): an index selects functions, not files; write [${t[0]}]${t.slice(1)} for a file of that name`);
  }
  if (list === 'exclude' && tok.negate) {
    fail('EINVAL', `scope rule ${JSON.stringify(t)} (${origin}): "!" has no meaning in an exclude list`);
  }
  return tok;
}

export function compileScope(config: ScopeConfig): Scope {
  const inc = config.include.map((t) => parseRule(t, 'include', config.origin));
  const exc = config.exclude.map((t) => parseRule(t, 'exclude', config.origin));
  const positive = inc.filter((t) => !t.negate);
  const negative = inc.filter((t) => t.negate);
  return {
    config,
    covers(id, filename) {
      if (isOwnFile(filename, id.package)) return false;
      if (positive.length > 0 && !positive.some((t) => tokenMatches(t, -1, id.file, id.package))) return false;
      if (negative.some((t) => tokenMatches(t, -1, id.file, id.package))) return false;
      return !exc.some((t) => tokenMatches(t, -1, id.file, id.package));
    },
  };
}
