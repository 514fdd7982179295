/**
 * Who the function spans say they come from: the OpenTelemetry resource
 * (service.name and the rest, as the SDK builds it from OTEL_SERVICE_NAME
 * and OTEL_RESOURCE_ATTRIBUTES) and the instrumentation scope (jsftrace).
 *
 * Owns: the precedence of the service name: otlp/service_name when set,
 * else the environment's, else the SDK's default (unknown_service:node).
 */

import { readFileSync } from 'node:fs';
import type { InstrumentationScope } from '@opentelemetry/core';
import { defaultResource, detectResources, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';

const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };

export const SCOPE: InstrumentationScope = { name: 'jsftrace', version: pkg.version };

/** The resource of the spans of process `pid`; `serviceName` '' leaves the environment's. */
export function spanResource(serviceName: string, pid: number): Resource {
  const own: Record<string, string | number> = { 'process.pid': pid };
  if (serviceName !== '') own['service.name'] = serviceName;
  return defaultResource().merge(detectResources({ detectors: [envDetector] })).merge(resourceFromAttributes(own));
}
