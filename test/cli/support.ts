// Helpers for the CLI tests: run the built `jsftrace` (and traced
// programs) as child processes with a clean environment, a private socket
// directory and a bound on their time; wait for a line of a long-running
// one; stop everything that was started.

import { chmodSync, cpSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, scratchDir, type Run, type RunOptions } from '../support/process.js';

export { cleanEnv, nodeForOtherUsers, run, Running, type Run, type RunOptions } from '../support/process.js';

export const mainJs = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const registerJs = new URL('../../src/public/register.js', import.meta.url).href;

export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../../test/fixtures/cli/${name}`, import.meta.url));
}

/** The name a fixture's function has in traces: `<file from the package root>:<name>`. */
export function site(file: string, fn: string): string {
  return `test/fixtures/cli/${file}:${fn}`;
}

/** A fresh directory (`dir`) with a socket directory path inside it (`sockets`, not made yet); removed by done(). */
export function tempDir(prefix = 'jsftrace-cli-'): { dir: string; sockets: string; done: () => void } {
  const { dir, done } = scratchDir(prefix);
  return { dir, sockets: `${dir}/sockets`, done };
}

/** Everyone may read the tree (and walk its directories). */
function chmodTree(path: string): void {
  chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chmodTree(join(path, e));
}

/**
 * A copy of the built client under `dir` that another user can run; its
 * main.js. The checkout may sit where another user cannot read (a clone in
 * a 0700 temporary directory); the CLI reaches a process, and refuses an
 * attach, through src/ alone, no dependency.
 */
export function readableClient(dir: string): string {
  const copy = join(dir, 'client');
  cpSync(join(dirname(mainJs), '..', '..', '..', 'package.json'), join(copy, 'package.json'));
  cpSync(join(dirname(mainJs), '..'), join(copy, 'dist', 'src'), { recursive: true });
  chmodTree(copy);
  return join(copy, 'dist', 'src', 'cli', 'main.js');
}

/** Runs the jsftrace CLI. */
export function jsftrace(args: string[], opts: RunOptions = {}): Promise<Run> {
  return run(process.execPath, [mainJs, ...args], opts);
}
