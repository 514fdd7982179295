/**
 * The CommonJS side: every CommonJS module's source passes through
 * Module.prototype._compile, and we transform it there.
 *
 * Owns: the one patch of `Module.prototype._compile`. Invariant: the patch
 * changes only the `content` argument, and only to what load.ts returns for
 * it; every other argument, `this` and the return value pass through, and a
 * second install in the same thread is a no-op. A module Node loads from
 * its file runs with no frame of ours below it (the in-thread hook did it,
 * or Node's own _compile comes bound to its instrumented text).
 *
 * Why _compile rather than Module._extensions or a require hook: it is the
 * last step before V8 compiles a module, reached by every path the
 * CommonJS loader has (require from CommonJS, CommonJS imported from ESM
 * through Module._load, require of ESM on Node 20.19+ with format 'module',
 * and transpilers that register extensions and call `module._compile(js)`
 * themselves, such as tsx), so it sees JavaScript whichever of them was
 * installed first. Node's own TypeScript, required ('commonjs-typescript',
 * 'module-typescript': Node 22.18+, 23.6+), reaches it still typed where no
 * in-thread load hook of ours has stripped it: it is stripped here as Node
 * would, and passed on as the CommonJS or ES module it then is
 * (type-stripping.ts); the other TypeScript formats are passed on (counted
 * as ignored) for Node to strip after us.
 */

import fs from 'node:fs';
import module from 'node:module';
import { isAbsolute } from 'node:path';
import { FunctionBind, FunctionToString, ObjectGetOwnPropertySymbols, ReflectApply } from '../../shared/builtins.js';
import { ownCallSites } from '../original/call-sites.js';
import { countIgnored, countSkipped, instrumentSource } from '../load.js';
import { compiledModuleUrl, stripLikeNode } from './type-stripping.js';

type Compile = (this: unknown, content: string, filename: string, ...rest: unknown[]) => unknown;

const INSTALLED = Symbol.for('jsftrace.cjsCompileHook');

/**
 * Files whose source the in-thread load hook has already decided on (see
 * sync-hooks.ts): Node compiles that source through _compile, which then
 * has nothing to do. For those the accessor below hands out Node's own
 * _compile, so that no frame of ours sits under the module while it runs
 * (its stack traces are exactly as without jsftrace).
 */
const decidedByHook = new Set<string>();

export function markDecided(filename: string): void {
  decidedByHook.add(filename);
}

/**
 * What Node's loader left on the module in symbol-keyed properties: the
 * format it decided (`kFormat`), and whether a source was handed to it
 * (`kModuleSource`, public on the Node lines where it is a symbol at all).
 */
function loaderSlots(mod: object): { format: unknown; sourceGiven: boolean } {
  let format: unknown;
  let sourceGiven = false;
  for (const s of ObjectGetOwnPropertySymbols(mod)) {
    if (s.description === 'kFormat') format = (mod as Record<symbol, unknown>)[s];
    else if (s.description === 'kModuleSource') sourceGiven = true;
  }
  return { format, sourceGiven };
}

const LOADER = 'node:internal/modules/cjs/loader';
/** fs as jsftrace started with it: what Node's loader calls, until a program replaces it. */
const nodeRead = fs.readFileSync;
const nodeStat = fs.statSync;

/**
 * Node's own _compile, bound to this module's instrumented source, when
 * the one reading `module._compile` is Node's own extension handler, called
 * by Node's `Module.prototype.load` (so the file it compiles is
 * `module.filename`), and the source it is about to pass is the file's:
 * what it read with `fs.readFileSync(filename, 'utf8')`, read again here
 * (where Node has no in-thread load hook, Node 20 and 22.0 to 22.14, every
 * CommonJS file Node loads itself comes this way). A bound function leaves
 * no frame of its own, so the module's top level runs with exactly the
 * frames below it that it has without jsftrace; the arguments Node then
 * passes come after the bound ones and _compile ignores them. False when
 * anything could differ: our compile, with its frame, does those. That is
 * another caller; a source Node got elsewhere (`kModuleSource`, set when
 * another loader supplied it); a format _compile would not get from the
 * file; `fs.readFileSync` replaced by the program (a virtual file system, a
 * spy: what Node read is not what a second read gives, and a spy would see
 * it); a file that is not a regular file (a named pipe gives its text once).
 * Every built-in used is the one captured at start, and no property of the
 * program's is read or written beyond the module's own.
 */
