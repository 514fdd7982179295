/**
 * The runtime events as the control files see them (tracefs's `events/`):
 * which exist, which are on, and turning them on and off in every thread.
 *
 * Owns: the table of runtime events (name, bit, what it is) and the
 * switch. Invariants: each is off by default; turning one on first has the
 * core load runtime.ts in every thread (a prepared module trampoline, kept
 * once loaded: threads started later load it when they join), then sets
 * the bit and tells every thread; a thread applies the bits from its
 * event loop (a thread busy in a synchronous loop starts its sources when
 * it yields). Changes are serialised.
 */

import { prepareTrampoline } from '../../core/index.js';
import { EV_ASYNC, EV_GC, EV_LOOP_DELAY, EVENT_ASYNC, EVENT_GC, EVENT_LOOP_DELAY, runtimeEvents, setRuntimeEventBits } from '../session.js';
import type { EventFormat } from '../../ring/index.js';
import { loadOwn } from '../../shared/own-load.js';
import { requireOwnCjs } from '../../shared/own-cjs.js';
import type { DataChannels } from '../../shared/data-channel.cjs';

export interface RuntimeEvent {
  /** The directory under events/ (the event's name in the trace). */
  name: string;
  bit: number;
  format: EventFormat;
  what: string;
}

export const RUNTIME_EVENTS: readonly RuntimeEvent[] = [
  { name: 'gc', bit: EVENT_GC, format: EV_GC, what: 'garbage collections: kind, start, duration (perf_hooks)' },
  { name: 'loop_delay', bit: EVENT_LOOP_DELAY, format: EV_LOOP_DELAY, what: 'event-loop delay, sampled every 100 ms: count, mean, max of the time between turns of a 10 ms timer' },
  { name: 'async_hook', bit: EVENT_ASYNC, format: EV_ASYNC, what: 'async_hooks hops: a resource made (init, its type and trigger), its callbacks run (before, after); costly' },
];

const here = (file: string): string => new URL(file, import.meta.url).href;
// It only speaks, but hears what the other threads say too: heard as data, not as events.
const channel = requireOwnCjs<DataChannels>('./data-channel.cjs').openDataChannel('jsftrace:tracers:events', () => undefined);
channel.unref();
let loaded = false;
let chain: Promise<unknown> = Promise.resolve();

/** Turns the events of `bits` on (or off), in every thread. */
export function setRuntimeEvents(bits: number, on: boolean): Promise<void> {
  const run = async (): Promise<void> => {
    const want = on ? runtimeEvents() | bits : runtimeEvents() & ~bits;
    if (want !== 0 && !loaded) {
      await prepareTrampoline({ module: here('./runtime.js'), export: 'runtimeEventsModule' });
      loaded = true;
    }
    setRuntimeEventBits(want);
    channel.postMessage('events');
    // This thread too (a channel does not deliver to its own sender).
    if (loaded) (await loadOwn<typeof import('./runtime.js')>(new URL('./runtime.js', import.meta.url))).applyRuntimeEvents();
  };
  const p = chain.then(run, run);
  chain = p.catch(() => undefined);
  return p;
}

export function runtimeEventOn(bit: number): boolean {
  return (runtimeEvents() & bit) !== 0;
}
