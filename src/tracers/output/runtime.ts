/**
 * How the runtime's own events (tracers/events/) read in the outputs: one
 * line of text each (as ftrace prints an event: `name: fields`), and what
 * the timeline and the flame graph show of them.
 *
 * Owns: the text of gc, loop_delay and async_hook events, and their sums
 * (RuntimeTotals). Invariant: every output that shows runtime events uses
 * these, so the text, the Perfetto tracks and the graphs agree.
 */

import { ASYNC_AFTER, ASYNC_BEFORE, ASYNC_INIT, EV_ASYNC, EV_GC, EV_LOOP_DELAY } from '../session.js';
import { timestamp, type Item } from './common.js';

/** NODE_PERFORMANCE_GC_* kinds by bit. */
const GC_KINDS: readonly [number, string][] = [[1, 'minor'], [2, 'major'], [4, 'major'], [8, 'incremental'], [16, 'weakcb']];

export function gcKind(kind: number): string {
  // perf_hooks: MINOR 1, MAJOR 4, INCREMENTAL 8, WEAKCB 16 (2 is unused by Node; shown as major).
  for (const [bit, name] of GC_KINDS) if (kind === bit) return name;
  return `kind${kind}`;
}

const ASYNC_OPS: Record<number, string> = { [ASYNC_INIT]: 'init', [ASYNC_BEFORE]: 'before', [ASYNC_AFTER]: 'after' };

export function isRuntimeEvent(type: number): boolean {
  return type === EV_GC.id || type === EV_LOOP_DELAY.id || type === EV_ASYNC.id;
}

/** µs with three decimals, from ns (counts print as they are). */
function us(ns: number, counts: boolean): string {
  return counts ? `${ns}` : `${(ns / 1000).toFixed(3)} us`;
}

/** An event's text, ftrace's `name: fields`. */
export function runtimeEventText(it: Item, counts: boolean): string {
  if (it.type === EV_GC.id) {
    return `gc: kind=${gcKind(it.a)} flags=${it.b} start=${timestamp(it.c, counts).trim()} duration=${us(it.d ?? 0, counts)}`;
  }
  if (it.type === EV_LOOP_DELAY.id) return `loop_delay: count=${it.a} mean=${us(it.c, false)} max=${us(it.d ?? 0, false)} period=${it.b} ms`;
  const op = ASYNC_OPS[it.a] ?? `op${it.a}`;
  return it.a === ASYNC_INIT ? `async_hook: ${op} id=${it.c} trigger=${it.b} type=${it.text ?? ''}` : `async_hook: ${op} id=${it.c}`;
}

/** The sums a graph shows of a trace's runtime events. */
export class RuntimeTotals {
  gcCount = 0;
  gcTime = 0;
  readonly gcByKind = new Map<string, number>();
  loopSamples = 0;
  loopMax = 0;
  asyncHops = 0;

  add(it: Item): void {
    if (it.lost > 0) return;
    if (it.type === EV_GC.id) {
      this.gcCount++;
      this.gcTime += it.d ?? 0;
      const k = gcKind(it.a);
      this.gcByKind.set(k, (this.gcByKind.get(k) ?? 0) + 1);
    } else if (it.type === EV_LOOP_DELAY.id) {
      this.loopSamples++;
      this.loopMax = Math.max(this.loopMax, it.d ?? 0);
    } else if (it.type === EV_ASYNC.id && it.a === ASYNC_INIT) {
      this.asyncHops++;
    }
  }

  /** One line, or '' when there were no runtime events. */
  summary(): string {
    const parts: string[] = [];
    if (this.gcCount > 0) {
      const kinds = [...this.gcByKind].map(([k, n]) => `${n} ${k}`).join(', ');
      parts.push(`GC: ${this.gcCount} collection${this.gcCount === 1 ? '' : 's'} (${kinds}), ${(this.gcTime / 1e6).toFixed(3)} ms`);
    }
    if (this.loopSamples > 0) parts.push(`event-loop delay: max ${(this.loopMax / 1e6).toFixed(3)} ms over ${this.loopSamples} samples`);
    if (this.asyncHops > 0) parts.push(`async: ${this.asyncHops} resources`);
    return parts.join('; ');
  }
}
