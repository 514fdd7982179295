/**
 * The control surface of an attached process: the usual tree, plus the
 * `attach` file, with the sites armed after every change.
 *
 * Owns: the `attach` file (read: the mechanism and what is armed; write:
 * `patch` or `probe` for the sites armed from then on, `detach`), the
 * mechanism column of enabled_functions, and when arming runs. Invariant:
 * after any write or append returns, whether it succeeded or not, every
 * site's mechanism matches its call-target word (sites.ts's reconcile), so
 * a verb that configured tracing finds its functions armed.
 */

import { flags, instance, recordCount } from '../core/index.js';
import { fail } from '../shared/errors.js';
import type { ControlSurface } from '../control/surface.js';
import type { Agent } from './agent.js';

export const ATTACH_FILE = 'attach';

/** enabled_functions with each record line followed by its mechanism. */
function annotate(text: string, agent: Agent): string {
  const inst = instance();
  const ids: number[] = [];
  const n = recordCount(inst);
  for (let id = 0; id < n; id++) if ((inst.i32[inst.L.flags + id]! & flags.REC_FL_ENABLED) !== 0) ids.push(id);
  let k = 0;
  return text.split('\n').map((line) => {
    if (line === '' || line.startsWith('\t')) return line;
    const id = ids[k++];
    // A site the main thread does not have is a worker's: its own agent armed it.
    const what = id === undefined ? null : agent.sites.describe(id) ?? (agent.workers !== null ? 'attach:worker' : null);
    return what === null ? line : `${line}\t${what}`;
  }).join('\n');
}

export function attachSurface(inner: ControlSurface, agent: Agent, detach: () => void): ControlSurface {
  const after = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } finally {
      agent.reconcile();
    }
  };
  const change = async (path: string, text: string, append: boolean): Promise<void> => {
    if (path.replace(/^\/+/, '') === ATTACH_FILE) {
      const word = text.trim();
      if (word === 'detach') {
        detach();
        return;
      }
      if (word !== 'patch' && word !== 'probe') fail('EINVAL', `${ATTACH_FILE}: "${word}": write patch, probe or detach`);
      if (word === 'patch' && !agent.sites.liveEdit) fail('EINVAL', `${ATTACH_FILE}: live patch is not available in this Node (its V8 has no LiveEdit)`);
      agent.sites.mechanism = word;
      return;
    }
    return after(append ? inner.append(path, text) : inner.write(path, text));
  };
  return {
    list: async () => [...await inner.list(), ATTACH_FILE].sort(),
    async read(path) {
      const p = path.replace(/^\/+/, '');
      if (p === ATTACH_FILE) return agent.describe();
      const text = await inner.read(path);
      return p === 'enabled_functions' ? annotate(text, agent) : text;
    },
    write: (path, text) => change(path, text, false),
    append: (path, text) => change(path, text, true),
  };
}
