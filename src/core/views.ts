/**
 * Read-only views in ftrace's formats: available_filter_functions,
 * enabled_functions, touched_functions.
 *
 * Owns: the text of these files. Invariant: reading never changes state and
 * takes no lock; a view taken while the engine runs may mix before and after
 * for different records, never within one record's line beyond what its
 * flags word says at the instant it is read.
 */

import {
  REC_FL_ARGS, REC_FL_DIRECT, REC_FL_ENABLED, REC_FL_IPMODIFY, REC_FL_MODIFIED, REC_FL_TOUCHED, REC_FL_TRAMP,
  REC_FL_TRAMP_EN, OPS_FL_DIRECT, decodeTarget, recCount,
} from './flags.js';
import { O_DIRECT, O_FLAGS } from './layout.js';
import { record, recordCount } from './records.js';
import { covers, opsRow, readList, slotText, trampText } from './slots.js';
import type { Instance } from './instance.js';

/** `name` or `name [package]`, as kallsyms prints a module symbol. */
export function displayName(inst: Instance, id: number): string {
  const r = record(inst, id);
  return r.package === '' ? r.name : `${r.name} [${r.package}]`;
}

export function availableFilterFunctions(inst: Instance): string {
  const n = recordCount(inst);
  let out = '';
  for (let id = 0; id < n; id++) out += displayName(inst, id) + '\n';
  return out;
}

function opsFuncName(inst: Instance, slot: number): string {
  // Our ops have no separate symbol for func; the ops name stands for both.
  return slotText(inst, slot, 'name');
}

function recordLine(inst: Instance, id: number, flags: number, list: readonly number[]): string {
  let line = `${displayName(inst, id)} (${recCount(flags)})`
    + ((flags & REC_FL_ARGS) !== 0 ? ' R' : '  ')
    + ((flags & REC_FL_IPMODIFY) !== 0 ? ' I' : '  ')
    + ((flags & REC_FL_DIRECT) !== 0 ? ' D' : '  ')
    + ((flags & REC_FL_TRAMP) !== 0 ? ' O' : '  ')
    + ((flags & REC_FL_MODIFIED) !== 0 ? ' M ' : '   ');
  if ((flags & REC_FL_TRAMP_EN) !== 0) {
    const d = decodeTarget(inst.L.maxOps, inst.i32[inst.L.target + id]!);
    line += d.kind === 'ops' ? `\tops: ${slotText(inst, d.index, 'name')} (${opsFuncName(inst, d.index)})` : '\tops: ERROR!';
  }
  if ((flags & REC_FL_DIRECT) !== 0) {
    let direct = -1;
    for (const s of list) {
      if ((inst.i32[opsRow(inst, s) + O_FLAGS]! & OPS_FL_DIRECT) !== 0 && covers(inst, s, id)) {
        direct = inst.i32[opsRow(inst, s) + O_DIRECT]!;
        break;
      }
    }
    if (direct >= 0) line += `\n\tdirect-->${trampText(inst, direct, 'name')}`;
  }
  return line + '\n';
}

function flaggedLines(inst: Instance, mask: number): string {
  const n = recordCount(inst);
  const list = readList(inst);
  let out = '';
  for (let id = 0; id < n; id++) {
    const f = inst.i32[inst.L.flags + id]!;
    if ((f & mask) !== 0) out += recordLine(inst, id, f, list);
  }
  return out;
}

/** Records that call something now. */
export function enabledFunctions(inst: Instance): string {
  return flaggedLines(inst, REC_FL_ENABLED);
}

/** Records that have ever had a callback. */
export function touchedFunctions(inst: Instance): string {
  return flaggedLines(inst, REC_FL_TOUCHED);
}
