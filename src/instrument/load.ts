/**
 * The one door from the module systems to the transform.
 *
 * Owns: the decision for one module's source (in scope? cached? transform,
 * or fall back to the untouched source), what is emitted (the transformed
 * code, its source map as an inline comment, and a marker), the counters and
 * the JSFTRACE_TRANSFORM warning. Invariants:
 *
 * - A module is transformed at most once per load. The emitted code ends with
 *   MARKER; a later stage that is handed marked code (the CommonJS compile
 *   hook after a load hook, a second registration of our hooks) passes it on
 *   untouched, so the order in which Node's paths reach us does not matter.
 * - A failure is never a crash: whatever the transform throws, the module
 *   loads as it was, the failure is counted, its first error per file is
 *   kept, and one warning per file and thread is emitted.
 * - TypeScript (or JSX) that reaches us before another loader has compiled
 *   it is not ours to parse: it is passed on quietly and counted as ignored.
 *
 * The counters are process-wide: they live in a SharedArrayBuffer that the
 * first thread creates and publishes in worker_threads' environment data
 * (workers inherit it), and that register.ts hands to the ESM loader thread.
 */

import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import module from 'node:module';
import { NOT_COMPILED_HERE, TRANSFORM_VERSION, USING_DECLARATIONS } from './transform-version.js';
import { keyGlobal } from '../shared/site-abi.js';
import type { TransformInput, TransformResult } from './transform.js';
import { cacheKey, cacheOptionsFromEnv, COMPILE_CACHE_SUBDIR, compileCacheWanted, TransformCache, type CacheOptions } from './cache.js';
import { mapFileStamp } from './map-comment.js';
import { MARKER } from './marker.js';
import { oneByte } from './one-byte.js';
import { identify, isOwnFile } from './packages.js';
import { compileScope, readScopeConfig, type Scope, type ScopeConfig } from './scope.js';
import { withOwnIntrinsics } from './own-intrinsics.js';
import { MathMax } from '../shared/builtins.js';
import { ownModule } from '../shared/own-load.js';
import { requireOwnCjs } from '../shared/own-cjs.js';
import type { ThreadSettings } from '../shared/thread-settings.cjs';

export type ModuleFormat = 'module' | 'commonjs';
export type TransformFn = (input: TransformInput) => TransformResult;

/** Ends every module we emitted (transformed, or untouched after a failure). */
export { MARKER };
/** Version of what this file emits around the transform's code; part of cache keys. */
const EMIT_VERSION = '2';

// Counter slots in the shared Int32Array.
const C_TRANSFORMED = 0;
const C_CACHED = 1;
const C_SKIPPED = 2;
const C_FAILED = 3;
const C_IGNORED = 4;
const C_SITES = 5;
/** Set once a thread has said that the transform cache is off: the warning is given once per process. */
const C_CACHE_WARNED = 6;
const C_COUNT = 8;
const ENV_KEY = 'jsftrace:instrument:counters';

export interface InstrumentStats {
  /** Modules transformed in this process (all threads), cache misses. */
  transformed: number;
  /** Modules served from the disk cache. */
  cached: number;
  /** Modules out of scope: include/exclude rules, code that is not a file (data: URLs, -e). jsftrace itself is not counted. */
  skipped: number;
  /** Modules whose transform failed and that loaded untouched. */
  failed: number;
  /** Modules that were not JavaScript yet (TypeScript before its loader) and were passed on. */
  ignored: number;
  /** Sites defined by the transformed and cached modules. */
  sites: number;
  /** First error per file, for failures this thread saw or was told of. */
  failures: { filename: string; error: string }[];
}

/** Where the pipeline runs and what it is told by register.ts. */
export interface LoadSettings {
  scope: ScopeConfig;
  cache: CacheOptions | null;
  /** Module (URL) whose `transformSource` export replaces the built-in transform. */
  transformModule: string | null;
  counters: SharedArrayBuffer;
}

