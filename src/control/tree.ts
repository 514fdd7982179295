/**
 * The process's control tree: every control file at its path, and the
 * ControlSurface over it that the program, the control server and the
 * selftests all use.
 *
 * Owns: path resolution (static files, per_thread/<id>/*, trace_stat/*),
 * the serialisation of writes, and the error_log entries of refused writes.
 * Invariants (G8):
 * - writes and appends run one at a time, in the order they arrive, so a
 *   `>>` reads the list it extends as the previous write left it;
 * - a refused write throws a JsftraceError with an errno code, adds one
 *   error_log entry pointing at the refused word, and changes nothing;
 * - a file without a writer refuses writes with EACCES, one without a
 *   reader refuses reads with EACCES (tracefs' file modes).
 */

import { fail, JsftraceError } from '../shared/errors.js';
import { clearErrorLog, logError, readErrorLog } from './error-log.js';
import { errorPos, type ControlFile } from './file.js';
import type { ControlSurface } from './surface.js';
import { bufferFiles, perThreadFiles, perThreadIds } from './files/buffers.js';
import { eventFiles } from './files/events.js';
import { filterFiles } from './files/filters.js';
import { graphFiles } from './files/graph.js';
import { optionFiles } from './files/options.js';
import { otlpFiles } from './files/otlp.js';
import { pidFiles } from './files/pids.js';
import { profileFiles, statFiles } from './files/profile.js';
import { DESCRIPTIONS, readmeText } from './files/readme.js';
import { tracingFiles } from './files/tracing.js';
import { viewFiles } from './files/views.js';

const STATIC: Record<string, ControlFile> = {
  README: { read: readmeText },
  ...tracingFiles,
  ...viewFiles,
  ...filterFiles,
  ...pidFiles,
  ...graphFiles,
  ...bufferFiles,
  ...profileFiles,
  ...optionFiles,
  ...otlpFiles,
  ...eventFiles,
  error_log: { read: readErrorLog, write: clearErrorLog, append: () => undefined },
};

// The README describes exactly what is served (a file added without a line there fails at load).
for (const k of Object.keys(STATIC)) {
  const key = k.startsWith('options/') ? 'options/<name>' : k.replace(/^events\/[^/]+\/(enable|format)$/, 'events/<name>/$1');
  if (!(key in DESCRIPTIONS)) throw new Error(`control file ${k} has no README line`);
}

function normalise(path: string): string {
  if (typeof path !== 'string') fail('EINVAL', 'a control file path is a string');
  const p = path.replace(/^\/+/, '').replace(/\/+/g, '/').replace(/\/$/, '');
  if (p.split('/').some((x) => x === '..' || x === '.')) fail('ENOENT', `${path}: no such control file`);
  return p;
}

async function resolve(path: string): Promise<ControlFile> {
  const p = normalise(path);
  // Own keys only: `toString` and `__proto__` are not control files.
  if (Object.hasOwn(STATIC, p)) return STATIC[p]!;
  const pt = /^per_thread\/([0-9]+)\/([a-z_]+)$/.exec(p);
  if (pt !== null) {
    const id = Number(pt[1]);
    const files = perThreadFiles(id);
    if (perThreadIds().includes(id) && Object.hasOwn(files, pt[2]!)) return files[pt[2]!]!;
  }
  const st = /^trace_stat\/(function[0-9]+)$/.exec(p);
  if (st !== null) {
    const files = await statFiles();
    if (Object.hasOwn(files, st[1]!)) return files[st[1]!]!;
  }
  return fail('ENOENT', `${path}: no such control file (jsftrace fs ls lists them)`);
}

async function list(): Promise<string[]> {
  const out = Object.keys(STATIC);
  for (const id of perThreadIds()) for (const f of Object.keys(perThreadFiles(id))) out.push(`per_thread/${id}/${f}`);
  for (const f of Object.keys(await statFiles())) out.push(`trace_stat/${f}`);
  return out.sort();
}

let chain: Promise<unknown> = Promise.resolve();

function change(path: string, text: string, append: boolean): Promise<void> {
  const run = async (): Promise<void> => {
    // error_log's command is one line: newlines inside show as spaces (one character each, so positions hold).
    const command = typeof text === 'string' ? text.replace(/\n$/, '').replace(/[\r\n]/g, ' ') : String(text);
    try {
      if (typeof text !== 'string') fail('EINVAL', `${String(path)}: the text to write is a string`);
      const f = await resolve(path);
      const w = append ? f.append ?? f.write : f.write;
      if (w === undefined) fail('EACCES', `${normalise(path)}: read-only`);
      await w(text);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      let where = String(path);
      try {
        where = normalise(where);
      } catch {
        // not a path we serve: logged as given
      }
      // Messages name their file already; error_log puts it in front once.
      logError(where, message.startsWith(`${where}: `) ? message.slice(where.length + 2) : message, command, errorPos(e));
      throw e instanceof JsftraceError ? e : new JsftraceError('EINVAL', message);
    }
  };
  const p = chain.then(run, run);
  chain = p.catch(() => undefined);
  return p;
}

const surface: ControlSurface = {
  list,
  async read(path) {
    const f = await resolve(path);
    if (f.read === undefined) fail('EACCES', `${normalise(path)}: write-only`);
    return f.read();
  },
  async stream(path, onChunk, signal) {
    const f = await resolve(path);
    if (f.read === undefined) fail('EACCES', `${normalise(path)}: write-only`);
    if (f.stream === undefined) {
      const text = await f.read();
      if (signal?.aborted !== true) await onChunk(text);
      return;
    }
    const it = f.stream()[Symbol.asyncIterator]();
    try {
      for (;;) {
        if (signal?.aborted === true) return;
        const r = await it.next();
        if (r.done === true) return;
        await onChunk(r.value);
      }
    } finally {
      // Stops the rendering: a reader that went away costs nothing more.
      await it.return?.();
    }
  },
  write: (path, text) => change(path, text, false),
  append: (path, text) => change(path, text, true),
};

/** This process's control tree. */
export function controlSurface(): ControlSurface {
  return surface;
}
