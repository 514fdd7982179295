/**
 * The tracing instance of this process: one SharedArrayBuffer that every
 * thread of the program maps.
 *
 * Owns: creating the buffer (in the first thread that loads jsftrace) and
 * joining it (in worker threads, which find it in their environment data).
 * Invariant: all threads of one process that load jsftrace after the
 * instance exists share one buffer, so every record, ops and state word has
 * exactly one copy; a worker started before the instance existed, or running
 * a build with another layout, makes its own and says so.
 */

import { getEnvironmentData, isMainThread, setEnvironmentData } from 'node:worker_threads';
import {
  DEFAULT_LIMITS, H_MAGIC, H_VERSION, LAYOUT_MAGIC, LAYOUT_VERSION,
  computeLayout, readLimits, writeHeader,
  type Layout, type Limits,
} from './layout.js';
import { requireOwnCjs } from '../shared/own-cjs.js';
import type { ThreadSettings } from '../shared/thread-settings.cjs';
import { AtomicsLoad } from '../shared/builtins.js';

export const ENV_KEY = 'jsftrace:instance:v1';

const { settingsEnv } = requireOwnCjs<ThreadSettings>('./thread-settings.cjs');

export interface Instance {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly L: Layout;
  /** True in the thread that created the buffer. */
  readonly creator: boolean;
}

function limitsFromEnv(): Limits {
  const l = { ...DEFAULT_LIMITS };
  const pick = (name: string, key: keyof Limits, min: number, max: number): void => {
    const v = settingsEnv()[name];
    if (v === undefined || v === '') return;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      process.emitWarning(`${name}=${v} ignored: expected an integer in [${min}, ${max}]`, { code: 'JSFTRACE_CONFIG' });
      return;
    }
    l[key] = n;
  };
  pick('JSFTRACE_MAX_SITES', 'maxSites', 1024, 1 << 24);
  pick('JSFTRACE_MAX_OPS', 'maxOps', 8, 4096);
  pick('JSFTRACE_MAX_THREADS', 'maxThreads', 4, 4096);
  return l;
}

function create(limits: Limits): Instance {
  const L = computeLayout(limits);
  const sab = new SharedArrayBuffer(L.bytes);
  const i32 = new Int32Array(sab);
  writeHeader(i32, L);
  return { sab, i32, u8: new Uint8Array(sab), L, creator: true };
}

function join(sab: SharedArrayBuffer): Instance | string {
  const i32 = new Int32Array(sab);
  if (AtomicsLoad(i32, H_MAGIC) !== LAYOUT_MAGIC) return 'bad magic';
  if (i32[H_VERSION] !== LAYOUT_VERSION) return `layout version ${i32[H_VERSION]}, this build reads ${LAYOUT_VERSION}`;
  const L = computeLayout(readLimits(i32));
  if (L.bytes !== sab.byteLength) return 'size does not match the header';
  return { sab, i32, u8: new Uint8Array(sab), L, creator: false };
}

let current: Instance | undefined;

/** The instance of this process, created or joined on first use. */
export function instance(): Instance {
  if (current !== undefined) return current;
  const shared = getEnvironmentData(ENV_KEY) as SharedArrayBuffer | undefined;
  if (shared instanceof SharedArrayBuffer) {
    const joined = join(shared);
    if (typeof joined !== 'string') return (current = joined);
    process.emitWarning(`cannot join the parent's tracing instance (${joined}); this thread traces alone`, { code: 'JSFTRACE_JOIN' });
  } else if (!isMainThread) {
    process.emitWarning('no tracing instance in this worker\'s environment (jsftrace was loaded in the parent after the worker started); this thread traces alone',
      { code: 'JSFTRACE_JOIN' });
  }
  current = create(limitsFromEnv());
  // Workers created from now on inherit the buffer.
  setEnvironmentData(ENV_KEY, current.sab);
  return current;
}
