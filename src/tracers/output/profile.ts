/**
 * The profile that `jsftrace profile` and `report --format profile` print:
 * per function, its calls, total time, self time, and for async functions
 * and generators the time running apart from the time waiting (suspended
 * at an await or a yield): made by the threads as they run (the profiler's
 * tables, profile.ts), or from function_graph events.
 *
 * Owns: the table's arithmetic and text. Invariants:
 * - a call is counted once, at its first part (a resumed part is the same
 *   call going on); its total is its final return's duration (first entry
 *   to return), its running time the sum of its parts, its waiting time
 *   total − running, so total = running + waiting exactly for every call
 *   that returned in the trace; a call still running or suspended when
 *   the trace ends adds its parts to running and nothing to total (the
 *   `unfinished` count says how many);
 * - self time is a part's time not spent in the parts of calls it made
 *   (CallWalker's), summed;
 * - names are printed whole, in the last column (never cut: two functions
 *   never look alike); rows sort by the key asked (ties by name), largest
 *   first; memory is one row per distinct function.
 */

import {
  P_HITS, P_KEY, P_OPEN_RUNNING, P_REFUSED, P_RETURNED, P_SELF, P_TIME, P_WAITING, ROW_F64,
} from '../profile-layout.js';
import { EV_GRAPH_RET, RET_SUSPENDED } from '../session.js';
import { CallWalker } from './calls.js';
import type { Sink, ThreadEvents } from './common.js';

export const PROFILE_SORTS = ['self', 'total', 'calls', 'avg', 'running', 'waiting', 'name'] as const;
export type ProfileSort = (typeof PROFILE_SORTS)[number];

export interface ProfileRow {
  name: string;
  calls: number;
  /** Calls whose final return is in the trace. */
  returned: number;
  total: number;
  self: number;
  running: number;
  /** Parts of calls that never returned in the trace (running, not in total). */
  unfinishedRunning: number;
}

export interface Profile {
  rows: ProfileRow[];
  /** Times are counts (the `counter` clock), not ns. */
  counts: boolean;
  /** Calls the threads did not count (a table's rows or its calls in flight were full). */
  refused?: number;
}

/** Waiting time of a row: total − running of the calls that returned. */
export function waiting(r: ProfileRow): number {
  return Math.max(0, r.total - (r.running - r.unfinishedRunning));
}

/** Average total time per returned call. */
export function average(r: ProfileRow): number {
  return r.returned === 0 ? 0 : r.total / r.returned;
}

/** The profile of `threads` (merged by function name). */
export function profileOf(threads: readonly ThreadEvents[]): Profile {
  const rows = new Map<string, ProfileRow>();
  let counts = false;
  const RET = EV_GRAPH_RET.id;
  for (const t of threads) {
    counts ||= t.view.counts;
    const bySite = new Map<number, ProfileRow>();
    const row = (site: number): ProfileRow => {
      let r = bySite.get(site);
      if (r === undefined) {
        const name = t.view.site(site);
        r = rows.get(name);
        if (r === undefined) {
          r = { name, calls: 0, returned: 0, total: 0, self: 0, running: 0, unfinishedRunning: 0 };
          rows.set(name, r);
        }
        bySite.set(site, r);
      }
      return r;
    };
    // Open parts per site: parts of calls whose final return has not come yet.
    const pending = new Map<number, number>();
    const w = new CallWalker();
    w.onCall = (c) => {
      const r = row(c.site);
      if (!c.resumed) r.calls++;
      const d = c.end - c.start;
      r.running += d;
      r.self += c.self;
      if (c.exit === 'suspended' || c.exit === 'open') pending.set(c.site, (pending.get(c.site) ?? 0) + d);
      else pending.delete(c.site);
    };
    const src = t.open();
    for (let it = src.next(); it !== null; it = src.next()) {
      w.push(it);
      if (it.lost === 0 && it.type === RET && (it.flags & RET_SUSPENDED) === 0) {
        const r = row(it.a);
        r.total += it.c;
        r.returned++;
      }
    }
    w.end();
    // What is still pending at the end never returned: its parts are running time without a total.
    for (const [site, d] of pending) row(site).unfinishedRunning += d;
  }
  return { rows: [...rows.values()], counts };
}

/** A thread's profiler table (profile-layout.ts), its sites' names, and whether its times are counts. */
export interface ProfileTable {
  rows: Float64Array;
  site: (id: number) => string;
  counts: boolean;
}

