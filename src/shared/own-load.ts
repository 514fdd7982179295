/**
 * Loading jsftrace's own modules at run time, by URL (a tracer's handler
 * module, the control server, the recorder).
 *
 * Owns: the way from a URL of this package to the module's one instance in
 * the thread. Invariant: jsftrace's runtime is one CommonJS file
 * (dist/src/jsftrace.cjs, docs/design.md "One file"), and each compiled
 * module of it in dist/src/ only hands that file's instance on; a module of
 * this package asked for by URL is that instance, given synchronously, never
 * a second copy with its own state, and never through Node's ES module
 * loader (nor through a loader of the program's). Other modules (a handler
 * module the user names) are imported.
 */

import { ObjectDefineProperty, ObjectGetOwnPropertyDescriptor } from './builtins.js';
import { KEY_GLOBAL, type OwnField } from './site-abi.js';
import { requireOwnCjs } from './own-cjs.js';

/** The compiled package's source root (dist/src/). */
const ownRoot = new URL('../', import.meta.url).href;

/** Whether Node's own handler loads files of this extension (node-handlers.cts). */
export const nodeHandlesExtension = requireOwnCjs<{ nodeHandlesExtension(ext: string): boolean }>('./node-handlers.cjs').nodeHandlesExtension;

type Table = (path: string) => unknown;
/** The runtime file's modules by path under dist/src/; set as that file loads. */
let table: Table | null = null;
/** The runtime file's path. */
let tableFile = '';

/** Called once by the runtime file, before any of its modules runs. */
export function setOwnModules(t: Table, file: string): void {
  table = t;
  tableFile = file;
}

/**
 * The table of the runtime file at `file` that this thread already uses,
 * if any (the key object's `modules` field; shared/site-abi.ts): asked by
 * the file as it is evaluated, so that an evaluation after the program
 * cleared the require cache hands on the thread's modules.
 */
export function priorOwnModules(file: string): Table | undefined {
  const key = ObjectGetOwnPropertyDescriptor(globalThis, KEY_GLOBAL)?.value as unknown;
  if (typeof key !== 'object' || key === null) return undefined;
  const byFile = ObjectGetOwnPropertyDescriptor(key, 'modules' satisfies OwnField)?.value as Record<string, unknown> | undefined;
  const t = byFile?.[file];
  return typeof t === 'function' ? (t as Table) : undefined;
}

/** Records this runtime's table on the thread's key object (core/threads.ts, when it first has it). */
export function shareOwnModules(key: object): void {
  if (table === null) return;
  let byFile = ObjectGetOwnPropertyDescriptor(key, 'modules' satisfies OwnField)?.value as Record<string, unknown> | undefined;
  if (typeof byFile !== 'object' || byFile === null) {
    byFile = { __proto__: null } as unknown as Record<string, unknown>;
    ObjectDefineProperty(key, 'modules' satisfies OwnField, { value: byFile, writable: false, enumerable: false, configurable: true });
  }
  byFile[tableFile] ??= table;
}

/** The module at `url` of this package, synchronously, or null when it is not one of the runtime's. */
export function requireOwn<T>(url: URL): T | null {
  if (table === null || !url.href.startsWith(ownRoot)) return null;
  return (table(url.href.slice(ownRoot.length)) ?? null) as T | null;
}

/**
 * The runtime's module at `url`, for a module of the runtime asking for
 * another: it is always there (every module of dist/src/ is one of the
 * runtime file's), so its absence is a build that went wrong, said so.
 */
export function ownModule<T>(url: URL): T {
  const m = requireOwn<T>(url);
  if (m === null) throw new Error(`jsftrace: ${url.href} is not a module of the runtime file ${tableFile || '(none loaded)'}: rebuild with npm run build`);
  return m;
}

/** The module at `url`: the runtime's where it is one of its modules, else imported. */
export function loadOwn<T>(url: URL | string): Promise<T> {
  const u = typeof url === 'string' ? new URL(url) : url;
  try {
    const m = requireOwn<T>(u);
    if (m !== null) return Promise.resolve(m);
  } catch (e) {
    return Promise.reject(e);
  }
  return import(u.href) as Promise<T>;
}
