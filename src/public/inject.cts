/**
 * What `jsftrace -P <pid>` runs inside a Node.js process that was started
 * without jsftrace, through the inspector the CLI opened for a moment
 * (docs/attach.md). The CLI evaluates `require(<this file>)(config)`.
 *
 * Owns: the first instant of an attach. Invariants: the inspector port is
 * closed at this process's next turn of its event loop, whatever happens
 * next (the CLI has its answer and has closed its connection by then); the
 * rest of the attach (src/attach/agent.ts) loads after that, with no port
 * open; a second injection while an attach runs does nothing, and one
 * after a detach starts the control server again with the runtime already
 * in place.
 */

const inspector = require('node:inspector') as { close(): void };
const runtimeFile = require('../shared/runtime-file.cjs') as { requireRuntime(name: string): unknown; hideOwnEntries(): void };
// This file and the loader are in the require cache from now: out of the
// program's view at once, not only once the runtime loads.
runtimeFile.hideOwnEntries();

interface AgentState {
  running: boolean;
  busy: boolean;
  restart?: (cfg: unknown) => Promise<void>;
}

const STATE = Symbol.for('jsftrace.attach');

/**
 * Where the attach's state lives between injections: on the object between
 * the process and EventEmitter.prototype (attach/agent.ts reads it there),
 * not on the global object, whose own keys the program may list.
 */
function stateHolder(): Record<symbol, AgentState | undefined> {
  return (Object.getPrototypeOf(process) ?? globalThis) as Record<symbol, AgentState | undefined>;
}

function closeInspector(): void {
  try {
    inspector.close();
  } catch {
    // already closed
  }
}

/** Runs `load` once the inspector is closed: nothing of the attach runs with the port open. */
function afterClose(load: () => void): void {
  setImmediate(() => {
    closeInspector();
    load();
  });
}

/** Defines the static key non-enumerable, before anything joins the instance (which writes it). */
function hideStaticKey(abi: { KEY_GLOBAL: string }): void {
  // A key the runtime finds already defined keeps these attributes, so the
  // program's view of the global object does not gain a name.
  if (!(abi.KEY_GLOBAL in globalThis)) {
    Object.defineProperty(globalThis, abi.KEY_GLOBAL, { value: false, writable: true, enumerable: false, configurable: true });
  }
}

/**
 * A module of jsftrace's runtime (one CommonJS file: shared/own-load.ts),
 * from a later job, as an import would have given it.
 */
function fromRuntime(path: string): Promise<unknown> {
  return Promise.resolve().then(() => (runtimeFile.requireRuntime('jsftrace.cjs') as { load(p: string): unknown }).load(path));
}

/**
 * In a worker (the main thread's agent injects it there through the
 * inspector): asks the main thread for the instance's buffers, puts them in
 * this thread's environment data as a worker started later would have
 * found them, then starts the worker's agent.
 */
function injectWorker(report: (e: unknown) => void): string {
  const wt = require('node:worker_threads') as typeof import('node:worker_threads');
  const channels = require('../shared/data-channel.cjs') as import('../shared/data-channel.cjs').DataChannels;
  runtimeFile.hideOwnEntries();
  const bc = channels.openDataChannel('jsftrace:attach', (data: unknown) => {
    const m = data as { type?: string; env?: Record<string, unknown> } | undefined;
    if (m?.type !== 'env' || m.env === undefined) return;
    bc.close();
    for (const [k, v] of Object.entries(m.env)) wt.setEnvironmentData(k, v as never);
    fromRuntime('shared/site-abi.js')
      .then((abi) => { hideStaticKey(abi as { KEY_GLOBAL: string }); return fromRuntime('attach/agent.js'); })
      .then((a) => (a as { startWorkerAgent(): Promise<void> }).startWorkerAgent())
      .catch(report);
  });
  bc.postMessage({ type: 'env?' });
  return 'worker';
}

function inject(config: unknown): string {
  const g = stateHolder();
  const state = g[STATE];
  const report = (e: unknown): void => {
    if (g[STATE] !== undefined) g[STATE].busy = false;
    process.stderr.write(`jsftrace: attach failed: ${e instanceof Error ? e.message : String(e)}\n`);
  };
  if ((config as { worker?: boolean } | null)?.worker === true) {
    // A worker has no port of its own to close; its agent detaches when the main thread's does.
    if (state?.busy === true) return 'worker';
    g[STATE] = { running: true, busy: true };
    return injectWorker(report);
  }
  if (state?.busy === true) {
    setImmediate(closeInspector);
    return state.running ? 'running' : 'starting';
  }
  if (state?.restart !== undefined) {
    state.busy = true;
    const restart = state.restart;
    afterClose(() => { restart(config).catch(report); });
    return 'restarted';
  }
  g[STATE] = { running: false, busy: true };
  afterClose(() => {
    fromRuntime('shared/site-abi.js')
      .then((abi) => { hideStaticKey(abi as { KEY_GLOBAL: string }); return fromRuntime('attach/agent.js'); })
      .then((m) => (m as { startAgent(c: unknown): Promise<void> }).startAgent(config))
      .catch(report);
  });
  return 'started';
}

module.exports = inject;