/**
 * The profile of profiler tables (merged by function name): the same
 * numbers as profileOf gives from the graph's events, computed by the
 * threads as they ran (profile.ts), so no event had to be recorded.
 */
export function profileOfTables(tables: readonly ProfileTable[]): Profile {
  const rows = new Map<string, ProfileRow>();
  let counts = false;
  let refused = 0;
  for (const tb of tables) {
    counts ||= tb.counts;
    const t = tb.rows;
    refused += t[P_REFUSED]!;
    for (let b = ROW_F64; b + ROW_F64 <= t.length; b += ROW_F64) {
      const key = t[b + P_KEY]!;
      if (key === 0 || t[b + P_HITS]! + t[b + P_RETURNED]! === 0) continue;
      const name = tb.site(key - 1);
      let r = rows.get(name);
      if (r === undefined) {
        r = { name, calls: 0, returned: 0, total: 0, self: 0, running: 0, unfinishedRunning: 0 };
        rows.set(name, r);
      }
      r.calls += t[b + P_HITS]!;
      r.returned += t[b + P_RETURNED]!;
      r.total += t[b + P_TIME]!;
      r.self += t[b + P_SELF]!;
      r.running += t[b + P_TIME]! - t[b + P_WAITING]! + t[b + P_OPEN_RUNNING]!;
      r.unfinishedRunning += t[b + P_OPEN_RUNNING]!;
    }
  }
  return { rows: [...rows.values()], counts, refused };
}

function key(sort: ProfileSort): (r: ProfileRow) => number {
  switch (sort) {
    case 'self': return (r) => r.self;
    case 'total': return (r) => r.total;
    case 'calls': return (r) => r.calls;
    case 'avg': return average;
    case 'running': return (r) => r.running;
    case 'waiting': return waiting;
    case 'name': return () => 0;
  }
}

/** Rows sorted by `sort`, largest first (ties and `name`: by name), at most `top`. */
export function sortedRows(p: Profile, sort: ProfileSort = 'self', top = Infinity): ProfileRow[] {
  const k = key(sort);
  const byName = (a: ProfileRow, b: ProfileRow): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return [...p.rows].sort((a, b) => k(b) - k(a) || byName(a, b)).slice(0, Math.max(0, top));
}

/** A time in the unit that keeps it short: `12.345 ms`; counts as they are. */
export function shortTime(v: number, counts: boolean): string {
  const n = Math.round(v);
  if (counts) return String(n);
  if (n < 1e3) return `${n} ns`;
  if (n < 1e6) return `${(n / 1e3).toFixed(3)} us`;
  if (n < 1e9) return `${(n / 1e6).toFixed(3)} ms`;
  return `${(n / 1e9).toFixed(3)} s`;
}

const HEAD = ['Calls', 'Total', 'Self', 'Running', 'Waiting', 'Avg'];
const WIDTH = 12;

/** The profile's text: a header, a row per function, names whole in the last column. */
export function profileTextTo(p: Profile, sink: Sink, opts: { sort?: ProfileSort; top?: number } = {}): void {
  const rows = sortedRows(p, opts.sort ?? 'self', opts.top ?? Infinity);
  const unit = p.counts ? ' (times are counts: the counter clock)' : '';
  sink.write(`# ${p.rows.length} function${p.rows.length === 1 ? '' : 's'}, sorted by ${opts.sort ?? 'self'}${unit}\n`
    + '# Total: first entry to return; Self: not in the calls it made; Running: on the stack;\n'
    + '# Waiting: suspended at await or yield (async functions, generators); Avg: Total per call\n'
    + (p.refused !== undefined && p.refused > 0
      ? `# ${p.refused} call${p.refused === 1 ? ' was' : 's were'} not counted: a thread's table of functions (16384) or of calls in flight (65536) was full\n`
      : '')
    + `${HEAD.map((h) => h.padStart(WIDTH)).join('')}  Function\n`);
  for (const r of rows) {
    const cells = [String(r.calls), ...[r.total, r.self, r.running, waiting(r), average(r)].map((v) => shortTime(v, p.counts))];
    const unfinished = r.calls > r.returned ? `  (${r.calls - r.returned} not returned)` : '';
    sink.write(`${cells.map((c) => c.padStart(WIDTH)).join('')}  ${r.name}${unfinished}\n`);
  }
}
