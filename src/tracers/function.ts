/**
 * The `function` tracer's callback (ftrace's function_trace_call): one
 * TRACE_FN event {site, parent site} per traced call, into this thread's ring.
 *
 * Owns: this thread's cached writer for the function tracer. Invariant: the
 * per-event path is one load and compare of the session state word and one
 * ring write; tracing_on, the ring and its clock are chosen in `refresh`, when
 * that word changes. Loaded by every thread (the ops is `{ module, export }`).
 */

import { C_FN_FLAGS, C_STATE, contextFilter, ctl, EV_FUNCTION, threadTraced, threadWriter } from './session.js';
import { inTracedContext } from './context.js';
import type { RingWriter } from '../ring/index.js';
import { AtomicsLoad } from '../shared/builtins.js';

const TYPE = EV_FUNCTION.id;
/** The type word written: TYPE, and in common_flags what the parent means (C_FN_FLAGS), chosen in refresh. */
let typeWord = TYPE;
let seen = -1;
let w: RingWriter | null = null;
/** MODE_OFF: write nothing (tracing_on 0, or this thread filtered out);
 * MODE_ALL: write every call; MODE_CONTEXT: only inside traceContext(). */
const MODE_OFF = 0;
const MODE_ALL = 1;
const MODE_CONTEXT = 2;
let mode = MODE_OFF;

function refresh(): void {
  const s = AtomicsLoad(ctl, C_STATE);
  seen = s;
  mode = MODE_OFF;
  if ((s & 1) === 0 || !threadTraced()) return;
  w = threadWriter();
  if (w === null) {
    seen = -1; // no ring yet: try again at the next call
    return;
  }
  mode = contextFilter() ? MODE_CONTEXT : MODE_ALL;
  typeWord = TYPE | (AtomicsLoad(ctl, C_FN_FLAGS) << 16);
}

export function functionCall(site: number, parent: number): void {
  if (ctl[C_STATE] !== seen) refresh();
  if (mode === MODE_OFF || (mode === MODE_CONTEXT && !inTracedContext())) return;
  w!.write2(typeWord, site, parent);
}
