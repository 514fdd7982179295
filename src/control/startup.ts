/**
 * What `jsftrace/register` does for the control surface in the main thread,
 * before the program's first line:
 * - opens the tracing session's shared buffers (session-layout.ts, no ring
 *   code loaded), so that every worker the program starts shares them (a
 *   session opened later would leave earlier workers on their own);
 * - applies JSFTRACE_CONTROL_INIT, a JSON array of
 *   `["write" | "append", path, text]`, in order (how `jsftrace record`
 *   configures the program; filters may name functions still to load, as
 *   ftrace's boot-time ftrace_filter=);
 * - with JSFTRACE_RECORD (a streaming `jsftrace record`'s socket), starts
 *   the recording of this process (recorder/recorder.ts), which ends with
 *   the filter patterns that never matched a function here;
 * - starts the control server, unless JSFTRACE_CONTROL=0.
 *
 * Owns: the reading of these variables. Invariants: they stay in
 * process.env, so the node processes the program starts apply the same
 * configuration and join the same recording; a bad JSFTRACE_CONTROL_INIT
 * stops the process with one line and exit code 2 before the program runs;
 * the control tree itself is loaded only when first used.
 */

import { loadOwn } from '../shared/own-load.js';
import { ownResource } from '../tracers/own-async.js';
import { openOrCreateSession } from '../tracers/session-layout.js';
import type { ControlSurface } from './surface.js';

const INIT = 'JSFTRACE_CONTROL_INIT';
type Recorder = typeof import('../recorder/recorder.js');
type Tracers = typeof import('../tracers/tracers.js');
const recorderUrl = new URL('../recorder/recorder.js', import.meta.url);
const tracersUrl = new URL('../tracers/tracers.js', import.meta.url);
const RECORD = 'JSFTRACE_RECORD';

let tree: Promise<ControlSurface> | null = null;
function surface(): Promise<ControlSurface> {
  tree ??= loadOwn<typeof import('./tree.js')>(new URL('./tree.js', import.meta.url)).then((t) => t.controlSurface());
  return tree;
}

/** The control tree, loaded at its first use. */
const lazySurface: ControlSurface = {
  list: async () => (await surface()).list(),
  read: async (p) => (await surface()).read(p),
  stream: async (p, onChunk, signal) => (await surface()).stream(p, onChunk, signal),
  write: async (p, t) => (await surface()).write(p, t),
  append: async (p, t) => (await surface()).append(p, t),
};

type InitStep = ['write' | 'append', string, string];

function parseInit(text: string): InitStep[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = null;
  }
  const ok = Array.isArray(v) && v.every((s) => Array.isArray(s) && s.length === 3
    && (s[0] === 'write' || s[0] === 'append') && typeof s[1] === 'string' && typeof s[2] === 'string');
  if (!ok) {
    process.stderr.write(`jsftrace: ${INIT} must be a JSON array of ["write"|"append", file, text]\n`);
    process.exit(2);
  }
  return v as InitStep[];
}

async function applyInit(steps: readonly InitStep[]): Promise<void> {
  const { setBooting } = await loadOwn<Tracers>(tracersUrl);
  const s = await surface();
  setBooting(true);
  try {
    for (const [op, path, text] of steps) {
      try {
        await (op === 'write' ? s.write(path, text) : s.append(path, text));
      } catch (e) {
        const code = (e as { code?: string }).code ?? 'EINVAL';
        const msg = (e as Error).message;
        // The tree's messages mostly name their file already.
        process.stderr.write(`jsftrace: ${msg.startsWith(`${path}: `) ? msg : `${path}: ${msg}`} (${code})\n`);
        process.exit(2);
      }
    }
  } finally {
    setBooting(false);
  }
}

/**
 * The filter patterns given at start that still select no function when
 * the program ends: most likely a typo (names are `<file>:<name>`). Each
 * process of a recording sends its list with its end; `jsftrace record`
 * names, once, the patterns no process matched (a pattern for one process
 * of a tree matches nothing in the others).
 */
async function unmatchedPatterns(): Promise<() => string[]> {
  const [{ graphFilterTokens, tracerFilterTokens }, core] = await Promise.all([
    loadOwn<Tracers>(tracersUrl),
    loadOwn<typeof import('../core/index.js')>(new URL('../core/index.js', import.meta.url)),
  ]);
  return () => {
    const inst = core.instance();
    const t = tracerFilterTokens();
    const g = graphFilterTokens();
    const named: [string, string][] = [
      ...t.filter.map((p): [string, string] => ['set_ftrace_filter', p]),
      ...t.notrace.map((p): [string, string] => ['set_ftrace_notrace', p]),
      ...g.functions.map((p): [string, string] => ['set_graph_function', p]),
      ...g.notrace.map((p): [string, string] => ['set_graph_notrace', p]),
    ];
    const out: string[] = [];
    for (const [file, p] of named) {
      let tok;
      try {
        tok = core.parseToken(p);
      } catch {
        continue;
      }
      if (!core.selectsAny(inst, tok)) out.push(`${file} ${JSON.stringify(p)}`);
    }
    return out;
  };
}

