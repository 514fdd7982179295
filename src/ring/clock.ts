/**
 * Timestamp sources, ftrace's trace_clock: chosen once, by name, when a ring
 * is created or its clock changed, never per event.
 *
 * Owns: the clock names and ids stored in a ring (R_CLOCK), each clock's
 * `now` function, and the text of trace_clock. Invariant: every `now` returns
 * a non-negative integer that never decreases within one thread, so the
 * writer can keep deltas; a writer holds the function it was given and does
 * not test which clock it has.
 *
 *   name     ftrace's   what it reads                      across threads
 *   local    local      performance.now(), ns from this    not comparable (each
 *                       thread's time origin               thread has its origin)
 *   global   global     performance.now() + an offset to  comparable, within the
 *                       the process monotonic clock,       calibration error
 *                       calibrated once per thread         (globalClockError)
 *   counter  counter    a per-writer count, +1 per event   not comparable: orders
 *                                                          one thread's events only
 *   mono     mono       process.hrtime(): CLOCK_MONOTONIC  exactly comparable, also
 *                       ns; allocates an array per call    with other processes
 *
 * ftrace's counter is one atomic counter for all CPUs; ours is per writer,
 * because an Atomics.add on one shared word from every thread costs more than
 * the rest of the write and bounces a cache line between cores. Events of
 * different threads under `counter` have no order; use global or mono for
 * that. Every ring records, at each reset, a clock reading and the wall time
 * (F_CLOCK_ANCHOR, F_WALL_ANCHOR_MS) so timestamps can be put on the wall
 * clock afterwards. The cost of each clock is measured in bench/suites/clocks.ts.
 */

import { fail } from '../shared/errors.js';
import { MathCeil, MathFloor, MathRound, PerformanceNow } from '../shared/builtins.js';

export const CLOCK_LOCAL = 0;
export const CLOCK_GLOBAL = 1;
export const CLOCK_COUNTER = 2;
export const CLOCK_MONO = 3;
/** A source given by the program (tests, replay); its name is not kept in the ring. */
export const CLOCK_CUSTOM = 255;

export const CLOCK_NAMES = ['local', 'global', 'counter', 'mono'] as const;
export type ClockName = (typeof CLOCK_NAMES)[number];

/** What a clock's values count. */
export const UNIT_NS = 0;
export const UNIT_COUNT = 1;

export interface ClockSource {
  readonly id: number;
  readonly name: string;
  readonly unit: number;
  readonly now: () => number;
}

const hrtime = process.hrtime;

function hrtimeNs(): number {
  const h = hrtime();
  return h[0] * 1e9 + h[1];
}

let calibration: { offset: number; error: number } | undefined;

/**
 * The offset from this thread's performance.now() to the process monotonic
 * clock: the reading bracketed most tightly by two hrtime calls wins, and
 * half that bracket is the error.
 */
function calibrate(): { offset: number; error: number } {
  if (calibration !== undefined) return calibration;
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 64; i++) {
    const a = hrtimeNs();
    const p = MathFloor(PerformanceNow() * 1e6);
    const b = hrtimeNs();
    if (b - a < best) {
      best = b - a;
      offset = MathRound((a + b) / 2) - p;
    }
  }
  calibration = { offset, error: MathCeil(best / 2) };
  return calibration;
}

/** Half the narrowest bracket of the global clock's calibration, in ns. */
export function globalClockError(): number {
  return calibrate().error;
}

function idOf(name: string): number {
  const i = (CLOCK_NAMES as readonly string[]).indexOf(name);
  if (i < 0) fail('EINVAL', `unknown clock "${name}" (have: ${CLOCK_NAMES.join(' ')})`);
  return i;
}

/** A fresh source for `name`; `counter` starts at 0 for each call. */
export function makeClock(name: string): ClockSource {
  const id = idOf(name);
  switch (id) {
    case CLOCK_LOCAL:
      return { id, name, unit: UNIT_NS, now: () => MathFloor(PerformanceNow() * 1e6) };
    case CLOCK_GLOBAL: {
      const off = calibrate().offset;
      return { id, name, unit: UNIT_NS, now: () => MathFloor(PerformanceNow() * 1e6) + off };
    }
    case CLOCK_COUNTER: {
      let n = 0;
      return { id, name, unit: UNIT_COUNT, now: () => ++n };
    }
    default:
      return { id, name, unit: UNIT_NS, now: hrtimeNs };
  }
}

/** A source the program provides; `now` must keep the invariant above. */
export function customClock(name: string, now: () => number, unit = UNIT_NS): ClockSource {
  return { id: CLOCK_CUSTOM, name, unit, now };
}

export function clockNameOf(id: number): string {
  return id === CLOCK_CUSTOM ? 'custom' : (CLOCK_NAMES[id] ?? fail('EINVAL', `unknown clock id ${id}`));
}

export function clockUnitOf(id: number): number {
  return id === CLOCK_COUNTER ? UNIT_COUNT : UNIT_NS;
}

/** The trace_clock file: every name, the current one in brackets. */
export function clockListText(current: string): string {
  return `${CLOCK_NAMES.map((n) => (n === current ? `[${n}]` : n)).join(' ')}\n`;
}

/** A timestamp as trace output shows it: seconds.microseconds, or the raw count. */
export function formatTimestamp(v: number, unit: number): string {
  if (unit === UNIT_COUNT) return String(v);
  const secs = MathFloor(v / 1e9);
  const usecs = MathFloor((v - secs * 1e9) / 1e3);
  return `${String(secs).padStart(5)}.${String(usecs).padStart(6, '0')}`;
}
