/**
 * The OTLP export's files: otlp/endpoint, otlp/service_name, otlp/sampler,
 * otlp/rate_limit and trace_stat/otlp. options/otlp (the switch) is one of
 * function_graph's options (options.ts).
 *
 * Owns: nothing but the mapping onto the tracers' otlp settings.
 * Invariant: a refused write changes nothing (each setter checks first).
 */

import { otlp } from '../../tracers/index.js';
import { parseUint, type ControlFile } from '../file.js';

export const otlpFiles: Record<string, ControlFile> = {
  'otlp/endpoint': { read: otlp.readEndpoint, write: (text) => otlp.setEndpoint(text) },
  'otlp/service_name': { read: otlp.readServiceName, write: (text) => otlp.setServiceName(text) },
  'otlp/sampler': { read: otlp.readSampler, write: (text) => otlp.setSampler(text) },
  'otlp/rate_limit': { read: otlp.readRateLimit, write: (text) => otlp.setRateLimit(parseUint(text, 'otlp/rate_limit')) },
  'trace_stat/otlp': { read: otlp.exportStatusText },
};
