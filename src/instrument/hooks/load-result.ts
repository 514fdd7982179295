/**
 * What a module load hook does with the result of the rest of the chain.
 *
 * Owns: the rule, shared by the off-thread (module.register) and in-thread
 * (module.registerHooks) load hooks, for which results we transform.
 * Invariant: we only ever replace `source` with what load.ts returns for it,
 * and only for JavaScript that Node will compile from that very source; every
 * other result (another format, TypeScript not yet compiled, a CommonJS
 * result without source that the CommonJS loader will read and hand to
 * cjs.ts) goes back to Node unchanged.
 */

import { fileURLToPath } from 'node:url';
import { countIgnored, countSkipped, instrumentSource } from '../load.js';

export interface LoadResult {
  format?: string | null | undefined;
  source?: string | ArrayBuffer | ArrayBufferView | null | undefined;
  responseURL?: string;
  shortCircuit?: boolean;
}

const decoder = new TextDecoder();

function text(source: string | ArrayBuffer | ArrayBufferView): string {
  if (typeof source === 'string') return source;
  if (source instanceof ArrayBuffer) return decoder.decode(new Uint8Array(source));
  return decoder.decode(new Uint8Array(source.buffer, source.byteOffset, source.byteLength));
}

/**
 * `cjsWithSource`: whether a CommonJS result that carries source is
 * transformed here. Off-thread (module.register), Node compiles such a
 * result itself, without Module.prototype._compile (the source came from
 * another loader's hook), so the load hook is the only place that sees it;
 * should Node hand it to _compile after all, the marker makes cjs.ts pass
 * it on. In-thread (module.registerHooks), Node hands CommonJS results to
 * _compile, often after a require-extension transpiler has read the file
 * again (tsx does): transforming here would be work thrown away and counted
 * twice, so cjs.ts alone does it. A CommonJS result without source is read
 * by the CommonJS loader and reaches cjs.ts either way.
 */
export function instrumentLoadResult<R extends LoadResult>(url: string, result: R, cjsWithSource: boolean): R {
  const { format, source } = result;
  if (format === 'module-typescript' || format === 'commonjs-typescript' || format === 'typescript') {
    countIgnored();
    return result;
  }
  if (format !== 'module' && format !== 'commonjs') return result;
  if (source === null || source === undefined) return result;
  if (format === 'commonjs' && !cjsWithSource) return result;
  if (!url.startsWith('file:')) {
    // data: and other generated modules are code made at run time, as eval's.
    countSkipped();
    return result;
  }
  const code = text(source);
  const out = instrumentSource(code, fileURLToPath(url), format);
  return out === code ? result : { ...result, source: out };
}
