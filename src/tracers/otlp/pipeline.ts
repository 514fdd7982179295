/**
 * The export pipeline behind whichever thread reads the events: call
 * reconstruction per ring, the span maker, the export queue and its
 * OpenTelemetry OTLP/HTTP exporter, the counters. Two readers host it: the
 * export worker, which follows the rings (worker.ts), and the drain of a
 * streaming `jsftrace record`, which already consumes every event and hands
 * the export the same page images it sends to the trace file
 * (recorder/export-tee.ts).
 *
 * Owns: the span settings in force and the queue they feed. Invariants:
 * - everything fed in ends in a counter of trace_stat/otlp (stats-layout.ts);
 * - new settings apply to the calls that begin afterwards; what is queued
 *   goes out the old way first;
 * - `room()` says how many more spans the queue takes without dropping one,
 *   and `onRoom` is called whenever a batch settles, so a host that can
 *   wait (the drain's backlog) feeds only what fits.
 */

import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CLOCK_COUNTER, type Ring } from '../../ring/index.js';
import { instance } from '../../core/instance.js';
import { record } from '../../core/records.js';
import { C_THRESH_US, ctl } from '../session.js';
import type { ThreadCalls } from './assemble.js';
import { Batcher, DEFAULT_BATCH } from './batcher.js';
import { spanResource, SCOPE } from './resource.js';
import { samplerOf } from './sampler.js';
import { SpanMaker, wallClockOf, type SiteInfo, type SpanSettings } from './spans.js';
import type { Stats } from './stats-layout.js';
import { NO_API_NOTICE, type ExportSettings } from './messages.js';

/** What the pipeline tells its host's owner (the control side shows errors in trace_stat/otlp). */
export interface PipelineEvents {
  error(message: string): void;
  notice(message: string): void;
  /** A batch settled: the queue may have room again. */
  room?(): void;
}

export const COUNTER_CLOCK_ERROR = 'trace_clock is counter: its readings are not times, so no spans are made (use local, global or mono)';

export class ExportPipeline {
  readonly stats: Stats;
  private readonly pid: number;
  private readonly events: PipelineEvents;
  private readonly spanSettings: SpanSettings;
  private batcher: Batcher;
  private readonly maker: SpanMaker;
  private readonly inst = instance();
  private lastError = '';
  private toldNoApi = false;

  constructor(stats: Stats, settings: ExportSettings, pid: number, events: PipelineEvents) {
    this.stats = stats;
    this.pid = pid;
    this.events = events;
    this.spanSettings = this.spanSettingsOf(settings);
    this.batcher = this.batcherOf(settings);
    this.maker = new SpanMaker(this.spanSettings, (id) => this.siteInfo(id), {
      span: (sp) => this.batcher.add(sp),
      count: (n, k) => {
        stats.add(n, k);
        if (n === 'roots_no_api' && !this.toldNoApi) {
          this.toldNoApi = true;
          events.notice(NO_API_NOTICE);
        }
      },
    });
  }

  /** Says an error once (until another one comes). */
  error(message: string): void {
    if (message === this.lastError) return;
    this.lastError = message;
    this.events.error(message);
  }

  /** The reconstruction of one ring's calls; null when its clock has no time to put on spans (said once). */
  threadCalls(threadId: number, name: string, ring: Ring): ThreadCalls | null {
    if (ring.clockId === CLOCK_COUNTER) {
      this.error(COUNTER_CLOCK_ERROR);
      return null;
    }
    return this.maker.threadCalls(threadId, name, wallClockOf(ring));
  }

  /** tracing_thresh may change at any time; it applies from the next call decided. */
  refreshThresh(): void {
    this.spanSettings.threshNs = Atomics.load(ctl, C_THRESH_US) * 1000;
  }

  /** Spans the queue takes now without dropping one. */
  room(): number {
    return this.batcher.room();
  }

  /** Sends a batch if one is due; call now and then. */
  tick(): void {
    this.batcher.tick();
  }

  /** Sends everything queued; resolves when nothing is queued or in flight. */
  drain(): Promise<void> {
    return this.batcher.drain();
  }

  /** New settings: what is queued goes out the old way first; the calls under way carry on. */
  async reconfigure(s: ExportSettings): Promise<void> {
    await this.batcher.drain();
    const old = this.batcher;
    this.maker.reconfigure(this.spanSettingsOf(s));
    this.batcher = this.batcherOf(s);
    await old.shutdown();
  }

  shutdown(): Promise<void> {
    return this.batcher.shutdown();
  }

  private siteInfo(id: number): SiteInfo {
    try {
      return record(this.inst, id);
    } catch {
      return { name: `site#${id}`, file: '', line: 0, column: 0, package: '' };
    }
  }

  private spanSettingsOf(s: ExportSettings): SpanSettings {
    return {
      threshNs: Atomics.load(ctl, C_THRESH_US) * 1000, sampler: samplerOf(s.sampler), ratePerSecond: s.rateLimit,
      resource: spanResource(s.serviceName, this.pid), scope: SCOPE,
    };
  }

  private batcherOf(s: ExportSettings): Batcher {
    // The exporter's own defaults when no URL is set: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT, localhost:4318.
    return new Batcher(new OTLPTraceExporter(s.url === '' ? {} : { url: s.url }), this.stats, DEFAULT_BATCH, (m) => this.error(m), () => this.events.room?.());
  }
}