function sharedCounters(): SharedArrayBuffer {
  const inherited = getEnvironmentData(ENV_KEY);
  if (inherited instanceof SharedArrayBuffer) return inherited;
  const sab = new SharedArrayBuffer(C_COUNT * 4);
  setEnvironmentData(ENV_KEY, sab);
  return sab;
}

let counters = new Int32Array(sharedCounters());

function cacheWarning(message: string): void {
  if (Atomics.compareExchange(counters, C_CACHE_WARNED, 0, 1) === 0) process.emitWarning(message, { code: 'JSFTRACE_CACHE' });
}
let scope: Scope | null = null;
let cache: TransformCache | null | undefined;
let transform: TransformFn | null = null;

type TransformModule = typeof import('./transform.js');
/**
 * The built-in transform, loaded at the first cache miss: a program whose
 * modules all come from a warm cache never loads the parser (about 30 ms
 * per thread).
 */
let builtin: TransformModule | undefined;
function builtinTransform(): TransformFn {
  builtin ??= ownModule<TransformModule>(new URL('./transform.js', import.meta.url));
  return builtin.transformSource;
}

/** The parser's module, loaded at the first check (it is not part of what every start loads). */
function parseModule(code: string): void {
  ownModule<typeof import('./parse.js')>(new URL('./parse.js', import.meta.url)).checkModuleSyntax(code);
}
let transformId = '';
const failures = new Map<string, string>();
/** Files that are part of the instrumentation besides jsftrace's own (a replacement transform). */
const notOurs = new Set<string>();
/** Called before the stats are read: collects reports still in flight from the loader thread. */
let beforeStats: () => void = () => {};

export function setBeforeStats(fn: () => void): void {
  beforeStats = fn;
}
const warned = new Set<string>();

/** How a failure is made visible; the loader thread forwards it to its module thread. */
let report: (filename: string, error: string) => void = emitFailureWarning;

/**
 * Keeps the first error of a file and warns once per file and thread.
 * `atExit`: the process is exiting, so the warning event (emitted on the
 * next tick) would never be printed; write it as Node would instead.
 */
export function emitFailureWarning(filename: string, error: string, atExit = false): void {
  if (!failures.has(filename)) failures.set(filename, error);
  if (warned.has(filename)) return;
  warned.add(filename);
  const message = `${filename} was not instrumented and loads untouched: ${error}`;
  if (!atExit) {
    process.emitWarning(message, { code: 'JSFTRACE_TRANSFORM' });
    return;
  }
  const opts = `${process.execArgv.join(' ')} ${process.env['NODE_OPTIONS'] ?? ''}`;
  if (!opts.includes('--no-warnings')) process.stderr.write(`(node:${process.pid}) [JSFTRACE_TRANSFORM] Warning: ${message}\n`);
}

/** The settings of this thread's pipeline, to hand to another thread. */
export function currentSettings(): LoadSettings {
  return {
    scope: getScope().config,
    // The checked directory, or none: a thread is never handed a cache this one refused.
    cache: getCache()?.settings() ?? null,
    transformModule: transformId === '' ? null : transformId,
    counters: counters.buffer as SharedArrayBuffer,
  };
}

/**
 * Sets this thread's pipeline from settings made elsewhere (the ESM loader
 * thread receives them from register.ts). Loads a replacement transform.
 */
export async function applySettings(s: LoadSettings, reporter?: (filename: string, error: string) => void): Promise<void> {
  counters = new Int32Array(s.counters);
  scope = compileScope(s.scope);
  cache = s.cache === null ? null : new TransformCache(s.cache, cacheWarning);
  if (s.transformModule !== null) await useTransformModule(s.transformModule);
  if (reporter !== undefined) report = reporter;
}

/**
 * Replaces the transform with the `transformSource` export of a module
 * (JSFTRACE_TRANSFORM_MODULE): tests use it to see exactly which files pass
 * through, in every thread. Its URL is part of the cache key.
 */
