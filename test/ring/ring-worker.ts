/**
 * Worker fixture of the ring stress tests: a writer or a consuming reader in
 * its own thread, driven by workerData. Loaded directly (as `node --test`
 * does with every file under test/), it does nothing.
 *
 * Writer: waits for the start word, writes `count` events of type 1 with
 * payload (id, i, mix(id, i)), records which were dropped (reserve returns
 * -1), flushes, and posts { dropped, droppedSum }. After `prefill` events it
 * says so, and readers wait for that: a prefill beyond the ring's capacity
 * makes drops or overwrites certain, not a matter of scheduling.
 * Register: registers event types in a shared registry, posts their ids.
 * Reader: consumes until the writers' done count reaches `writers` and the
 * ring is empty; checks each event's check word and order, marks each index
 * in `seen` (so the main thread can prove no event was taken twice) and posts
 * { count, lost, errors }.
 */

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  attachReader, attachWriter, type FieldSpec, openEventRegistry, openRing, READ_EMPTY, READ_EVENT, READ_LOST,
} from '../../src/ring/index.js';
import { mix } from './support.js';

interface Job {
  role: 'writer' | 'reader' | 'register';
  sab: SharedArrayBuffer;
  /** Word 0: start (0 wait, 1 go). Word 1: writers done. Word 2: writers past `prefill`. Word 3: workers failed. */
  control: SharedArrayBuffer;
  id: number;
  count: number;
  /** Events a writer writes before it counts itself in word 2 (readers wait for all). */
  prefill: number;
  writers: number;
  seen?: SharedArrayBuffer;
  /** register: event types to register in the registry `sab`. */
  types?: { name: string; fields: FieldSpec[] }[];
}

/** No wait here is unbounded: a peer that died must fail the test, not hang it. */
const DEADLINE_MS = 30_000;

function deadline(started: number, what: string): void {
  if (Date.now() - started > DEADLINE_MS) throw new Error(`ring worker: ${what} did not happen within ${DEADLINE_MS} ms`);
}

function waitStart(ctl: Int32Array): void {
  const started = Date.now();
  while (Atomics.load(ctl, 0) === 0) {
    Atomics.wait(ctl, 0, 0, 50);
    deadline(started, 'the start signal');
  }
}

/** Readers start once every writer has written its prefill. */
function waitPrefilled(ctl: Int32Array, writers: number): void {
  const started = Date.now();
  for (let v = Atomics.load(ctl, 2); v < writers; v = Atomics.load(ctl, 2)) {
    Atomics.wait(ctl, 2, v, 50);
    deadline(started, 'the writers\' prefill');
  }
}

function runWriter(job: Job, ctl: Int32Array): void {
  const w = attachWriter(openRing(job.sab), { clock: 'counter' });
  const words = w.words;
  waitStart(ctl);
  let dropped = 0;
  let droppedSum = 0;
  for (let i = 0; i < job.count; i++) {
    if (i === job.prefill) {
      w.flush();
      Atomics.add(ctl, 2, 1);
    }
    const p = w.reserve(1, 3);
    if (p < 0) {
      dropped++;
      droppedSum += i;
      continue;
    }
    words[p] = job.id;
    words[p + 1] = i;
    words[p + 2] = mix(job.id, i);
  }
  w.detach();
  Atomics.add(ctl, 1, 1);
  parentPort!.postMessage({ dropped, droppedSum });
}

function runReader(job: Job, ctl: Int32Array): void {
  const r = attachReader(openRing(job.sab));
  const ev = r.event;
  const seen = new Uint8Array(job.seen!);
  waitStart(ctl);
  waitPrefilled(ctl, job.writers);
  let count = 0;
  let lost = 0;
  let errors = 0;
  let last = -1;
  const started = Date.now();
  for (let n = 0; ; n++) {
    if ((n & 0xffff) === 0) deadline(started, 'the writers\' end');
    const done = Atomics.load(ctl, 1) === job.writers;
    const st = r.next();
    if (st === READ_EVENT) {
      const i = ev.i32(2);
      if (ev.type !== 1 || ev.i32(3) !== mix(ev.i32(1), i) || i <= last) errors++;
      last = i;
      Atomics.add(seen, i, 1);
      count++;
    } else if (st === READ_LOST) {
      lost += r.lost;
    } else if (st === READ_EMPTY && done) {
      break;
    }
  }
  parentPort!.postMessage({ count, lost, errors });
}

/** Registers `types` and posts the ids they got, or the error code. */
function runRegister(job: Job): void {
  const reg = openEventRegistry(job.sab);
  const out: (number | string)[] = [];
  for (const t of job.types!) {
    try {
      out.push(reg.register(t.name, t.fields).id);
    } catch (e) {
      out.push((e as { code: string }).code);
    }
  }
  parentPort!.postMessage(out);
}

if (!isMainThread && workerData !== null && typeof workerData === 'object') {
  const job = workerData as Job;
  if (job.role === 'register') {
    runRegister(job);
  } else {
    const ctl = new Int32Array(job.control);
    try {
      if (job.role === 'writer') runWriter(job, ctl);
      else runReader(job, ctl);
    } catch (e) {
      // Word 3 tells a main thread busy in a synchronous loop, which cannot
      // see this worker's 'error' event until it yields.
      Atomics.add(ctl, 3, 1);
      throw e;
    }
  }
}
