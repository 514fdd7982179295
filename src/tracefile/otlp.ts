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
import { EventCursor, pageFormatFor } from '../ring/index.js';
import { fail } from '../shared/errors.js';
import { PAGE_DROPPED, PAGE_END, type TraceFile } from './read.js';
import { feedImage } from '../tracers/otlp/feed.js';
import { spanResource, SCOPE } from '../tracers/otlp/resource.js';
import { samplerOf } from '../tracers/otlp/sampler.js';
import { defaultSamplerSpec } from '../tracers/otlp/sampler-spec.js';
import { SpanMaker, wallClockAt, type SiteInfo } from '../tracers/otlp/spans.js';

/** A site as a trace file names it: `file:qualified name`, `[package]` after it when in one. */
function siteOfName(shown: string): SiteInfo {
  const m = /^(.*) \[([^\]]+)\]$/.exec(shown);
  const name = m !== null ? m[1]! : shown;
  const colon = name.indexOf(':');
  return { name, file: colon > 0 ? name.slice(0, colon) : '', line: 0, column: 0, package: m !== null ? m[2]! : '' };
}

/** The spans of `t`, every process's. */
export function spansOfTrace(t: TraceFile, env: NodeJS.ProcessEnv = process.env): ReadableSpan[] {
  const spans: ReadableSpan[] = [];
  const graph = t.streams.filter((st) => st.info.tracer === 'function_graph');
  if (graph.length === 0) fail('EINVAL', 'the trace has no function_graph events: spans come from function_graph (record -p function_graph, or --otlp)');
  if (graph.some((st) => st.info.clock === 'counter')) fail('EINVAL', 'the trace was recorded with the counter clock: its readings are not times');
  if (graph.some((st) => st.info.anchor === undefined)) fail('EINVAL', 'the trace does not say when its clock readings were taken (a file from before report --format otlp)');
  for (const p of t.processes) {
    const sites = new Map<number, SiteInfo>();
    const site = (id: number): SiteInfo => {
      let s = sites.get(id);
      if (s === undefined) sites.set(id, (s = siteOfName(p.names[id] ?? `site#${id}`)));
      return s;
    };
    const streams = graph.filter((st) => st.process === p);
    if (streams.length === 0) continue;
    const maker = new SpanMaker({
      threshNs: streams[0]!.info.threshUs * 1000, sampler: samplerOf(defaultSamplerSpec(env)), ratePerSecond: 0,
      resource: spanResource(env['OTEL_SERVICE_NAME'] ?? '', p.info.pid), scope: SCOPE,
    }, site, { span: (s) => spans.push(s), count: () => undefined });
    for (const st of streams) {
      const calls = maker.threadCalls(st.info.threadId, st.info.name, wallClockAt(st.info.anchor!));
      const pages = t.pages(st);
      const cursor = new EventCursor(pageFormatFor(st.info.pageBytes));
      let expected = st.info.from ?? 0;
      for (;;) {
        const r = pages.next();
        if (r === PAGE_END) break;
        if (r === PAGE_DROPPED) {
          calls.lostEvents(pages.dropped);
          continue;
        }
        expected = feedImage(calls, cursor, pages.data, pages.base, expected);
      }
      calls.closeAll();
    }
  }
  return spans;
}

/** The OTLP protobuf bytes of `t`'s spans. */
export function otlpReport(t: TraceFile): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(spansOfTrace(t));
  if (bytes === undefined) fail('EIO', 'the OpenTelemetry serializer returned nothing');
  return bytes;
}
