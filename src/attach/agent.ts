/**
 * The part of jsftrace that `jsftrace -P <pid>` injects into a process that
 * was started without it: the runtime jsftrace/register would have
 * installed, sites for the functions of every loaded script, and the usual
 * control server on the private socket.
 *
 * Owns: the attach's lifetime in the process, from start to detach, and
 * its state on a global symbol (so that a second attach after a detach
 * starts the server again instead of loading a second copy). Invariants:
 * - the program's code is not changed until a tracer wants a site
 *   (sites.ts), and the inspector port the CLI opened is closed by the
 *   injected entry before any of this runs (public/inject.cts);
 * - detach leaves the program running its own code: every probe removed,
 *   every patched script restored where V8 allows it (what it does not
 *   allow is said, and stays idle), the debugger off, the socket closed.
 */

import { Debugger, type ScriptParsed } from './debugger.js';
import { installProbeRuntime, removeProbeRuntime } from './probe-runtime.js';
import { defineScript, scriptPath, type LoadedScript } from './scripts.js';
import { Preparer } from './preparer.js';
import { identify } from '../instrument/packages.js';
import { isInstrumented } from '../instrument/load.js';
import { Sites } from './sites.js';
import { attachSurface } from './surface.js';
import type { ControlServer } from '../control/server.js';
import { CHANNEL, Workers, type WorkerMessage } from './workers.js';
import { threadId } from 'node:worker_threads';
import { PerformanceNow, SetImmediate, SetTimeout } from '../shared/builtins.js';
import { requireOwnCjs } from '../shared/own-cjs.js';
import type { DataChannels } from '../shared/data-channel.cjs';

export interface AgentConfig {
  /** The socket directory the CLI will look in. */
  dir: string;
}

export interface AgentState {
  running: boolean;
  /** Set while starting or running: a second injection does nothing. */
  busy: boolean;
  restart?: (cfg: AgentConfig) => Promise<void>;
}

export const STATE = Symbol.for('jsftrace.attach');

/** Where inject.cts keeps the attach's state: the object between the process and EventEmitter.prototype. */
function stateHolder(): Record<symbol, AgentState | undefined> {
  return (Object.getPrototypeOf(process) ?? globalThis) as Record<symbol, AgentState | undefined>;
}

export class Agent {
  readonly sites: Sites;
  private readonly dbg: Debugger;
  private readonly pending: ScriptParsed[] = [];
  /** The scripts the session listed as it opened: those loaded before the attach. */
  private readonly listed = new Set<ScriptParsed>();
  private flushQueued = false;
  /** URLs whose script has its sites from an earlier attach of this process. */
  private readonly known = new Set<string>();
  private flushing: Promise<void> = Promise.resolve();
  private readonly preparer = new Preparer();
  /** Scripts that got no sites, with why. */
  readonly failed: { path: string; error: string }[] = [];
  server: ControlServer | null = null;
  /** The program's workers (main thread only). */
  workers: Workers | null = null;
  loadMs = 0;
  private left: string[] = [];

  /**
   * `previous`: the scripts of an earlier attach of this process. They are
   * kept, not listed again: after a live edit V8 still holds the script it
   * replaced, and a new session lists both under the same URL with nothing
   * to tell which one runs; the earlier table knows (its script ids follow
   * the edits).
   */
  constructor(previous: readonly LoadedScript[]) {
    for (const s of previous) this.known.add(s.url);
    let started = false;
    this.dbg = new Debugger((s) => {
      this.pending.push(s);
      if (started) this.queueFlush();
      else this.listed.add(s);
    });
    started = true;
    this.sites = new Sites(this.dbg, this.liveEditWorks());
    for (const s of previous) this.sites.add(s);
  }

  /** Gives every script loaded so far its sites; the program runs between scripts. */
  async loadAll(): Promise<void> {
    const t = PerformanceNow();
    await this.flush();
    this.loadMs = PerformanceNow() - t;
  }

