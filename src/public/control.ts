/**
 * `jsftrace/control`: the control files of this process, as tracefs has
 * them, from inside the program. The same tree is served over the control
 * socket (`jsftrace -P <pid> fs ...`). See docs/control.md.
 */

import { controlSurface } from '../control/tree.js';

export type { ControlSurface } from '../control/surface.js';
export { controlSurface };

/** `cat <path>`. */
export function readFile(path: string): Promise<string> {
  return controlSurface().read(path);
}

/** `echo text > <path>`. */
export function writeFile(path: string, text: string): Promise<void> {
  return controlSurface().write(path, text);
}

/** `echo text >> <path>`. */
export function appendFile(path: string, text: string): Promise<void> {
  return controlSurface().append(path, text);
}

/** Every control file's path, sorted. */
export function listFiles(): Promise<string[]> {
  return controlSurface().list();
}

export { traceMarker } from '../tracers/marker.js';
export { traceContext } from '../tracers/context.js';
