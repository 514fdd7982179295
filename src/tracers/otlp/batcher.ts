/**
 * The export queue: spans wait here until a batch is full or the batch
 * delay has passed, then go to the OpenTelemetry OTLP exporter, a bounded
 * number of batches at a time.
 *
 * Owns: the queue and the counts of what became of every span given to it.
 * Invariants (nothing is lost silently):
 * - a span given to add() (counted in `spans`) ends in exactly one of: exported (the exporter
 *   reported success for its batch), export_failed (the exporter gave up:
 *   the receiver refused, was down or did not answer within the exporter's
 *   retries and timeout), queue_full (the queue held `maxQueue` spans: it
 *   was dropped at once, so memory stays bounded while the receiver is
 *   slow or gone), or still `queued` (waiting, or in a batch being sent);
 * - the queue never blocks the caller: add() is constant time.
 */

import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { Stats } from './stats-layout.js';

export interface SpanExporterLike {
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

export interface BatchOptions {
  maxQueue: number;
  batchSize: number;
  delayMs: number;
  maxInFlight: number;
}

export const DEFAULT_BATCH: BatchOptions = { maxQueue: 2048, batchSize: 512, delayMs: 1000, maxInFlight: 2 };

export class Batcher {
  private queue: ReadableSpan[] = [];
  private inFlight = 0;
  /** Spans in the batches being sent. */
  private sending = 0;
  private lastSend = Date.now();
  private idle: (() => void)[] = [];
  private readonly exporter: SpanExporterLike;
  private readonly stats: Stats;
  private readonly opts: BatchOptions;
  private readonly onError: (message: string) => void;
  private readonly onSettled: () => void;

  /** `onSettled`: after each batch's result, when the queue may have room again. */
  constructor(exporter: SpanExporterLike, stats: Stats, opts: BatchOptions, onError: (message: string) => void, onSettled: () => void = () => undefined) {
    this.exporter = exporter;
    this.stats = stats;
    this.opts = opts;
    this.onError = onError;
    this.onSettled = onSettled;
  }

  /** Spans add() takes now without dropping one. */
  room(): number {
    return this.opts.maxQueue - this.queue.length;
  }

  add(span: ReadableSpan): void {
    this.stats.add('spans');
    if (this.queue.length >= this.opts.maxQueue) {
      this.stats.add('queue_full');
      return;
    }
    this.queue.push(span);
    this.stats.set('queued', this.queue.length + this.sending);
    if (this.queue.length >= this.opts.batchSize) this.send();
  }

  /** Sends a batch if one is due (full, or the delay passed); call now and then. */
  tick(): void {
    if (this.queue.length > 0 && Date.now() - this.lastSend >= this.opts.delayMs) this.send();
  }

  /** Sends everything now; resolves when nothing is queued or in flight. */
  drain(): Promise<void> {
    while (this.queue.length > 0 && this.inFlight < this.opts.maxInFlight) this.send();
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.idle.push(resolve);
    });
  }

  shutdown(): Promise<void> {
    return this.exporter.shutdown();
  }

  private send(): void {
    if (this.inFlight >= this.opts.maxInFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.opts.batchSize);
    this.inFlight++;
    this.sending += batch.length;
    this.lastSend = Date.now();
    let settled = false;
    const done = (r: ExportResult): void => {
      if (settled) return; // an exporter calls back once; this is its promise
      settled = true;
      this.inFlight--;
      this.sending -= batch.length;
      this.stats.set('queued', this.queue.length + this.sending);
      if (r.code === ExportResultCode.SUCCESS) {
        this.stats.add('exported', batch.length);
        this.stats.add('batches_ok');
      } else {
        this.stats.add('export_failed', batch.length);
        this.stats.add('batches_failed');
        this.onError(r.error?.message ?? 'export failed');
      }
      if (this.queue.length >= this.opts.batchSize || (this.idle.length > 0 && this.queue.length > 0)) this.send();
      if (this.queue.length === 0 && this.inFlight === 0) for (const f of this.idle.splice(0)) f();
      this.onSettled();
    };
    try {
      this.exporter.export(batch, done);
    } catch (e) {
      done({ code: ExportResultCode.FAILED, error: e instanceof Error ? e : new Error(String(e)) });
    }
  }
}
