// jsftrace's BroadcastChannels (shared/data-channel.cts): data, no
// MessageEvent; and after close(), nothing more, as Node's own channel.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { BroadcastChannel } from 'node:worker_threads';
import type { DataChannels } from '../../src/shared/data-channel.cjs';

const require = createRequire(import.meta.url);
const { openDataChannel } = require('../../src/shared/data-channel.cjs') as DataChannels;

test('a channel closed while it hears a message hears none of those read with it (as a BroadcastChannel of Node\'s)', async () => {
  const name = `jsftrace-test:data-channel:${process.pid}`;
  const sender = new BroadcastChannel(name);
  const heard: unknown[] = [];
  const stock: unknown[] = [];
  const ours = openDataChannel(name, (d) => { heard.push(d); ours.close(); });
  const other = openDataChannel(name, (d) => { stock.push(d); });
  for (let i = 0; i < 3; i++) sender.postMessage(i);
  await new Promise((r) => setTimeout(r, 200));
  sender.close();
  other.close();
  assert.deepEqual(heard, [0]);
  assert.deepEqual(stock, [0, 1, 2]);
});
