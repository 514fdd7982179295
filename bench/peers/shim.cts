/**
 * Contender: shimmer-style wrappers, as an OpenTelemetry instrumentation
 * installs them through require-in-the-middle. Preloaded with --require:
 * as each module of the application tree (PEERS_APP/node_modules) loads,
 * every function reachable from its exports (nested objects, and the
 * methods of exported classes' prototypes) is replaced with shimmer.wrap by
 * a wrapper that counts the call and calls through. Exports that cannot be
 * redefined (getter-only properties, as bundlers emit) are copied onto a
 * new exports object, as require-in-the-middle's hook result would be.
 * Prints `PEERS_CALLS <n> <wrapped>` on standard error at exit.
 */

const Module = require('node:module') as typeof import('node:module') & {
  _load(request: string, parent: unknown, isMain: boolean): unknown;
  _resolveFilename(request: string, parent: unknown, isMain: boolean): string;
  _cache: Record<string, { exports: unknown } | undefined>;
};
const path = require('node:path') as typeof import('node:path');

type Fn = (...args: unknown[]) => unknown;
interface Shimmer { wrap(obj: object, name: string | symbol, wrapper: (orig: Fn) => Fn): Fn | undefined }

const app = process.env['PEERS_APP'];
const deps = process.env['PEERS_DEPS'];
if (app === undefined || deps === undefined) throw new Error('PEERS_APP and PEERS_DEPS must be set');
const shimmer = Module.createRequire(path.join(deps, 'package.json'))('shimmer') as Shimmer;
shimmer.wrap = shimmer.wrap.bind(shimmer);
(shimmer as unknown as { logger?: () => void }).logger = () => {};
const root = path.join(app, 'node_modules') + path.sep;

let calls = 0;
let wrapped = 0;
let refused = 0;
const done = new WeakSet<object>();
const SKIP = new Set(['length', 'name', 'prototype', 'arguments', 'caller', 'constructor']);

/** The wrapper an instrumentation installs: count the call, call through. */
function makeWrapper(orig: Fn): Fn {
  const w = function (this: unknown, ...args: unknown[]): unknown {
    calls++;
    return new.target !== undefined ? Reflect.construct(orig, args, new.target) : orig.apply(this, args);
  };
  Object.defineProperty(w, 'name', { value: orig.name });
  Object.defineProperty(w, 'length', { value: orig.length });
  return w as Fn;
}

function isClassOrFunctionWithProto(f: Fn): boolean {
  const p = (f as { prototype?: unknown }).prototype;
  return typeof p === 'object' && p !== null && Object.getOwnPropertyNames(p).length > 1;
}

/** Wraps the functions reachable from obj in place; depth-limited, each object once. */
function wrapObject(obj: object, depth: number): void {
  if (done.has(obj) || depth > 3) return;
  done.add(obj);
  for (const key of Reflect.ownKeys(obj)) {
    if (typeof key === 'string' && SKIP.has(key) && typeof obj === 'function') continue;
    if (key === 'constructor') continue;
    const d = Object.getOwnPropertyDescriptor(obj, key);
    if (d === undefined || !('value' in d)) continue;
    const v = d.value as unknown;
    if (typeof v === 'function') {
      if (done.has(v as object)) continue;
      prepareFunction(v as Fn, depth);
      if (d.configurable !== true && d.writable !== true) { refused++; continue; }
      const res = wrapProperty(obj, key, (orig) => {
        const w = makeWrapper(orig);
        copyStatics(orig, w);
        return w;
      });
      if (res !== undefined) { wrapped++; done.add(res as object); } else refused++;
    } else if (typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      wrapObject(v as object, depth + 1);
    }
  }
}

/**
 * shimmer.wrap, and the same by hand for an object without Object.prototype
 * (shimmer calls obj.propertyIsEnumerable, which such an object lacks).
 */
function wrapProperty(obj: object, key: string | symbol, wrapper: (orig: Fn) => Fn): Fn | undefined {
  if (typeof (obj as { propertyIsEnumerable?: unknown }).propertyIsEnumerable === 'function') return shimmer.wrap(obj, key, wrapper);
  const orig = (obj as Record<string | symbol, Fn>)[key]!;
  const w = wrapper(orig);
  const enumerable = Object.prototype.propertyIsEnumerable.call(obj, key);
  Object.defineProperty(w, '__original', { value: orig, enumerable: false, configurable: true, writable: true });
  Object.defineProperty(obj, key, { value: w, enumerable, configurable: true, writable: true });
  return w;
}

/** Before a function is replaced: wrap its prototype's methods and its own function properties. */
function prepareFunction(f: Fn, depth: number): void {
  if (isClassOrFunctionWithProto(f)) wrapObject((f as { prototype: object }).prototype, depth + 1);
  wrapObject(f, depth + 1);
}

function copyStatics(from: Fn, to: Fn): void {
  for (const key of Reflect.ownKeys(from)) {
    if (key === 'length' || key === 'name' || key === 'arguments' || key === 'caller') continue;
    const d = Object.getOwnPropertyDescriptor(from, key)!;
    if (key === 'prototype') { (to as { prototype?: unknown }).prototype = d.value; continue; }
    try { Object.defineProperty(to, key, d); } catch { /* keep going */ }
  }
  Object.setPrototypeOf(to, Object.getPrototypeOf(from) as object | null);
}

/** The exports a require of this module returns from now on. */
function instrumentExports(exp: unknown): unknown {
  if (typeof exp === 'function') {
    if (done.has(exp)) return exp;
    prepareFunction(exp as Fn, 0);
    const w = makeWrapper(exp as Fn);
    copyStatics(exp as Fn, w);
    done.add(w);
    wrapped++;
    return w;
  }
  if (typeof exp !== 'object' || exp === null) return exp;
  const frozen = Reflect.ownKeys(exp).some((k) => {
    const d = Object.getOwnPropertyDescriptor(exp, k)!;
    return !('value' in d) && d.configurable !== true && typeof (exp as Record<string | symbol, unknown>)[k] === 'function';
  });
  if (!frozen) {
    wrapObject(exp, 0);
    return exp;
  }
  // Getter-only exports (bundler output): a plain copy whose functions are wrapped.
  const copy: Record<string | symbol, unknown> = {};
  for (const k of Reflect.ownKeys(exp)) copy[k] = (exp as Record<string | symbol, unknown>)[k];
  wrapObject(copy, 0);
  return copy;
}

const origLoad = Module._load;
Module._load = function load(this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
  const exp = origLoad.call(this, request, parent, isMain);
  if (isMain || Module.isBuiltin(request)) return exp;
  let file: string;
  try { file = Module._resolveFilename(request, parent, isMain); } catch { return exp; }
  if (!file.startsWith(root)) return exp;
  const entry = Module._cache[file];
  if (entry === undefined) return exp;
  if ((entry as { __peersDone?: boolean }).__peersDone === true) return entry.exports;
  (entry as { __peersDone?: boolean }).__peersDone = true;
  const out = instrumentExports(exp);
  if (out === exp) return exp;
  try { entry.exports = out; } catch { refused++; return exp; }
  return out;
};

process.on('exit', () => { process.stderr.write(`PEERS_CALLS ${calls} ${wrapped} ${refused}\n`); });
