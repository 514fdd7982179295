/**
 * The core's read-only surface for a thread that reads site names without
 * joining the instance (the drain of a streaming record, which runs no
 * program code): the instance's buffer, the number of sites and their
 * names.
 *
 * Owns: nothing; it names what such a thread may use. Invariant: importing
 * it joins nothing and installs nothing (core/index.ts does both).
 */

export { instance, type Instance } from './instance.js';
export { recordCount } from './records.js';
export { displayName } from './views.js';
