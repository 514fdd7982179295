/**
 * error_log: the last ERROR_LOG_MAX refused control writes, in ftrace's
 * format (tracing_log_err):
 *
 *   [   12.345678] set_ftrace_filter: error: "nosuch*" matches no function
 *     Command: nosuch* foo
 *              ^
 *
 * Owns: the entries of this process (the control side runs in the thread
 * that serves the files): refused control writes, and the first error of
 * each ops or trampoline callback per thread (G5: the core relays them from
 * every thread), as
 *
 *   [   12.345678] callback: error: ops "mine" threw in thread 2: TypeError: x is not a function; the traced call went on
 *     Command:
 *              ^
 *
 * Invariants: at most ERROR_LOG_MAX entries, oldest dropped first; the
 * caret sits under the byte of the command where the error was found (0
 * when the whole command is at fault); a truncating write of error_log
 * clears it.
 */

import { onCallbackError } from '../core/index.js';
import { PerformanceNow } from '../shared/builtins.js';

export const ERROR_LOG_MAX = 8;

interface Entry {
  ts: number;
  location: string;
  message: string;
  command: string;
  pos: number;
}

const entries: Entry[] = [];

export function logError(location: string, message: string, command: string, pos: number): void {
  // One line each: an entry's lines are its format.
  const line = (t: string): string => t.replace(/[\r\n]/g, ' ');
  entries.push({ ts: PerformanceNow(), location: line(location), message: line(message), command: line(command), pos: Math.max(0, Math.min(pos, command.length)) });
  if (entries.length > ERROR_LOG_MAX) entries.shift();
}

export function clearErrorLog(): void {
  entries.length = 0;
}

export function readErrorLog(): string {
  let s = '';
  for (const e of entries) {
    const secs = Math.floor(e.ts / 1000);
    const usecs = Math.floor((e.ts - secs * 1000) * 1000);
    s += `[${String(secs).padStart(5)}.${String(usecs).padStart(6, '0')}] ${e.location}: error: ${e.message}\n`;
    s += `  Command: ${e.command}\n`;
    s += `${' '.repeat('  Command: '.length + e.pos)}^\n`;
  }
  return s;
}

onCallbackError((r) => {
  logError('callback', `${r.kind} ${JSON.stringify(r.name)} threw in thread ${r.threadId}: ${r.message}; the traced call went on`, '', 0);
});
