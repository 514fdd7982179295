/**
 * The files that choose and switch tracing, and read what it wrote:
 * available_tracers, current_tracer, tracing_on, trace, trace_pipe,
 * trace_clock, trace_marker.
 *
 * Owns: nothing but the mapping of these files onto the tracers' API.
 * Invariant: a refused write changes nothing (each setter validates first).
 */

import {
  clearBuffers, readAvailableTracers, readCurrentTracer, readTrace, readTraceClock, readTracePipe, setCurrentTracer,
  setTraceClock, setTracingOn, traceChunks, tracePipeChunks, tracingOn,
} from '../../tracers/index.js';
import { options, OPT_MARKERS } from '../../tracers/session.js';
import { traceMarker } from '../../tracers/marker.js';
import { failAt, parseSwitch, type ControlFile } from '../file.js';

export const tracingFiles: Record<string, ControlFile> = {
  available_tracers: { read: readAvailableTracers },
  current_tracer: {
    read: readCurrentTracer,
    write: (text) => {
      const name = text.trim();
      if (name === '') failAt('EINVAL', 'current_tracer: a tracer name is needed (see available_tracers)');
      return setCurrentTracer(name);
    },
  },
  tracing_on: {
    read: () => (tracingOn() ? '1\n' : '0\n'),
    write: (text) => setTracingOn(parseSwitch(text, 'tracing_on')),
  },
  trace: {
    read: () => readTrace(),
    stream: () => traceChunks(),
    // Opening `trace` with O_TRUNC (`echo > trace`) clears the buffers; `>>` writes nothing.
    write: () => clearBuffers(),
    append: () => undefined,
  },
  trace_pipe: { read: () => readTracePipe(), stream: () => tracePipeChunks() },
  trace_clock: {
    read: readTraceClock,
    write: (text) => setTraceClock(text),
  },
  trace_marker: {
    write: (text) => {
      if ((options() & OPT_MARKERS) === 0) failAt('EINVAL', 'trace_marker: the markers option is off');
      // As ftrace: a write while the buffers are off is refused as if the file were not open for writing.
      if (!tracingOn()) failAt('EBADF', 'trace_marker: tracing_on is 0');
      traceMarker(text);
    },
  },
};
