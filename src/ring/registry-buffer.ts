/**
 * The event registry's buffer: its header words and how a new one is made.
 * Kept apart from registry.ts (which parses and registers formats) so that
 * a session can be created at a program's start without loading the
 * format code.
 *
 * Owns: the registry header layout (drawn in registry.ts). Invariant: a
 * buffer is complete (sizes, format version) before its magic is stored.
 */

import { fail } from '../shared/errors.js';
import { RING_FORMAT_MAJOR, RING_FORMAT_MINOR } from './layout.js';
import { AtomicsStore, MathCeil } from '../shared/builtins.js';

export const REGISTRY_MAGIC = 0x4a534556; // 'JSEV'
export const G_MAGIC = 0;
export const G_FORMAT_MAJOR = 1;
export const G_FORMAT_MINOR = 2;
export const G_LOCK = 3;
/** Types registered; rows below it are complete. */
export const G_COUNT = 4;
/** Arena bytes used. */
export const G_TOP = 5;
export const G_MAX_TYPES = 6;
export const G_ARENA_BYTES = 7;
export const G_HEADER_WORDS = 16;

export interface RegistryLimits {
  maxTypes: number;
  arenaBytes: number;
}

/** A new, empty registry buffer. */
export function createRegistryBuffer(limits: Partial<RegistryLimits> = {}): SharedArrayBuffer {
  const maxTypes = limits.maxTypes ?? 1024;
  const arenaBytes = limits.arenaBytes ?? 256 << 10;
  if (!Number.isInteger(maxTypes) || maxTypes < 1 || maxTypes > 0xffff) fail('EINVAL', `maxTypes ${maxTypes}: 1 to 65535`);
  if (!Number.isInteger(arenaBytes) || arenaBytes < 1) fail('EINVAL', `arenaBytes ${arenaBytes}: a positive integer`);
  const sab = new SharedArrayBuffer((G_HEADER_WORDS + 2 * maxTypes) * 4 + MathCeil(arenaBytes / 4) * 4);
  const i32 = new Int32Array(sab);
  i32[G_FORMAT_MAJOR] = RING_FORMAT_MAJOR;
  i32[G_FORMAT_MINOR] = RING_FORMAT_MINOR;
  i32[G_MAX_TYPES] = maxTypes;
  i32[G_ARENA_BYTES] = arenaBytes;
  AtomicsStore(i32, G_MAGIC, REGISTRY_MAGIC);
  return sab;
}
