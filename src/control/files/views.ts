/**
 * The core's inspection files: available_filter_functions,
 * enabled_functions, touched_functions (read-only, ftrace's 0444 files).
 *
 * Owns: nothing but the mapping. Invariant: the text is the core's views',
 * byte for byte.
 */

import { availableFilterFunctions, enabledFunctions, instance, touchedFunctions } from '../../core/index.js';
import type { ControlFile } from '../file.js';

export const viewFiles: Record<string, ControlFile> = {
  available_filter_functions: { read: () => availableFilterFunctions(instance()) },
  enabled_functions: { read: () => enabledFunctions(instance()) },
  touched_functions: { read: () => touchedFunctions(instance()) },
};
