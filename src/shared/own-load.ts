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

import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);
/** The compiled package's source root (dist/src/). */
const ownRoot = new URL('../', import.meta.url).href;

/** Whether Node's own handler loads files of this extension (node-handlers.cts). */
export const nodeHandlesExtension = (requireHere('./node-handlers.cjs') as { nodeHandlesExtension(ext: string): boolean }).nodeHandlesExtension;

type Table = (path: string) => unknown;
/** The runtime file's modules by path under dist/src/; set as that file loads. */
let table: Table | null = null;

/** Called once by the runtime file, before any of its modules runs. */
export function setOwnModules(t: Table): void {
  table = t;
}

/** The module at `url` of this package, synchronously, or null when it is not one of the runtime's. */
export function requireOwn<T>(url: URL): T | null {
  if (table === null || !url.href.startsWith(ownRoot)) return null;
  return (table(url.href.slice(ownRoot.length)) ?? null) as T | null;
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
