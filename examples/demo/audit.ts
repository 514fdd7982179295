// Two versions of a direct trampoline ("audit v1" and "v2") that every
// thread loads. Each counts the calls it sees, per thread, in shared memory.

import { getEnvironmentData, threadId } from 'node:worker_threads';

const counts = new Int32Array(getEnvironmentData('demo:counts') as SharedArrayBuffer);
export const STRIDE = 4;

export function v1(): void {
  counts[threadId * STRIDE]!++;
}

export function v2(): void {
  counts[threadId * STRIDE + 1]!++;
}
