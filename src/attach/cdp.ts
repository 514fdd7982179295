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
  close(): void;
}

interface Pending {
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
}

/** Opens `url` (ws://127.0.0.1:<port>/<id>) within `timeoutMs`. */
export async function openCdp(url: string, timeoutMs: number): Promise<Cdp> {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== '[::1]' && host !== 'localhost') fail('EACCES', `the inspector listens on ${host}, not on loopback; refusing it`);
  const { WebSocket } = await import('ws');
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
  ws.on('close', () => failAll(new JsftraceError('ESRCH', 'the inspector connection closed (the process ended?)')));
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
    close() {
      ws.close();
      ws.terminate();
    },
  };
}
