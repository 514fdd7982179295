/**
 * The control surface, read side: ftrace's inspection files as text.
 * Writing control files, the control server and its client build on this.
 */

import { availableFilterFunctions, enabledFunctions, instance, touchedFunctions } from '../core/index.js';

const files: Record<string, () => string> = {
  available_filter_functions: () => availableFilterFunctions(instance()),
  enabled_functions: () => enabledFunctions(instance()),
  touched_functions: () => touchedFunctions(instance()),
};

/** Reads a control file by name (as under tracefs). */
export function readFile(name: string): string {
  const f = files[name];
  if (f === undefined) throw Object.assign(new Error(`no control file ${name}`), { code: 'ENOENT' });
  return f();
}

export function listFiles(): string[] {
  return Object.keys(files).sort();
}
