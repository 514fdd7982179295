/**
 * The OTLP export's shared words, drawn in one place: the counters the
 * export worker keeps and trace_stat/otlp prints, and the handshake by
 * which a thread at process exit asks the worker for a last export and
 * waits for it. Version: STATS_MAGIC (a change of any offset changes it).
 *
 *   i32 index
 *   0   STATS_MAGIC
 *   1   FLUSH_REQ    bumped by the thread that wants a last export
 *   2   FLUSH_DONE   the FLUSH_REQ value the worker has finished
 *   3   (reserved)
 *   f64 index (byte 16 on)
 *   2 + k   counter k of COUNTERS, an exact integer below 2^53
 *
 * Only the worker writes the counters; any thread reads them (a reading
 * may mix counts a few events apart, as ftrace's stats do).
 */

export const STATS_MAGIC = 0x4a534f32; // 'JSO2'
export const I_MAGIC = 0;
export const I_FLUSH_REQ = 1;
export const I_FLUSH_DONE = 2;
const F_FIRST = 2;

/** Every counter, in the order trace_stat/otlp prints them, with its line there. */
export const COUNTERS = [
  ['spans', 'spans made (each ends exported, export_failed, queue_full or queued)'],
  ['exported', 'spans exported (the receiver accepted them)'],
  ['export_failed', 'spans in batches the receiver refused or never answered'],
  ['queue_full', 'spans dropped: the export queue was full'],
  ['below_thresh', 'calls shorter than tracing_thresh (not spans)'],
  ['not_sampled', 'calls in trees the sampler left out'],
  ['rate_limited', 'calls in trees over otlp/rate_limit'],
  ['end_unknown', 'spans whose end was not seen (lost, or still running when the export stopped)'],
  ['unmatched', 'returns whose entry was not seen (before the export began, or lost)'],
  ['events_lost', 'events that went by before the exporter read them'],
  ['events_read', 'events read'],
  ['roots_joined', 'call trees under a span of the program (OpenTelemetry)'],
  ['roots_own', 'call trees that began a trace of their own'],
  ['roots_no_api', 'of which the program had no OpenTelemetry API'],
  ['batches_ok', 'batches sent'],
  ['batches_failed', 'batches failed'],
  ['queued', 'spans waiting to be sent, or being sent, now'],
  ['backlog', 'events read by the recording\'s drain, waiting to be made spans (record --otlp)'],
] as const;
export type CounterName = (typeof COUNTERS)[number][0];

export const STATS_BYTES = (F_FIRST + COUNTERS.length) * 8;

const index = new Map<string, number>(COUNTERS.map(([n], k) => [n, F_FIRST + k]));

export function createStats(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(STATS_BYTES);
  Atomics.store(new Int32Array(sab), I_MAGIC, STATS_MAGIC);
  return sab;
}

export class Stats {
  readonly i32: Int32Array;
  private readonly f64: Float64Array;

  constructor(sab: SharedArrayBuffer) {
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab);
    if (Atomics.load(this.i32, I_MAGIC) !== STATS_MAGIC) throw new Error('OTLP stats buffer of another layout');
  }

  add(name: CounterName, n = 1): void {
    const k = index.get(name)!;
    this.f64[k] = this.f64[k]! + n;
  }

  set(name: CounterName, v: number): void {
    this.f64[index.get(name)!] = v;
  }

  get(name: CounterName): number {
    return this.f64[index.get(name)!]!;
  }
}
