/**
 * `module.findSourceMap` as the program would see it without jsftrace.
 *
 * Owns: the stand-in for `module.findSourceMap` in this thread. Invariant:
 * for a module whose own source map jsftrace carried (source-map.ts), the
 * stand-in gives a SourceMap of the module's own map: the payload Node
 * would give (the module's mappings, `sources` resolved as Node resolves
 * them) and the module's line lengths, one object per module as Node
 * keeps one; for anything else exactly what Node's function gives. Its
 * name, length, own keys and text are Node's function's.
 *
 * Why: Node compiles the instrumented text, so the map it keeps (and uses
 * for its own stack traces, which need it) is the carried one, of the
 * instrumented text. A program that looks positions up itself gets them
 * from CallSites, which report positions of the module's text
 * (call-sites.ts): in the carried map they would land elsewhere on every
 * line with inserted code.
 */

import module from 'node:module';
import { ReflectApply } from '../../shared/builtins.js';
import { ownMap } from './carried-map.js';
import { isStandIn, standInFor } from './source-text.js';

type Fn = (this: unknown, ...args: unknown[]) => unknown;
type SourceMapClass = new (payload: object, options?: { lineLengths?: number[] }) => object;
interface FoundMap { readonly payload?: unknown; readonly lineLengths?: unknown }

/** The module's own map for a map Node found, or null when it is not one jsftrace carried. */
function programMap(found: FoundMap, SourceMap: SourceMapClass): object | null {
  const own = ownMap(found.payload, found.lineLengths);
  if (own === null) return null;
  return own.lineLengths === undefined ? new SourceMap(own.payload) : new SourceMap(own.payload, { lineLengths: own.lineLengths });
}

/** Puts the stand-in in place of `module.findSourceMap` (once per thread). */
export function installFindSourceMapView(): void {
  const holder = module as unknown as { findSourceMap?: Fn; SourceMap?: unknown };
  const original = holder.findSourceMap;
  const SourceMap = holder.SourceMap as SourceMapClass | undefined;
  if (typeof original !== 'function' || typeof SourceMap !== 'function') return;
  if (isStandIn(original)) return;
  const views = new WeakMap<object, object>();
  const standIn = standInFor(function (this: unknown, ...args: unknown[]): unknown {
    const found = ReflectApply(original, this, args);
    if (found === null || typeof found !== 'object') return found;
    let view = views.get(found);
    if (view === undefined) {
      view = programMap(found as FoundMap, SourceMap) ?? found;
      views.set(found, view);
    }
    return view;
  }, original);
  holder.findSourceMap = standIn;
  module.syncBuiltinESMExports();
}
