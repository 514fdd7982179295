/**
 * One decoded event of a thread's ring into that thread's call
 * reconstruction (assemble.ts): the same for the live export and the
 * offline converter, so both make the same spans of the same events.
 *
 * Owns: the mapping of the graph's events and options/otlp's side events
 * (their formats in session.ts) onto ThreadCalls. Invariant: an event too
 * short for its format's fixed fields is ignored, as the other readers do.
 */

import type { EventCursor } from '../../ring/index.js';
import {
  ENT_RESUMED, EV_GRAPH_ENT, EV_GRAPH_RESUME_OF, EV_GRAPH_RET, EV_GRAPH_THROW, EV_OTEL_PARENT, OTEL_API, OTEL_SPAN,
} from '../session.js';
import type { ThreadCalls } from './assemble.js';

const ENT = EV_GRAPH_ENT.id;
const RET = EV_GRAPH_RET.id;
const PARENT = EV_OTEL_PARENT.id;
const RESUME_OF = EV_GRAPH_RESUME_OF.id;
const THROW = EV_GRAPH_THROW.id;
const THROW_TYPE = EV_GRAPH_THROW.fields[3]!;
const THROW_MESSAGE = EV_GRAPH_THROW.fields[4]!;

function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}

/** Hands the cursor's current event to `calls`. */
export function feedEvent(calls: ThreadCalls, e: EventCursor): void {
  switch (e.type) {
    case ENT:
      if (e.is(EV_GRAPH_ENT)) calls.entry(e.ts, e.u32(1), e.i32(2), (e.flags & ENT_RESUMED) !== 0, e.serial);
      return;
    case RET:
      if (e.is(EV_GRAPH_RET)) calls.exit(e.ts, e.u32(1), e.i32(2), e.u64(3), e.flags);
      return;
    case PARENT:
      if (!e.is(EV_OTEL_PARENT)) return;
      calls.parent((e.flags & OTEL_SPAN) === 0 ? null : {
        traceId: hex8(e.u32(1)) + hex8(e.u32(2)) + hex8(e.u32(3)) + hex8(e.u32(4)),
        spanId: hex8(e.u32(5)) + hex8(e.u32(6)),
        traceFlags: e.u32(7) & 0xff,
      }, (e.flags & OTEL_API) !== 0);
      return;
    case RESUME_OF:
      if (e.is(EV_GRAPH_RESUME_OF)) calls.resumeOf(e.u64(1));
      return;
    case THROW:
      if (e.is(EV_GRAPH_THROW)) calls.threw(e.i32(1), e.string(THROW_TYPE), e.string(THROW_MESSAGE));
      return;
    default:
  }
}

/**
 * Hands every event of the page image at `data[base]` (a ring page's header
 * and committed words, as a trace file or the drain holds them) to
 * `calls`; `expected` is the serial number the stream's next event should
 * have, and a later one means the events between went by unread (counted
 * there); -1 when not known (a reader that begins here). Returns the serial number expected after the image.
 */
export function feedImage(calls: ThreadCalls, cursor: EventCursor, data: Int32Array, base: number, expected: number): number {
  const entries = cursor.load(data, base);
  const serial = cursor.serial + 1;
  if (expected >= 0 && serial > expected) calls.lostEvents(serial - expected);
  while (cursor.step()) feedEvent(calls, cursor);
  return Math.max(expected, serial + entries);
}
