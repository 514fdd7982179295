/**
 * From kept calls to OpenTelemetry spans (the SDK's ReadableSpan, which its
 * OTLP exporter and protobuf serializer take), and the per-tree decisions
 * behind them: ids, sampling, rate limit.
 *
 * Owns: what a function span says. Name: the site's name. Kind: INTERNAL.
 * Attributes: code.function.name, code.file.path, code.line.number,
 * code.column.number (OpenTelemetry's code conventions), thread.id,
 * thread.name, jsftrace.package (the npm package; absent for the program's
 * own code), jsftrace.suspended_ns (async functions and generators: the
 * time between first entry and return spent suspended), jsftrace.exit
 * (`threw`, `unwound`, `unknown`, when the call did not simply return).
 * Status ERROR when a throw ended it; an `exception` event
 * (exception.type, exception.message) when its exit saw the thrown value.
 * Invariants: times are exact: a span's end minus start is the graph's
 * duration of the call to the nanosecond (both come from the same clock
 * readings, placed on the wall clock by the ring's anchor); every span of a
 * tree carries the tree's trace id.
 */

import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { RandomIdGenerator, type ReadableSpan, type Sampler } from '@opentelemetry/sdk-trace';
import type { Ring } from '../../ring/index.js';
import { RateLimit, type Fate, BELOW_THRESH, NOT_SAMPLED, RATE_LIMITED, END_THREW, END_UNKNOWN, END_UNWOUND } from './decision.js';
import { ThreadCalls, type CallSpan, type RemoteParent, type Tree } from './assemble.js';
import { sampleTree } from './sampler.js';
import type { CounterName } from './stats-layout.js';

export interface SiteInfo {
  name: string;
  file: string;
  line: number;
  column: number;
  package: string;
}

export interface SpanSettings {
  /** tracing_thresh in ns: shorter calls are not spans. */
  threshNs: number;
  sampler: Sampler;
  /** Spans a second; 0 no limit. */
  ratePerSecond: number;
  resource: Resource;
  scope: InstrumentationScope;
}

/** Where spans and counts go. */
export interface SpanSink {
  span(s: ReadableSpan): void;
  count(name: CounterName, n?: number): void;
}

const FATE_COUNTER: Record<number, CounterName> = {
  [BELOW_THRESH]: 'below_thresh', [NOT_SAMPLED]: 'not_sampled', [RATE_LIMITED]: 'rate_limited',
};
const EXIT_NAMES: Record<number, string> = { [END_THREW]: 'threw', [END_UNWOUND]: 'unwound', [END_UNKNOWN]: 'unknown' };


/**
 * A ring clock reading as wall time: the ring's anchor (a reading and the
 * wall time taken together) in whole ns, plus the reading's distance from
 * it, so differences of readings stay exact.
 */
export function wallClockOf(ring: Ring): (ts: number) => HrTime {
  return wallClockAt(ring.anchor);
}

/** The same, from an anchor kept elsewhere (a trace file's stream). */
export function wallClockAt(anchor: { clock: number; wallMs: number }): (ts: number) => HrTime {
  const { clock, wallMs } = anchor;
  const sec = Math.floor(wallMs / 1000);
  const ns = Math.round((wallMs - sec * 1000) * 1e6);
  return (ts: number): HrTime => {
    const t = ns + (ts - clock);
    const s = Math.floor(t / 1e9);
    return [sec + s, t - s * 1e9];
  };
}

function hrToNs(t: HrTime): number {
  return t[0] * 1e9 + t[1];
}

function duration(a: HrTime, b: HrTime): HrTime {
  let s = b[0] - a[0];
  let n = b[1] - a[1];
  if (n < 0) {
    s--;
    n += 1e9;
  }
  return [s, n];
}

/** `src/app.ts:Router.handle` -> `Router.handle` when the name begins with its file. */
function functionName(site: SiteInfo): string {
  return site.file !== '' && site.name.startsWith(`${site.file}:`) ? site.name.slice(site.file.length + 1) : site.name;
}

export class SpanMaker {
  private readonly settings: SpanSettings;
  private readonly sites: (id: number) => SiteInfo;
  private readonly sink: SpanSink;
  private readonly ids = new RandomIdGenerator();
  private rate: RateLimit;
  private readonly siteAttrs = new Map<number, Attributes>();

