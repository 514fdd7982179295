/**
 * The profiler's files: function_profile_enabled and trace_stat/functionN.
 *
 * Owns: nothing but the mapping. Invariant: enabling resets the counts (a
 * new generation), as ftrace's does; disabling freezes them.
 */

import { readFunctionProfileEnabled, readTraceStat, setFunctionProfileEnabled, traceStatFiles } from '../../tracers/index.js';
import { parseSwitch, type ControlFile } from '../file.js';

export const profileFiles: Record<string, ControlFile> = {
  function_profile_enabled: {
    read: readFunctionProfileEnabled,
    write: (text) => setFunctionProfileEnabled(parseSwitch(text, 'function_profile_enabled')),
  },
};

/** trace_stat/ entries: `function<threadId>` for each thread that profiled. */
export async function statFiles(): Promise<Record<string, ControlFile>> {
  const out: Record<string, ControlFile> = {};
  for (const name of await traceStatFiles()) {
    const id = Number(name.slice('function'.length));
    out[name] = { read: () => readTraceStat(id) };
  }
  return out;
}
