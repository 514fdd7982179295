/**
 * Event types, registered once per tracing instance and shared by every
 * thread's ring: the events/<name>/format texts and the ids they give.
 *
 * Owns: a SharedArrayBuffer holding the texts, so a thread (or a reader that
 * was handed the buffer) learns every type without asking the one that
 * registered it. Invariants:
 * - an id, once given, keeps its format: registering the same name with the
 *   same fields returns the same id in any thread; with other fields, EEXIST;
 * - an entry is complete before G_COUNT covers it (Atomics.store after the
 *   text and the table row), so a thread that sees the count can parse it.
 *
 *   i32 index
 *   0          G_* header (16 words)
 *   16         TABLE[maxTypes]: byte offset, byte length of each text (id = row + 1)
 *   arena      ASCII/UTF-8 texts, appended, never freed
 */

import { fail } from '../shared/errors.js';
import { defineEventFormat, type EventFormat, eventFormatText, type FieldSpec, parseEventFormat } from './format.js';
import { lockWord, unlockWord } from './lock.js';
import { RING_FORMAT_MAJOR } from './layout.js';
import {
  createRegistryBuffer, G_ARENA_BYTES, G_COUNT, G_FORMAT_MAJOR, G_HEADER_WORDS, G_LOCK, G_MAGIC, G_MAX_TYPES, G_TOP,
  REGISTRY_MAGIC, type RegistryLimits,
} from './registry-buffer.js';
import { AtomicsLoad, AtomicsStore } from '../shared/builtins.js';

export type { RegistryLimits };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class EventRegistry {
  readonly sab: SharedArrayBuffer;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly arenaAt: number;
  /** Parsed formats by id - 1, as far as this thread has read. */
  private readonly known: EventFormat[] = [];
  private readonly byName = new Map<string, EventFormat>();

  constructor(sab: SharedArrayBuffer) {
    const i32 = new Int32Array(sab);
    if (AtomicsLoad(i32, G_MAGIC) !== REGISTRY_MAGIC) fail('EINVAL', 'not an event registry');
    if (i32[G_FORMAT_MAJOR] !== RING_FORMAT_MAJOR) fail('EINVAL', `event registry format ${i32[G_FORMAT_MAJOR]}.x, this build reads ${RING_FORMAT_MAJOR}.x`);
    this.sab = sab;
    this.i32 = i32;
    this.u8 = new Uint8Array(sab);
    this.arenaAt = (G_HEADER_WORDS + 2 * i32[G_MAX_TYPES]!) * 4;
  }

  /** Registers (or finds) an event type; returns its format with its id. */
  register(name: string, fields: readonly FieldSpec[], print?: string): EventFormat {
    this.refresh();
    const seen = this.byName.get(name);
    if (seen !== undefined) return this.same(seen, fields, print);
    const i32 = this.i32;
    lockWord(i32, G_LOCK, 'event registry');
    try {
      this.refresh();
      const again = this.byName.get(name);
      if (again !== undefined) return this.same(again, fields, print);
      const n = i32[G_COUNT]!;
      if (n >= i32[G_MAX_TYPES]!) fail('ENOSPC', `event registry full (${n} types)`);
      const e = defineEventFormat(name, n + 1, fields, print);
      const bytes = encoder.encode(eventFormatText(e));
      const top = i32[G_TOP]!;
      if (top + bytes.length > i32[G_ARENA_BYTES]!) fail('ENOSPC', 'event registry text area full');
      this.u8.set(bytes, this.arenaAt + top);
      i32[G_HEADER_WORDS + 2 * n] = top;
      i32[G_HEADER_WORDS + 2 * n + 1] = bytes.length;
      i32[G_TOP] = top + bytes.length;
      AtomicsStore(i32, G_COUNT, n + 1);
      this.learn(e);
      return e;
    } finally {
      unlockWord(i32, G_LOCK);
    }
  }

  private same(e: EventFormat, fields: readonly FieldSpec[], print?: string): EventFormat {
    const want = defineEventFormat(e.name, e.id, fields, print);
    if (eventFormatText(want) !== eventFormatText(e)) fail('EEXIST', `event ${e.name} is registered with other fields`);
    return e;
  }

  /** The format of id `id`, or undefined. */
  lookup(id: number): EventFormat | undefined {
    const e = this.known[id - 1];
    if (e !== undefined) return e;
    this.refresh();
    return this.known[id - 1];
  }

  find(name: string): EventFormat | undefined {
    this.refresh();
    return this.byName.get(name);
  }

  /** Every registered type, in id order. */
  all(): readonly EventFormat[] {
    this.refresh();
    return this.known;
  }

  /** events/<name>/format, exactly as stored. */
  formatText(id: number): string {
    this.refresh();
    if (id < 1 || id > this.known.length) fail('ENOENT', `no event type ${id}`);
    return this.text(id - 1);
  }

  private text(row: number): string {
    const i32 = this.i32;
    const off = i32[G_HEADER_WORDS + 2 * row]!;
    const len = i32[G_HEADER_WORDS + 2 * row + 1]!;
    // Copy out of shared memory first: TextDecoder refuses shared views.
    return decoder.decode(this.u8.slice(this.arenaAt + off, this.arenaAt + off + len));
  }

  private refresh(): void {
    const n = AtomicsLoad(this.i32, G_COUNT);
    for (let row = this.known.length; row < n; row++) this.learn(parseEventFormat(this.text(row)));
  }

  private learn(e: EventFormat): void {
    this.known[e.id - 1] = e;
    this.byName.set(e.name, e);
  }
}

export function createEventRegistry(limits: Partial<RegistryLimits> = {}): EventRegistry {
  return new EventRegistry(createRegistryBuffer(limits));
}

export function openEventRegistry(sab: SharedArrayBuffer): EventRegistry {
  return new EventRegistry(sab);
}
