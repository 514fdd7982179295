/**
 * The filter commands of set_ftrace_filter (ftrace's function probes):
 * `func:traceon[:N]`, `func:traceoff[:N]`, `func:stacktrace[:N]`,
 * `func:dump`. As in trace_functions.c, a command written with a count
 * part (even an empty one) and one written without are two probe kinds
 * (the kernel's traceoff_count_probe_ops and traceoff_probe_ops): a
 * function may have both, each is listed, and each is removed by its own
 * form. dump has one kind, always counted, with a count of 1 (the kernel
 * dumps once). One ops per kind covers the functions that have it; each
 * (function, kind) has a count in the session's shared probe table, so a
 * count is spent once whichever thread hits it.
 *
 * Owns: the probe table's entries (probe-hits.ts has the callbacks that
 * spend them). Invariants:
 * - an uncounted kind's entry has the count -1 (unlimited); a counted
 *   kind's count is what was written, or -1 for an empty count part (the
 *   kernel's default count, which it meant as unlimited);
 * - traceon and traceoff spend a count only when they change tracing_on (as
 *   ftrace's ftrace_traceon_count), so `traceoff:3` stops tracing exactly
 *   three times; stacktrace and dump spend one per hit;
 * - a count is taken with compare-and-exchange: two threads hitting the
 *   last count spend it once;
 * - an entry is never rewritten while it lives: a new entry takes a free
 *   slot (its site word written last, so a hit never sees it half made), a
 *   removed one has its site word zeroed; a freed slot is reused only once
 *   the table's high-water mark reaches its end, so (until the table has
 *   been filled once) a hit that found a slot a moment before it was freed
 *   cannot spend another entry's count.
 */

import { fail } from '../shared/errors.js';
import { C_PROBES, ctl, PROBE_MAX, PROBE_WORDS } from './session.js';
import { AtomicsCompareExchange, AtomicsLoad, AtomicsStore } from '../shared/builtins.js';

export const PROBE_COMMANDS = ['traceon', 'traceoff', 'stacktrace', 'dump'] as const;
export type ProbeCommand = (typeof PROBE_COMMANDS)[number];

/**
 * A probe kind, the table's command word: the command's index times two,
 * plus one for the counted form. dump has its counted form only.
 */
export function probeKind(command: ProbeCommand, counted: boolean): number {
  return PROBE_COMMANDS.indexOf(command) * 2 + (counted ? 1 : 0);
}

/** Every kind, in the order their ops are looked at. */
export const PROBE_KINDS: readonly { command: ProbeCommand; counted: boolean; kind: number }[] = [
  ...PROBE_COMMANDS.flatMap((command) => (command === 'dump' ? [true] : [false, true]).map((counted) => ({ command, counted, kind: probeKind(command, counted) }))),
];

/** The largest count a command may have (counts are int32 words; -1 is unlimited). */
export const PROBE_COUNT_MAX = 0x7fffffff;

export interface ProbeEntry {
  site: number;
  command: ProbeCommand;
  /** Written with a count part (the kernel's `*_count_probe_ops`). */
  counted: boolean;
  /** Remaining count; -1 unlimited. */
  count: number;
}

/** Whether two entries are of the same function and kind. */
export function sameProbe(a: { site: number; command: ProbeCommand; counted: boolean }, b: { site: number; command: ProbeCommand; counted: boolean }): boolean {
  return a.site === b.site && a.command === b.command && a.counted === b.counted;
}

function at(i: number, w: number): number {
  return C_PROBES + 1 + i * PROBE_WORDS + w;
}

/** The live entries, in slot order. */
export function probeEntries(): ProbeEntry[] {
  const n = AtomicsLoad(ctl, C_PROBES);
  const out: ProbeEntry[] = [];
  for (let i = 0; i < n; i++) {
    const s = AtomicsLoad(ctl, at(i, 0));
    if (s === 0) continue;
    const kind = AtomicsLoad(ctl, at(i, 1));
    out.push({ site: s - 1, command: PROBE_COMMANDS[kind >> 1]!, counted: (kind & 1) === 1, count: AtomicsLoad(ctl, at(i, 2)) });
  }
  return out;
}

/** Slots a new entry could take now. */
export function probeRoom(): number {
  let free = PROBE_MAX - AtomicsLoad(ctl, C_PROBES);
  const n = AtomicsLoad(ctl, C_PROBES);
  for (let i = 0; i < n; i++) if (AtomicsLoad(ctl, at(i, 0)) === 0) free++;
  return free;
}

/** Adds an entry (control side, serialised by its caller); ENOSPC when the table is full. */
export function addProbeEntry(e: ProbeEntry): void {
  let i = AtomicsLoad(ctl, C_PROBES);
  if (i < PROBE_MAX) {
    AtomicsStore(ctl, C_PROBES, i + 1);
  } else {
    i = -1;
    for (let k = 0; k < PROBE_MAX && i < 0; k++) if (AtomicsLoad(ctl, at(k, 0)) === 0) i = k;
    if (i < 0) fail('ENOSPC', `at most ${PROBE_MAX} filter commands`);
  }
  AtomicsStore(ctl, at(i, 1), probeKind(e.command, e.counted));
  AtomicsStore(ctl, at(i, 2), e.count);
  AtomicsStore(ctl, at(i, 0), e.site + 1);
}

/** Removes the entry of (site, command, form), if there is one. */
export function removeProbeEntry(e: { site: number; command: ProbeCommand; counted: boolean }): void {
  const i = find(e.site, probeKind(e.command, e.counted));
  if (i >= 0) AtomicsStore(ctl, at(i, 0), 0);
}

/** The entry of (site, kind); -1 if none. */
export function find(site: number, kind: number): number {
  const n = AtomicsLoad(ctl, C_PROBES);
  for (let i = 0; i < n; i++) {
    if (ctl[at(i, 0)] === site + 1 && ctl[at(i, 1)] === kind) return i;
  }
  return -1;
}

/** Spends one count of entry i; false when none is left. */
export function spend(i: number): boolean {
  for (;;) {
    const c = AtomicsLoad(ctl, at(i, 2));
    if (c < 0) return true;
    if (c === 0) return false;
    if (AtomicsCompareExchange(ctl, at(i, 2), c, c - 1) === c) return true;
  }
}
