/**
 * What happens in this thread when an ops or trampoline callback throws
 * (G5): the dispatch path (dispatch.ts) catches it and hands it here.
 *
 * Owns: the per-thread and per-ops error counts, the first error's text in
 * the arena (read by the control files), and the one warning per ops or
 * trampoline and thread. Invariants:
 * - nothing here throws into the traced call: the arena may be full (the
 *   count still tells), and describing the value never runs code that can
 *   escape (callback-errors.ts);
 * - the counts are exact: every throw is counted, the first per ops
 *   stores its text, later ones only count.
 */

import * as layout from './layout.js';
import { arenaWrite } from './arena.js';
import { describeThrown, reportCallbackError } from './callback-errors.js';
import { threadView, type LocalOps, type LocalTramp, type ThreadView } from './thread.js';
import { AtomicsAdd, AtomicsStore } from '../shared/builtins.js';

const { O_CB_ERRORS, O_ERR_LEN, O_ERR_OFF, TH_CB_ERRORS } = layout;

const tv: ThreadView = threadView();
const i32 = tv.i32;

/** An ops callback threw: counted, its first text stored, the user warned once per thread. */
export function opsError(o: LocalOps, e: unknown): void {
  i32[tv.row + TH_CB_ERRORS]++;
  const first = AtomicsAdd(i32, o.row + O_CB_ERRORS, 1) === 0;
  if (!first && o.warned) return;
  const text = describeThrown(e);
  if (first) {
    try {
      const ref = arenaWrite(tv.inst, text);
      i32[o.row + O_ERR_OFF] = ref.off;
      AtomicsStore(i32, o.row + O_ERR_LEN, ref.len);
    } catch { /* arena full: the count still tells */ }
  }
  if (!o.warned) {
    o.warned = true;
    reportCallbackError('ops', o.ops.name, text);
    process.emitWarning(`ops ${o.ops.name} threw: ${text}; the traced call went on (further errors are counted, see opsErrors())`,
      { code: 'JSFTRACE_CALLBACK_ERROR' });
  }
}

/** A trampoline threw: counted, the user warned once per thread. */
export function trampError(t: LocalTramp, e: unknown): void {
  i32[tv.row + TH_CB_ERRORS]++;
  if (!t.warned) {
    t.warned = true;
    const text = describeThrown(e);
    reportCallbackError('trampoline', t.name, text);
    process.emitWarning(`trampoline ${t.name} threw: ${text}; the traced call went on`, { code: 'JSFTRACE_CALLBACK_ERROR' });
  }
}
