/**
 * Loading jsftrace's own ES modules while a thread starts.
 *
 * Owns: the choice between require() and import() for a module of this
 * package. Invariant: a module is required only while a start runs
 * (requireOwnModules), and only where require() puts this package's ES
 * modules into Node's module graph (Node 20.19, 22.12 and later) as the
 * very instances import() gives: never where a loader registered earlier
 * converts them to CommonJS, which would run a second copy of each, with
 * its own state. Then a module comes back synchronously (the
 * promise loadOwn returns is already settled), so a start that loads only
 * through here needs nothing but microtasks to finish and can finish
 * before the program's first line without holding the program
 * (public/start.ts). Otherwise, and after the start (when loaders the
 * program registers may have hooks of their own), modules are imported:
 * import() reads files and, on Node 20, asks the module loader's thread,
 * which needs turns of the event loop. Other modules (a handler module the
 * user names) are always imported.
 */

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const requireHere = createRequire(import.meta.url);
/** The compiled package's source root (dist/src/). */
const ownRoot = new URL('../', import.meta.url).href;
const thisFile = fileURLToPath(import.meta.url);

/** Whether Node's own handler loads files of this extension (node-handlers.cts). */
export const nodeHandlesExtension = (requireHere('./node-handlers.cjs') as { nodeHandlesExtension(ext: string): boolean }).nodeHandlesExtension;

/** Whether this Node can require() an ES module (20.19, 22.12 and later). */
export const canRequireEsm = (process.features as { require_module?: boolean }).require_module === true;

let requiring = false;

/**
 * While a start runs (public/start.ts). Turned on only where Node's own
 * handler loads `.js` files and require() gives this graph's instance of
 * this very module (which has no effects to run twice): not where a loader
 * registered before jsftrace (`--import tsx` ahead of ours) converts
 * required ES modules to CommonJS.
 */
export function requireOwnModules(on: boolean): void {
  // A require hook in Node's place (tsx's converts): not even asked, since
  // asking would have it convert this module (and start its compiler).
  if (!on || !canRequireEsm || !nodeHandlesExtension('.js')) {
    requiring = false;
    return;
  }
  try {
    requiring = (requireHere(thisFile) as { requireOwn?: unknown }).requireOwn === requireOwn;
  } catch {
    requiring = false;
  }
}

/** The module at `url` of this package, synchronously, or null where it is to be imported. */
export function requireOwn<T>(url: URL): T | null {
  if (!requiring || !url.href.startsWith(ownRoot)) return null;
  try {
    return requireHere(fileURLToPath(url)) as T;
  } catch (e) {
    // A module with a top-level await cannot be required: import it.
    if ((e as { code?: string }).code === 'ERR_REQUIRE_ASYNC_MODULE') return null;
    throw e;
  }
}

/** The module at `url`: required where requireOwn can, else imported. */
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
