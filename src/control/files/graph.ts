/**
 * The function_graph tracer's limits: max_graph_depth and tracing_thresh.
 *
 * Owns: nothing but the mapping and the parsing. Invariant: a value that
 * does not parse changes nothing.
 */

import { readMaxGraphDepth, readTracingThresh, setMaxGraphDepth, setTracingThresh } from '../../tracers/index.js';
import { parseUint, type ControlFile } from '../file.js';

export const graphFiles: Record<string, ControlFile> = {
  max_graph_depth: {
    read: readMaxGraphDepth,
    write: (text) => setMaxGraphDepth(parseUint(text, 'max_graph_depth')),
  },
  tracing_thresh: {
    read: readTracingThresh,
    write: (text) => setTracingThresh(parseUint(text, 'tracing_thresh', Math.floor(0x7fffffff / 1000))),
  },
};
