/**
 * The filter files: set_ftrace_filter (with its commands), set_ftrace_notrace,
 * set_graph_function, set_graph_notrace.
 *
 * Owns: the write grammar and the read-back text. Invariants:
 * - `>` starts the function list from empty, `>>` from the current one;
 *   the commands (probes) are kept across `>` (as ftrace: `echo >
 *   set_ftrace_filter` clears functions, not probes) and removed only by
 *   `!func:cmd` (or `!func:cmd:0`);
 * - a write is checked whole before anything changes: one bad word (no
 *   match, unknown command, a command in a notrace file) refuses it all,
 *   with the word's position for error_log;
 * - reading lists the functions the patterns select now, one per line in
 *   available_filter_functions order (so `N` there is line N here too),
 *   then the patterns kept for later as written (`func:mod:pkg` of packages
 *   not loaded yet, patterns given before the program loaded that select
 *   nothing yet), then the commands as `func:cmd:unlimited` or
 *   `func:cmd:count=N`;
 * - only the words of a write are checked for a match: patterns kept from
 *   before are not checked again.
 *
 * A function name has colons of its own (`file.js:name`): a word is a
 * command when its last part (or the one before a count) is a command's
 * name. A function that ends in a command's name is selected with a glob
 * (`file.js:traceof[f]`); docs/control.md says so.
 */

import {
  displayName, instance, MATCH_ALL, parseToken, record, recordCount, selectedIds, selectsAny, tokenMatches, type FilterToken,
} from '../../core/index.js';
import {
  graphFilterTokens, isBooting, probeEntries, setGraphFunction, setGraphNotrace, setTracerFilter, tracerFilterTokens, updateProbes,
} from '../../tracers/tracers.js';
import { PROBE_COMMANDS, PROBE_COUNT_MAX, probeRoom, type ProbeCommand, type ProbeEntry } from '../../tracers/probes.js';
import { JsftraceError } from '../../shared/errors.js';
import { failAt, parseUintAt, wordsAt, type ControlFile } from '../file.js';

const COMMAND = new RegExp(`^(!?)(.+):(${PROBE_COMMANDS.join('|')})(?::([^:]*))?$`);

interface Cmd {
  negate: boolean;
  glob: string;
  command: ProbeCommand;
  /** null: unlimited (no parameter). */
  count: number | null;
  pos: number;
}

function parseCommand(word: string, pos: number, file: string): Cmd | null {
  const m = COMMAND.exec(word);
  if (m === null) return null;
  const [, neg = '', glob = '', command = '', param] = m;
  let count: number | null = null;
  if (param !== undefined) {
    // Counts live in int32 words of the probe table: a larger one is refused, not wrapped.
    count = parseUintAt(param, file, pos + word.length - param.length, PROBE_COUNT_MAX, `a count for ${command}`);
  }
  return { negate: neg === '!', glob, command: command as ProbeCommand, count, pos };
}

/** Record ids a token selects now (its own `!` ignored). */
function selected(tok: FilterToken): number[] {
  return selectedIds(instance(), tok);
}

function parseChecked(word: string, pos: number, file: string): FilterToken {
  try {
    return parseToken(word);
  } catch (e) {
    return failAt(e instanceof JsftraceError ? e.code : 'EINVAL', `${file}: ${(e as Error).message}`, pos);
  }
}

/** Which of the patterns each word is, checked; nothing is applied here. */
function parseWrite(text: string, file: string, commandsAllowed: boolean): { patterns: string[]; commands: Cmd[] } {
  const patterns: string[] = [];
  const commands: Cmd[] = [];
  for (const { word, pos } of wordsAt(text)) {
    const c = parseCommand(word, pos, file);
    if (c !== null) {
      if (!commandsAllowed) failAt('EINVAL', `${file}: commands (${c.command}) go to set_ftrace_filter only`, pos);
      if (isBooting()) failAt('EINVAL', `${file}: commands attach to loaded functions; give them once the program runs`, pos);
      const tok = parseChecked(c.glob, pos + (c.negate ? 1 : 0), file);
      if (!selectsAny(instance(), tok)) failAt('EINVAL', `${file}: "${c.glob}" matches no function`, pos);
      commands.push(c);
      continue;
    }
    const tok = parseChecked(word, pos, file);
    // The core refuses a pattern that selects nothing; checked here too, to point at the word.
    if (!isBooting() && !isPending(tok) && !selectsAny(instance(), tok)) {
      failAt('EINVAL', `${file}: "${word}" matches no function`, pos);
    }
    patterns.push(word);
  }
  return { patterns, commands };
}

