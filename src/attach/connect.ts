/**
 * A control connection to any Node.js process of this user: its control
 * socket when it has one, else an attach first (inject.ts).
 *
 * Owns: the choice between the two and the wait for an injected control
 * server. Invariant: a process that has a socket is never attached to; an
 * attach is tried only when the process is alive and has no socket.
 */

import { connect, type ControlClient } from '../control/client.js';
import { isAlive } from '../control/discovery.js';
import { defaultSocketDir, socketPath } from '../control/socket-dir.js';
import { lstatSync } from 'node:fs';
import { JsftraceError, fail } from '../shared/errors.js';
import { injectInto, type AttachResult } from './inject.js';

export interface Connected {
  client: ControlClient;
  /** Set when this call attached. */
  attached: AttachResult | null;
}

export async function connectOrAttach(pid: number, attach: boolean, timeoutMs = 60_000): Promise<Connected> {
  const dir = defaultSocketDir();
  try {
    return { client: await connect(pid, { dir }), attached: null };
  } catch (e) {
    if (!attach || !(e instanceof JsftraceError && e.code === 'ESRCH' && isAlive(pid))) throw e;
  }
  const attached = await injectInto(pid, dir);
  const deadline = Date.now() + timeoutMs;
  // Connect only once the server has made its socket 0600, which it does
  // after listen(): a connection refused before that would have the client
  // take the new socket for a stale one and remove it.
  const path = socketPath(dir, pid);
  const listening = (): boolean => {
    try {
      return (lstatSync(path).mode & 0o777) === 0o600;
    } catch {
      return false;
    }
  };
  while (!listening()) {
    if (!isAlive(pid)) fail('ESRCH', `process ${pid} ended while jsftrace was attaching`);
    if (Date.now() > deadline) fail('ETIMEDOUT', `process ${pid} loaded jsftrace but started no control server within ${timeoutMs} ms (its stderr may say why)`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { client: await connect(pid, { dir }), attached };
}
