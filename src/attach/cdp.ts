/**
 * A Chrome DevTools Protocol client over the inspector's WebSocket, for the
 * few commands the attach sends from outside the process.
 *
 * Owns: one WebSocket, its request ids and the matching of answers.
 * Invariants: every request is settled exactly once (its answer, the
 * connection closing, or the deadline); the socket is only ever opened to
 * a loopback address; `ws` is loaded only when a connection is made, so
 * the CLI's other paths never need it.
 */

import { fail, JsftraceError } from '../shared/errors.js';

export interface Cdp {
  send(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /**
   * Waits for the other side to close the connection (the injected entry
   * closes the inspector), closing it from here only after `graceMs`.
   * Node's inspector can crash when both sides close at once (its server
   * writing its close frame on a connection the client has just torn down),
   * so the client never races it.
   */
  closed(graceMs: number): Promise<void>;
  /** Closes at once (after a failure, when the process will not close it). */
  close(): void;
}

interface Pending {
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
}

let wsModule: typeof import('ws') | undefined;

/** Loads the WebSocket client (ahead of time, so that loading it is not part of the inspector window). */
export async function loadCdp(): Promise<void> {
  wsModule ??= await import('ws');
}

/** Opens `url` (ws://127.0.0.1:<port>/<id>) within `timeoutMs`. */
export async function openCdp(url: string, timeoutMs: number): Promise<Cdp> {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== '[::1]' && host !== 'localhost') fail('EACCES', `the inspector listens on ${host}, not on loopback; refusing it`);
  await loadCdp();
  const { WebSocket } = wsModule!;
  const ws = new WebSocket(url, { handshakeTimeout: timeoutMs, perMessageDeflate: false, maxPayload: 64 << 20 });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  const failAll = (e: Error): void => {
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', (e) => reject(new JsftraceError('EIO', `cannot open the inspector at ${url}: ${e.message}`)));
  });
  ws.on('error', (e) => failAll(new JsftraceError('EIO', `inspector connection: ${e.message}`)));
  let isClosed = false;
  const whenClosed = new Promise<void>((resolve) => ws.on('close', () => {
    isClosed = true;
    failAll(new JsftraceError('ESRCH', 'the inspector connection closed (the process ended?)'));
    resolve();
  }));
  ws.on('message', (data) => {
    let m: { id?: number; result?: Record<string, unknown>; error?: { message?: string } };
    try {
      m = JSON.parse(String(data)) as typeof m;
    } catch {
      return;
    }
    if (typeof m.id !== 'number') return; // an event
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (m.error !== undefined) p.reject(new JsftraceError('EIO', `inspector: ${m.error.message ?? 'error'}`));
    else p.resolve(m.result ?? {});
  });
  return {
    send(method, params = {}) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new JsftraceError('ETIMEDOUT', `the process did not answer ${method} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => { clearTimeout(timer); resolve(v); },
          reject: (e) => { clearTimeout(timer); reject(e); },
        });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    async closed(graceMs) {
      const wait = (ms: number): Promise<void> => new Promise<void>((r) => { const t = setTimeout(r, ms); void whenClosed.then(() => { clearTimeout(t); r(); }); });
      await wait(graceMs);
      if (isClosed) return;
      ws.close();
      await wait(1000);
      if (!isClosed) ws.terminate();
    },
    close() {
      if (!isClosed) ws.close();
    },
  };
}
