/**
 * The callbacks of the filter commands (ftrace's function probes): what a
 * hit of `traceon`, `traceoff`, `stacktrace` or `dump` does. Each is the
 * `func` of its command's ops, loaded by module URL in every thread that
 * runs a covered function.
 *
 * Owns: the hits. Invariants: a hit acts only if the shared table
 * (probes.ts) still holds its (function, command) entry and a count of it
 * is spent; traceon and traceoff spend one only when they change
 * tracing_on; dump turns tracing off before it prints, as ftrace_dump.
 */

import { CMD_DUMP, CMD_STACKTRACE, CMD_TRACEOFF, CMD_TRACEON, find, spend } from './probes.js';
import { C_STATE, ctl, setTracingOn, settledRings, threadWriter } from './session.js';
import { writeStack } from './stack.js';
import { SetImmediate } from '../shared/builtins.js';

function toggle(site: number, cmd: number, on: boolean): void {
  const i = find(site, cmd);
  if (i < 0) return;
  if (((Atomics.load(ctl, C_STATE) & 1) !== 0) === on) return; // nothing to change: no count spent
  if (spend(i)) setTracingOn(on);
}

function traceonHit(site: number): void {
  toggle(site, CMD_TRACEON, true);
}

function traceoffHit(site: number): void {
  toggle(site, CMD_TRACEOFF, false);
}

function stacktraceHit(site: number): void {
  const i = find(site, CMD_STACKTRACE);
  if (i < 0 || (Atomics.load(ctl, C_STATE) & 1) === 0) return;
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

function dumpHit(site: number): void {
  const i = find(site, CMD_DUMP);
  if (i < 0 || !spend(i)) return;
  // ftrace_dump turns tracing off first, so the dump shows what led here.
  setTracingOn(false);
  dumpTrace();
}

export const traceonProbe = { func: traceonHit };
export const traceoffProbe = { func: traceoffHit };
export const stacktraceProbe = { func: stacktraceHit };
export const dumpProbe = { func: dumpHit };
