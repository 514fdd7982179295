/**
 * The sampler spec of otlp/sampler, in OpenTelemetry's OTEL_TRACES_SAMPLER
 * names: `name`, or `name ratio` for the trace-id ratio samplers.
 *
 * Owns: the grammar and the default (the program's OTEL_TRACES_SAMPLER and
 * OTEL_TRACES_SAMPLER_ARG, else parentbased_always_on). Invariant: a spec
 * is checked whole before it is used; a bad one is EINVAL naming what it
 * wanted. Loads no OpenTelemetry code (the control side uses it).
 */

import { fail } from '../../shared/errors.js';

export const SAMPLER_NAMES = [
  'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio', 'always_on', 'always_off', 'traceidratio',
] as const;

/** A spec in canonical form (`name` or `name ratio`), or EINVAL. */
export function parseSamplerSpec(text: string): string {
  const words = text.trim().split(/\s+/).filter((w) => w !== '');
  const [name, arg, ...rest] = words;
  if (name === undefined || !(SAMPLER_NAMES as readonly string[]).includes(name) || rest.length > 0) {
    fail('EINVAL', `otlp/sampler: one of ${SAMPLER_NAMES.join(', ')}, the ratio ones followed by a number from 0 to 1`);
  }
  const ratio = name.endsWith('traceidratio');
  if (!ratio) {
    if (arg !== undefined) fail('EINVAL', `otlp/sampler: ${name} takes no argument`);
    return name;
  }
  const r = arg === undefined ? 1 : Number(arg);
  if (arg !== undefined && !/^(0|1|0?\.[0-9]+|1\.0*)$/.test(arg)) fail('EINVAL', `otlp/sampler: the ratio "${arg}" is not a number from 0 to 1`);
  return `${name} ${r}`;
}

/** The sampler the program's environment names (OTEL_TRACES_SAMPLER, _ARG), or parentbased_always_on. */
export function defaultSamplerSpec(env: NodeJS.ProcessEnv = process.env): string {
  const name = (env['OTEL_TRACES_SAMPLER'] ?? '').trim();
  if (name === '') return 'parentbased_always_on';
  try {
    const arg = (env['OTEL_TRACES_SAMPLER_ARG'] ?? '').trim();
    return parseSamplerSpec(name.endsWith('traceidratio') && arg !== '' ? `${name} ${arg}` : name);
  } catch {
    return 'parentbased_always_on'; // as the SDK does with a value it does not know
  }
}

