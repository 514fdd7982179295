/**
 * The head sampler of the function-span trees, built from the
 * OpenTelemetry SDK's own samplers (loaded in the export worker and the
 * offline converter only; the spec is sampler-spec.ts's).
 *
 * Owns: asking the sampler about a tree's root, with the program's span as
 * its (remote) parent, so the parent-based samplers follow that span's
 * sampled flag.
 */

import { ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Context } from '@opentelemetry/api';
import {
  AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, SamplingDecision, TraceIdRatioBasedSampler, type Sampler,
} from '@opentelemetry/sdk-trace';
import { parseSamplerSpec } from './sampler-spec.js';
import type { RemoteParent } from './assemble.js';

export function samplerOf(spec: string): Sampler {
  const [name, arg] = parseSamplerSpec(spec).split(' ');
  const ratio = new TraceIdRatioBasedSampler(Number(arg ?? 1));
  switch (name) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return ratio;
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: ratio });
    default: return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** Whether a tree rooted at `name`, in trace `traceId`, under `remote` (the program's span), is sampled. */
export function sampleTree(sampler: Sampler, traceId: string, name: string, remote: RemoteParent | null): boolean {
  const ctx: Context = remote === null ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, {
    traceId: remote.traceId, spanId: remote.spanId, traceFlags: remote.traceFlags & TraceFlags.SAMPLED, isRemote: true,
  });
  return sampler.shouldSample(ctx, traceId, name, SpanKind.INTERNAL, {}, []).decision === SamplingDecision.RECORD_AND_SAMPLED;
}
