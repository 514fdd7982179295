/**
 * The filter files: set_ftrace_filter (with its commands), set_ftrace_notrace,
 * set_graph_function, set_graph_notrace.
 *
 * Owns: the write grammar and the read-back text. Invariants:
 * - `>` starts the function list from empty, `>>` from the current one;
 *   a `!` word drops the earlier adding patterns it names exactly, so that
 *   `f` then `!f` is the empty filter again (combine, below);
 * - the commands (probes) are kept across `>` (as ftrace: `echo >
 *   set_ftrace_filter` clears functions, not probes); a command written
 *   with a count part and one written without are two kinds, both kept and
 *   listed, removed only by `!func:cmd` (the uncounted kind) and
 *   `!func:cmd:<anything>` (the counted kind), as trace_functions.c's
 *   two probe ops;
 * - a write is checked whole before anything changes: one bad word (no
 *   match, unknown command, a command in a notrace file) refuses it all,
 *   with the word's position for error_log;
 * - reading lists the functions the patterns select now, one per line in
 *   available_filter_functions order (so `N` there is line N here too),
 *   then the patterns kept for later as written (`func:mod:pkg` of packages
 *   not loaded yet, patterns given before the program loaded that select
 *   nothing yet), then the commands as `func:cmd:unlimited` (uncounted)
 *   or `func:cmd:count=N` (counted);
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
import { failAt, parseCountAt, wordsAt, type ControlFile } from '../file.js';

/**
 * A command word. Adding: `glob:cmd[:count]`, the count (if any) a part
 * without colons. Removing: `!glob:cmd[:anything]`, where, as in the
 * kernel's ftrace_trace_probe_callback, the part after the command is not
 * parsed at all: its presence alone picks the counted form (the selftests'
 * reset_ftrace_filter removes `f:cmd:count=3` by writing `!f:cmd:count=3`).
 * An empty glob when removing (`!:traceoff`) means every function, as the
 * kernel's.
 */
const COMMAND = new RegExp(`^(?:!(.*):(${PROBE_COMMANDS.join('|')})(:.*)?|(.+):(${PROBE_COMMANDS.join('|')})(?::([^:]*))?)$`);

interface Cmd {
  negate: boolean;
  glob: string;
  command: ProbeCommand;
  /** The kind: written with a count part (the kernel's `*_count_probe_ops`); dump always is. */
  counted: boolean;
  /** The count an added entry starts with; -1: unlimited. */
  count: number;
  pos: number;
}

function parseCommand(word: string, pos: number, file: string): Cmd | null {
  const m = COMMAND.exec(word);
  if (m === null) return null;
  if (m[2] !== undefined) {
    const command = m[2] as ProbeCommand;
    return { negate: true, glob: m[1]!, command, counted: command === 'dump' || m[3] !== undefined, count: -1, pos };
  }
  const command = m[5] as ProbeCommand;
  const param = m[6];
  // dump always counts 1, whatever was written (ftrace_dump_callback passes "1": "Only dump once").
  if (command === 'dump') return { negate: false, glob: m[4]!, command, counted: true, count: 1, pos };
  // An empty count is the counted form with the kernel's default count, -1: no limit.
  let count = -1;
  if (param !== undefined && param !== '') {
    // Counts live in int32 words of the probe table: a larger one is refused, not wrapped.
    count = parseCountAt(param, file, pos + word.length - param.length, PROBE_COUNT_MAX, `a count for ${command}`);
  }
  return { negate: false, glob: m[4]!, command, counted: param !== undefined, count, pos };
}

