/**
 * set_ftrace_pid and set_ftrace_notrace_pid, for threads: the ids are
 * `threadId`s (0 is the main thread), as per_thread/N names them.
 *
 * Owns: the parsing and the read-back text (`no pid`, or one id per line,
 * as ftrace). Invariants: `>` replaces the list, `>>` adds to it, an empty
 * `>` clears it; a word that is not an id refuses the whole write.
 */

import { setTracePids, tracePids } from '../../tracers/index.js';
import { failAt, wordsAt, type ControlFile } from '../file.js';

function parseIds(text: string, what: string): number[] {
  return wordsAt(text).map(({ word, pos }) => {
    if (!/^[0-9]+$/.test(word)) failAt('EINVAL', `${what}: "${word}" is not a thread id`, pos);
    return Number(word);
  });
}

function pidFile(notrace: boolean): ControlFile {
  const what = notrace ? 'set_ftrace_notrace_pid' : 'set_ftrace_pid';
  return {
    read: () => {
      const ids = tracePids(notrace);
      return ids.length === 0 ? 'no pid\n' : ids.map((i) => `${i}\n`).join('');
    },
    write: (text) => setTracePids(parseIds(text, what), { notrace }),
    append: (text) => setTracePids(parseIds(text, what), { notrace, append: true }),
  };
}

export const pidFiles: Record<string, ControlFile> = {
  set_ftrace_pid: pidFile(false),
  set_ftrace_notrace_pid: pidFile(true),
};
