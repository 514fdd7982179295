/**
 * The filter commands of set_ftrace_filter (ftrace's function probes):
 * `func:traceon[:N]`, `func:traceoff[:N]`, `func:stacktrace[:N]`,
 * `func:dump[:N]`. One ops per command covers the functions that have it;
 * each (function, command) has a count in the session's shared probe table,
 * so a count is spent once whichever thread hits it.
 *
 * Owns: the probe table's entries (probe-hits.ts has the callbacks that
 * spend them). Invariants:
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

export const PROBE_COMMANDS = ['traceon', 'traceoff', 'stacktrace', 'dump'] as const;
export type ProbeCommand = (typeof PROBE_COMMANDS)[number];
export const CMD_TRACEON = 0;
export const CMD_TRACEOFF = 1;
export const CMD_STACKTRACE = 2;
export const CMD_DUMP = 3;

/** The largest count a command may have (counts are int32 words; -1 is unlimited). */
export const PROBE_COUNT_MAX = 0x7fffffff;

export interface ProbeEntry {
  site: number;
  command: ProbeCommand;
  /** Remaining count; -1 unlimited. */
  count: number;
}

function at(i: number, w: number): number {
  return C_PROBES + 1 + i * PROBE_WORDS + w;
}

/** The live entries, in slot order. */
export function probeEntries(): ProbeEntry[] {
  const n = Atomics.load(ctl, C_PROBES);
  const out: ProbeEntry[] = [];
  for (let i = 0; i < n; i++) {
    const s = Atomics.load(ctl, at(i, 0));
    if (s === 0) continue;
    out.push({ site: s - 1, command: PROBE_COMMANDS[Atomics.load(ctl, at(i, 1))]!, count: Atomics.load(ctl, at(i, 2)) });
  }
  return out;
}

/** Slots a new entry could take now. */
export function probeRoom(): number {
  let free = PROBE_MAX - Atomics.load(ctl, C_PROBES);
  const n = Atomics.load(ctl, C_PROBES);
  for (let i = 0; i < n; i++) if (Atomics.load(ctl, at(i, 0)) === 0) free++;
  return free;
}

/** Adds an entry (control side, serialised by its caller); ENOSPC when the table is full. */
export function addProbeEntry(e: ProbeEntry): void {
  let i = Atomics.load(ctl, C_PROBES);
  if (i < PROBE_MAX) {
    Atomics.store(ctl, C_PROBES, i + 1);
  } else {
    i = -1;
    for (let k = 0; k < PROBE_MAX && i < 0; k++) if (Atomics.load(ctl, at(k, 0)) === 0) i = k;
    if (i < 0) fail('ENOSPC', `at most ${PROBE_MAX} filter commands`);
  }
  Atomics.store(ctl, at(i, 1), PROBE_COMMANDS.indexOf(e.command));
  Atomics.store(ctl, at(i, 2), e.count);
  Atomics.store(ctl, at(i, 0), e.site + 1);
}

/** Removes the entry of (site, command), if there is one. */
export function removeProbeEntry(site: number, command: ProbeCommand): void {
  const i = find(site, PROBE_COMMANDS.indexOf(command));
  if (i >= 0) Atomics.store(ctl, at(i, 0), 0);
}

/** The entry of (site, cmd); -1 if none. */
export function find(site: number, cmd: number): number {
  const n = Atomics.load(ctl, C_PROBES);
  for (let i = 0; i < n; i++) {
    if (ctl[at(i, 0)] === site + 1 && ctl[at(i, 1)] === cmd) return i;
  }
  return -1;
}

/** Spends one count of entry i; false when none is left. */
export function spend(i: number): boolean {
  for (;;) {
    const c = Atomics.load(ctl, at(i, 2));
    if (c < 0) return true;
    if (c === 0) return false;
    if (Atomics.compareExchange(ctl, at(i, 2), c, c - 1) === c) return true;
  }
}
