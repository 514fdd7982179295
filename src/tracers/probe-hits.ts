/**
 * The callbacks of the filter commands (ftrace's function probes): what a
 * hit of `traceon`, `traceoff`, `stacktrace` or `dump` does. Each is the
 * `func` of its kind's ops (a command's counted and uncounted forms are
 * two kinds, two ops, as the kernel's two probe ops), loaded by module URL
 * in every thread that runs a covered function.
 *
 * Owns: the hits. Invariants: a hit acts only if the shared table
 * (probes.ts) still holds its (function, kind) entry and a count of it
 * is spent (an uncounted entry's -1 never runs out); traceon and traceoff
 * spend one only when they change tracing_on; dump turns tracing off
 * before it prints, as ftrace_dump.
 */

import { find, probeKind, spend, type ProbeCommand } from './probes.js';
import { C_STATE, ctl, setTracingOn, settledRings, threadWriter } from './session.js';
import { writeStack } from './stack.js';
import { AtomicsLoad, SetImmediate } from '../shared/builtins.js';

function toggle(site: number, kind: number, on: boolean): void {
  const i = find(site, kind);
  if (i < 0) return;
  if (((AtomicsLoad(ctl, C_STATE) & 1) !== 0) === on) return; // nothing to change: no count spent
  if (spend(i)) setTracingOn(on);
}

function stacktraceHit(site: number, kind: number): void {
  const i = find(site, kind);
  if (i < 0 || (AtomicsLoad(ctl, C_STATE) & 1) === 0) return;
  const w = threadWriter();
  if (w !== null && spend(i)) writeStack(w);
}

/**
 * Prints the whole trace to stderr, as ftrace_dump prints to the console,
 * and consumes it as ftrace_dump does. Not from inside the traced call:
 * reading waits for every thread's ring. The other threads are asked first
 * to publish what they wrote (a thread publishes on its own only every
 * 50 ms, and a dump made in a worker missed the main thread's last calls).
 * tracers.ts is loaded only then (it names this file as the probes'
 * module, and imports nothing of it).
 */
function dumpTrace(): void {
  SetImmediate(() => {
    settledRings().then(() => import('./tracers.js')).then(async (t) => {
      for await (const piece of t.tracePipeChunks()) process.stderr.write(piece);
    }).catch(() => undefined);
  });
}

function dumpHit(site: number, kind: number): void {
  const i = find(site, kind);
  if (i < 0 || !spend(i)) return;
  // ftrace_dump turns tracing off first, so the dump shows what led here.
  setTracingOn(false);
  dumpTrace();
}

/** The `func` of one kind's ops. */
function hitOf(command: ProbeCommand, counted: boolean): { func: (site: number) => void } {
  const kind = probeKind(command, counted);
  switch (command) {
    case 'traceon': return { func: (site) => toggle(site, kind, true) };
    case 'traceoff': return { func: (site) => toggle(site, kind, false) };
    case 'stacktrace': return { func: (site) => stacktraceHit(site, kind) };
    case 'dump': return { func: (site) => dumpHit(site, kind) };
  }
}

// Named `<command>Probe` and `<command>CountProbe`: tracers.ts names them by kind.
export const traceonProbe = hitOf('traceon', false);
export const traceonCountProbe = hitOf('traceon', true);
export const traceoffProbe = hitOf('traceoff', false);
export const traceoffCountProbe = hitOf('traceoff', true);
export const stacktraceProbe = hitOf('stacktrace', false);
export const stacktraceCountProbe = hitOf('stacktrace', true);
export const dumpCountProbe = hitOf('dump', true);
