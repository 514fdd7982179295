/**
 * The traced threads' part of options/otlp: what the function_graph
 * callbacks write beside their entries and returns so that the export
 * worker (worker.ts) can make spans of the calls and join them to the
 * program's OpenTelemetry traces.
 *
 * Owns: reading the OpenTelemetry span active in the caller's async
 * context, and the three side events (session.ts): `otel_parent` before
 * the entry of a call with no traced caller, `funcgraph_resume_of` before a
 * resumed entry, `funcgraph_throw` before the return of a call that threw a
 * value the exit saw. Invariants:
 * - each side event goes just before the graph event it belongs to, with
 *   that event's timestamp, so the trace text (which skips them) and the
 *   calls the other outputs see are the same with the option on or off;
 * - nothing here imports OpenTelemetry: the program's API is found through
 *   the global it registers (any 1.x), so a program without it pays one
 *   property load per root call, and an API older than one we could import
 *   is still seen (the API's own version check would hide a program's
 *   older minor version from a newer copy);
 * - reading the context runs the program's context manager, inside the
 *   graph callback's recursion guard (its calls are not traced); whatever it
 *   throws is caught and read as "no span".
 */

import { writeStringField, type RingWriter } from '../../ring/index.js';
import { EV_GRAPH_RESUME_OF, EV_GRAPH_THROW, EV_OTEL_PARENT, OTEL_API, OTEL_SPAN } from '../session.js';
import { thrownParts } from '../values.js';

/** @opentelemetry/api 1.x registers its globals (context manager, ...) under this symbol. */
const API_KEY = Symbol.for('opentelemetry.js.api.1');
/** The key of the active span in an OpenTelemetry Context (createContextKey). */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
const ZERO_ID = /^0+$/;

interface OtelGlobal {
  context?: { active(): { getValue(key: symbol): unknown } };
}
interface SpanLike {
  spanContext(): { traceId: string; spanId: string; traceFlags: number };
}

const PARENT = EV_OTEL_PARENT.id;
const PARENT_WORDS = EV_OTEL_PARENT.words - 1;
const RESUME_OF = EV_GRAPH_RESUME_OF.id;
const THROW = EV_GRAPH_THROW.id;
const enc = new TextEncoder();

/** What the next otel_parent carries, read by readParent(). */
const ids = new Int32Array(7);
let parentFlags = 0;

function hexWord(id: string, at: number): number {
  return Number.parseInt(id.slice(at, at + 8), 16) | 0;
}

/**
 * Reads the span active now into `ids`/`parentFlags`. Called before the
 * call's clock reading, so its cost is not counted in the call.
 */
export function readParent(): void {
  parentFlags = 0;
  ids.fill(0);
  const api = (globalThis as Record<symbol, OtelGlobal | undefined>)[API_KEY];
  if (api === undefined) return;
  parentFlags = OTEL_API;
  try {
    const span = api.context?.active().getValue(SPAN_KEY) as SpanLike | undefined;
    if (span === undefined || typeof span.spanContext !== 'function') return;
    const sc = span.spanContext();
    if (typeof sc.traceId !== 'string' || sc.traceId.length !== 32 || typeof sc.spanId !== 'string' || sc.spanId.length !== 16
      || ZERO_ID.test(sc.traceId) || ZERO_ID.test(sc.spanId)) return;
    for (let k = 0; k < 4; k++) ids[k] = hexWord(sc.traceId, 8 * k);
    ids[4] = hexWord(sc.spanId, 0);
    ids[5] = hexWord(sc.spanId, 8);
    ids[6] = sc.traceFlags & 0xff;
    parentFlags |= OTEL_SPAN;
  } catch {
    // A context manager that throws: no span, as if none were active.
    ids.fill(0);
  }
}

/** otel_parent with what readParent() found, at time `t`. */
export function writeParent(w: RingWriter, t: number): void {
  const p = w.reserveAt(t, PARENT | (parentFlags << 16), PARENT_WORDS);
  if (p < 0) return;
  const words = w.words;
  for (let k = 0; k < 7; k++) words[p + k] = ids[k]!;
  w.filled();
}

/** funcgraph_resume_of: the resumed entry written next at `t` continues the call first entered as event `serial`. */
export function writeResumeOf(w: RingWriter, t: number, serial: number): void {
  const p = w.reserveAt(t, RESUME_OF, 2);
  if (p < 0) return;
  const hi = Math.floor(serial / 0x100000000);
  w.words[p] = serial - hi * 0x100000000;
  w.words[p + 1] = hi;
  w.filled();
}

/** funcgraph_throw: the call at `depth`, whose return is written next at `t`, threw `value`. */
export function writeThrow(w: RingWriter, t: number, depth: number, value: unknown): void {
  const { type, message } = thrownParts(value);
  const tb = enc.encode(type);
  const mb = enc.encode(message);
  const e = EV_GRAPH_THROW;
  const p = w.reserveAt(t, THROW, e.words - 1 + Math.ceil((tb.length + mb.length) / 4));
  if (p < 0) return;
  const at = p - 1; // the payload starts with the common word
  w.words[at + (e.fields[2]!.offset >> 2)] = depth;
  const next = writeStringField(w.words, at, e.fields[3]!, e.words * 4, tb);
  writeStringField(w.words, at, e.fields[4]!, next, mb);
  w.filled();
}
