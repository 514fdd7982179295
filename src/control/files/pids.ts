/**
 * set_ftrace_pid and set_ftrace_notrace_pid, for threads: the ids are
 * `threadId`s (0 is the main thread), as per_thread/N names them.
 *
 * Owns: the parsing and the read-back text (`no pid`, or one id per line,
 * as ftrace). Invariants: `>` replaces the list, `>>` adds to it, an empty
 * `>` clears it; a word that is not an id refuses the whole write.
 */

import { setTracePids, tracePids } from '../../tracers/index.js';
import { parseUintAt, wordsAt, type ControlFile } from '../file.js';

/** Thread ids are kept in int32 words: a larger one is refused, not wrapped. */
const THREAD_ID_MAX = 0x7fffffff;

function parseIds(text: string, what: string): number[] {
  return wordsAt(text).map(({ word, pos }) => parseUintAt(word, what, pos, THREAD_ID_MAX, 'a thread id'));
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
