/**
 * The string arena: UTF-8 text in shared memory, bump-allocated.
 *
 * Owns: H_ARENA_TOP and the arena bytes. Invariant: bytes are written once,
 * before their (offset, length) reference is published, and never change or
 * move afterwards, so a reference read from any thread stays valid for the
 * life of the process. Nothing is freed: the arena holds metadata that lives
 * as long as the records, plus filter texts that are replaced rarely.
 */

import { AtomicsAdd, AtomicsSub, BufferByteLength, BufferFrom } from '../shared/builtins.js';
import { fail } from '../shared/errors.js';
import { H_ARENA_TOP } from './layout.js';
import type { Instance } from './instance.js';

export interface ArenaRef {
  off: number;
  len: number;
}

let view: { inst: Instance; buf: Buffer } | undefined;

/** The arena as one Buffer, made once per thread. */
export function arenaBuffer(inst: Instance): Buffer {
  if (view === undefined || view.inst !== inst) view = { inst, buf: BufferFrom(inst.sab, inst.L.arena, inst.L.arenaBytes) };
  return view.buf;
}

/** Reserves `len` bytes; returns their offset. */
export function arenaAlloc(inst: Instance, len: number): number {
  const off = AtomicsAdd(inst.i32, H_ARENA_TOP, len);
  if (off + len > inst.L.arenaBytes) {
    AtomicsSub(inst.i32, H_ARENA_TOP, len);
    fail('ENOMEM', `the string arena is full (${inst.L.arenaBytes} bytes)`);
  }
  return off;
}

export function arenaWrite(inst: Instance, text: string): ArenaRef {
  const len = BufferByteLength(text, 'utf8');
  const off = arenaAlloc(inst, len);
  arenaBuffer(inst).write(text, off, len, 'utf8');
  return { off, len };
}

export function arenaRead(inst: Instance, off: number, len: number): string {
  if (len === 0) return '';
  return arenaBuffer(inst).toString('utf8', off, off + len);
}
