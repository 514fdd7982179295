/**
 * The table of sites (ftrace's dyn_ftrace records).
 *
 * Owns: allocating record ids, their metadata, and the key table that lets
 * a block of sites defined in one thread be found again by another thread
 * that loads the same code. Invariants: ids are dense and never reused; a
 * record's metadata never changes once its id is published (H_NR_SITES is
 * raised last); one key names one block of one size.
 */

import { AtomicsLoad, AtomicsStore, BufferByteLength, MathImul } from '../shared/builtins.js';
import { fail } from '../shared/errors.js';
import { arenaAlloc, arenaBuffer, arenaRead, arenaWrite } from './arena.js';
import { OWN_SITE_KEYS, SITE_KEYS } from '../shared/site-abi.js';
import {
  H_NR_SITES, KEY_STRIDE, K_BASE1, K_COUNT, K_HASH, K_KEY_LEN, K_KEY_OFF,
} from './layout.js';
import type { Instance } from './instance.js';

export interface SiteMeta {
  /** The name filters match and traces print, e.g. `src/app.ts:Router.handle`. */
  name: string;
  /** File relative to its package or program root; '' when unknown. */
  file?: string;
  /** 1-based line, 0 when unknown. */
  line?: number;
  /** 1-based column, 0 when unknown. */
  column?: number;
  /** The npm package the file belongs to; '' for the program's own code. */
  package?: string;
}

export interface SiteRecord {
  readonly id: number;
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly package: string;
}

const SEP = '\u0000';

function encodeMeta(m: SiteMeta): string {
  return [m.name, m.file ?? '', m.line ?? 0, m.column ?? 0, m.package ?? ''].join(SEP);
}

export function validateMeta(m: SiteMeta, what: string): void {
  if (typeof m !== 'object' || m === null) fail('EINVAL', `${what}: metadata must be an object`);
  if (typeof m.name !== 'string' || m.name.length === 0) fail('EINVAL', `${what}: name must be a non-empty string`);
  // Filters are whitespace-separated words, so a name with a space could
  // never be selected by its full name.
  if (/\s/.test(m.name)) fail('EINVAL', `${what}: name ${JSON.stringify(m.name)} contains whitespace`);
  for (const k of ['name', 'file', 'package'] as const) {
    const v = m[k];
    if (v !== undefined && (typeof v !== 'string' || v.includes(SEP) || /[\n\r]/.test(v))) {
      fail('EINVAL', `${what}: ${k} must be a string without NUL or line breaks`);
    }
  }
  for (const k of ['line', 'column'] as const) {
    const v = m[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) fail('EINVAL', `${what}: ${k} must be a non-negative integer`);
  }
}

/** FNV-1a over UTF-16 code units; only used to spread keys. */
function hashKey(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = MathImul(h, 0x01000193);
  }
  return h | 1; // never 0, so an empty row is recognisable by hash too
}

/**
 * Finds the block `key` or allocates it with `metas`. Must be called with the
 * engine lock held. Returns the first id and whether the block is new.
 * `siteKeys` gives the site key each site reads (shared/site-abi.ts); sites
 * defined without (through the API, which reads no key) get one from the
 * block's key.
 */
export function defineBlockLocked(inst: Instance, key: string, metas: readonly SiteMeta[],
  siteKeys?: ArrayLike<number>): { base: number; created: boolean } {
  const { i32, L } = inst;
  const h = hashKey(key);
  const mask = L.keySlots - 1;
  let slot = h & mask;
  for (let probes = 0; probes < L.keySlots; probes++, slot = (slot + 1) & mask) {
    const row = L.keys + slot * KEY_STRIDE;
    const base1 = i32[row + K_BASE1];
    if (base1 === 0) {
      const count = metas.length;
      const base = i32[H_NR_SITES];
      if (base + count > L.maxSites) {
        fail('ENOSPC', `no room for ${count} more sites (limit ${L.maxSites}; raise JSFTRACE_MAX_SITES)`);
      }
      // One allocation and one write for the whole block.
      const texts = new Array<string>(count);
      for (let k = 0; k < count; k++) texts[k] = encodeMeta(metas[k]!);
      const joined = texts.join('');
      const bytes = BufferByteLength(joined, 'utf8');
      const ascii = bytes === joined.length;
      let at = arenaAlloc(inst, bytes);
      arenaBuffer(inst).write(joined, at, bytes, 'utf8');
      for (let k = 0; k < count; k++) {
        const len = ascii ? texts[k]!.length : BufferByteLength(texts[k]!, 'utf8');
        i32[L.meta + 2 * (base + k)] = at;
        i32[L.meta + 2 * (base + k) + 1] = len;
        at += len;
      }
      const spread = (h >>> 1) % (SITE_KEYS - OWN_SITE_KEYS);
      for (let k = 0; k < count; k++) {
        const sk = siteKeys !== undefined ? siteKeys[k]! : OWN_SITE_KEYS + (spread + k) % (SITE_KEYS - OWN_SITE_KEYS);
        i32[L.skey + base + k] = sk >= 0 && sk < SITE_KEYS ? sk : 0;
      }
      const kref = arenaWrite(inst, key);
      i32[row + K_HASH] = h;
      i32[row + K_COUNT] = count;
      i32[row + K_KEY_OFF] = kref.off;
      i32[row + K_KEY_LEN] = kref.len;
      AtomicsStore(i32, row + K_BASE1, base + 1);
      // Publishing the count last makes the metadata visible first.
      AtomicsStore(i32, H_NR_SITES, base + count);
      return { base, created: true };
    }
    if (i32[row + K_HASH] === h && arenaRead(inst, i32[row + K_KEY_OFF], i32[row + K_KEY_LEN]) === key) {
      if (i32[row + K_COUNT] !== metas.length) {
        fail('EEXIST', `site block ${JSON.stringify(key)} exists with ${i32[row + K_COUNT]} sites, not ${metas.length}`);
      }
      return { base: base1 - 1, created: false };
    }
  }
  fail('ENOSPC', 'the site key table is full');
}

/** Number of records defined so far (any thread). */
export function recordCount(inst: Instance): number {
  return AtomicsLoad(inst.i32, H_NR_SITES);
}

/**
 * Decoded metadata, cached per thread: records never change, so each is
 * decoded at most once per thread.
 */
const cache: SiteRecord[] = [];

export function record(inst: Instance, id: number): SiteRecord {
  let r = cache[id];
  if (r !== undefined) return r;
  if (!(id >= 0 && id < recordCount(inst))) fail('EINVAL', `no site with id ${id}`);
  const { i32, L } = inst;
  const text = arenaRead(inst, i32[L.meta + 2 * id], i32[L.meta + 2 * id + 1]);
  const [name = '', file = '', line = '0', column = '0', pkg = ''] = text.split(SEP);
  r = { id, name, file, line: Number(line), column: Number(column), package: pkg };
  cache[id] = r;
  return r;
}
