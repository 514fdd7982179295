/**
 * The text a loaded script is live-patched to: its own source, with the
 * instrumented text of the chosen functions put in place of theirs.
 *
 * Owns: composing that text and where each function lands in it.
 * Invariants:
 * - only the chosen functions change (the top level and every other
 *   function keep their own text, nested chosen ones aside), so V8's LiveEdit
 *   recompiles exactly those and refuses only for them;
 * - the transform's module prologue is left out (an ES module's top level
 *   cannot be live-edited, and new top-level bindings would leave the
 *   script's closures unpatched): the names it declares are read instead as
 *   globals, renamed per script so that two scripts never share one;
 * - line breaks are never added or removed, so line numbers in stack traces
 *   stay those of the source.
 */

import type { ScriptFunctions } from './functions.js';

export interface Spliced {
  text: string;
  /** Per function: its start and end offsets in `text`. */
  starts: Int32Array;
  ends: Int32Array;
}

/**
 * `source` with the functions in `chosen` replaced by their text in
 * `output`, every use of a prologue name `n` written `rename(n)`.
 */
export function splice(source: string, output: string, sf: ScriptFunctions, chosen: ReadonlySet<number>, rename: (name: string) => string): Spliced {
  const { fns } = sf;
  const starts = new Int32Array(fns.length);
  const ends = new Int32Array(fns.length);
  // Whether a function or one inside it is chosen: only those are rebuilt.
  const touched = new Uint8Array(fns.length);
  for (const i of chosen) for (let j = i; j >= 0 && touched[j] === 0; j = fns[j]!.parent) touched[j] = 1;
  let text = '';
  let useAt = 0;

  // Appends output[from, to) with the prologue names renamed.
  const outText = (from: number, to: number): void => {
    const { uses } = sf;
    while (useAt < uses.length && uses[useAt]!.start < from) useAt++;
    let at = from;
    for (; useAt < uses.length && uses[useAt]!.end <= to; useAt++) {
      const u = uses[useAt]!;
      text += output.slice(at, u.start) + rename(u.name);
      at = u.end;
    }
    text += output.slice(at, to);
  };

  const emit = (i: number): void => {
    const f = fns[i]!;
    const shift = text.length;
    if (touched[i] === 0) {
      text += source.slice(f.start, f.end);
      markUnchanged(i, shift - f.start);
      return;
    }
    starts[i] = text.length;
    const mine = chosen.has(i);
    let at = mine ? f.outStart : f.start;
    for (const c of f.children) {
      const cf = fns[c]!;
      if (mine) outText(at, cf.outStart);
      else text += source.slice(at, cf.start);
      emit(c);
      at = mine ? cf.outEnd : cf.end;
    }
    if (mine) outText(at, f.outEnd);
    else text += source.slice(at, f.end);
    ends[i] = text.length;
  };

  // An untouched function and everything in it moved by `delta`.
  const markUnchanged = (i: number, delta: number): void => {
    const f = fns[i]!;
    starts[i] = f.start + delta;
    ends[i] = f.end + delta;
    for (const c of f.children) markUnchanged(c, delta);
  };

  let at = 0;
  for (const r of sf.roots) {
    text += source.slice(at, fns[r]!.start);
    emit(r);
    at = fns[r]!.end;
  }
  text += source.slice(at);
  return { text, starts, ends };
}
