/**
 * A preload the suite runner puts in every mode's NODE_OPTIONS (run.ts):
 * a server of a library's tests that listens on a port without naming a
 * host (supertest, ws, koa: `listen(0)`) listens on 127.0.0.1 instead of
 * every interface, so that nothing the suites start is reachable from
 * outside this machine.
 *
 * Owns: that default. Invariant: the same in the plain, idle and graph
 * runs (it is loaded ahead of jsftrace, so never instrumented); a listen
 * that names a host, a path (a Unix socket or a pipe), a handle or a file
 * descriptor is left as it is.
 */

import type { Server } from 'node:net';

const net = require('node:net') as typeof import('node:net');

const LOOPBACK = '127.0.0.1';
const listen = net.Server.prototype.listen as (this: Server, ...args: unknown[]) => Server;

const isPort = (v: unknown): boolean => typeof v === 'number' || (typeof v === 'string' && v !== '' && /^\d+$/.test(v));

function onLoopback(args: unknown[]): unknown[] {
  const [first, second] = args;
  if (args.length === 0 || typeof first === 'function') return [0, LOOPBACK, ...args];
  // A port, or none (`listen(undefined)`, `listen(null)`: `app.listen(process.env.PORT)` unset).
  if (isPort(first) || first === undefined || first === null) return typeof second === 'string' ? args : [first ?? 0, LOOPBACK, ...args.slice(1)];
  if (first !== null && typeof first === 'object' && !('_handle' in first) && !('fd' in first)) {
    const o = first as { host?: unknown; path?: unknown; port?: unknown };
    if (o.path === undefined && o.host === undefined) return [{ ...o, host: LOOPBACK }, ...args.slice(1)];
  }
  return args;
}

net.Server.prototype.listen = function (this: Server, ...args: unknown[]): Server {
  return Reflect.apply(listen, this, onLoopback(args));
} as typeof net.Server.prototype.listen;