/** A `:mod:` pattern naming no package loaded yet: kept for later, listed as written. */
function isPending(tok: FilterToken): boolean {
  const m = tok.mod;
  if (m === null || m.negate || m.match.kind === MATCH_ALL) return false;
  const inst = instance();
  const n = recordCount(inst);
  for (let id = 0; id < n; id++) {
    const p = record(inst, id).package;
    if (p !== '' && m.match.test(p)) return false;
  }
  return true;
}

/** The functions the patterns select, then the pending `:mod:` ones; `empty` when none adds. */
function listText(patterns: readonly string[], empty: string): string {
  const toks = patterns.map((p) => parseToken(p));
  if (!toks.some((t) => !t.negate)) return empty;
  const inst = instance();
  const n = recordCount(inst);
  let s = '';
  for (let id = 0; id < n; id++) {
    const r = record(inst, id);
    let v = false;
    for (const t of toks) if (tokenMatches(t, id, r.name, r.package)) v = !t.negate;
    if (v) s += `${displayName(inst, id)}\n`;
  }
  // Kept for later: a `:mod:` of a package not loaded yet, or a pattern given
  // before the program loaded that selects nothing yet (listed as written).
  for (const t of toks) if (!t.negate && (isPending(t) || !selectsAny(inst, t))) s += `${t.source}\n`;
  return s;
}

function probeText(entries: readonly ProbeEntry[]): string {
  const inst = instance();
  return entries.map((e) => `${displayName(inst, e.site)}:${e.command}:${e.count < 0 ? 'unlimited' : `count=${e.count}`}\n`).join('');
}

/** What `commands` add and remove, as (site, command) pairs. */
function planCommands(commands: readonly Cmd[]): { add: ProbeEntry[]; remove: { site: number; command: ProbeCommand }[] } {
  const add: ProbeEntry[] = [];
  const remove: { site: number; command: ProbeCommand }[] = [];
  for (const c of commands) {
    for (const site of selected(parseToken(c.glob))) {
      if (c.negate) remove.push({ site, command: c.command });
      else add.push({ site, command: c.command, count: c.count ?? -1 });
    }
  }
  return { add, remove };
}

const ALL = '#### all functions enabled ####\n';
const NONE = '#### no functions disabled ####\n';

function ftraceFilterFile(notrace: boolean): ControlFile {
  const file = notrace ? 'set_ftrace_notrace' : 'set_ftrace_filter';
  const update = async (text: string, append: boolean): Promise<void> => {
    const { patterns, commands } = parseWrite(text, file, !notrace);
    const now = tracerFilterTokens();
    const mine = notrace ? now.notrace : now.filter;
    const next = append ? [...mine, ...patterns] : patterns;
    const plan = planCommands(commands);
    // Room for the new commands is checked before anything changes.
    const live = probeEntries();
    const fresh = plan.add.filter((e) => !live.some((x) => x.site === e.site && x.command === e.command));
    if (new Set(fresh.map((e) => `${e.site}:${e.command}`)).size > probeRoom()) {
      failAt('ENOSPC', `${file}: no room for ${fresh.length} more commands (${probeRoom()} free)`, commands[0]!.pos);
    }
    // The words were checked above (with their positions); kept ones are not checked again.
    if (notrace) await setTracerFilter(now.filter, next, []);
    else await setTracerFilter(next, now.notrace, []);
    if (commands.length === 0) return;
    try {
      await updateProbes(plan.add, plan.remove);
    } catch (e) {
      await setTracerFilter(now.filter, now.notrace, []);
      throw e;
    }
  };
  return {
    read: () => {
      const t = tracerFilterTokens();
      if (notrace) return listText(t.notrace, NONE);
      // As ftrace's t_start: the "all functions" line (or the functions), then the probes.
      return listText(t.filter, ALL) + probeText(probeEntries());
    },
    write: (text) => update(text, false),
    append: (text) => update(text, true),
  };
}

function graphFilterFile(notrace: boolean): ControlFile {
  const file = notrace ? 'set_graph_notrace' : 'set_graph_function';
  const update = async (text: string, append: boolean): Promise<void> => {
    const { patterns } = parseWrite(text, file, false);
    const now = graphFilterTokens();
    const mine = notrace ? now.notrace : now.functions;
    const next = append ? [...mine, ...patterns] : patterns;
    await (notrace ? setGraphNotrace(next, []) : setGraphFunction(next, []));
  };
  return {
    read: () => {
      const t = graphFilterTokens();
      return notrace ? listText(t.notrace, NONE) : listText(t.functions, ALL);
    },
    write: (text) => update(text, false),
    append: (text) => update(text, true),
  };
}

export const filterFiles: Record<string, ControlFile> = {
  set_ftrace_filter: ftraceFilterFile(false),
  set_ftrace_notrace: ftraceFilterFile(true),
  set_graph_function: graphFilterFile(false),
  set_graph_notrace: graphFilterFile(true),
};