  /** Whether this V8 still live-edits: a dry run of an unchanged script (Node 26 dropped it). */
  private liveEditWorks(): boolean {
    const probe = this.pending.find((s) => scriptPath(s.url) !== null) ?? this.pending[0];
    if (probe === undefined) return false;
    try {
      return this.dbg.setSource(probe.scriptId, this.dbg.source(probe.scriptId), true) === 'Ok';
    } catch {
      return false;
    }
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    SetImmediate(() => {
      this.flushQueued = false;
      this.flush().then(() => this.sites.reconcile(), () => undefined);
    }).unref();
  }

  /**
   * Gives the scripts seen since the last call their sites. Each is
   * transformed in a worker thread (a large script's transform takes
   * seconds; the program goes on meanwhile); its prologue then runs here.
   * A file may be listed more than once as the session opens: a live edit
   * (by an earlier attach) leaves the script V8 ran before it alive beside
   * the new one; the newest is the one whose functions run. A script parsed
   * after that is always a new one, also of a file seen before: a module
   * loaded again after a require cache clear (a live edit of ours parses
   * none), whose sites are those of the file's first load.
   */
  private flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const newest = new Map<string, ScriptParsed>();
      const loaded: ScriptParsed[] = [];
      for (const s of this.pending.splice(0)) {
        if (!this.listed.delete(s)) {
          loaded.push(s);
          continue;
        }
        const was = newest.get(s.url);
        if (was === undefined || Number(s.scriptId) > Number(was.scriptId)) newest.set(s.url, s);
      }
      const later = new Set(loaded);
      for (const s of [...[...newest.values()].filter((l) => !this.known.has(l.url)), ...loaded]) {
        const path = scriptPath(s.url);
        if (path === null) continue;
        // A vm context of the program's (jest runs each test file in one):
        // its global has no static key, and jsftrace/register would not
        // instrument it either (vm compiles what it is given).
        if (s.executionContextAuxData?.isDefault === false) continue;
        const format = s.isModule === true ? 'module' : 'commonjs';
        try {
          const source = this.dbg.source(s.scriptId);
          // Loaded through jsftrace/register already (a process started with it and JSFTRACE_CONTROL=0): its sites exist.
          if (isInstrumented(source)) continue;
          const id = identify(path);
          const p = await this.preparer.prepare({ source, path, format, file: id.file, package: id.package });
          if (p === null) continue;
          const ls = defineScript(s.scriptId, s.url, path, format, source, p, id.file, id.package);
          if (later.has(s)) this.sites.addLoad(ls);
          else this.sites.add(ls);
        } catch (e) {
          this.failed.push({ path, error: (e as Error).message });
        }
      }
      this.preparer.close();
    });
    return this.flushing;
  }

  /** The main thread's agent reaches the program's workers (workers.ts). */
  reachWorkers(): void {
    this.workers ??= new Workers(this.dbg);
  }

  /** Arms what is wanted here, and tells the workers to. */
  reconcile(): void {
    this.sites.reconcile();
    this.workers?.reconcile(this.sites.mechanism);
  }

  /** `attach`'s text. */
  describe(): string {
    const c = this.sites.counts();
    const lines = [
      `mechanism: ${this.sites.mechanism}`,
      `live patch: ${this.sites.liveEdit ? 'available' : 'not available in this Node (V8 has no LiveEdit): probes only'}`,
      `scripts: ${c.scripts} (${c.functions} functions)`,
      `patched: ${c.patched} functions in ${c.patchedScripts} scripts`,
      `probed: ${c.probed} functions`,
      ...(this.workers === null ? [] : [`workers: ${this.workers.count} (each armed by an agent of its own; these figures are the main thread's)`]),
      `sites defined in: ${this.loadMs.toFixed(1)} ms`,
      ...this.failed.map((f) => `no sites: ${f.path}: ${f.error}`),
      ...this.left.map((l) => `left patched (idle): ${l}`),
    ];
    return `${lines.join('\n')}\n`;
  }

  /** Undoes the attach; returns what could not be restored. */
  detach(): string[] {
    this.workers?.detach();
    this.left = this.sites.restoreAll();
    this.dbg.close();
    if (this.left.length === 0) removeProbeRuntime();
    return this.left;
  }
}

