/**
 * What the control side and the export worker say to each other
 * (exporter.ts, worker.ts). Counters do not go through messages: they are
 * shared words (stats-layout.ts).
 */

/** The export's settings, as the otlp/ control files hold them. */
export interface ExportSettings {
  /** The traces URL; '' for the exporter's own default (OTEL_EXPORTER_OTLP_*_ENDPOINT, else localhost:4318). */
  url: string;
  /** '' for the environment's (OTEL_SERVICE_NAME). */
  serviceName: string;
  /** A sampler spec (sampler.ts). */
  sampler: string;
  /** Spans a second, 0 no limit. */
  rateLimit: number;
}

export type ToWorker = { kind: 'settings'; settings: ExportSettings } | { kind: 'stop' };

export type FromWorker = { kind: 'ready' } | { kind: 'stopped' } | { kind: 'error'; message: string } | { kind: 'notice'; message: string };

/** Said once when root calls begin traces of their own because the program has no OpenTelemetry API. */
export const NO_API_NOTICE = 'otlp: the program has no OpenTelemetry API (@opentelemetry/api): each call with no traced caller starts a trace of its own';

/** How long a process's exit waits for the last export, whichever thread makes it. */
export const EXIT_WAIT_MS = 2000;
