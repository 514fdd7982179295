/**
 * The `function` tracer's callback (ftrace's function_trace_call): one
 * TRACE_FN event {site, parent site} per traced call, into this thread's ring.
 *
 * Owns: this thread's cached writer for the function tracer. Invariant: the
 * per-event path is one load and compare of the session state word and one
 * ring write; tracing_on, the ring and its clock are chosen in `refresh`, when
 * that word changes. Loaded by every thread (the ops is `{ module, export }`).
 */

import { C_STATE, ctl, EV_FUNCTION, threadWriter } from './session.js';
import type { RingWriter } from '../ring/index.js';

const TYPE = EV_FUNCTION.id;
let seen = -1;
let w: RingWriter | null = null;

function refresh(): boolean {
  const s = Atomics.load(ctl, C_STATE);
  if ((s & 1) === 0) return false; // tracing_on 0: stay on the slow path until it changes
  w = threadWriter();
  if (w === null) return false;
  seen = s;
  return true;
}

export function functionCall(site: number, parent: number): void {
  if (ctl[C_STATE] !== seen && !refresh()) return;
  w!.write2(TYPE, site, parent);
}
