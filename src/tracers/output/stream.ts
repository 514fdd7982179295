/**
 * The live `trace` file in pieces, so that reading a large buffer costs the
 * traced program bounded time per turn of its event loop and bounded
 * memory: each thread's ring is read as it is rendered (liveRingEvents: the
 * iterator walks it a page at a time), the threads' lines are merged by
 * time, and the text is handed out about CHUNK_CHARS at a time.
 *
 * Owns: the incremental merge. Invariants:
 * - the text is the one-string rendering's (`functionTrace`,
 *   `graphTrace`): the same line sources, merged in the same order as
 *   mergeTo (by time, ties by thread order, each thread's own order kept);
 * - between two pieces the generator waits for the event loop
 *   (setImmediate); a reader that stops taking pieces (its client went
 *   away) stops the work.
 */

import type { LineSource } from './common.js';
import { SetImmediate } from '../../shared/builtins.js';

/** About this many characters per piece. */
const CHUNK_CHARS = 64 * 1024;

const turn = (): Promise<void> => new Promise((resolve) => SetImmediate(resolve));

/** `header`, then the lines of `sources` merged by time, in pieces. */
export async function* traceText(header: string, sources: readonly LineSource[]): AsyncGenerator<string> {
  const heads = sources.map((s) => s.next());
  let piece = header;
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h !== null && h !== undefined && (best < 0 || h.ts < heads[best]!.ts)) best = i;
    }
    if (best < 0) break;
    piece += heads[best]!.text;
    heads[best] = sources[best]!.next();
    if (piece.length >= CHUNK_CHARS) {
      yield piece;
      piece = '';
      await turn();
    }
  }
  if (piece !== '') yield piece;
}
