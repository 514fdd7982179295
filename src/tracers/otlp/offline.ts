/**
 * `jsftrace report --format otlp`: a recorded function_graph trace as one
 * OTLP ExportTraceServiceRequest in protobuf (what an OTLP/HTTP receiver
 * takes in a POST to /v1/traces), serialised by OpenTelemetry's own
 * otlp-transformer.
 *
 * Owns: reading a trace file's rings through the same call reconstruction
 * and decision as the live export (assemble.ts, decision.ts). Invariants:
 * the same events give the same spans as the live export, except for what
 * only a live process has: the rate limit is not applied, and a trace file
 * keeps site names, not line numbers (file and package come from the name);
 * calls still open when the trace was taken end where the trace ends, their
 * end unknown. Without options/otlp's side events (a trace recorded without
 * it) every root call starts a trace of its own and an async call's parts
 * after its first cannot be joined to it.
 */

import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { CLOCK_COUNTER, iterateRing, READ_EVENT, READ_LOST } from '../../ring/index.js';
import { fail } from '../../shared/errors.js';
import type { LoadedTrace } from '../tracefile.js';
import { feedEvent } from './feed.js';
import { spanResource, SCOPE } from './resource.js';
import { samplerOf } from './sampler.js';
import { defaultSamplerSpec } from './sampler-spec.js';
import { SpanMaker, wallClockOf, type SiteInfo } from './spans.js';

/** A site as a trace file names it: `file:qualified name`, `[package]` after it when in one. */
function siteOfName(shown: string): SiteInfo {
  const m = /^(.*) \[([^\]]+)\]$/.exec(shown);
  const name = m !== null ? m[1]! : shown;
  const colon = name.indexOf(':');
  return { name, file: colon > 0 ? name.slice(0, colon) : '', line: 0, column: 0, package: m !== null ? m[2]! : '' };
}

/** The spans of `t`. */
export function spansOfTrace(t: LoadedTrace, env: NodeJS.ProcessEnv = process.env): ReadableSpan[] {
  if (t.tracer !== 'function_graph') fail('EINVAL', `the trace was recorded with ${t.tracer}: spans come from function_graph (record -p function_graph, or --otlp)`);
  if (t.rings.some((r) => r.ring.clockId === CLOCK_COUNTER)) fail('EINVAL', 'the trace was recorded with the counter clock: its readings are not times');
  const spans: ReadableSpan[] = [];
  const sites = new Map<number, SiteInfo>();
  const site = (id: number): SiteInfo => {
    let s = sites.get(id);
    if (s === undefined) sites.set(id, (s = siteOfName(t.names[id] ?? `site#${id}`)));
    return s;
  };
  const maker = new SpanMaker({
    threshNs: t.threshUs * 1000, sampler: samplerOf(defaultSamplerSpec(env)), ratePerSecond: 0,
    resource: spanResource(env['OTEL_SERVICE_NAME'] ?? '', t.pid), scope: SCOPE,
  }, site, { span: (s) => spans.push(s), count: () => undefined });
  for (const r of t.rings) {
    const calls = maker.threadCalls(r.threadId, r.name, wallClockOf(r.ring));
    const it = iterateRing(r.ring);
    for (;;) {
      const st = it.next();
      if (st === READ_EVENT) feedEvent(calls, it.event);
      else if (st === READ_LOST) calls.lostEvents(it.lost);
      else break;
    }
    calls.closeAll();
  }
  return spans;
}

/** The OTLP protobuf bytes of `t`'s spans. */
export function otlpReport(t: LoadedTrace): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(spansOfTrace(t));
  if (bytes === undefined) fail('EIO', 'the OpenTelemetry serializer returned nothing');
  return bytes;
}