function nodeCompileOfFile(nodes: Compile, mod: object, filename: string): Compile | false {
  if (!isAbsolute(filename) || fs.readFileSync !== nodeRead) return false;
  // Frames: ownCallSites, this function, the getter, whoever read the property, its caller.
  const fromLoad = ownCallSites(5, (s) => s[3]?.getFileName() === LOADER && s[4]?.getFileName() === LOADER
    && s[4].getMethodName() === 'load');
  if (fromLoad !== true) return false;
  const { format, sourceGiven } = loaderSlots(mod);
  if (sourceGiven || (format !== undefined && format !== 'commonjs')) return false;
  let source: string;
  try {
    if (!(ReflectApply(nodeStat, fs, [filename]) as fs.Stats).isFile()) return false;
    source = ReflectApply(nodeRead, fs, [filename, 'utf8']) as string;
  } catch {
    return false;
  }
  const content = instrumentSource(source, filename, format as 'commonjs' | undefined);
  if (content === source) return nodes;
  return ReflectApply(FunctionBind, nodes, [mod, content, filename, format]) as Compile;
}

/**
 * Module.prototype._compile becomes an accessor: reading it from a module
 * gives our compile (which transforms the content, then calls Node's), or
 * Node's own for a module the load hook has done. Assigning it on the
 * prototype replaces what ours calls; assigning it on a module instance
 * (what require-extension transpilers do) makes an own property there, as
 * a plain assignment would have.
 */
export function installCjsHook(): void {
  const proto = (module as unknown as { prototype: object }).prototype;
  const current = Object.getOwnPropertyDescriptor(proto, '_compile');
  if (current?.get !== undefined && (current.get as unknown as Record<symbol, unknown>)[INSTALLED] === true) return;
  let original = (proto as { _compile: Compile })._compile;
  // Node's _compile is an anonymous function. A frame of it prints as
  // `Module._compile`: from the name V8 inferred for it on Node 20, from
  // the data property holding it on later lines (V8 has no inferred name
  // there). Behind an accessor there is no such property, and V8 would
  // print `Module.<anonymous>`; the inferred name as its own name gives the
  // same text, and CallSite's getFunctionName the plain run's on Node 20.
  if (original.name === '') Object.defineProperty(original, 'name', { value: 'Module._compile', configurable: true });
  const compile: Compile = function _compile(this: unknown, content, filename, ...rest) {
    if (typeof content === 'string' && typeof filename === 'string') {
      const format = rest[0];
      if (!isAbsolute(filename)) {
        // `-e`, the REPL and code compiled under made-up names: run-time code.
        countSkipped();
      } else if (format === 'module' || format === 'commonjs' || format === undefined) {
        content = instrumentSource(content, filename, format);
      } else if ((format === 'commonjs-typescript' || format === 'module-typescript') && this !== null && typeof this === 'object') {
        // Stripped here as Node's _compile would strip it (type-stripping.ts),
        // then compiled by it as the CommonJS or ES module it then is.
        const js = stripLikeNode(content, { url: compiledModuleUrl(this, filename), filename, required: true });
        const plain = format === 'commonjs-typescript' ? 'commonjs' : 'module';
        if (js === null) countIgnored();
        else return ReflectApply(original, this, [instrumentSource(js, filename, plain), filename, plain, ...rest.slice(1)]);
      } else if (typeof format === 'string' && format.endsWith('typescript')) {
        countIgnored();
      }
    }
    return ReflectApply(original, this, [content, filename, ...rest]);
  };
  Object.defineProperty(compile, 'length', { value: original.length });
  // Read from the prototype, it is the compile every module would use
  // without us: code that wraps it (source-map-support does) wraps that,
  // and assigns its wrapper back through the setter.
  const nodes = original;
  // Bound, Node's _compile is called with the format its handler would
  // pass: only where it takes `(content, filename, format)` (20.19 on; the
  // releases before took a boolean there).
  const bindable = /^function\s*\(content, filename, format\)/.test(ReflectApply(FunctionToString, nodes, []) as string);
  const get = function (this: { filename?: unknown }): Compile {
    if (this === proto) return original;
    if (typeof this?.filename === 'string' && decidedByHook.delete(this.filename)) return original;
    return (bindable && original === nodes && typeof this?.filename === 'string' && nodeCompileOfFile(original, this, this.filename)) || compile;
  };
  Object.defineProperty(get, INSTALLED, { value: true });
  Object.defineProperty(proto, '_compile', {
    configurable: true,
    enumerable: current?.enumerable ?? true,
    get,
    set(this: object, value: Compile) {
      if (this === proto) original = value;
      else Object.defineProperty(this, '_compile', { value, writable: true, configurable: true, enumerable: true });
    },
  });
}
