/**
 * funcgraph-args and funcgraph-retval: an ops registered after the graph
 * tracer's, so that at each site its entry runs just before the graph
 * entry (newest first) and its exit just after the graph exit. It writes
 * the call's arguments before the entry event and the returned value after
 * the return event; the graph output joins them to the call.
 *
 * Owns: how a JavaScript value is shown in a trace. Invariants: rendering
 * never runs program code: no getters (only data properties are read), no
 * Proxy traps (a Proxy, or a prototype or constructor that is one, is shown
 * or skipped before anything is read from it), no patched built-ins
 * (toString and JSON.stringify are captured at load); a rendering is at most
 * VALUE_MAX characters; the ops writes nothing while tracing is off.
 */

import { types } from 'node:util';
import { UNWOUND } from '../core/index.js';
import { writeField, writeStringField, type RingWriter } from '../ring/index.js';
import {
  C_OPTIONS, C_STATE, ctl, EV_GRAPH_ARGS, EV_GRAPH_RETVAL, OPT_GRAPH_ARGS, OPT_GRAPH_RETVAL, threadTraced, threadWriter,
} from './session.js';
import { AtomicsLoad, MathCeil } from '../shared/builtins.js';

const VALUE_MAX = 48;
const ARGS_MAX = 160;
const enc = new TextEncoder();

// Captured at load: a program that patches these cannot run code through us.
const numberToString = Number.prototype.toString;
const bigintToString = BigInt.prototype.toString;
const symbolToString = Symbol.prototype.toString;
const stringify = JSON.stringify;

/** Cut at `max` characters, never inside a surrogate pair. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max - 1;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${s.slice(0, end)}…`;
}

/** A data property's value, or undefined: never a getter, never a Proxy trap. */
function dataValue(o: object, key: string): unknown {
  if (types.isProxy(o)) return undefined;
  const d = Object.getOwnPropertyDescriptor(o, key);
  return d !== undefined && 'value' in d ? d.value as unknown : undefined;
}

function ctorName(v: object): string {
  try {
    const p = Object.getPrototypeOf(v) as object | null;
    if (p === null) return 'Object: null prototype';
    const c = dataValue(p, 'constructor');
    if (typeof c === 'function') {
      const n = dataValue(c, 'name');
      if (typeof n === 'string' && n !== '') return n;
    }
  } catch {
    // a hostile prototype: fall through
  }
  return 'Object';
}

/**
 * An integer in hex as the kernel prints a return value with
 * funcgraph-retval-hex (`0x%lx` of the register): a negative number in the
 * int32 range as its 32-bit two's complement (-5 is 0xfffffffb, an int
 * returned in a 64-bit register), a larger negative one as its 64-bit one.
 */
function hexOf(v: number | bigint): string {
  if (typeof v === 'bigint') {
    if (v < 0n && v >= -(2n ** 63n)) return `0x${Reflect.apply(bigintToString, BigInt.asUintN(64, v), [16]) as string}n`;
    return v < 0n ? `-0x${Reflect.apply(bigintToString, -v, [16]) as string}n` : `0x${Reflect.apply(bigintToString, v, [16]) as string}n`;
  }
  if (v < 0 && v >= -0x80000000) return `0x${Reflect.apply(numberToString, v >>> 0, [16]) as string}`;
  if (v < 0 && Number.isSafeInteger(v)) return `0x${Reflect.apply(bigintToString, BigInt.asUintN(64, BigInt(v)), [16]) as string}`;
  return v < 0 ? `-0x${Reflect.apply(numberToString, -v, [16]) as string}` : `0x${Reflect.apply(numberToString, v, [16]) as string}`;
}

/**
 * A recorded return value as the graph shows it: the text as recorded
 * (decimal), or with `hex` its integers in hex (the recorded text of a
 * number or bigint is read back; anything else is shown as it is).
 */
