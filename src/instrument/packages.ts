/**
 * Which package a file belongs to, and how site names spell the file.
 *
 * Owns: the mapping from an absolute path to `{ root, file, package }`.
 * Invariant: the answer depends only on the path and on the package.json
 * files above it (and JSFTRACE_ROOT when set), never on the cwd of a thread
 * or on load order, so a file gets the same name in every thread and every
 * run. Names use '/' on every platform, because filters are written with it.
 *
 * A file under `node_modules` belongs to the package named by the path
 * segment(s) after the last `node_modules/` (`@scope/name` for scoped
 * packages); its root is that directory. Reading the path, not package.json,
 * keeps nested `{"type":"module"}` marker files inside a package (dist/esm
 * and the like) from splitting it, and finds pnpm's
 * `.pnpm/x@1/node_modules/x` layout. Anything else is the program's own code
 * (package ''), named from the program's root: JSFTRACE_ROOT when the file is
 * under it, else the nearest directory above the file whose package.json has
 * a "name" (a nameless package.json, usually a "type" marker, is passed over
 * unless no named one exists), else the cwd when the file is under it, else
 * the filesystem root.
 */

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, parse, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workingDir } from '../shared/working-dir.js';
import { requireOwnCjs } from '../shared/own-cjs.js';
import type { ThreadSettings } from '../shared/thread-settings.cjs';

const { settingsEnv } = requireOwnCjs<ThreadSettings>('./thread-settings.cjs');

export interface FileIdentity {
  /** Absolute directory the file is named from. */
  readonly root: string;
  /** The file relative to `root`, with '/' separators. */
  readonly file: string;
  /** The npm package ('' for the program's own code). */
  readonly package: string;
}

const NM = `${sep}node_modules${sep}`;

/** The directories that hold jsftrace's own code (never instrumented). */
const ownDirs: readonly string[] = (() => {
  // This file is <pkg>/dist/src/instrument/packages.js (or src/instrument/
  // packages.ts when run from sources): its grandparent is jsftrace's code.
  const srcDir = fileURLToPath(new URL('../', import.meta.url));
  const pkgDir = resolve(srcDir, srcDir.endsWith(`${sep}dist${sep}src${sep}`) ? '../..' : '..');
  return [srcDir, join(pkgDir, 'bin') + sep];
})();

/** Whether `filename` is part of jsftrace itself (this copy or any installed one). */
export function isOwnFile(filename: string, pkg?: string): boolean {
  for (const d of ownDirs) if (filename.startsWith(d)) return true;
  return (pkg ?? identify(filename).package) === 'jsftrace';
}

/** Per directory of the program's own code: the root it is named from. */
const rootOfDir = new Map<string, string>();
/** Per directory: whether its package.json exists, and its name. */
const pkgJsonOfDir = new Map<string, { exists: boolean; named: boolean }>();

let programRootOverride: string | null | undefined;

function envRoot(): string | null {
  if (programRootOverride === undefined) {
    const r = settingsEnv()['JSFTRACE_ROOT'];
    programRootOverride = r !== undefined && r !== '' && isAbsolute(r) ? resolve(r) : null;
  }
  return programRootOverride;
}

function readPkgJson(dir: string): { exists: boolean; named: boolean } {
  let v = pkgJsonOfDir.get(dir);
  if (v !== undefined) return v;
  try {
    const text = readFileSync(join(dir, 'package.json'), 'utf8');
    let named = false;
    try {
      const j = JSON.parse(text) as unknown;
      named = typeof j === 'object' && j !== null && typeof (j as { name?: unknown }).name === 'string'
        && (j as { name: string }).name !== '';
    } catch {
      // A package.json that does not parse still marks a package boundary
      // for Node; it just has no name to prefer it by.
    }
    v = { exists: true, named };
  } catch {
    v = { exists: false, named: false };
  }
  pkgJsonOfDir.set(dir, v);
  return v;
}

function programRoot(dir: string): string {
  const cached = rootOfDir.get(dir);
  if (cached !== undefined) return cached;
  const pinned = envRoot();
  let root: string | null = null;
  if (pinned !== null && (dir === pinned || dir.startsWith(pinned + sep))) root = pinned;
  if (root === null) {
    let firstUnnamed: string | null = null;
    let d = dir;
    for (;;) {
      const p = readPkgJson(d);
      if (p.exists) {
        if (p.named) { root = d; break; }
        firstUnnamed ??= d;
      }
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
    root ??= firstUnnamed;
  }
  if (root === null) {
    const cwd = workingDir();
    root = dir === cwd || dir.startsWith(cwd + sep) ? cwd : parse(dir).root;
  }
  rootOfDir.set(dir, root);
  return root;
}

function slashes(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

/** `{ root, file, package }` for an absolute path (or a file: URL). */
export function identify(filenameOrUrl: string): FileIdentity {
  const filename = filenameOrUrl.startsWith('file:') ? fileURLToPath(filenameOrUrl) : filenameOrUrl;
  const at = filename.lastIndexOf(NM);
  if (at >= 0) {
    const rest = filename.slice(at + NM.length);
    const parts = rest.split(sep);
    const n = parts[0]!.startsWith('@') && parts.length > 2 ? 2 : 1;
    if (parts.length > n) {
      const name = parts.slice(0, n).join('/');
      return { root: filename.slice(0, at + NM.length) + parts.slice(0, n).join(sep), file: parts.slice(n).join('/'), package: name };
    }
  }
  const root = programRoot(dirname(filename));
  return { root, file: slashes(relative(root, filename)), package: '' };
}

/** Forgets cached lookups (tests change package.json files and JSFTRACE_ROOT). */
export function resetPackageCache(): void {
  rootOfDir.clear();
  pkgJsonOfDir.clear();
  programRootOverride = undefined;
}
