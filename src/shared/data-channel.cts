/**
 * A BroadcastChannel among jsftrace's threads whose messages reach jsftrace
 * as their data, with no MessageEvent made.
 *
 * Owns: the one way jsftrace listens on a BroadcastChannel. Invariant: a
 * message received loads nothing into the program's thread. Node makes a
 * BroadcastChannel's MessageEvent with the class of its bundled undici,
 * and loading undici defines `Symbol.for('undici.globalDispatcher.1')` on
 * the global object, not configurable (docs/transparency.md, difference
 * 55): a thread of the program that merely heard jsftrace's threads talk
 * would show it. Node's BroadcastChannel hears its port through one
 * listener on the port's handle, which makes the event; the data goes to
 * jsftrace's listener on that handle instead. Where the handle is not
 * shaped as Node 20 to 26 make it, `onmessage` (with its event) is used.
 */

import type { BroadcastChannel as Channel } from 'node:worker_threads';

const { BroadcastChannel } = require('node:worker_threads') as typeof import('node:worker_threads');

interface PortHandle {
  on(type: 'message', fn: (data: unknown) => void): unknown;
  off(type: 'message', fn: (data: unknown) => void): unknown;
  listenerCount(type: 'message'): number;
}

function ownKey(o: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(o).find((s) => s.description === description);
}

function slot(o: object, key: symbol | undefined): unknown {
  return key === undefined ? undefined : (o as Record<symbol, unknown>)[key];
}

function isPortHandle(h: unknown): h is PortHandle {
  const p = h as Partial<PortHandle> | null | undefined;
  return typeof p?.on === 'function' && typeof p.off === 'function' && typeof p.listenerCount === 'function';
}

/**
 * A BroadcastChannel on `name` (post, unref and close as usual) whose
 * messages call `onData` with their data.
 */
function openDataChannel(name: string, onData: (data: unknown) => void): Channel {
  const bc = new BroadcastChannel(name);
  const handleKey = ownKey(bc, 'kHandle');
  const handle = slot(bc, handleKey);
  const theirs = slot(bc, ownKey(bc, 'kOnMessage'));
  if (isPortHandle(handle) && typeof theirs === 'function' && handle.listenerCount('message') === 1) {
    // Ours on first, theirs off second: the handle's count of listeners
    // never falls to 0, which would stop the port and change its ref.
    // close() takes theirs off, not ours, and so does not stop the port:
    // messages read in one batch with the one that closed would still
    // come. close() empties the channel's handle slot; from then, none.
    handle.on('message', (data: unknown) => {
      if (slot(bc, handleKey) === handle) onData(data);
    });
    handle.off('message', theirs as (data: unknown) => void);
    return bc;
  }
  bc.onmessage = (e: unknown): void => onData((e as { data?: unknown }).data);
  return bc;
}

module.exports = { openDataChannel };

export interface DataChannels {
  openDataChannel: typeof openDataChannel;
}