export function retvalText(recorded: string, hex: boolean): string {
  if (!hex) return recorded;
  const threw = recorded.startsWith('threw ');
  const v = threw ? recorded.slice(6) : recorded;
  let h: string | null = null;
  if (/^-?[0-9]+$/.test(v) && Number.isSafeInteger(Number(v))) h = hexOf(Number(v));
  else if (/^-?[0-9]+n$/.test(v)) h = hexOf(BigInt(v.slice(0, -1)));
  return h === null ? recorded : threw ? `threw ${h}` : h;
}

/** A value as the graph prints it: numbers and short strings as they are, objects by kind. */
export function showValue(v: unknown, hex = false): string {
  switch (typeof v) {
    case 'number':
      return hex && Number.isInteger(v) ? hexOf(v) : `${v}`;
    case 'bigint':
      return hex ? hexOf(v) : `${v}n`;
    case 'string':
      // Only the part shown is quoted: a huge string costs no more than a short one.
      return clip(stringify(v.length > VALUE_MAX ? v.slice(0, VALUE_MAX) : v) + (v.length > VALUE_MAX ? '…' : ''), VALUE_MAX);
    case 'boolean':
    case 'undefined':
      return `${v}`;
    case 'symbol':
      return clip(Reflect.apply(symbolToString, v, []) as string, VALUE_MAX);
    case 'function': {
      if (types.isProxy(v)) return 'Proxy';
      const n = dataValue(v, 'name');
      return `[Function ${typeof n === 'string' && n !== '' ? n : '(anonymous)'}]`;
    }
    default:
      if (v === null) return 'null';
      if (types.isProxy(v)) return 'Proxy';
      if (Array.isArray(v)) return `Array(${v.length})`;
      if (types.isPromise(v)) return 'Promise';
      if (types.isNativeError(v)) {
        const m = dataValue(v, 'message');
        const msg = typeof m === 'string' && m !== '' ? `: ${m}` : '';
        return clip(`[${ctorName(v)}${msg}]`, VALUE_MAX);
      }
      return clip(ctorName(v as object), VALUE_MAX);
  }
}

/**
 * A thrown value as an exception's type and message (OpenTelemetry's
 * exception.type and exception.message), read as showValue reads: an
 * Error's constructor name and own `message` data property; anything else
 * by kind, its rendering as the message.
 */
export function thrownParts(v: unknown): { type: string; message: string } {
  if (typeof v === 'object' && v !== null && !types.isProxy(v) && types.isNativeError(v)) {
    const m = dataValue(v, 'message');
    return { type: ctorName(v), message: typeof m === 'string' ? clip(m, ARGS_MAX) : '' };
  }
  const type = v === null ? 'null' : typeof v === 'object' ? (types.isProxy(v) ? 'Proxy' : ctorName(v)) : typeof v;
  return { type, message: showValue(v) };
}

let seen = -1;
let on = false;
let wantArgs = false;
let wantRet = false;
let w: RingWriter | null = null;

function refresh(): void {
  const s = AtomicsLoad(ctl, C_STATE);
  seen = s;
  const o = AtomicsLoad(ctl, C_OPTIONS);
  wantArgs = (o & OPT_GRAPH_ARGS) !== 0;
  wantRet = (o & OPT_GRAPH_RETVAL) !== 0;
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
  const p = w!.reserve(type, e.words - 1 + MathCeil(bytes.length / 4));
  if (p < 0) return;
  writeField(w!.words, p - 1, e.fields[2]!, site);
  writeStringField(w!.words, p - 1, e.fields[3]!, e.words * 4, bytes);
  w!.filled();
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
  // Recorded in decimal: funcgraph-retval-hex applies when the trace is read (output/graph.ts).
  writeText(EV_GRAPH_RETVAL.id, site, threw ? `threw ${showValue(result)}` : showValue(result), EV_GRAPH_RETVAL);
}

/** The ops' callbacks (a module export every thread loads). */
export const valuesOps = { func: argsEntry, retfunc: retExit };
