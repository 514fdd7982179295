// Reading a large `trace` from a running program costs it bounded time per
// turn of its event loop (test/fixtures/cli/big-trace.mjs, a 300,000-event
// trace): while one client's plain read of it is being made, another
// client's small request is answered first (the server builds the answer
// in pieces, the loop turning between them, where it used to render the
// whole trace in one go); the program counts the turns of its loop while
// the trace is read as a stream, at least one per piece of about 64 KiB.
// Orders and counts are asserted, never times.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { connect } from '../../src/control/client.js';
import { cleanEnv, fixture, registerJs, Running, tempDir } from '../cli/support.js';

const CALLS = 150_000;

test("a client reading a 300,000-event trace lets the program's event loop turn between pieces", { timeout: 120_000 }, async () => {
  const t = tempDir();
  const prog = new Running(process.execPath, [`--import=${registerJs}`, fixture('big-trace.mjs')], { env: cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets }) });
  /** Sends a command; its answer is the first line matching `re` printed after it. */
  const said = async (line: string, re: RegExp): Promise<RegExpExecArray> => {
    const before = prog.stdout.length;
    prog.child.stdin.write(`${line}\n`);
    for (;;) {
      const m = re.exec(prog.stdout.slice(before));
      if (m !== null) return m;
      if (prog.child.exitCode !== null) throw new Error(`the program ended: ${prog.stderr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  try {
    await prog.waitFor(/^ready$/m);
    const c = await connect(prog.pid, { dir: t.sockets, timeoutMs: 30_000 });
    await c.write('buffer_size_kb', '16384');
    await c.write('trace_clock', 'counter');
    await c.write('set_ftrace_filter', '*big-trace.mjs:work *big-trace.mjs:leaf');
    await c.write('current_tracer', 'function');
    await said(`fill ${CALLS}`, /^filled \d+$/m);

    // Two raw connections: A asks for the whole trace, B then for a small file.
    const sock = `${t.sockets}/${prog.pid}.sock`;
    const open = (): Promise<Socket> => new Promise((resolve, reject) => {
      const s = netConnect({ path: sock });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    const [a, b] = await Promise.all([open(), open()]);
    const order: string[] = [];
    let answerA = '';
    const doneA = new Promise<void>((resolve) => {
      a.setEncoding('utf8').on('data', (d: string) => {
        if (answerA === '') order.push('first byte of the trace');
        answerA += d;
        if (d.endsWith('\n')) resolve();
      });
    });
    let answerB = '';
    b.setEncoding('utf8').on('data', (d: string) => {
      answerB += d;
      if (d.endsWith('\n')) order.push('the small answer');
    });
    a.write(`${JSON.stringify({ v: 1, id: 1, op: 'read', path: 'trace' })}\n`);
    b.write(`${JSON.stringify({ v: 1, id: 1, op: 'read', path: 'current_tracer' })}\n`);
    await doneA;
    a.destroy();
    b.destroy();
    assert.deepEqual(JSON.parse(answerB), { v: 1, id: 1, ok: true, text: 'function\n' });
    assert.deepEqual(order, ['the small answer', 'first byte of the trace'], 'the small request waited for the whole trace');
    const text = (JSON.parse(answerA) as { text: string }).text;
    const lines = text.split('\n').filter((l) => /big-trace\.mjs:(?:work|leaf)(?: <-|$)/.test(l));
    assert.equal(lines.length, 2 * CALLS);
    const pieces = Math.floor(text.length / (64 * 1024));

    const t1 = Number((await said('tick on', /^ticks (\d+)$/m))[1]);
    let streamed = '';
    let count = 0;
    await c.stream('trace', (p) => { streamed += p; count++; });
    const t2 = Number((await said('tick off', /^ticks (\d+)$/m))[1]);
    assert.equal(streamed, text);
    assert.ok(count >= pieces);
    assert.ok(t2 - t1 >= pieces - 1, `the loop turned ${t2 - t1} times while ${count} pieces were streamed`);
    await c.close();
  } finally {
    await prog.stop('SIGKILL');
    t.done();
  }
});
