/**
 * The worker thread that prepares scripts for an attach (prepare.ts), so
 * that transforming a large script (a second for the TypeScript compiler)
 * never holds the attached program's main thread.
 *
 * Owns: nothing but the message loop. Invariant: every request gets one
 * answer with its id: the prepared script, null, or the error's message.
 */

import { parentPort } from 'node:worker_threads';
import { prepareScript, type PrepareInput } from './prepare.js';

parentPort!.on('message', (m: { id: number; input: PrepareInput }) => {
  try {
    parentPort!.postMessage({ id: m.id, result: prepareScript(m.input) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
