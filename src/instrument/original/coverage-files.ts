/**
 * The coverage files V8 writes for this thread (`NODE_V8_COVERAGE`), as the
 * plain run would write them.
 *
 * Owns: the rewrite of this thread's coverage files at its end. Invariants:
 * every instrumented module's entry holds the program's functions and
 * ranges (coverage-map.ts), in the module's own offsets, or, for a module
 * whose own source map jsftrace carried, in the compiled text's offsets,
 * which the carried map (listed in every file Node writes, with the
 * module's own mappings in it: carried-map.ts) maps to the module's
 * sources; jsftrace's own modules are not listed; nothing else of
 * a file changes, and a file is replaced whole (written beside it, then
 * renamed), so a reader never sees half of one; only files this thread
 * wrote are touched (its process id and thread id in the name, and a time
 * after the thread began). Nothing runs unless `NODE_V8_COVERAGE` was set
 * when the thread started (Node starts the coverage only then), and what
 * runs uses the file system functions as they were when jsftrace started
 * (a program's file system mock may still be in place at its end).
 *
 * Why at the end: V8 writes a file when asked (`v8.takeCoverage`, by the
 * program or by us) and when the thread ends, after its last JavaScript.
 * So the last thing this thread runs takes the coverage itself, which
 * resets V8's counts, and rewrites every file of this thread: the file V8
 * then writes at the very end holds only what ran after (Node's own
 * exit), since V8 lists only what ran since the last take. Stopping the
 * coverage instead would have Node print an error at the end.
 */

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { threadId } from 'node:worker_threads';
import { JSONParse, JSONStringify, PerformanceOfStart } from '../../shared/builtins.js';
import { atLast } from '../../shared/exit-hooks.js';
import { MARKER } from '../marker.js';
import { ownMap } from './carried-map.js';
import { inCompiledText, remapFunctions, type FunctionCoverage } from './coverage-map.js';
import { coverageOfScript } from './registry.js';

/** This package's compiled modules (dist/src/): never the program's. */
const ownFiles = new URL('../../', import.meta.url).href;
/** The file system and vm as they were when jsftrace started (JSON too: shared/builtins.ts). */
const { readFileSync, readdirSync, writeFileSync, renameSync, unlinkSync } = fs;
const { runInThisContext } = vm;
/**
 * V8's coverage as it was when jsftrace started, where coverage is on:
 * `node:v8` is loaded only then (it costs a start some 4 ms).
 */
let takeCoverage: () => void = () => {};
/** When this thread began, in ms since the epoch (coverage file names carry such a time). */
const began = Math.floor(PerformanceOfStart.timeOrigin);
/** Scripts jsftrace compiles itself (threads.ts names them so). */
const OWN_SCHEME = 'jsftrace:';

interface ScriptCoverage {
  url: string;
  functions: FunctionCoverage[];
}

interface CoverageFile {
  result?: ScriptCoverage[];
  'source-map-cache'?: Record<string, { data?: unknown; lineLengths?: unknown; url?: unknown }>;
}

function isOwn(url: string): boolean {
  return url.startsWith(ownFiles) || url.startsWith(OWN_SCHEME);
}

/**
 * The module's own text as V8 compiled it without us, read from its file,
 * or null when the file is not that text (a loader compiled it from
 * another language, or it changed): coverage-map.ts then does without.
 */
function ownText(url: string, length: number, texts: Map<string, string | null>): string | null {
  // Read once per script at an end, however many files list it.
  if (!texts.has(url)) texts.set(url, readText(url));
  const text = texts.get(url)!;
  if (text === null) return null;
  // An ES module reaches V8 without its byte-order mark.
  if (text.length === length + 1 && text.charCodeAt(0) === 0xfeff) return text.slice(1);
  return text.length === length ? text : null;
}

