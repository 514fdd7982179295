/**
 * Node's own CommonJS extension handlers (`Module._extensions`), told apart
 * from a require hook's (tsx's, and anything built on pirates:
 * babel/register, ts-node) without calling them. CommonJS, so that
 * register.cjs can ask before it requires any ES module of ours; ES
 * modules have it from own-load.ts.
 *
 * Owns: the recognition of Node's handler. Invariant: it is known by the
 * start of its source text, the same on every line from 20 to 26 (the
 * tests of each line depend on it); a handler that fails the check is taken
 * for a hook's, which only costs the caller its shortcut.
 */

type Handler = (module: object, filename: string) => void;
const extensions = (require('node:module') as { _extensions: Record<string, Handler | undefined> })._extensions;
const functionText = Function.prototype.toString;

const NODE_HANDLER = /^function\s*\(module, filename\)\s*\{\s*let format, pkg;/;
const known = new WeakMap<Handler, boolean>();

/** Whether Node's own handler loads files of this extension (`.js`'s for one without a handler of its own). */
function nodeHandlesExtension(ext: string): boolean {
  const h = extensions[ext] ?? extensions['.js'];
  if (h === undefined) return false;
  let own = known.get(h);
  if (own === undefined) {
    own = NODE_HANDLER.test(Reflect.apply(functionText, h, []) as string);
    known.set(h, own);
  }
  return own;
}

module.exports = { nodeHandlesExtension };
