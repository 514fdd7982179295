/**
 * Ops: the callbacks the core calls at sites (ftrace_ops).
 *
 * Owns: the FtraceOps object a program holds, its validation, and the
 * thread-local view of every ops slot (LocalOps) that the dispatch code
 * calls. Invariants: attribute flags never change after creation; an ops is
 * registered at most once at a time; an ops whose callback is a function
 * value runs only in the thread that created it, one given as a module
 * specifier runs in every thread (each thread imports it).
 */

import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import { fail } from '../shared/errors.js';
import { FilterPair } from './filter.js';
import { OPS_FL_ARGS, OPS_FL_ATTRIBUTES, OPS_FL_IPMODIFY, OPS_FL_RECURSION } from './flags.js';

/**
 * Entry callback. `site` is the record id, `parent` the site of the nearest
 * traced caller in this thread (-1 when not known), `args` the call's
 * arguments when the ops has ARGS (else null). The value it returns is kept
 * for the exit callback of the same call.
 */
export type OpsFunc = (site: number, parent: number, ops: FtraceOps, args: ArrayLike<unknown> | null, thisArg: unknown) => unknown;

/**
 * Exit callback. `threw` tells whether `result` is a thrown value. For an
 * IPMODIFY ops the value returned replaces the call's result (not a thrown
 * error); for others it is ignored.
 */
export type OpsRetFunc = (site: number, ops: FtraceOps, result: unknown, threw: boolean, data: unknown) => unknown;

/**
 * Suspension callback: the call that `data` belongs to suspends at an
 * await or a yield (suspend) or resumes (resume). A value other than
 * undefined replaces the call's data, so a tracer can keep per-call state
 * across the suspension without allocating.
 */
export type OpsPauseFunc = (site: number, ops: FtraceOps, data: unknown) => unknown;

/** Code that every thread loads: `import(module)[export]`. */
export interface HandlerSpec {
  /** Absolute path or file: URL. */
  module: string;
  /** Export name; `default` when omitted. */
  export?: string;
}

export interface OpsOptions {
  /** A function (runs in this thread only) or a module export (every thread).
   * A module export is either the entry function or `{ func, retfunc }`.
   * A direct ops (for registerFtraceDirect) has none. */
  func?: OpsFunc | HandlerSpec;
  retfunc?: OpsRetFunc;
  /** Called for each suspension of a traced async function or generator. */
  suspend?: OpsPauseFunc;
  /** Called when such a call resumes. */
  resume?: OpsPauseFunc;
  flags?: number;
  /** Shown in enabled_functions and error reports. */
  name?: string;
}

/** See FtraceOps.pendingRemoval. */
export interface PendingRemoval {
  readonly slot: number;
  /** O_GEN of the slot when it was withdrawn: the row is still ours while it matches. */
  readonly gen: number;
  /** Its errors when it was withdrawn, in case another operation frees the row first. */
  readonly errors: { count: number; first: string | null };
  /** The wait in progress, shared by concurrent callers. */
  wait: Promise<void> | null;
}

let opsCounter = 0;

export class FtraceOps {
  readonly name: string;
  /** Attribute flags plus the core's state flags. */
  flags: number;
  /** The attribute flags given at creation (never change). */
  readonly attributes: number;
  /** The callbacks in this thread (undefined for a module ops until loaded). */
  func: OpsFunc | undefined;
  retfunc: OpsRetFunc | undefined;
  suspendfunc: OpsPauseFunc | undefined;
  resumefunc: OpsPauseFunc | undefined;
  /** Normalised module reference, or null for a function-valued ops. */
  readonly spec: { url: string; name: string } | null;
  /** The ops slot while registered, else -1. */
  slot = -1;
  /** Filter and notrace patterns (kept here while not registered). */
  filters: FilterPair = FilterPair.EMPTY;
  /** Callback errors of earlier registrations, kept when the slot is given back. */
  pastErrors: { count: number; first: string | null } = { count: 0, first: null };
  /**
   * An unregistration that withdrew the ops but whose wait for every thread
   * failed (ETIMEDOUT): the slot is dying, some thread may still be inside a
   * callback. Calling the unregister function again waits for it.
   */
  pendingRemoval: PendingRemoval | null = null;

