/**
 * A preload the suite runner puts in every mode's NODE_OPTIONS (run.ts):
 * a server of a library's tests that listens on a port without naming a
 * host (supertest, ws, koa: `listen(0)`) listens on 127.0.0.1 instead of
 * every interface, so that nothing the suites start is reachable from
 * outside this machine.
 *
 * Owns: that default. Invariants:
 * - the same in the plain, idle and graph runs (it is loaded ahead of
 *   jsftrace, so never instrumented);
 * - a listen that names a host, a path (a Unix socket or a pipe), a handle
 *   or a file descriptor is left as it is;
 * - the server is bound when listen() returns, as without a host: code
 *   such as supertest reads `server.address().port` right after `listen(0)`.
 *   Naming the host would not keep that (Node looks a host up first, even
 *   an address, and binds a tick later), so the socket is bound here to
 *   127.0.0.1 and handed to listen() as a handle. Where that cannot be done
 *   the same way (a port already taken, a cluster worker, options a handle
 *   does not carry), the host is named instead and Node reports as usual.
 */

import type { Server } from 'node:net';

const net = require('node:net') as typeof import('node:net');
const cluster = require('node:cluster') as { isWorker: boolean };

const LOOPBACK = '127.0.0.1';
const listen = net.Server.prototype.listen as (this: Server, ...args: unknown[]) => Server;

interface TcpHandle {
  bind(address: string, port: number): number;
  close(): void;
}
interface TcpWrap {
  TCP: new (type: number) => TcpHandle;
  constants: { SERVER: number };
}
/** Node's TCP binding, or null where asking for it throws (DEP0111 under --pending-deprecation with --throw-deprecation). */
const tcpWrap = ((): TcpWrap | null => {
  try {
    return (process as unknown as { binding(name: string): TcpWrap }).binding('tcp_wrap');
  } catch {
    return null;
  }
})();

/** A TCP server socket bound to 127.0.0.1:`port`, or null (taken, or not a port: Node says why). */
function boundHandle(port: number): TcpHandle | null {
  if (tcpWrap === null || !Number.isInteger(port) || port < 0 || port > 65535 || cluster.isWorker) return null;
  const h = new tcpWrap.TCP(tcpWrap.constants.SERVER);
  if (h.bind(LOOPBACK, port) === 0) return h;
  h.close();
  return null;
}

const isPort = (v: unknown): boolean => typeof v === 'number' || (typeof v === 'string' && v !== '' && /^\d+$/.test(v));

/** `listen(port?, backlog?, callback?)` on loopback: a bound handle, else the host named. */
function portForm(port: unknown, rest: unknown[]): unknown[] {
  const h = boundHandle(Number(port ?? 0));
  return h !== null ? [h, ...rest] : [port ?? 0, LOOPBACK, ...rest];
}

/** Options a handle listen keeps; any other option is kept by naming the host. */
const HANDLE_OPTIONS = new Set(['port', 'backlog', 'exclusive']);

function onLoopback(args: unknown[]): unknown[] {
  const [first, second] = args;
  if (args.length === 0 || typeof first === 'function') return portForm(0, args);
  // A port, or none (`listen(undefined)`, `listen(null)`: `app.listen(process.env.PORT)` unset).
  if (isPort(first) || first === undefined || first === null) return typeof second === 'string' ? args : portForm(first, args.slice(1));
  if (typeof first === 'object' && !('_handle' in first) && !('handle' in first) && !('fd' in first)) {
    const o = first as { host?: unknown; path?: unknown; port?: unknown; backlog?: unknown };
    if (o.path !== undefined || o.host !== undefined) return args;
    if (Object.keys(o).every((k) => HANDLE_OPTIONS.has(k)) && (o.port === undefined || isPort(o.port))) {
      const h = boundHandle(Number(o.port ?? 0));
      if (h !== null) return [o.backlog === undefined ? { handle: h } : { handle: h, backlog: o.backlog }, ...args.slice(1)];
    }
    return [{ ...o, host: LOOPBACK }, ...args.slice(1)];
  }
  return args;
}

net.Server.prototype.listen = function (this: Server, ...args: unknown[]): Server {
  const given = onLoopback(args);
  try {
    return Reflect.apply(listen, this, given);
  } catch (e) {
    // Thrown at once (a server already listening): the socket bound here is no one's.
    if (given !== args) {
      const first = given[0] as { handle?: unknown } | null | undefined;
      const h = first instanceof Object && 'handle' in first ? first.handle : first;
      if (h instanceof tcpWrap!.TCP) h.close();
    }
    throw e;
  }
} as typeof net.Server.prototype.listen;