export async function useTransformModule(url: string): Promise<void> {
  // It is part of the instrumentation, not of the program (in the loader
  // thread our own hooks see it load).
  notOurs.add(url.startsWith('file:') ? fileURLToPath(url) : url);
  const m = (await import(url)) as { transformSource?: unknown; TRANSFORM_VERSION?: unknown };
  if (typeof m.transformSource !== 'function') throw new TypeError(`${url} has no transformSource export`);
  transform = m.transformSource as TransformFn;
  transformId = url;
  if (typeof m.TRANSFORM_VERSION === 'string') transformId += `#${m.TRANSFORM_VERSION}`;
}

/** Replaces the transform in this thread only (unit tests); null restores the built-in one. */
export function setTransform(fn: TransformFn | null, id = 'injected'): void {
  transform = fn;
  transformId = fn === null ? '' : id;
}

/** Replaces the scope rules and cache of this thread (tests and register.ts). */
export function configure(opts: { scope?: ScopeConfig; cache?: CacheOptions | null }): void {
  if (opts.scope !== undefined) scope = compileScope(opts.scope);
  if (opts.cache !== undefined) cache = opts.cache === null ? null : new TransformCache(opts.cache, cacheWarning);
}

function getScope(): Scope {
  scope ??= compileScope(readScopeConfig());
  return scope;
}

function getCache(): TransformCache | null {
  if (cache === undefined) {
    const o = cacheOptionsFromEnv();
    cache = o === null ? null : new TransformCache(o, cacheWarning);
  }
  return cache;
}

/**
 * Turns on Node's compile cache (V8 code for the modules this process
 * compiles, on disk) where Node has it (22.1 and later), in a subdirectory
 * of the transform cache that is trusted as it is. Node keys each entry by
 * the file and a hash of the very source it compiled, which for a module we
 * instrumented is our output: neither cache can serve the other stale code.
 * Not when the transform cache is off, when JSFTRACE_COMPILE_CACHE=0, or
 * when the program's environment set Node's own (NODE_COMPILE_CACHE,
 * NODE_DISABLE_COMPILE_CACHE): then Node does as it was told.
 * Returns the directory in use, or null.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | null {
  const enable = (module as unknown as { enableCompileCache?: (dir: string) => { status: number; directory?: string } }).enableCompileCache;
  if (typeof enable !== 'function' || !compileCacheWanted(env)) return null;
  const dir = getCache()?.trustedSubdir(COMPILE_CACHE_SUBDIR) ?? null;
  if (dir === null) return null;
  const r = enable.call(module, dir);
  return r.directory ?? null;
}

export function instrumentStats(): InstrumentStats {
  beforeStats();
  return {
    transformed: Atomics.load(counters, C_TRANSFORMED),
    cached: Atomics.load(counters, C_CACHED),
    skipped: Atomics.load(counters, C_SKIPPED),
    failed: Atomics.load(counters, C_FAILED),
    ignored: Atomics.load(counters, C_IGNORED),
    sites: Atomics.load(counters, C_SITES),
    failures: [...failures].map(([filename, error]) => ({ filename, error })),
  };
}

/** A module out of scope that never reached instrumentSource (a data: URL, a non-file compile). */
export function countSkipped(): void {
  Atomics.add(counters, C_SKIPPED, 1);
}

/** A module that is not JavaScript yet (Node's own TypeScript formats). */
export function countIgnored(): void {
  Atomics.add(counters, C_IGNORED, 1);
}

/** Zeroes the process-wide counters and this thread's failure list (tests). */
export function resetInstrumentStats(): void {
  for (let i = 0; i < C_COUNT; i++) Atomics.store(counters, i, 0);
  failures.clear();
  warned.clear();
}

/** Whether `code` was emitted by this pipeline (in any thread, any run). */
export function isInstrumented(code: string): boolean {
  // Another tool may append after us (a source map); look at the tail only,
  // since a miss merely costs one more decision, never a wrong module.
  let end = code.length;
  while (end > 0 && code.charCodeAt(end - 1) <= 32) end--;
  const from = MathMax(0, end - MARKER.length - 2);
  return code.indexOf(MARKER.trim(), from) >= 0;
}