/**
 * JSFTRACE_RECORD: `{"socket": path, "flight": bool, "waitMs": n}` (or a
 * bare socket path), the recorder this process and the processes it
 * starts send their trace to (a streaming `jsftrace record`).
 */
function parseRecord(text: string): { socket: string; flight: boolean; waitMs: number } {
  if (!text.startsWith('{')) return { socket: text, flight: false, waitMs: 1000 };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = null;
  }
  const r = v as { socket?: unknown; flight?: unknown; waitMs?: unknown } | null;
  if (r === null || typeof r !== 'object' || typeof r.socket !== 'string' || (r.flight !== undefined && typeof r.flight !== 'boolean')
    || (r.waitMs !== undefined && (!Number.isInteger(r.waitMs) || (r.waitMs as number) < 0 || (r.waitMs as number) > 60_000))) {
    process.stderr.write(`jsftrace: ${RECORD} must be a socket path or {"socket": path, "flight": boolean, "waitMs": 0..60000}\n`);
    process.exit(2);
  }
  return { socket: r.socket, flight: r.flight === true, waitMs: (r.waitMs as number | undefined) ?? 1000 };
}

async function installRecorder(recording: ReturnType<typeof parseRecord>): Promise<void> {
  const { startRecorder } = await loadOwn<Recorder>(recorderUrl);
  const unmatched = await unmatchedPatterns();
  startRecorder({ ...recording, unmatched });
}

/** startControl's two ends. */
export interface ControlStart {
  /** What the program depends on: the configuration applied, the recording started. */
  readonly applied: Promise<void>;
  /** The whole start, the control server listening included. */
  readonly done: Promise<void>;
}

/**
 * Runs in the main thread from jsftrace/register, after the hooks are
 * installed. The program depends on `applied` only; the control server
 * listens beside it (see listen). With nothing to apply (no
 * JSFTRACE_CONTROL_INIT, no JSFTRACE_RECORD), `applied` is settled at once.
 * `serve` loads the server module; the caller passes a synchronous loader
 * when Node can require() an ES module.
 */
export function startControl(serve: () => Promise<ServeControl> | ServeControl = loadServer): ControlStart {
  // Before the program can start a worker: each worker inherits the session.
  openOrCreateSession();
  // Both stay in the environment: the node processes the program starts
  // are configured and recorded alike, into the same recording.
  const init = process.env[INIT];
  const record = process.env[RECORD];
  const recording = record !== undefined && record !== '' ? parseRecord(record) : null;
  const steps = init !== undefined && init !== '' ? parseInit(init) : null;
  const control = process.env['JSFTRACE_CONTROL'] !== '0';
  if (recording === null && steps === null) {
    return { applied: Promise.resolve(), done: control ? listen(serve) : Promise.resolve() };
  }
  const applied = (async () => {
    // A streaming recording's drain reads every event: an OTLP export that the settings turn on runs there.
    if (recording !== null && !recording.flight) await (await loadOwn<Recorder>(recorderUrl)).hostExport();
    if (steps !== null) await applyInit(steps);
    if (recording !== null) await installRecorder(recording);
  })();
  return { applied, done: applied.then(() => (control ? listen(serve) : undefined)) };
}

type ServeControl = typeof import('./server.js')['serveControl'];

function loadServer(): Promise<ServeControl> {
  return loadOwn<typeof import('./server.js')>(new URL('./server.js', import.meta.url)).then((m) => m.serveControl);
}

function listen(serve: () => Promise<ServeControl> | ServeControl): Promise<void> {
  const s = serve();
  // The server, its socket and the promises of its start are jsftrace's
  // own (async_hook events leave them out), though the program has begun.
  const start = (f: ServeControl): Promise<void> => ownResource(() => f(lazySurface).then(() => undefined));
  // With the server module at hand, the listen runs from a microtask: a
  // listen queues a tick (its 'listening' event), and a tick queued before
  // the main module runs makes Node drain the program's first promise jobs
  // from processTicksAndRejections, a frame its async stack traces do not
  // have without jsftrace. From a microtask, the tick is queued after the
  // program's first jobs have run, as with no jsftrace (or, where the start
  // runs its microtasks itself before the program, public/start.ts, both
  // are done before the program's first line); the socket is bound (and
  // 0600) before the first turn of the event loop.
  if (typeof s === 'function') return new Promise<void>((r) => { queueMicrotask(() => { r(start(s)); }); });
  return s.then(start);
}
