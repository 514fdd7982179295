/**
 * trace_marker: the program's own annotations in the trace (ftrace's
 * TRACE_PRINT), written into the ring of the thread that writes them, so
 * that they sort among that thread's calls.
 *
 * Owns: the size limit and the encoding. Invariants: a marker is written
 * whole or not at all (as one event); it is written while tracing_on is 1
 * and the markers option is on, whatever tracer is current (nop included)
 * and whatever the pid filters say, as ftrace's marker; a marker longer than MARKER_MAX bytes is cut
 * there, as ftrace cuts at TRACE_BUF_SIZE, and the write reports the bytes
 * it kept.
 */

import { writeStringField } from '../ring/index.js';
import { fail } from '../shared/errors.js';
import { EV_MARKER, options, OPT_MARKERS, threadWriter, tracingOn } from './session.js';
import { MathCeil } from '../shared/builtins.js';

/** Bytes of text one marker keeps (ftrace: TRACE_BUF_SIZE, 1 KiB on most builds). */
export const MARKER_MAX = 1024;

const enc = new TextEncoder();

/**
 * Writes `text` as a marker; a trailing newline is dropped (the output adds
 * its own). Returns the bytes written, 0 when tracing is off or the event
 * was dropped (the ring counts it).
 */
export function traceMarker(text: string): number {
  if (!tracingOn()) return 0;
  const w = threadWriter();
  if (w === null) return 0;
  if (typeof text !== 'string') fail('EINVAL', 'trace_marker: the text is a string');
  if ((options() & OPT_MARKERS) === 0) return 0;
  let bytes = enc.encode(text.endsWith('\n') ? text.slice(0, -1) : text);
  if (bytes.length > MARKER_MAX) {
    // Never split a UTF-8 sequence: if the byte after the cut continues one,
    // back up to where that sequence starts.
    let end = MARKER_MAX;
    while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  const e = EV_MARKER;
  const p = w.reserve(e.id, e.words - 1 + MathCeil(bytes.length / 4));
  if (p < 0) return 0;
  writeStringField(w.words, p - 1, e.fields[2]!, e.words * 4, bytes);
  w.filled();
  w.flush();
  return bytes.length;
}