/** How a probe kind reads in messages: `traceoff` or `traceoff:<count>`. */
function kindName(c: { command: ProbeCommand; counted: boolean }): string {
  return c.counted && c.command !== 'dump' ? `${c.command}:<count>` : c.command;
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
  // The graph files take plain globs: the kernel's ftrace_graph_set_hash has
  // no `:mod:` command, so `f:mod:m` is a glob that matches no function.
  const graph = file.startsWith('set_graph_');
  const patterns: string[] = [];
  const commands: Cmd[] = [];
  for (const { word, pos } of wordsAt(text)) {
    const c = parseCommand(word, pos, file);
    if (c !== null) {
      if (!commandsAllowed) failAt('EINVAL', `${file}: commands (${c.command}) go to set_ftrace_filter only`, pos);
      if (isBooting()) failAt('EINVAL', `${file}: commands attach to loaded functions; give them once the program runs`, pos);
      // A removal's glob is matched against its kind's functions when the write is planned.
      if (c.negate) {
        if (c.glob !== '') parseChecked(c.glob, pos + 1, file);
      } else if (!selectsAny(instance(), parseChecked(c.glob, pos, file))) {
        failAt('EINVAL', `${file}: "${c.glob}" matches no function`, pos);
      }
      commands.push(c);
      continue;
    }
    if (graph && word.includes(':mod:')) failAt('EINVAL', `${file}: "${word}" matches no function (no :mod: in ${file})`, pos);
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

/**
 * The patterns a write leaves: `words` after `kept` (`>>`) or alone (`>`).
 * As a `!` word takes functions out of the kernel's hash, it takes out of
 * the list each earlier adding pattern that is the very pattern it names
 * (`!*` every one): `f` then `!f` leaves the empty filter, which is "all
 * functions" (or, in a notrace file, none), as the kernel's empty hash. A
 * `!` with no adding pattern before it can never select anything, so it is
 * dropped too. Other removals stay patterns: `f` then `!f*` leaves a filter
 * that selects nothing now, and reads so (docs/design.md, "Filters").
 */
function combine(kept: readonly string[], words: readonly string[]): string[] {
  let out: string[] = [...kept];
  for (const w of words) {
    if (w.startsWith('!')) {
      const named = w.slice(1);
      out = out.filter((p) => p.startsWith('!') || (named !== '*' && p !== named));
    }
    out.push(w);
  }
  const firstAdd = out.findIndex((p) => !p.startsWith('!'));
  return firstAdd < 0 ? [] : out.slice(firstAdd);
}

/** The functions the patterns select, then the pending `:mod:` ones; `empty` when none adds (and, in a notrace file, when nothing is selected). */
function listText(patterns: readonly string[], empty: string, notrace = false): string {
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
  // A notrace list that excludes nothing reads as the empty one: no function is disabled.
  return notrace && s === '' ? empty : s;
}

function probeText(entries: readonly ProbeEntry[]): string {
  const inst = instance();
  // As ftrace_probe_print: a counted kind shows its count (-1 for an empty count part), an uncounted one `unlimited`.
  return entries.map((e) => `${displayName(inst, e.site)}:${e.command}:${e.counted ? `count=${e.count}` : 'unlimited'}\n`).join('');
}

/**
 * The commands' effect on the live entries, word by word as the kernel
 * takes them, checked before anything changes: adding is EINVAL when every
 * function the glob matches has that kind already (register_ftrace_function_probe's
 * "nothing added"); removing is ENODEV when no function has the kind and
 * EINVAL when the glob matches none of those that do
 * (unregister_ftrace_function_probe_func). An entry kept keeps its count.
 */
function planCommands(commands: readonly Cmd[], live: readonly ProbeEntry[], file: string): { add: ProbeEntry[]; remove: ProbeEntry[] } {
  let now: ProbeEntry[] = [...live];
  for (const c of commands) {
    const mine = (e: ProbeEntry): boolean => e.command === c.command && e.counted === c.counted;
    if (c.negate) {
      const have = now.filter(mine);
      if (have.length === 0) failAt('ENODEV', `${file}: no function has ${kindName(c)}`, c.pos);
      const sites = c.glob === '' || c.glob === '*' ? null : new Set(selected(parseToken(c.glob)));
      const hit = have.filter((e) => sites === null || sites.has(e.site));
      if (hit.length === 0) failAt('EINVAL', `${file}: "${c.glob}" matches none of the functions with ${kindName(c)}`, c.pos);
      now = now.filter((e) => !hit.includes(e));
      continue;
    }
    const fresh = selected(parseToken(c.glob)).filter((site) => !now.some((e) => e.site === site && mine(e)));
    if (fresh.length === 0) failAt('EINVAL', `${file}: every function "${c.glob}" matches has ${kindName(c)} already`, c.pos);
    for (const site of fresh) now.push({ site, command: c.command, counted: c.counted, count: c.count });
  }
  // By identity: an entry removed and given again in one write starts again with its new count.
  return { add: now.filter((e) => !live.includes(e)), remove: live.filter((e) => !now.includes(e)) };
}

const ALL = '#### all functions enabled ####\n';
const NONE = '#### no functions disabled ####\n';

function ftraceFilterFile(notrace: boolean): ControlFile {
  const file = notrace ? 'set_ftrace_notrace' : 'set_ftrace_filter';
  const update = async (text: string, append: boolean): Promise<void> => {
    const { patterns, commands } = parseWrite(text, file, !notrace);
    const now = tracerFilterTokens();
    const mine = notrace ? now.notrace : now.filter;
    const next = combine(append ? mine : [], patterns);
    const plan = planCommands(commands, probeEntries(), file);
    // Room for the new commands is checked before anything changes (removed entries free theirs).
    const room = probeRoom() + plan.remove.length;
    if (plan.add.length > room) failAt('ENOSPC', `${file}: no room for ${plan.add.length} more commands (${room} free)`, commands[0]!.pos);
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
      if (notrace) return listText(t.notrace, NONE, true);
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
    const next = combine(append ? mine : [], patterns);
    await (notrace ? setGraphNotrace(next, []) : setGraphFunction(next, []));
  };
  return {
    read: () => {
      const t = graphFilterTokens();
      return notrace ? listText(t.notrace, NONE, true) : listText(t.functions, ALL);
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
