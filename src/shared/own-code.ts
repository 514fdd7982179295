/**
 * Where jsftrace's own code runs from, as stack frames name it.
 *
 * Owns: telling jsftrace's frames from the program's. Invariant: every
 * module of jsftrace's that runs in a program's thread is a file under
 * dist/src/: the runtime's files (CommonJS, whose frames name a path) and
 * the few ES modules beside them (whose frames name a file URL), so a frame
 * that names neither prefix is not jsftrace's.
 */

import { fileURLToPath } from 'node:url';

const src = new URL('../', import.meta.url);
/** dist/src/ as a file URL and as a path. */
export const OWN_CODE: readonly string[] = [src.href, fileURLToPath(src)];

/** Whether a frame's file (a path or a file URL) is jsftrace's own. */
export function isOwnCode(file: string): boolean {
  return file.startsWith(OWN_CODE[0]!) || file.startsWith(OWN_CODE[1]!);
}
