/**
 * The original text of an instrumented module, for what Node would have
 * read of it in the plain run (the line above an uncaught exception, the
 * expression `assert.ok` quotes).
 *
 * Owns: finding that text again. Invariant: the text given is the one the
 * transform was given, or none: its file read again, used only when it
 * hashes to the module's tag (with a byte-order mark for CommonJS, without
 * one for an ES module), or one of the other readings of that file
 * registered (TypeScript Node strips: original-readings.ts). A loader's
 * output, or a file changed since, gives none. Each module's answer is
 * kept for the thread's life.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KnownModule } from './registry.js';
import { otherReadings } from './original-readings.js';
import { sourceDigest, tagOfDigest } from './source-tag.js';

const texts = new Map<string, string | null>();

/** The module's original text, or null where it cannot be had for sure. */
export function originalText(m: KnownModule): string | null {
  const known = texts.get(m.tag);
  if (known !== undefined) return known;
  let found: string | null = null;
  try {
    const path = m.script.startsWith('file:') ? fileURLToPath(m.script) : m.script;
    const raw = readFileSync(path, 'utf8');
    const candidates = raw.charCodeAt(0) === 0xfeff ? [raw, raw.slice(1)] : [raw];
    candidates.push(...otherReadings(raw, path));
    for (const text of candidates) {
      if (tagOfDigest(sourceDigest(text)) === m.tag) {
        found = text;
        break;
      }
    }
  } catch {
    found = null;
  }
  texts.set(m.tag, found);
  return found;
}
