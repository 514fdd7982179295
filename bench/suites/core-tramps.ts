// Trampolines of the modify benchmark: each counts its calls per thread.

import { getEnvironmentData, threadId } from 'node:worker_threads';

const counts = new Int32Array(getEnvironmentData('bench:counts') as SharedArrayBuffer);

export function T0(): void { counts[threadId * 4]!++; }
export function T1(): void { counts[threadId * 4 + 1]!++; }
