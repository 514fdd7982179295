/**
 * The CommonJS side: every CommonJS module's source passes through
 * Module.prototype._compile, and we transform it there.
 *
 * Owns: the one patch of `Module.prototype._compile`. Invariant: the patch
 * changes only the `content` argument, and only to what load.ts returns for
 * it; every other argument, `this` and the return value pass through, and a
 * second install in the same thread is a no-op.
 *
 * Why _compile rather than Module._extensions or a require hook: it is the
 * last step before V8 compiles a module, reached by every path the
 * CommonJS loader has (require from CommonJS, CommonJS imported from ESM
 * through Module._load, require of ESM on Node 20.19+ with format 'module',
 * and transpilers that register extensions and call `module._compile(js)`
 * themselves, such as tsx), so it sees JavaScript whichever of them was
 * installed first. Node's own TypeScript formats ('commonjs-typescript' and
 * the like, Node 22.18+/23.6+) reach it still typed: they are passed on
 * (counted as ignored) and Node strips the types after us.
 */

import module from 'node:module';
import { isAbsolute } from 'node:path';
import { countIgnored, countSkipped, instrumentSource } from '../load.js';

type Compile = (this: unknown, content: string, filename: string, ...rest: unknown[]) => unknown;

const INSTALLED = Symbol.for('jsftrace.cjsCompileHook');

export function installCjsHook(): void {
  const proto = (module as unknown as { prototype: { _compile: Compile } }).prototype;
  const original = proto._compile;
  if ((original as unknown as Record<symbol, unknown>)[INSTALLED] === true) return;
  const compile: Compile = function _compile(this: unknown, content, filename, ...rest) {
    if (typeof content === 'string' && typeof filename === 'string') {
      const format = rest[0];
      if (!isAbsolute(filename)) {
        // `-e`, the REPL and code compiled under made-up names: run-time code.
        countSkipped();
      } else if (format === 'module' || format === 'commonjs' || format === undefined) {
        content = instrumentSource(content, filename, format);
      } else if (typeof format === 'string' && format.endsWith('typescript')) {
        countIgnored();
      }
    }
    return Reflect.apply(original, this, [content, filename, ...rest]);
  };
  Object.defineProperty(compile, INSTALLED, { value: true });
  Object.defineProperty(compile, 'length', { value: original.length });
  proto._compile = compile;
}
