// The dump command of set_ftrace_filter (ftrace's `func:dump`, which calls
// ftrace_dump): when the function runs, tracing is turned off and every
// thread's buffer is printed to stderr and consumed. Hit in a worker, the
// dump must hold what the main thread wrote just before: a thread publishes
// its last events on its own only every 50 ms, so the dump asks first.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, run, scratchDir } from '../support/process.js';

const registerCjs = fileURLToPath(new URL('../../src/public/register.cjs', import.meta.url));
const controlUrl = new URL('../../src/public/control.js', import.meta.url).href;

const MAIN = `
import { Worker } from 'node:worker_threads';
import { readFile, writeFile } from ${JSON.stringify(controlUrl)};
import './lib.mjs';
await writeFile('current_tracer', 'function');
await writeFile('set_ftrace_filter', 'lib.mjs:boom:dump');
function lastOfMain() { return 0 }
const w = new Worker(new URL('./worker.mjs', import.meta.url));
await new Promise((r) => w.once('message', r));
lastOfMain();
w.postMessage('go');
await new Promise((r) => w.once('exit', r));
console.log('tracing_on ' + (await readFile('tracing_on')).trim());
console.log('left ' + (await readFile('trace_pipe')).split('\\n').filter((l) => l.includes('lib.mjs')).length);
`;

// The worker reads the trace once before, so that the dump's reader is
// loaded and the dump follows the hit by a millisecond, not by the time
// it takes to load it.
const WORKER = `
import { parentPort } from 'node:worker_threads';
import { readFile } from ${JSON.stringify(controlUrl)};
import { boom, before } from './lib.mjs';
await readFile('trace');
parentPort.once('message', () => { before(); boom(); after(); setTimeout(() => parentPort.close(), 200); });
function after() {}
parentPort.postMessage('ready');
`;

test('a dump hit in a worker prints the main thread\'s last calls, turns tracing off and consumes the buffers', { timeout: 60_000 }, async () => {
  const t = scratchDir('jsftrace-dump-');
  try {
    writeFileSync(join(t.dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(t.dir, 'main.mjs'), MAIN);
    writeFileSync(join(t.dir, 'worker.mjs'), WORKER);
    writeFileSync(join(t.dir, 'lib.mjs'), 'export function boom() { return 1 }\nexport function before() { return 2 }\n');
    // Without the request to publish, 2 runs in 3 missed lastOfMain here.
    for (let i = 0; i < 4; i++) {
      const r = await run(process.execPath, ['--require', registerCjs, 'main.mjs'], { cwd: t.dir, env: cleanEnv({ JSFTRACE_CONTROL: '0' }), timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'tracing_on 0\nleft 0\n');
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      const named = lines.map((l) => /\d: (\S+)(?: <-|$)/.exec(l)?.[1]).filter((n) => n !== undefined);
      // Every line is an event line; the dump stops before boom's own entry.
      assert.equal(named.length, lines.length, r.stderr);
      assert.deepEqual(named.filter((n) => !n.includes('anonymous')), ['main.mjs:lastOfMain', 'lib.mjs:before'], `run ${i}: ${r.stderr}`);
      assert.match(lines.find((l) => l.includes('lib.mjs:before'))!, /^ +worker-\d+ +\[\d{3}\] /);
    }
  } finally {
    t.done();
  }
});
