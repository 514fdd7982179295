/**
 * The program's worker threads, reached from the attached main thread: each
 * worker gets the same injected entry, joins the tracing instance and runs
 * an agent of its own (its own scripts, its own inspector session, its own
 * patches and probes), armed when the main thread arms.
 *
 * Owns: the main thread's side of that: the NodeWorker domain of the main
 * agent's session, and the broadcast channel on which workers ask for the
 * shared buffers and are told to arm and to detach. Invariants:
 * - a worker joins the instance the program's main thread has (its
 *   buffers sent over the channel, as environment data would have given
 *   them to a worker started afterwards), so its rows, records and rings
 *   are the process's;
 * - a worker that ends is marked dead at once (the inspector says so), so
 *   no synchronisation waits for it, also after terminate();
 * - arming in workers follows the main thread's by a message: a moment
 *   after a control write returns, not before.
 */

import { fileURLToPath } from 'node:url';
import { getEnvironmentData, type BroadcastChannel } from 'node:worker_threads';
import { markDead } from '../core/index.js';
import { ENV_KEY as INSTANCE_KEY } from '../core/instance.js';
import { ENV_KEY as SESSION_KEY } from '../tracers/session-layout.js';
import { KEY_ENV_DATA as BINDING_KEY } from '../shared/site-abi.js';
import type { Debugger } from './debugger.js';
import type { Mechanism } from './arming.js';
import { DateNow, SetTimeout } from '../shared/builtins.js';
import { requireOwnCjs } from '../shared/own-cjs.js';
import type { DataChannels } from '../shared/data-channel.cjs';

export const CHANNEL = 'jsftrace:attach';
const INJECT = fileURLToPath(new URL('../public/inject.cjs', import.meta.url));
const PREPARER = new URL('./prepare-worker.js', import.meta.url).href;

export type WorkerMessage =
  | { type: 'env?' }
  | { type: 'env'; env: Record<string, unknown> }
  | { type: 'reconcile'; mechanism: Mechanism }
  | { type: 'detach' }
  | { type: 'ready'; threadId: number };

export class Workers {
  private readonly bc: BroadcastChannel;
  private readonly threads = new Map<string, number>();
  private readonly readyIds = new Set<number>();
  private wake: (() => void) | null = null;
  private readonly dbg: Debugger;

  constructor(dbg: Debugger) {
    this.dbg = dbg;
    // With the binding's name: a worker started before the attach has none of its own yet, and another thread's interrupt names this one.
    const env = { [INSTANCE_KEY]: getEnvironmentData(INSTANCE_KEY), [SESSION_KEY]: getEnvironmentData(SESSION_KEY), [BINDING_KEY]: getEnvironmentData(BINDING_KEY) };
    this.bc = requireOwnCjs<DataChannels>('./data-channel.cjs').openDataChannel(CHANNEL, (data: unknown) => {
      const m = data as WorkerMessage | undefined;
      if (m?.type === 'env?') this.bc.postMessage({ type: 'env', env } satisfies WorkerMessage);
      else if (m?.type === 'ready') {
        this.readyIds.add(m.threadId);
        this.wake?.();
      }
    });
    this.bc.unref();
    dbg.on('NodeWorker.attachedToWorker', (p) => {
      const sessionId = String(p['sessionId']);
      const info = p['workerInfo'] as { workerId?: string; url?: string } | undefined;
      // jsftrace's own thread that prepares scripts runs no program code.
      if (info?.url === PREPARER) return;
      this.threads.set(sessionId, Number(info?.workerId ?? -1));
      const expr = `(typeof require === 'function' ? require : process.getBuiltinModule('node:module').createRequire(${JSON.stringify(INJECT)}))(${JSON.stringify(INJECT)})({"worker":true})`;
      const message = JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: expr, includeCommandLineAPI: true, silent: true } });
      try {
        dbg.post('NodeWorker.sendMessageToWorker', { sessionId, message });
      } catch {
        // the worker ended meanwhile
      }
    });
    dbg.on('NodeWorker.detachedFromWorker', (p) => {
      const sessionId = String(p['sessionId']);
      const id = this.threads.get(sessionId);
      this.threads.delete(sessionId);
      if (id !== undefined && id >= 0) markDead(id);
    });
    dbg.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
  }

  /**
   * Resolves once every worker seen so far has its sites (so that a filter
   * written next can name their functions), or after `timeoutMs`: a worker
   * busy in a synchronous loop reads no message until it yields.
   */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = DateNow() + timeoutMs;
    while ([...this.threads.values()].some((id) => !this.readyIds.has(id)) && DateNow() < deadline) {
      await new Promise<void>((r) => {
        this.wake = r;
        SetTimeout(r, 20).unref();
      });
    }
    this.wake = null;
  }

  /** Workers seen so far (alive). */
  get count(): number {
    return this.threads.size;
  }

  reconcile(mechanism: Mechanism): void {
    this.bc.postMessage({ type: 'reconcile', mechanism } satisfies WorkerMessage);
  }

  detach(): void {
    this.bc.postMessage({ type: 'detach' } satisfies WorkerMessage);
    try {
      this.dbg.post('NodeWorker.disable', {});
    } catch {
      // the session is closed already
    }
    this.bc.close();
  }
}
