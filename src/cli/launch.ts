/**
 * Starting a program under jsftrace for `record` and `profile`, and waiting
 * for it.
 *
 * Owns: how the register hook gets into the program, and the child's
 * environment, stdio, signals and exit status. Invariants: the program
 * sees its own stdio and arguments unchanged; a signal meant for the
 * program (Ctrl-C reaches the whole process group; SIGTERM/SIGHUP sent to
 * jsftrace are passed on) ends the program, not jsftrace, so jsftrace can
 * still report what was recorded; jsftrace exits as the program did.
 */

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { followChildren } from '../instrument/hooks/propagate.js';
import type { ControlWrite } from './settings.js';

const registerCjs = fileURLToPath(new URL('../public/register.cjs', import.meta.url));

/** node, nodejs, node20, node.exe, or this very node. */
function isNode(cmd: string): boolean {
  return cmd === process.execPath || /^node(?:js)?(?:\d+(?:\.\d+)*)?(?:\.exe)?$/.test(basename(cmd));
}

interface Launch {
  file: string;
  args: string[];
  /** Added to the environment. */
  env: Record<string, string>;
}

/**
 * How to run `command` with the register hook: through NODE_OPTIONS, which
 * the command's node and every node process it starts inherit (npm
 * scripts, npx, child processes, cluster workers), so the whole process
 * tree is traced and recorded. A script (app.js, app.mjs, app.cjs) runs
 * with this node. The hook goes in by `--require`: with it Node starts the
 * main module as it does with no preload (an `--import` makes Node run a
 * CommonJS main through its ES module loader, which changes its stack
 * traces), and the configured start finishes before the main module where
 * Node can require() an ES module (public/start.ts). It goes first, so
 * that the user's own `--require` preloads do not hold that start.
 */
function launchFor(command: string[]): Launch {
  const [cmd, ...rest] = command;
  if (cmd === undefined) throw new Error('no command');
  const script = !isNode(cmd) && /\.(?:c?js|mjs|[cm]?ts)$/.test(cmd);
  const flag = { words: ['--require', registerCjs], marks: [registerCjs] };
  // Ahead of the user's own options (followChildren): a `--require` preload
  // of theirs (dotenv, a require hook) then runs after jsftrace's start,
  // which can finish before the main module only when no preload ran first.
  const env: NodeJS.ProcessEnv = { NODE_OPTIONS: process.env['NODE_OPTIONS'] ?? '' };
  followChildren(flag, env);
  const added = { NODE_OPTIONS: env['NODE_OPTIONS'] ?? '' };
  return script ? { file: process.execPath, args: [cmd, ...rest], env: added } : { file: cmd, args: rest, env: added };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What jsftrace exits with: the program's code, or 128 + the signal's number. */
  status: number;
}

/**
 * Runs `command` with the hook, `writes` applied at the start of each of
 * its node processes (JSFTRACE_CONTROL_INIT), each recorded to the
 * recorder `record` names (JSFTRACE_RECORD); resolves when it has exited.
 */
export function runTraced(command: string[], writes: ControlWrite[], record: string): Promise<Exit> {
  const l = launchFor(command);
  const env = { ...process.env, ...l.env, JSFTRACE_CONTROL_INIT: JSON.stringify(writes), JSFTRACE_RECORD: record };
  return new Promise((resolve, reject) => {
    const child = spawn(l.file, l.args, { stdio: 'inherit', env });
    const forward = (sig: NodeJS.Signals): void => { child.kill(sig); };
    // Ctrl-C reaches the program through the terminal's process group; jsftrace waits for it to finish.
    const ignore = (): void => undefined;
    process.on('SIGINT', ignore);
    process.on('SIGTERM', forward);
    process.on('SIGHUP', forward);
    const done = (): void => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
    };
    child.once('error', (e) => {
      done();
      reject(e);
    });
    child.once('exit', (code, signal) => {
      done();
      const status = code ?? 128 + (signal === null ? 0 : constants.signals[signal] ?? 0);
      resolve({ code, signal, status });
    });
  });
}