const TS_LIKE = new Set(['.ts', '.tsx', '.mts', '.cts', '.jsx']);

/** True for extensions whose source another loader must compile before we can read it. */
function mayBeForeign(filename: string): boolean {
  return TS_LIKE.has(extname(filename));
}

function emit(result: TransformResult): string {
  return oneByte(result.code + MARKER);
}

/** Failures found while the built-ins of the start stood in for the program's: reported after (own-intrinsics.ts). */
const unreported: string[] = [];

function countFailure(filename: string, error: string): void {
  Atomics.add(counters, C_FAILED, 1);
  // The report may reach the program's code (a process.emitWarning of its
  // own): not while ours stand in for its built-ins.
  unreported.push(filename, error);
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/**
 * What to compile for one module: the instrumented source, or `source`
 * itself. `filename` is an absolute path; `format` is what Node decided
 * (undefined when it has not: a .js file with no "type", which Node detects
 * by parsing, and so do we).
 */
export function instrumentSource(source: string, filename: string, format: ModuleFormat | undefined): string {
  if (isInstrumented(source)) return source;
  // Loading the transform loads its parser and its other dependencies; with
  // in-thread hooks (module.registerHooks, or require(esm) reaching
  // _compile) those loads come back here while the first module is still
  // being decided. They are jsftrace's, not the program's: passed on
  // untouched and not counted.
  if (deciding) return source;
  deciding = true;
  try {
    return withOwnIntrinsics(() => decide(source, filename, format));
  } finally {
    deciding = false;
    while (unreported.length > 0) {
      const [file, error] = unreported.splice(0, 2) as [string, string];
      report(file, error);
    }
  }
}

/** Whether this thread is inside instrumentSource (see there). */
let deciding = false;

function decide(source: string, filename: string, format: ModuleFormat | undefined): string {
  // A byte-order mark stays: where Node hands us text that has one (a
  // CommonJS file), it compiles it with it too, and V8 counts it in the
  // columns of the first line (an ES module's text reaches us, as it
  // reaches V8, without it). The parser takes it as white space.
  const id = identify(filename);
  // jsftrace's own modules are not the program's: neither instrumented nor counted.
  if (isOwnFile(filename, id.package) || notOurs.has(filename)) return source;
  if (!getScope().covers(id, filename)) {
    Atomics.add(counters, C_SKIPPED, 1);
    return source;
  }
  const c = getCache();
  // A module's map in a file of its own is carried only when Node will
  // apply it (source-map.ts): the output depends on it.
  const sourceMapFiles = (process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled === true;
  // With them, the map file is part of the output: a map rewritten beside an unchanged module is another key.
  const maps = sourceMapFiles ? `maps ${mapFileStamp(source, filename)}` : '';
  // The binding's name is in the output (binding-name.cts keeps one per cache directory; a kept name remade is another key).
  const key = cacheKey([EMIT_VERSION, USING_DECLARATIONS ? `${TRANSFORM_VERSION}+using` : TRANSFORM_VERSION, transformId, keyGlobal(), format ?? 'detect', filename, id.file, id.package, maps, source]);
  const hit = c === null ? null : c.get(key);
  if (hit !== null) {
    if (hit.status === 'ok') {
      Atomics.add(counters, C_CACHED, 1);
      Atomics.add(counters, C_SITES, hit.sites);
      return hit.body;
    }
    return failed(source, filename, hit.body, format);
  }
  let result: TransformResult;
  try {
    result = run({ code: source, filename, format: 'commonjs', file: id.file, package: id.package, sourceMapFiles }, format);
  } catch (e) {
    const msg = errorText(e);
    // Kept for later runs only when the source decides it (it does not
    // parse, or our output for it does not compile); another error may
    // come of the program's environment (a built-in it replaced that
    // own-intrinsics.ts does not cover), which a later run may not have.
    if (msg.startsWith('SyntaxError') || msg.startsWith('TransformOutputError')) c?.put(key, { status: 'failed', sites: 0, body: msg });
    return failed(source, filename, msg, format);
  }
  const code = emit(result);
  Atomics.add(counters, C_TRANSFORMED, 1);
  Atomics.add(counters, C_SITES, result.sites);
  c?.put(key, { status: 'ok', sites: result.sites, body: code });
  return code;
}

function failed(source: string, filename: string, msg: string, format: ModuleFormat | undefined): string {
  if (mayBeForeign(filename) && (msg.startsWith('SyntaxError') || msg.startsWith('TransformOutputError'))) {
    // TypeScript that no loader has compiled yet: whoever handles it will
    // hand us JavaScript later (or it is a loader order we cannot see past;
    // see docs/instrumentation.md). Not an error of ours.
    Atomics.add(counters, C_IGNORED, 1);
    return source;
  }
  if (msg.startsWith(`SyntaxError: ${NOT_COMPILED_HERE}`) || (msg.startsWith('SyntaxError') && format === 'commonjs' && !compilesAsCommonJS(source, filename))) {
    // Source that V8 does not compile either: handed back as it came, so
    // that Node reports the program's error as without us (the line it
    // prints, at the end of the text too); a warning or a mark of ours
    // would be lines more.
    Atomics.add(counters, C_IGNORED, 1);
    return source;
  }
  countFailure(filename, msg);
  return source + MARKER;
}

/** Whether V8 compiles `source` as Node compiles a CommonJS module (only asked of source the parser refused). */
function compilesAsCommonJS(source: string, filename: string): boolean {
  try {
    vm.compileFunction(source.startsWith('#!') ? `//${source.slice(2)}` : source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename });
    return true;
  } catch (e) {
    return !(e instanceof SyntaxError);
  }
}

/**
 * Transforms, and checks that the output compiles: a transform bug must cost
 * one module its sites, never the program. CommonJS output is compiled by V8
 * without running it (its lazy parse is a small part of the transform's
 * time); ES module output can only be checked by parsing it again (Node 20
 * has no unflagged way to compile a module without linking it), which
 * roughly doubles the time of a cold transform, so JSFTRACE_VERIFY=0 turns
 * that check off. Cached output was checked when it was written.
 */
function run(input: TransformInput, format: ModuleFormat | undefined): TransformResult {
  const transform = currentTransform();
  if (format !== undefined) return verified(transform({ ...input, format }), format, input.filename);
  // Node has not decided: it compiles as CommonJS and, when that fails on
  // module syntax, as an ES module. Do the same.
  let first: unknown;
  try {
    return verified(transform(input), 'commonjs', input.filename);
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    first = e;
  }
  try {
    return verified(transform({ ...input, format: 'module' }), 'module', input.filename);
  } catch {
    throw first;
  }
}

function currentTransform(): TransformFn {
  return transform ?? builtinTransform();
}

const { settingsEnv } = requireOwnCjs<ThreadSettings>('./thread-settings.cjs');

let verifyModules = settingsEnv()['JSFTRACE_VERIFY'] !== '0';

/** Whether ES module output is parsed again before use (JSFTRACE_VERIFY, default on). */
export function setVerifyModules(on: boolean): void {
  verifyModules = on;
}

function verified(r: TransformResult, format: ModuleFormat, filename: string): TransformResult {
  if ((r.added?.length ?? 0) === 0 && r.sites === 0) return r; // the transform returned its input
  // A hashbang is allowed only at the very start of a script; keep the
  // line count and drop it for the check.
  const code = r.code.startsWith('#!') ? `//${r.code.slice(2)}` : r.code;
  try {
    if (format === 'commonjs') {
      vm.compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname'], { filename });
    } else if (verifyModules) {
      parseModule(code);
    }
  } catch (e) {
    throw new TransformOutputError(`the transform produced code that does not compile (${errorText(e)}); this is a jsftrace bug`);
  }
  return r;
}

/** The transform's output does not compile: a bug of ours, reported as a failure. */
class TransformOutputError extends Error {
  override name = 'TransformOutputError';
}
