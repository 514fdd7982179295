/**
 * Which functions go into one live edit of a script: the largest part of a
 * wanted change (functions to patch, or to restore) after which V8's
 * LiveEdit provably finds every function of the script again (matching.ts).
 *
 * Owns: that choice, and telling apart what must wait for a later edit
 * from what no edit can carry. Invariants:
 * - a step is checked as a whole, against the text V8 runs now: every
 *   function of the script (chosen or not, and the functions V8 makes for
 *   classes) keeps its start and end, so no closure is left running code
 *   that the patch or the restore did not mean to leave;
 * - a function is given up on ('never') only when it alone changes the
 *   lines that put a function at risk: patching more functions only makes
 *   lines longer, so no later edit can carry it either;
 * - functions that only put each other at risk (their lines together are
 *   too long for V8's character diff) are split over several edits.
 */

import type { ScriptFunctions } from './functions.js';
import { unmatched, type Unmatched } from './matching.js';
import { lineIndexAt, v8LineStarts } from '../instrument/original/v8-lines.js';
import { splice, type Spliced } from './splice.js';

export interface ScriptText {
  source: string;
  output: string;
  sf: ScriptFunctions;
  rename: (name: string) => string;
}

export interface Step {
  /** The functions this edit adds (a patch) or takes out (a restore). */
  fns: Set<number>;
  /** The text after the edit. */
  text: Spliced;
  /** Functions of the change no edit can carry, with why. */
  never: Map<number, string>;
}

export function compose(s: ScriptText, chosen: ReadonlySet<number>): Spliced {
  return splice(s.source, s.output, s.sf, chosen, s.rename);
}

/** The positions of `t` V8 matches functions by: where each starts and ends, and the edges of each class. */
function bounds(s: ScriptText, t: Spliced): number[] {
  const out: number[] = [];
  for (const f of s.sf.fns) out.push(t.at(f.v8Start), t.at(f.end - 1) + 1);
  for (const c of s.sf.classes) out.push(t.at(c.start), t.at(c.bodyStart), t.at(c.end - 1) + 1);
  return out;
}

/** What `step` inserts into `long` (the text with it), as sorted [start, end) pairs. */
function insertedBy(long: Spliced, step: ReadonlySet<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < long.owners.length; i++) if (step.has(long.owners[i]!)) out.push(long.inserted[2 * i]!, long.inserted[2 * i + 1]!);
  return out;
}

/** The problems of changing `now` by `step` (added when `adding`, else taken out). */
export function check(s: ScriptText, now: ReadonlySet<number>, step: ReadonlySet<number>, adding: boolean): { long: Spliced; problems: Unmatched[] } {
  const long = compose(s, adding ? new Set([...now, ...step]) : now);
  return { long, problems: unmatched(long.text, insertedBy(long, step), bounds(s, long), adding) };
}

/** Per function of `step`, the lines it inserts into in `long` (as matching.ts counts lines). */
function linesOf(long: Spliced, step: ReadonlySet<number>): Map<number, number[]> {
  const starts = v8LineStarts(long.text);
  const out = new Map<number, number[]>();
  for (let i = 0; i < long.owners.length; i++) {
    const fn = long.owners[i]!;
    if (!step.has(fn)) continue;
    let list = out.get(fn);
    if (list === undefined) out.set(fn, (list = []));
    list.push(lineIndexAt(starts, long.inserted[2 * i]!));
  }
  return out;
}

/**
 * The largest part of `change` that one edit from `now` can carry (see the
 * header). `adding`: a patch (the step's pieces go in), else a restore.
 */
export function nextStep(s: ScriptText, now: ReadonlySet<number>, change: ReadonlySet<number>, adding: boolean): Step {
  const never = new Map<number, string>();
  let fns = new Set(change);
  const done = (long: Spliced): Step => ({ fns, never, text: adding ? long : compose(s, new Set([...now].filter((f) => !fns.has(f)))) });
  while (fns.size > 0) {
    const { long, problems } = check(s, now, fns, adding);
    if (problems.length === 0) return done(long);
    const lines = linesOf(long, fns);
    const drop = new Set<number>();
    for (const p of problems) {
      // The functions of the step that insert into the lines at risk, in line order.
      const who: [number, number][] = [];
      for (const [fn, ls] of lines) {
        const inside = ls.filter((l) => l >= p.from && l <= p.to);
        if (inside.length > 0) who.push([Math.min(...inside), fn]);
      }
      who.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      if (who.length === 1) {
        never.set(who[0]![1], p.why);
        drop.add(who[0]![1]);
      } else if (who.length === 0) {
        // Nothing of the step on those lines (not expected): the step's first function alone next.
        if (fns.size === 1) never.set([...fns][0]!, p.why);
        for (const fn of fns.size === 1 ? fns : [...fns].slice(1)) drop.add(fn);
      } else {
        // Several: every other one waits, which splits a run of lines that is too long.
        who.forEach(([, fn], k) => { if (k % 2 === 1) drop.add(fn); });
      }
    }
    fns = new Set([...fns].filter((f) => !drop.has(f)));
  }
  return { fns, never, text: compose(s, now) };
}
