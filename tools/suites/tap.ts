/**
 * TAP, as mocha, tape, node-tap, ava, vitest, node:test and the jest
 * reporter of libraries.ts write it, read into one result per test point:
 * what tools/suites compares between modes.
 *
 * Owns: the key of a test point. Invariant: the key is the point's depth
 * and name, numbered when a name repeats at one depth (tape's assertion
 * messages do), so the same test has the same key in every run of a suite
 * whatever ran before it at other depths.
 */

export type Status = 'pass' | 'fail' | 'skip' | 'todo';

export interface Tally { total: number; pass: number; fail: number; skip: number; todo: number }

// `[^]*`: a test's name may hold U+2028, U+2029 or a carriage return, which `.` does not match.
const POINT = /^(\s*)(not ok|ok)\b(?:\s+\d+)?(?:\s+-)?\s*([^]*)$/;
/** Colour codes: an old supports-color colours `not ok` when FORCE_COLOR is set at all, even to 0. */
const SGR = /\x1b\[[\d;]*m/g;

export function readTap(text: string): Map<string, Status> {
  const out = new Map<string, Status>();
  const seen = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = POINT.exec(line.replace(SGR, ''));
    if (m === null) continue;
    const depth = Math.floor(m[1]!.replace(/\t/g, '    ').length / 4);
    let name = m[3]!;
    let status: Status = m[2] === 'ok' ? 'pass' : 'fail';
    // A directive follows an unescaped '#'.
    const d = /(?:^|[^\\])#\s*(SKIP|TODO)\b/i.exec(name);
    if (d !== null) {
      status = d[1]!.toUpperCase() === 'SKIP' ? 'skip' : 'todo';
      name = name.slice(0, d.index + (d[0].startsWith('#') ? 0 : 1));
    }
    // node-tap and vitest append the time a test took: not part of the name.
    name = name.replace(/\s+# time=[\d.]+m?s$/, '').trim();
    // minimatch's redos tests put the time a match took in their names.
    name = name.replace(/\bms=[\d.e-]+/g, 'ms=');
    const base = `${depth}|${name}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    out.set(n === 1 ? base : `${base}#${n}`, status);
  }
  return out;
}

export function tally(points: Map<string, Status>): Tally {
  const t: Tally = { total: 0, pass: 0, fail: 0, skip: 0, todo: 0 };
  for (const s of points.values()) {
    t.total++;
    t[s]++;
  }
  return t;
}

/** Test points whose status differs between `a` and `b` (absent on one side included). */
export function differences(a: Map<string, Status>, b: Map<string, Status>): string[] {
  const out: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(k) !== b.get(k)) out.push(`${k.replace(/^\d+\|/, '')}: ${a.get(k) ?? 'absent'} -> ${b.get(k) ?? 'absent'}`);
  }
  return out;
}