function readText(url: string): string | null {
  try {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    if (!path.isAbsolute(file)) return null;
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * For a module jsftrace decided to leave as it was: takes the mark it
 * appended out of the ranges that reach the end (the top level's, and a
 * continuation of its last statement). Whether the module was one: its
 * file's text is the compiled text less the mark.
 */
function unmarked(script: ScriptCoverage, texts: Map<string, string | null>): boolean {
  const top = script.functions.find((f) => f.ranges[0]?.startOffset === 0)?.ranges[0];
  if (top === undefined || top.endOffset < MARKER.length) return false;
  const length = top.endOffset - MARKER.length;
  if (ownText(script.url, length, texts) === null) return false;
  for (const f of script.functions) {
    for (const r of f.ranges) {
      if (r.endOffset > length) r.endOffset = length;
      if (r.startOffset > length) r.startOffset = length;
    }
    // A block range that held only the mark is gone, as V8 drops an empty one.
    f.ranges = f.ranges.filter((r, k) => k === 0 || r.startOffset < r.endOffset);
  }
  return true;
}

/** Rewrites one parsed file; whether anything changed. `texts` keeps the scripts' texts read at this end. */
function rewrite(file: CoverageFile, texts: Map<string, string | null>): boolean {
  let changed = false;
  const result = file.result;
  if (Array.isArray(result)) {
    const kept: ScriptCoverage[] = [];
    for (const script of result) {
      if (typeof script?.url !== 'string' || isOwn(script.url)) {
        changed = true;
        continue;
      }
      const found = coverageOfScript(script.url);
      if (found !== null && Array.isArray(script.functions)) {
        const functions = remapFunctions(script.functions, found.table, found.tableName, (length) => ownText(script.url, length, texts));
        if (functions !== null) {
          // A module whose own source map jsftrace carried: Node lists the
          // carried map in every file it writes, the last one too (which no
          // JavaScript can change), and a tool may take any file's map for
          // a module (c8 merges them): the ranges stay in the compiled
          // text's offsets, which that map maps, with the program's own.
          const entry = file['source-map-cache']?.[script.url];
          script.functions = ownMap(entry?.data, entry?.lineLengths) === null ? functions
            : inCompiledText(functions, found.table, script.functions);
          changed = true;
        }
      } else if (Array.isArray(script.functions) && script.url.startsWith('file:') && unmarked(script, texts)) {
        changed = true;
      }
      kept.push(script);
    }
    file.result = kept;
  }
  const maps = file['source-map-cache'];
  if (maps !== null && typeof maps === 'object') {
    for (const key of Object.keys(maps)) {
      if (isOwn(key)) {
        delete maps[key];
        changed = true;
        continue;
      }
    }
  }
  return changed;
}

/** The name V8 gives the tail's script (not a file's URL, so coverage tools pass it by). */
const TAIL_SCRIPT = 'jsftrace:coverage-tail';

/**
 * The tail (exit-hooks.ts, atLast): takes the coverage once more, so that
 * what the rewrite ran is counted in a file of its own, and removes that
 * file, which holds nothing of the program's. V8's file at the very end
 * then lists only this script, the exit wrapper's and Node's own.
 */
const TAIL = `(function (take, readdir, unlink, dir, sep, mine, seen) {
  return function () {
    take();
    let names;
    try { names = readdir(dir); } catch { return; }
    for (const name of names) if (mine.test(name) && !seen.has(name)) try { unlink(dir + sep + name); } catch {}
  };
})`;

type Tail = (take: () => void, readdir: (dir: string) => string[], unlink: (file: string) => void, dir: string, sep: string, mine: RegExp,
  seen: Set<string>) => () => void;

/** Takes this thread's coverage and rewrites its files (see the header); returns the tail. */
function atEnd(dir: string): (() => void) | undefined {
  try {
    takeCoverage();
  } catch {
    return undefined;
  }
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const mine = new RegExp(`^coverage-${process.pid}-(\\d+)-${threadId}\\.json$`);
  const seen = new Set<string>();
  const texts = new Map<string, string | null>();
  for (const name of names) {
    seen.add(name);
    const m = mine.exec(name);
    // Another process's of the same id (a directory kept across runs).
    if (m === null || Number(m[1]) < began) continue;
    const file = path.join(dir, name);
    try {
      const parsed = JSONParse(readFileSync(file, 'utf8')) as CoverageFile;
      if (!rewrite(parsed, texts)) continue;
      const temp = `${file}.${process.pid}-${threadId}.tmp`;
      writeFileSync(temp, JSONStringify(parsed));
      renameSync(temp, file);
    } catch {
      // A file we cannot read or write stays as V8 wrote it.
    }
  }
  try {
    const make = runInThisContext(TAIL, { filename: TAIL_SCRIPT }) as Tail;
    return make(takeCoverage, readdirSync, unlinkSync, dir, path.sep, mine, seen);
  } catch {
    return undefined;
  }
}

let installed = false;

/** Arranges the rewrite at this thread's end, when V8's coverage is on (once per thread). */
export function installCoverageRewrite(): void {
  if (installed) return;
  installed = true;
  const dir = process.env['NODE_V8_COVERAGE'];
  // Node made it absolute at start-up; the program may change it since.
  if (typeof dir !== 'string' || !path.isAbsolute(dir)) return;
  takeCoverage = (createRequire(import.meta.url)('node:v8') as typeof import('node:v8')).takeCoverage;
  atLast(() => atEnd(dir));
}
