// A demo worker: prices orders in a tight loop until told to stop, then
// reports how many priceItem calls it made.

import { getEnvironmentData, threadId } from 'node:worker_threads';
import { instrument, shop } from './shop.js';
import { STRIDE } from './audit.js';

const ctl = new Int32Array(getEnvironmentData('demo:ctl') as SharedArrayBuffer);
const counts = new Int32Array(getEnvironmentData('demo:counts') as SharedArrayBuffer);
await instrument();
// Load the trampolines the main thread registered before this worker started.
await (await import('../../src/public/index.js')).ready();
Atomics.add(ctl, 1, 1);
let calls = 0;
while (Atomics.load(ctl, 0) === 0) {
  for (let i = 0; i < 1000; i++) {
    shop.priceItem({ sku: 'w', qty: i, unit: 3 });
    calls++;
  }
}
counts[threadId * STRIDE + 2] = calls;
