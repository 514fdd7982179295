/**
 * The runtime that instrumented code calls, installed as globals in each
 * thread before any instrumented module runs.
 *
 * Owns: the globals of the site shape (transform.ts, shared/site-abi.ts):
 * the call-target words indexed by site id, the static key (threads.ts
 * keeps it), and the runtime object: D defines a module's sites, H is the
 * handler table a site calls through, L/C/S/R are leave, caught, suspend and
 * resume, F reads the frame depth and K reports a catch at module level.
 * Invariant: the globals are installed once per thread
 * and never replaced (V8 then treats them as constants), and installing is
 * idempotent.
 */

import {
  caught, caughtAt, defineSitesTrusted, frameDepth, leave, resume, suspend, threadView, STATIC_KEY_GLOBAL,
} from '../core/index.js';
import type { SiteMeta } from '../core/index.js';
import { RUNTIME_GLOBAL, WORDS_GLOBAL } from '../shared/site-abi.js';


/**
 * Defines the sites of one module: `names` and `positions` ("line:col")
 * hold one entry per function, separated by newlines and commas.
 */
let defineFailed = false;

/**
 * A module's prologue must not throw (G4): when its sites cannot be defined
 * (the site table or the string arena is full), the module runs with every
 * site nop (its base is undefined, so each word index is NaN), with one
 * warning per thread.
 */
function defineModule(key: string, file: string, pkg: string, names: string, positions: string): number | undefined {
  try {
    return defineModuleSites(key, file, pkg, names, positions);
  } catch (e) {
    if (!defineFailed) {
      defineFailed = true;
      process.emitWarning(`${file}: its functions get no sites (${(e as Error).message}); the module runs untraced`, { code: 'JSFTRACE_SITES' });
    }
    return undefined;
  }
}

function defineModuleSites(key: string, file: string, pkg: string, names: string, positions: string): number {
  const ns = names.split('\n');
  const ps = positions.split(',');
  const metas: SiteMeta[] = new Array(ns.length);
  for (let k = 0; k < ns.length; k++) {
    const p = ps[k] ?? '0:0';
    const colon = p.indexOf(':');
    metas[k] = { name: `${file}:${ns[k]}`, file, line: Number(p.slice(0, colon)), column: Number(p.slice(colon + 1)), package: pkg };
  }
  return defineSitesTrusted(key, metas);
}

export function installRuntime(): void {
  const g = globalThis as Record<string, unknown>;
  if (g[RUNTIME_GLOBAL] !== undefined) return;
  const tv = threadView();
  const words = new Int32Array(tv.inst.sab, tv.inst.L.target * 4, tv.inst.L.maxSites);
  // Sites index H with the word they read and call the handler themselves
  // (no adapter between them, no rest parameter): H is filled once per
  // thread and its entries replaced in place, so a module may bind it.
  const rt = Object.freeze({ D: defineModule, H: tv.H, L: leave, C: caught, S: suspend, R: resume, K: caughtAt, F: frameDepth });
  for (const [name, value] of [[RUNTIME_GLOBAL, rt], [WORDS_GLOBAL, words]] as const) {
    Object.defineProperty(globalThis, name, { value, writable: false, enumerable: false, configurable: false });
  }
  // A function re-created from its text (fn.toString() then eval or new
  // Function) refers to its module's base `PB`, which does not exist where
  // it is re-created. These globals make that read undefined instead of a
  // ReferenceError, so the site is nop, for the prefixes the transform uses
  // unless a file already contains them.
  for (const p of ['$J', '$J0_', '$J1_', '$J2_', '$J3_']) {
    if (!(`${p}B` in globalThis)) Object.defineProperty(globalThis, `${p}B`, { value: undefined, writable: false, enumerable: false });
  }
  if (g[STATIC_KEY_GLOBAL] === undefined) g[STATIC_KEY_GLOBAL] = false;
}
