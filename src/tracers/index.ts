/**
 * The tracers' entry point: the session knobs, the tracer registry and the
 * readers of the tracing files. Owns nothing but the list of what is public
 * here; control files and the CLI import from this file only.
 */

export {
  bufferSizeKb, clearBuffers, overwrite, readTraceClock, setBufferSizeKb, setOverwrite, setThreadClock, setTraceClock,
  setTracingOn, getThreadName, setThreadName, tracingOn, flushThread, eventRegistry,
  setTracePids, tracePids, setContextFilter, contextFilter,
} from './session.js';
export { traceContext } from './context.js';
export {
  readAvailableTracers, readCurrentTracer, setCurrentTracer, setTracerFilter, setMaxGraphDepth, readMaxGraphDepth,
  setTracingThresh, readTracingThresh, setGraphFunction, setGraphNotrace, readGraphFunction, readGraphNotrace,
  setFunctionProfileEnabled, readFunctionProfileEnabled, readTrace, readTracePipe, traceChunks, tracePipeChunks, traceStatFiles, readTraceStat, readThreadStats,
} from './tracers.js';
export { graphOverrun } from './graph.js';
export * as otlp from './otlp/index.js';
