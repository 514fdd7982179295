/**
 * trace_stat/function<N>: one thread's profiler table, as ftrace prints a
 * CPU's function profile with the graph tracer configured (hit, total time,
 * average and sample variance).
 *
 * Owns: the rendering only. Invariants: rows with no hits are skipped; rows
 * sort by total time, largest first (ties: by site id, for a stable text);
 * rows whose average is below tracing_thresh are hidden; the numbers are
 * ftrace's integer arithmetic (avg = ⌊time/hits⌋, s² = ⌊(n·Σx² − (Σx)²) /
 * (n·(n−1)·1000)⌋ printed as a duration, i.e. in µs²), done in BigInt so that
 * it is exact while the stored sums are (below 2^53).
 */

import { P_HITS, P_KEY, P_TIME, P_TIME2, ROW_F64 } from '../profile-layout.js';
import { EV_GRAPH_ENT, EV_GRAPH_RET, ENT_RESUMED, RET_SUSPENDED } from '../session.js';
import { graphDuration, siteName, type ItemSource } from './common.js';

export const STAT_HEADER = '  Function                               Hit    Time            Avg             s^2\n'
  + '  --------                               ---    ----            ---             ---\n';

interface Row {
  site: number;
  hits: number;
  time: number;
  time2: number;
}

/** Reads a table of rows `stride` words wide (a snapshot of each row's words). */
export function statRows(sab: ArrayBufferLike, stride = ROW_F64): Row[] {
  const t = new Float64Array(sab);
  const out: Row[] = [];
  for (let r = 1; (r + 1) * stride <= t.length; r++) {
    const b = r * stride;
    const key = t[b + P_KEY]!;
    if (key === 0) continue;
    const hits = t[b + P_HITS]!;
    if (hits === 0) continue;
    out.push({ site: key - 1, hits, time: t[b + P_TIME]!, time2: t[b + P_TIME2]! });
  }
  out.sort((a, b) => b.time - a.time || a.site - b.site);
  return out;
}

/** The text of trace_stat/function<N> for one table; `threshNs` is tracing_thresh. */
export function statText(sab: ArrayBufferLike, threshNs: number, site: (id: number) => string = siteName, stride = ROW_F64): string {
  let s = STAT_HEADER;
  for (const r of statRows(sab, stride)) {
    const n = BigInt(Math.round(r.hits));
    const time = BigInt(Math.round(r.time));
    const avg = time / n;
    if (threshNs > 0 && avg < BigInt(threshNs)) continue;
    let s2 = 0n;
    if (n > 1n) {
      const num = n * BigInt(Math.round(r.time2)) - time * time;
      s2 = num / (n * (n - 1n) * 1000n);
    }
    const name = site(r.site).slice(0, 30).padEnd(30);
    s += `  ${name}  ${String(n).padStart(10)}    ${graphDuration(Number(time))}    ${graphDuration(Number(avg))}    ${graphDuration(Number(s2))}\n`;
  }
  return s;
}

/**
 * A profiler table made from a thread's function_graph events, for a
 * trace recorded without the profiler: a hit per call (its first entry),
 * its time from its final return (callees and suspensions included, as the
 * profiler's graph-time). Its size is the number of distinct functions.
 */
export function statTableOf(items: ItemSource): Float64Array {
  const rows = new Map<number, Float64Array>();
  const row = (site: number): Float64Array => {
    let r = rows.get(site);
    if (r === undefined) {
      r = new Float64Array(3);
      rows.set(site, r);
    }
    return r;
  };
  for (let it = items.next(); it !== null; it = items.next()) {
    if (it.lost > 0) continue;
    if (it.type === EV_GRAPH_ENT.id && (it.flags & ENT_RESUMED) === 0) row(it.a)[0]! += 1;
    else if (it.type === EV_GRAPH_RET.id && (it.flags & RET_SUSPENDED) === 0) {
      const r = row(it.a);
      r[1]! += it.c;
      r[2]! += it.c * it.c;
    }
  }
  const t = new Float64Array((rows.size + 1) * ROW_F64);
  let k = 1;
  for (const [site, r] of rows) {
    const b = k++ * ROW_F64;
    t[b + P_KEY] = site + 1;
    t[b + P_HITS] = r[0]!;
    t[b + P_TIME] = r[1]!;
    t[b + P_TIME2] = r[2]!;
  }
  return t;
}
