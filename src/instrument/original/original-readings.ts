/**
 * Other texts a file may have been instrumented as.
 *
 * Owns: the list of readings a module hook registers (hooks/type-stripping.ts:
 * TypeScript, stripped as Node strips it), which the line above an uncaught
 * exception tries on a file's text (uncaught-line.ts). Kept apart so that a
 * hook's thread loads nothing of the report.
 */

/** From a file's text and path, the texts its module may have been given to the transform as. */
export type Reading = (raw: string, path: string) => string[];

const readings: Reading[] = [];

export function addOriginalReading(read: Reading): void {
  readings.push(read);
}

/** The texts every reading makes of a file. */
export function otherReadings(raw: string, path: string): string[] {
  return readings.flatMap((read) => read(raw, path));
}
