/**
 * The control surface, read side: ftrace's inspection files as text.
 * Writing control files, the control server and its client build on this.
 */

import { availableFilterFunctions, enabledFunctions, instance, touchedFunctions } from '../core/index.js';
import { fail } from '../shared/errors.js';

const files = new Map<string, () => string>([
  ['available_filter_functions', () => availableFilterFunctions(instance())],
  ['enabled_functions', () => enabledFunctions(instance())],
  ['touched_functions', () => touchedFunctions(instance())],
]);

/** Reads a control file by name (as under tracefs). */
export function readFile(name: string): string {
  const f = files.get(name);
  if (f === undefined) fail('ENOENT', `no control file ${JSON.stringify(name)} (have: ${listFiles().join(', ')})`);
  return f();
}

export function listFiles(): string[] {
  return [...files.keys()].sort();
}