  constructor(o: OpsOptions, extraFlags = 0) {
    if (typeof o !== 'object' || o === null) fail('EINVAL', 'createOps: options must be an object');
    const flags = (o.flags ?? 0) | extraFlags;
    if (!Number.isInteger(flags) || (flags & ~OPS_FL_ATTRIBUTES) !== 0) {
      fail('EINVAL', `createOps: flags ${String(o.flags)} include bits that are not attribute flags`);
    }
    this.flags = flags;
    this.attributes = flags;
    if (typeof o.func === 'function') {
      this.func = o.func;
      this.spec = null;
    } else if (typeof o.func === 'object' && o.func !== null && typeof o.func.module === 'string') {
      this.spec = normaliseSpec(o.func, 'createOps');
      this.func = undefined;
      if (o.retfunc !== undefined) fail('EINVAL', 'createOps: with a module func, export { func, retfunc } from the module instead of passing retfunc');
    } else if (o.func === undefined) {
      // A direct ops or a stub; registerFtraceFunction refuses it.
      this.func = undefined;
      this.spec = null;
    } else {
      fail('EINVAL', 'createOps: func must be a function or { module, export }');
    }
    if (o.retfunc !== undefined && typeof o.retfunc !== 'function') fail('EINVAL', 'createOps: retfunc must be a function');
    for (const k of ['suspend', 'resume'] as const) {
      if (o[k] !== undefined && typeof o[k] !== 'function') fail('EINVAL', `createOps: ${k} must be a function`);
      if (o[k] !== undefined && this.spec !== null) fail('EINVAL', `createOps: with a module func, export { func, ${k} } from the module instead`);
    }
    this.retfunc = o.retfunc;
    this.suspendfunc = o.suspend;
    this.resumefunc = o.resume;
    if ((flags & OPS_FL_IPMODIFY) !== 0 && this.spec === null && this.retfunc === undefined) {
      fail('EINVAL', 'createOps: an IPMODIFY ops needs a retfunc (it replaces results at exit)');
    }
    this.name = typeof o.name === 'string' && o.name !== '' ? o.name
      : this.spec !== null ? `${this.spec.name}@${this.spec.url}`
      : (typeof o.func === 'function' && o.func.name !== '' ? o.func.name : `ops${++opsCounter}`);
    if (typeof o.name === 'string' && o.name.length > 200) fail('EINVAL', 'createOps: name is longer than 200 characters');
    if (/[\n\r]/.test(this.name)) fail('EINVAL', 'createOps: name must be one line');
  }

  get registered(): boolean {
    return this.slot >= 0;
  }

  get wantsArgs(): boolean {
    return (this.flags & OPS_FL_ARGS) !== 0;
  }

  get recursionSafe(): boolean {
    return (this.flags & OPS_FL_RECURSION) !== 0;
  }
}

export function normaliseSpec(s: HandlerSpec, what: string): { url: string; name: string } {
  const m = s.module;
  let url: string;
  if (m.startsWith('file:')) url = m;
  else if (isAbsolute(m)) url = pathToFileURL(m).href;
  else {
    fail('EINVAL', `${what}: module ${JSON.stringify(m)} must be an absolute path or a file: URL `
      + '(every thread imports it, so it cannot be relative; use import.meta.resolve())');
  }
  const name = s.export ?? 'default';
  if (typeof name !== 'string' || name === '') fail('EINVAL', `${what}: export must be a non-empty string`);
  return { url, name };
}

export function createOps(o: OpsOptions): FtraceOps {
  return new FtraceOps(o);
}
