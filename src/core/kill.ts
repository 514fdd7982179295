/**
 * Fail-stop (G7): on an internal inconsistency, every site goes back to
 * nop, the reason is recorded, and the program runs on.
 *
 * Owns: H_STATE and the kill reason. Invariants: once dead, the instance
 * stays dead for the life of the process (ftrace_kill is not reversible);
 * every control operation then fails with ENODEV; sites read nop from then
 * on, in every thread, because the TARGET words themselves are cleared.
 */

import { installKillHandler } from '../shared/assert.js';
import { fail } from '../shared/errors.js';
import { arenaRead, arenaWrite } from './arena.js';
import { H_KILL_LEN, H_KILL_OFF, H_NR_ENABLED, H_NR_SITES, H_STATE, INSTANCE_ALIVE, INSTANCE_DEAD } from './layout.js';
import type { Instance } from './instance.js';
import { AtomicsCompareExchange, AtomicsLoad, AtomicsStore } from '../shared/builtins.js';

export function ftraceKill(inst: Instance, reason: string): void {
  const { i32, L } = inst;
  if (AtomicsCompareExchange(i32, H_STATE, INSTANCE_ALIVE, INSTANCE_DEAD) !== INSTANCE_ALIVE) return;
  try {
    const ref = arenaWrite(inst, reason);
    i32[H_KILL_OFF] = ref.off;
    AtomicsStore(i32, H_KILL_LEN, ref.len);
  } catch { /* the arena may be what failed; the state word still tells */ }
  const n = AtomicsLoad(i32, H_NR_SITES);
  for (let id = 0; id < n; id++) AtomicsStore(i32, L.target + id, 0);
  AtomicsStore(i32, H_NR_ENABLED, 0);
  process.emitWarning(`jsftrace stopped: ${reason}. Every site is a nop again; the program continues.`, { code: 'JSFTRACE_KILLED' });
}

export function isDead(inst: Instance): boolean {
  return AtomicsLoad(inst.i32, H_STATE) === INSTANCE_DEAD;
}

export function killReason(inst: Instance): string | null {
  if (!isDead(inst)) return null;
  const len = AtomicsLoad(inst.i32, H_KILL_LEN);
  return len === 0 ? 'unknown' : arenaRead(inst, inst.i32[H_KILL_OFF]!, len);
}

export function assertAlive(inst: Instance): void {
  if (isDead(inst)) fail('ENODEV', `jsftrace was stopped: ${killReason(inst)}`);
}

export function installKill(inst: Instance): void {
  installKillHandler((reason) => ftraceKill(inst, reason));
}