/**
 * What jsftrace/register does first, in this thread: join the instance,
 * install the runtime, load the handlers registered so far, open the
 * tracing session's buffers (found in the environment data when another
 * thread opened them).
 */
async function joinAsRegisterWould(): Promise<void> {
  const core = await import('../core/index.js');
  const { installRuntime } = await import('../instrument/runtime.js');
  installRuntime(true);
  await core.ready();
  const { openOrCreateSession } = await import('../tracers/session-layout.js');
  openOrCreateSession();
}

/** Runs in the target: joins, installs the runtime, defines sites, serves the control socket. */
/** How long the agent leaves Node to tear down the closed inspector's sessions before it uses the NodeWorker domain. */
const INSPECTOR_SETTLE_MS = 200;

export async function startAgent(cfg: AgentConfig): Promise<void> {
  const g = stateHolder();
  const state: AgentState = g[STATE] ?? { running: false, busy: false };
  g[STATE] = state;
  await joinAsRegisterWould();
  const { controlSurface } = await import('../control/tree.js');
  const { startControlServer } = await import('../control/server.js');
  let scripts: readonly LoadedScript[] = [];
  const start = async (c: AgentConfig): Promise<void> => {
    installProbeRuntime();
    const agent = new Agent(scripts);
    await agent.loadAll();
    scripts = agent.sites.scripts;
    // The workers' sites too, before a filter can be written (bounded: a busy worker may not answer).
    // Not before the CLI's inspector session has been torn down in this
    // thread: NodeWorker.enable on our in-process session while Node still
    // removes that session's worker delegate crashed the process (SIGSEGV
    // in WorkerManager::SetAutoAttach, 1 to 4 attaches in 12 on Node 26 and
    // seen on 20 and 24; none in 14 with this wait). Node says nothing when
    // the teardown is done, so the wait is a time.
    await new Promise<void>((resolve) => { SetTimeout(resolve, INSPECTOR_SETTLE_MS).unref(); });
    agent.reachWorkers();
    await agent.workers!.ready(10_000);
    agent.server = await startControlServer(attachSurface(controlSurface(), agent, () => {
      agent.detach();
      state.running = false;
      state.busy = false;
      // After the answer to the write that asked for it has gone out.
      SetTimeout(() => { void agent.server?.close(); }, 100).unref();
    }), { dir: c.dir });
    state.running = true;
  };
  state.restart = start;
  await start(cfg);
}

/** A worker's scripts from an earlier attach (see Agent's constructor). */
let workerScripts: readonly LoadedScript[] = [];

/**
 * Runs in a worker of an attached process, once its entry has put the main
 * thread's buffers in its environment data: joins, installs the runtime,
 * gives its scripts their sites, and arms them when the main thread says so.
 */
export async function startWorkerAgent(): Promise<void> {
  await joinAsRegisterWould();
  installProbeRuntime();
  const agent = new Agent(workerScripts);
  await agent.loadAll();
  workerScripts = agent.sites.scripts;
  const bc = requireOwnCjs<DataChannels>('./data-channel.cjs').openDataChannel(CHANNEL, (data: unknown) => {
    const m = data as WorkerMessage | undefined;
    if (m?.type === 'reconcile') {
      agent.sites.mechanism = agent.sites.liveEdit ? m.mechanism : 'probe';
      agent.sites.reconcile();
    } else if (m?.type === 'detach') {
      agent.detach();
      bc.close();
      const st = stateHolder()[STATE];
      if (st !== undefined) st.busy = false;
    }
  });
  bc.unref();
  bc.postMessage({ type: 'ready', threadId } satisfies WorkerMessage);
  agent.sites.reconcile();
}
