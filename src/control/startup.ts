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
 * - with JSFTRACE_RECORD=<file>, writes the trace file when the program
 *   ends (normally, by process.exit, or by SIGINT/SIGTERM/SIGHUP it does not
 *   handle itself), and says which filter patterns never matched a function;
 * - starts the control server, unless JSFTRACE_CONTROL=0.
 *
 * Owns: the reading of these variables. Invariants: they are removed from
 * process.env once read, so child processes do not record over the
 * parent's file or replay its configuration; a bad JSFTRACE_CONTROL_INIT
 * stops the process with one line and exit code 2 before the program runs;
 * the control tree itself is loaded only when first used.
 */

import { writeFileSync } from 'node:fs';
import { openOrCreateSession } from '../tracers/session-layout.js';
import type { ControlSurface } from './surface.js';

const INIT = 'JSFTRACE_CONTROL_INIT';
const RECORD = 'JSFTRACE_RECORD';

let tree: Promise<ControlSurface> | null = null;
function surface(): Promise<ControlSurface> {
  tree ??= import('./tree.js').then((t) => t.controlSurface());
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
  const { setBooting } = await import('../tracers/tracers.js');
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
 * the program ends: most likely a typo (names are `<file>:<name>`), said
 * once on stderr so that an empty recording is not a mystery.
 */
async function warnUnmatched(): Promise<() => void> {
  const [{ graphFilterTokens, tracerFilterTokens }, core] = await Promise.all([
    import('../tracers/tracers.js'), import('../core/index.js'),
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
    for (const [file, p] of named) {
      let tok;
      try {
        tok = core.parseToken(p);
      } catch {
        continue;
      }
      if (!core.selectsAny(inst, tok)) process.stderr.write(`jsftrace: ${file} ${JSON.stringify(p)} matched no function of this run (names are <file>:<name>, as 'src/app.js:main')\n`);
    }
  };
}

async function installRecorder(file: string): Promise<void> {
  const { snapshotTrace, snapshotTraceSync } = await import('../tracers/tracefile.js');
  const unmatched = await warnUnmatched();
  let written = false;
  let warned = false;
  const warnOnce = (): void => {
    if (warned) return;
    warned = true;
    try {
      unmatched();
    } catch {
      // a report about filters must not stop the trace from being written
    }
  };
  const writeSync = (): void => {
    warnOnce();
    if (written) return;
    written = true;
    try {
      writeFileSync(file, snapshotTraceSync());
    } catch (e) {
      process.stderr.write(`jsftrace: cannot write the trace to ${file}: ${(e as Error).message}\n`);
    }
  };
  // When the program ends by itself, wait for every thread's ring.
  process.once('beforeExit', () => {
    warnOnce();
    if (written) return;
    snapshotTrace(true).then((bytes) => {
      if (written) return;
      writeFileSync(file, bytes);
      written = true;
    }).catch((e: unknown) => {
      process.stderr.write(`jsftrace: cannot write the trace to ${file}: ${(e as Error).message}; trying once more at exit\n`);
    });
  });
  process.once('exit', writeSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      // The program handles it itself: its own handler decides whether to exit (then 'exit' writes).
      if (process.listenerCount(sig) > 1) return;
      writeSync();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/** Runs in the main thread from jsftrace/register, after the hooks are installed. */
export async function startControl(): Promise<void> {
  // Before the program can start a worker: each worker inherits the session.
  openOrCreateSession();
  const init = process.env[INIT];
  const record = process.env[RECORD];
  delete process.env[INIT];
  delete process.env[RECORD];
  if (init !== undefined && init !== '') await applyInit(parseInit(init));
  if (record !== undefined && record !== '') await installRecorder(record);
  if (process.env['JSFTRACE_CONTROL'] !== '0') {
    const { serveControl } = await import('./server.js');
    await serveControl(lazySurface);
  }
}
