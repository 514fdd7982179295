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

import { ROW_F64, TABLE_ROWS } from '../profile.js';
import { graphDuration, siteName } from './common.js';

export const STAT_HEADER = '  Function                               Hit    Time            Avg             s^2\n'
  + '  --------                               ---    ----            ---             ---\n';

interface Row {
  site: number;
  hits: number;
  time: number;
  time2: number;
}

/** Reads a table (a snapshot of each row's words). */
export function statRows(sab: SharedArrayBuffer): Row[] {
  const t = new Float64Array(sab);
  const out: Row[] = [];
  for (let r = 1; r <= TABLE_ROWS; r++) {
    const b = r * ROW_F64;
    const key = t[b]!;
    if (key === 0) continue;
    const hits = t[b + 1]!;
    if (hits === 0) continue;
    out.push({ site: key - 1, hits, time: t[b + 2]!, time2: t[b + 3]! });
  }
  out.sort((a, b) => b.time - a.time || a.site - b.site);
  return out;
}

/** The text of trace_stat/function<N> for one table; `threshNs` is tracing_thresh. */
export function statText(sab: SharedArrayBuffer, threshNs: number): string {
  let s = STAT_HEADER;
  for (const r of statRows(sab)) {
    const n = BigInt(Math.round(r.hits));
    const time = BigInt(Math.round(r.time));
    const avg = time / n;
    if (threshNs > 0 && avg < BigInt(threshNs)) continue;
    let s2 = 0n;
    if (n > 1n) {
      const num = n * BigInt(Math.round(r.time2)) - time * time;
      s2 = num / (n * (n - 1n) * 1000n);
    }
    const name = siteName(r.site).slice(0, 30).padEnd(30);
    s += `  ${name}  ${String(n).padStart(10)}    ${graphDuration(Number(time))}    ${graphDuration(Number(avg))}    ${graphDuration(Number(s2))}\n`;
  }
  return s;
}
