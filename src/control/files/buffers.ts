/**
 * The buffer files: buffer_size_kb, buffer_total_size_kb, and each thread's
 * per_thread/N/{trace,trace_pipe,stats,buffer_size_kb} (ftrace's
 * per_cpu/cpuN: a thread is our CPU, it owns one ring).
 *
 * Owns: the mapping and the per-thread directory's files. Invariants: a
 * size is checked (the ring geometry refuses what it cannot hold) before
 * anything changes; buffer_size_kb reads `X` while threads differ, and
 * writing it gives every thread the same size, as ftrace's.
 */

import {
  bufferSizeKb, readThreadStats, readTrace, readTracePipe, setBufferSizeKb,
} from '../../tracers/index.js';
import { knownThreadIds, setThreadBufferSizeKb, sizesUniform, threadBufferSizeKb } from '../../tracers/session.js';
import { MAX_SIZE_KB } from '../../ring/index.js';
import { parseUint, type ControlFile } from '../file.js';

/** The ring's own largest size: a larger one would be refused after the parse, with a less clear error. */
const KB_MAX = MAX_SIZE_KB;

export const bufferFiles: Record<string, ControlFile> = {
  buffer_size_kb: {
    read: () => (sizesUniform() ? `${bufferSizeKb()}\n` : 'X\n'),
    write: (text) => setBufferSizeKb(parseUint(text, 'buffer_size_kb', KB_MAX)),
  },
  buffer_total_size_kb: {
    read: () => {
      const ids = knownThreadIds();
      const total = ids.length === 0 ? bufferSizeKb() : ids.reduce((s, t) => s + threadBufferSizeKb(t), 0);
      return `${total}\n`;
    },
  },
};

/** The files of per_thread/<threadId>/. */
export function perThreadFiles(threadId: number): Record<string, ControlFile> {
  return {
    trace: { read: () => readTrace(threadId) },
    trace_pipe: { read: () => readTracePipe(threadId) },
    stats: { read: () => readThreadStats(threadId) },
    buffer_size_kb: {
      read: () => `${threadBufferSizeKb(threadId)}\n`,
      write: (text) => setThreadBufferSizeKb(threadId, parseUint(text, 'buffer_size_kb', KB_MAX)),
    },
  };
}

/** Threads that have a per_thread directory: every thread with a row. */
export function perThreadIds(): number[] {
  return knownThreadIds();
}
