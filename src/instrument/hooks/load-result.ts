/**
 * What a module load hook does with the result of the rest of the chain.
 *
 * Owns: the rule, shared by the off-thread (module.register) and in-thread
 * (module.registerHooks) load hooks, for which results we transform.
 * Invariant: we only ever replace `source` with what load.ts returns for it,
 * and only for JavaScript that Node will compile from that very source, or
 * for Node's own TypeScript, which becomes the JavaScript Node would have
 * made of it, with that format (type-stripping.ts); every other result
 * (another format, TypeScript Node would not strip so, a CommonJS result
 * without source that the CommonJS loader will read and hand to cjs.ts)
 * goes back to Node unchanged.
 */

import { fileURLToPath } from 'node:url';
import { countIgnored, countSkipped, instrumentSource, type ModuleFormat } from '../load.js';
import { stripLikeNode } from './type-stripping.js';

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
 * we already emitted, the marker makes cjs.ts pass it on. `required`: the
 * load is a `require()` of Node's CommonJS loader (which names a TypeScript
 * module as its `_compile` does).
 */
export function instrumentLoadResult<R extends LoadResult>(
  url: string, result: R, cjsHere: (filename: string) => boolean, untyped: 'detected' | 'pass' = 'pass', required = false,
): R {
  const { format, source } = result;
  if (format === 'module-typescript' || format === 'commonjs-typescript') {
    // Node's own TypeScript: stripped here as Node would strip it, then
    // done as the JavaScript it is; Node compiles that text as it would
    // have compiled its own (type-stripping.ts).
    const js = source !== null && source !== undefined && url.startsWith('file:') ? typeScriptAsNode(url, text(source), format, cjsHere, required) : null;
    if (js === null) {
      countIgnored();
      return result;
    }
    return { ...result, format: js.format, source: instrumentSource(js.code, js.filename, js.format) };
  }
  if (format === 'typescript') {
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

/**
 * A TypeScript result as the JavaScript Node would make of it, or null
 * where it stays Node's to do: not stripped so (type-stripping.ts), or a
 * CommonJS module whose `_compile` a require-extension transpiler owns.
 */
function typeScriptAsNode(
  url: string, code: string, format: 'module-typescript' | 'commonjs-typescript', cjsHere: (filename: string) => boolean, required: boolean,
): { code: string; filename: string; format: ModuleFormat } | null {
  const filename = fileURLToPath(url);
  const plain: ModuleFormat = format === 'module-typescript' ? 'module' : 'commonjs';
  if (plain === 'commonjs' && !cjsHere(filename)) return null;
  const js = stripLikeNode(code, { url, filename, required });
  return js === null ? null : { code: js, filename, format: plain };
}
