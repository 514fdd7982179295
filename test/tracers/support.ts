// Shared by the tracer tests: running the worker fixture
// (test/fixtures/tracers/worker.ts) to its end.

import { Worker } from 'node:worker_threads';

const workerUrl = new URL('../fixtures/tracers/worker.js', import.meta.url);

/**
 * Runs the worker fixture (its calls start at clock `start`, it makes
 * `calls` calls, under thread name `name`) and resolves with its thread id
 * once it has reported.
 */
export async function runWorker(start: number, calls: number, name?: string): Promise<number> {
  const w = new Worker(workerUrl, { workerData: { start, calls, name } });
  const id = w.threadId;
  // With the core joined, a worker that has finished sometimes never exits
  // (seen on Node 20 with the core alone, no tracer); nothing then keeps the
  // main loop alive either. The fixture flushes before it reports, so the
  // test ends the worker itself, holding the loop with a timer meanwhile.
  const keep = setInterval(() => undefined, 1000);
  try {
    await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    await w.terminate();
  } finally {
    clearInterval(keep);
  }
  return id;
}
