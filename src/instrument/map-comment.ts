/**
 * The comment that names a module's source map.
 *
 * Owns: finding the module's closing `sourceMappingURL` comment as Node
 * finds it, and what identifies the map file it names. Invariant: only
 * the comment that ends the module counts, and only a URL as compilers
 * write it; nothing here parses a map, so reading it costs the cache's
 * key no parser (load.ts).
 */

import { statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Node's own pattern for the comment (lib/internal/source_map/source_map_cache.js); the last match wins. */
const COMMENT = /\/[*/]#\s+sourceMappingURL=(?<url>[^\s]+)/g;
/** A data URL holding a map: its payload, and whether it is base64. */
export const DATA_URL = /^data:application\/json(?:;charset=[\w-]+)?(?<b64>;base64)?,(?<payload>.*)$/s;
/** A data URL whose payload is plain base64, or percent-encoded JSON with no quote or bracket left raw. */
const CLEAN_DATA = /^data:application\/json(?:;charset=[\w-]+)?(?:;base64,[A-Za-z0-9+/]*={0,2}|,[^"'`()\[\]{}]*)$/;
const CLEAN_URL = /^[^"'`()\[\]{}<>\\]+$/;

/**
 * The URL of the module's closing `sourceMappingURL` comment and where it
 * ends, or null: none, not the comment that ends the module (one anywhere
 * else could be inside a function, whose text must not change), or not a
 * URL as compilers write it.
 */
export function closingComment(code: string): { url: string; end: number } | null {
  // Only the end of the module can hold it: no scan of the whole text.
  const key = code.lastIndexOf('sourceMappingURL=');
  if (key < 0) return null;
  const from = Math.max(0, key - 64);
  let found: RegExpExecArray | null = null;
  for (const m of code.slice(from).matchAll(COMMENT)) found = m;
  if (found === null) return null;
  let end = from + found.index + found[0].length;
  let url = found.groups!['url']!;
  if (end - url.length !== key + 'sourceMappingURL='.length) return null;
  // Node's pattern takes a block comment's `*/` into the URL when nothing
  // separates them: the URL is what comes before it.
  if (found[0].startsWith('/*') && url.endsWith('*/')) {
    url = url.slice(0, -2);
    end -= 2;
  }
  const rest = code.slice(end).trim();
  if (rest !== '' && rest !== '*/') return null;
  // Only a URL as compilers write it: anything else (the end of a string
  // that looks like the comment) is left to Node, as it was.
  if (!(DATA_URL.test(url) ? CLEAN_DATA.test(url) : CLEAN_URL.test(url))) return null;
  return { url, end };
}

/**
 * What identifies the map file a module names, for the disk cache's key
 * (the transformed module carries it: a map rewritten beside an unchanged
 * module must make it again): the file's size and modification time, ''
 * for an inline map or none, 'missing' when it cannot be read.
 */
export function mapFileStamp(code: string, filename: string): string {
  const c = closingComment(code);
  if (c === null || c.url.startsWith('data:')) return '';
  try {
    const file = new URL(c.url, pathToFileURL(filename));
    if (file.protocol !== 'file:') return '';
    const st = statSync(fileURLToPath(file));
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
}
