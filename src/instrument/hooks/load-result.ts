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
 * `cjsHere(filename)`: whether a CommonJS result that carries source is
 * transformed here. Off-thread (module.register) it always is: Node compiles
 * such a result itself, without Module.prototype._compile (the source came
 * from another loader's hook), so the load hook is the only place that sees
 * it. In-thread (module.registerHooks), Node's CommonJS loader runs the hook
 * for every require() of a file and compiles what it returns; the hook
 * transforms it unless a require-extension transpiler has wrapped that
 * module's _compile (babel/register, ts-node and anything built on pirates
 * let Node read the file, then compile their own output): that output must
 * be what gets the sites, and cjs.ts sees it. Should _compile receive code
 * we already emitted, the marker makes cjs.ts pass it on.
 */
export function instrumentLoadResult<R extends LoadResult>(
  url: string, result: R, cjsHere: (filename: string) => boolean, untyped: 'detected' | 'pass' = 'pass',
): R {
  const { format, source } = result;
  if (format === 'module-typescript' || format === 'commonjs-typescript' || format === 'typescript') {
    countIgnored();
    return result;
  }
  // `detected`: a result without a format is a file that Node's CommonJS
  // loader compiles with syntax detection (a .js of a package with no
  // "type"); it is done as cjs.ts does it, when cjsHere says Node compiles it.
  const detect = untyped === 'detected' && (format === undefined || format === null);
  if (format !== 'module' && format !== 'commonjs' && !detect) return result;
  if (source === null || source === undefined) return result;
  if (!url.startsWith('file:')) {
    // data: and other generated modules are code made at run time, as eval's.
    countSkipped();
    return result;
  }
  const filename = fileURLToPath(url);
  if ((format === 'commonjs' || detect) && !cjsHere(filename)) return result;
  const code = text(source);
  const out = instrumentSource(code, filename, detect ? undefined : format as 'module' | 'commonjs');
  return out === code ? result : { ...result, source: out };
}
