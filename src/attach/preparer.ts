/**
 * Where scripts are prepared: in a worker thread of the attached process,
 * started for a batch of scripts and ended after it (prepare-worker.ts), or
 * in this thread when a worker cannot be started.
 *
 * Owns: that worker's life. Invariants: the worker is unref'd and never
 * keeps the program alive; it runs with no execArgv of the program's; it
 * is terminated by close(), so nothing of it outlives the batch.
 */

import { Worker } from 'node:worker_threads';
import { prepareScript, type PrepareInput, type Prepared } from './prepare.js';

type Answer = { id: number; result?: Prepared | null; error?: string };

export class Preparer {
  private worker: Worker | null = null;
  private failed = false;
  private nextId = 1;
  private readonly waiting = new Map<number, (a: Answer) => void>();

  private start(): Worker | null {
    if (this.worker !== null || this.failed) return this.worker;
    try {
      const w = new Worker(new URL('./prepare-worker.js', import.meta.url), { execArgv: [], stdout: false, stderr: false });
      w.unref();
      w.on('message', (a: Answer) => {
        const done = this.waiting.get(a.id);
        this.waiting.delete(a.id);
        done?.(a);
      });
      w.on('error', (e) => this.failAll(e.message));
      w.on('exit', () => {
        this.worker = null;
        this.failAll('the preparing thread ended');
      });
      this.worker = w;
    } catch {
      this.failed = true;
    }
    return this.worker;
  }

  private failAll(error: string): void {
    for (const [id, done] of this.waiting) done({ id, error });
    this.waiting.clear();
  }

  /** The prepared script, null when it has no function; rejects with the transform's or pairing's error. */
  async prepare(input: PrepareInput): Promise<Prepared | null> {
    const w = this.start();
    if (w === null) return prepareScript(input);
    const id = this.nextId++;
    const a = await new Promise<Answer>((resolve) => {
      this.waiting.set(id, resolve);
      w.postMessage({ id, input });
    });
    if (a.error !== undefined) throw new Error(a.error);
    return a.result ?? null;
  }

  close(): void {
    const w = this.worker;
    this.worker = null;
    void w?.terminate();
  }
}
