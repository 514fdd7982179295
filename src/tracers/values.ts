/**
 * funcgraph-args and funcgraph-retval: an ops registered after the graph
 * tracer's, so that at each site its entry runs just before the graph
 * entry (newest first) and its exit just after the graph exit. It writes
 * the call's arguments before the entry event and the returned value after
 * the return event; the graph output joins them to the call.
 *
 * Owns: how a JavaScript value is shown in a trace. Invariants: rendering
 * never runs program code (no getters, no toString, no Proxy traps: only
 * typeof, Array.isArray and the constructor's own name through the
 * prototype chain, read with Object.getPrototypeOf, which a Proxy can
 * trap, so a Proxy is shown as such before anything is read); a rendering is
 * at most VALUE_MAX characters; the ops writes nothing while tracing is off.
 */

import { types } from 'node:util';
import { UNWOUND } from '../core/index.js';
import { writeField, writeStringField, type RingWriter } from '../ring/index.js';
import {
  C_OPTIONS, C_STATE, ctl, EV_GRAPH_ARGS, EV_GRAPH_RETVAL, OPT_GRAPH_ARGS, OPT_GRAPH_RETVAL, OPT_GRAPH_RETVAL_HEX,
  threadTraced, threadWriter,
} from './session.js';

const VALUE_MAX = 48;
const ARGS_MAX = 160;
const enc = new TextEncoder();

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function ctorName(v: object): string {
  try {
    const p = Object.getPrototypeOf(v) as { constructor?: unknown } | null;
    if (p === null) return 'Object: null prototype';
    const d = Object.getOwnPropertyDescriptor(p, 'constructor');
    const c = d !== undefined && 'value' in d ? d.value as unknown : undefined;
    if (typeof c === 'function') {
      const n = Object.getOwnPropertyDescriptor(c, 'name');
      if (n !== undefined && typeof n.value === 'string' && n.value !== '') return n.value;
    }
  } catch {
    // a hostile prototype: fall through
  }
  return 'Object';
}

/** A value as the graph prints it: numbers and short strings as they are, objects by kind. */
export function showValue(v: unknown, hex = false): string {
  switch (typeof v) {
    case 'number':
      return hex && Number.isInteger(v) ? (v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`) : String(v);
    case 'bigint':
      return hex ? `0x${v.toString(16)}n` : `${v}n`;
    case 'string':
      return clip(JSON.stringify(v), VALUE_MAX);
    case 'boolean':
    case 'undefined':
      return String(v);
    case 'symbol':
      return clip(v.toString(), VALUE_MAX);
    case 'function': {
      const n = Object.getOwnPropertyDescriptor(v, 'name');
      return `[Function ${n !== undefined && typeof n.value === 'string' && n.value !== '' ? n.value : '(anonymous)'}]`;
    }
    default:
      if (v === null) return 'null';
      if (types.isProxy(v)) return 'Proxy';
      if (Array.isArray(v)) return `Array(${v.length})`;
      if (types.isPromise(v)) return 'Promise';
      if (types.isNativeError(v)) {
        const m = Object.getOwnPropertyDescriptor(v, 'message');
        const msg = m !== undefined && typeof m.value === 'string' && m.value !== '' ? `: ${m.value}` : '';
        return clip(`[${ctorName(v)}${msg}]`, VALUE_MAX);
      }
      return clip(ctorName(v as object), VALUE_MAX);
  }
}

let seen = -1;
let on = false;
let wantArgs = false;
let wantRet = false;
let hex = false;
let w: RingWriter | null = null;

function refresh(): void {
  const s = Atomics.load(ctl, C_STATE);
  seen = s;
  const o = Atomics.load(ctl, C_OPTIONS);
  wantArgs = (o & OPT_GRAPH_ARGS) !== 0;
  wantRet = (o & OPT_GRAPH_RETVAL) !== 0;
  hex = (o & OPT_GRAPH_RETVAL_HEX) !== 0;
  on = (s & 1) !== 0 && threadTraced() && (wantArgs || wantRet);
  if (on) {
    w = threadWriter();
    if (w === null) {
      on = false;
      seen = -1;
    }
  }
}

function writeText(type: number, site: number, text: string, e: typeof EV_GRAPH_ARGS): void {
  const bytes = enc.encode(text);
  const p = w!.reserve(type, e.words - 1 + Math.ceil(bytes.length / 4));
  if (p < 0) return;
  writeField(w!.words, p - 1, e.fields[2]!, site);
  writeStringField(w!.words, p - 1, e.fields[3]!, e.words * 4, bytes);
}

function argsEntry(site: number, _parent: number, _ops: unknown, args: ArrayLike<unknown> | null): void {
  if (ctl[C_STATE] !== seen) refresh();
  if (!on || !wantArgs) return;
  let s = '';
  const n = args === null ? 0 : args.length;
  for (let i = 0; i < n && s.length < ARGS_MAX; i++) s += (i === 0 ? '' : ', ') + showValue(args![i], false);
  writeText(EV_GRAPH_ARGS.id, site, clip(s, ARGS_MAX), EV_GRAPH_ARGS);
}

function retExit(site: number, _ops: unknown, result: unknown, threw: boolean): void {
  if (ctl[C_STATE] !== seen) refresh();
  if (!on || !wantRet || result === UNWOUND) return;
  writeText(EV_GRAPH_RETVAL.id, site, threw ? `threw ${showValue(result, hex)}` : showValue(result, hex), EV_GRAPH_RETVAL);
}

/** The ops' callbacks (a module export every thread loads). */
export const valuesOps = { func: argsEntry, retfunc: retExit };