  constructor(settings: SpanSettings, sites: (id: number) => SiteInfo, sink: SpanSink) {
    this.settings = settings;
    this.sites = sites;
    this.sink = sink;
    this.rate = new RateLimit(settings.ratePerSecond);
  }

  /** New settings for the calls from now on (the rate limit starts full). */
  reconfigure(s: SpanSettings): void {
    Object.assign(this.settings, s);
    this.rate = new RateLimit(s.ratePerSecond);
  }

  /** The call reconstruction of one thread, whose spans this maker builds. */
  threadCalls(threadId: number, threadName: string, wall: (ts: number) => HrTime): ThreadCalls {
    const settings = this.settings;
    return new ThreadCalls({
      get threshNs() {
        return settings.threshNs;
      },
      newSpanId: () => this.ids.generateSpanId(),
      beginTree: (site, ts, remote, api) => this.beginTree(site, hrToNs(wall(ts)), remote, api),
      keep: (c) => this.keep(c, threadId, threadName, wall),
      drop: (fate: Fate) => this.sink.count(FATE_COUNTER[fate]!),
      lost: (n) => this.sink.count('events_lost', n),
      unmatched: () => this.sink.count('unmatched'),
    });
  }

  private beginTree(site: number, tNs: number, remote: RemoteParent | null, api: boolean | null): Tree {
    const traceId = remote !== null ? remote.traceId : this.ids.generateTraceId();
    this.sink.count(remote !== null ? 'roots_joined' : 'roots_own');
    if (api === false) this.sink.count('roots_no_api');
    const sampled = sampleTree(this.settings.sampler, traceId, this.sites(site).name, remote);
    // The rate limit is asked only for trees the sampler keeps: sampled-out trees take no tokens.
    return { traceId, remote, decision: { sampled, withinRate: sampled && this.rate.admit(tNs) } };
  }

  private attrsOf(site: number, threadId: number, threadName: string): Attributes {
    let a = this.siteAttrs.get(site);
    if (a === undefined) {
      const s = this.sites(site);
      a = { 'code.function.name': functionName(s) };
      if (s.file !== '') a['code.file.path'] = s.file;
      if (s.line > 0) a['code.line.number'] = s.line;
      if (s.column > 0) a['code.column.number'] = s.column;
      if (s.package !== '') a['jsftrace.package'] = s.package;
      this.siteAttrs.set(site, a);
    }
    return { ...a, 'thread.id': threadId, 'thread.name': threadName };
  }

  private keep(c: CallSpan, threadId: number, threadName: string, wall: (ts: number) => HrTime): void {
    const start = wall(c.start);
    const end = wall(c.end);
    this.rate.take(hrToNs(end));
    const attributes = this.attrsOf(c.site, threadId, threadName);
    if (c.suspendedNs !== null) attributes['jsftrace.suspended_ns'] = c.suspendedNs;
    const exit = EXIT_NAMES[c.how];
    if (exit !== undefined) attributes['jsftrace.exit'] = exit;
    if (c.how === END_UNKNOWN) this.sink.count('end_unknown');
    const failed = c.how === END_THREW || c.how === END_UNWOUND;
    const spanContext = { traceId: c.traceId, spanId: c.spanId, traceFlags: TraceFlags.SAMPLED };
    const span: ReadableSpan = {
      name: this.sites(c.site).name,
      kind: SpanKind.INTERNAL,
      spanContext: () => spanContext,
      parentSpanContext: c.parentSpanId === null ? undefined : {
        traceId: c.traceId, spanId: c.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: c.parentIsRemote,
      },
      startTime: start,
      endTime: end,
      duration: duration(start, end),
      status: failed
        ? { code: SpanStatusCode.ERROR, message: c.thrown !== null ? `${c.thrown.type}: ${c.thrown.message}` : 'a throw went through this call' }
        : { code: SpanStatusCode.UNSET },
      attributes,
      links: [],
      events: c.thrown === null ? [] : [{
        name: 'exception', time: end, droppedAttributesCount: 0,
        attributes: { 'exception.type': c.thrown.type, 'exception.message': c.thrown.message },
      }],
      ended: true,
      resource: this.settings.resource,
      instrumentationScope: this.settings.scope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
    this.sink.span(span);
  }
}


