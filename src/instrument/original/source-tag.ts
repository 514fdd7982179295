/**
 * A module's tag: who it is, from its source text alone.
 *
 * Owns: how the tag is made from the text the transform was given (the
 * first 40 bits of its SHA-1, in base 36, 8 digits). Invariant: the same
 * text gives the same tag in every thread and every run, so that the
 * original view can tell a file read again from the one that was
 * instrumented (uncaught-line.ts), and a function's text names its module
 * (registry.ts).
 */

import { createHash } from 'node:crypto';

/** The source's SHA-1 (the transform keys its cache and its sites with it). */
export function sourceDigest(code: string): Buffer {
  return createHash('sha1').update(code).digest();
}

/** The tag of a module whose source is `code`, from its digest. */
export function tagOfDigest(digest: Buffer): string {
  return digest.readUIntBE(0, 5).toString(36).padStart(8, '0');
}
