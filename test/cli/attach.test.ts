// Attaching to a running process: an HTTP server started under
// jsftrace/register, found by `jsftrace ps`, configured with `start`,
// watched with `pipe` while the test drives requests, then `stat`, `show`,
// `extract`, `stop`, `reset`, `fs`, `list -f`; bad protocol frames leave
// it serving; a pipe ends when the process ends, whose socket goes with
// it; a socket left by a killed process is cleaned up by `ps` and refused
// by -P.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { cleanEnv, fixture, jsftrace, mainJs, registerJs, Running, site, tempDir } from './support.js';
import { RawClient } from '../control/support.js';

const HR = site('server.mjs', 'handleRequest');
const HH = site('server.mjs', 'handleHello');
const HQ = site('server.mjs', 'handleQuit');

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve(body));
    });
    req.on('error', reject).end();
  });
}

/** The event lines of a function trace (not the # header). */
function events(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.replace(/^.*\d: /, ''));
}

async function startServer(env: Record<string, string>): Promise<{ server: Running; port: number }> {
  const server = new Running(process.execPath, [`--import=${registerJs}`, fixture('server.mjs')], { env });
  const port = Number((await server.waitFor(/^port (\d+)$/m))[1]);
  return { server, port };
}

test('start, pipe, stat, show, extract, stop, reset, fs on a running HTTP server', { timeout: 180_000 }, async () => {
  const t = tempDir();
  const env = cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets });
  const J = (...args: string[]): ReturnType<typeof jsftrace> => jsftrace(args, { env, cwd: t.dir });
  const { server, port } = await startServer(env);
  let pipe: Running | null = null;
  try {
    const pid = String(server.pid);
    const sock = join(t.sockets, `${pid}.sock`);
    assert.equal(lstatSync(t.sockets).mode & 0o777, 0o700);
    assert.equal(lstatSync(sock).mode & 0o777, 0o600);

    // ps gives each process 2 s to answer; a server short of processor time may not, and is listed as not answering: asked again.
    let ps = await J('ps');
    for (let i = 0; i < 10 && / \(not answering/.test(ps.stdout); i++) ps = await J('ps');
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /^ {4}PID {5}ELAPSED {2}COMMAND\n/);
    assert.match(ps.stdout, new RegExp(`^ *${pid} +(\\d+-)?(\\d\\d:)?\\d\\d:\\d\\d  node ${fixture('server.mjs').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    type PsRow = { pid: number; argv?: string[]; node: string };
    const psJson = async (): Promise<PsRow | undefined> => (await J('ps', '--json')).stdout.trim().split('\n').map((l) => JSON.parse(l) as PsRow)[0];
    let row = await psJson();
    for (let i = 0; i < 10 && row?.argv === undefined; i++) row = await psJson();
    assert.deepEqual([row!.pid, row!.argv?.slice(1), row!.node], [server.pid, [fixture('server.mjs')], process.version]);

    assert.equal((await J('-P', pid, 'list', '-t')).stdout, 'function_graph\nfunction\nnop\n');
    const fns = await J('-P', pid, 'list', '-f');
    for (const f of [HR, HH, HQ, site('server.mjs', 'greet')]) assert.ok(fns.stdout.split('\n').includes(f), f);

    // Without -p the tracer stays nop: start says that nothing will be recorded.
    const bare = await J('-P', pid, 'start');
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(bare.stderr, `jsftrace: tracing on in ${pid}, but its tracer is nop: nothing is recorded but markers (give -p function or -p function_graph)\n`);

    const start = await J('-P', pid, 'start', '-p', 'function', '-l', '*:handle*');
    assert.equal(start.code, 0, start.stderr);
    assert.equal(start.stderr, `jsftrace: tracing ${pid} with function\n`);
    const stat = await J('stat', '-P', pid);
    assert.match(stat.stdout, /^current_tracer +function$/m);
    assert.match(stat.stdout, /^tracing_on +1$/m);
    assert.match(stat.stdout, new RegExp(`^set_ftrace_filter +${HH}\\n +${HQ}\\n +${HR}$`, 'm'));

    pipe = new Running(process.execPath, [mainJs, '-P', pid, 'pipe'], { env });
    assert.equal(await get(port, '/hello'), 'hello world\n');
    await pipe.waitFor(new RegExp(`${HH} <-${HR} \\(nearest traced\\)\\n`));
    assert.equal(await get(port, '/hello'), 'hello world\n');
    await pipe.waitFor(new RegExp(`${HH} <-${HR} \\(nearest traced\\)\\n[^]*${HH} <-${HR} \\(nearest traced\\)\\n`));
    assert.deepEqual(await pipe.stop('SIGINT'), { code: 0, signal: null });
    assert.deepEqual(events(pipe.stdout), [`${HR}`, `${HH} <-${HR} (nearest traced)`, `${HR}`, `${HH} <-${HR} (nearest traced)`]);
    assert.equal(pipe.stderr, '');

    // trace_pipe consumed those; `show` reads `trace`, which does not consume.
    assert.deepEqual(events((await J('-P', pid, 'show')).stdout), []);
    await get(port, '/hello');
    assert.deepEqual(events((await J('-P', pid, 'show')).stdout), [`${HR}`, `${HH} <-${HR} (nearest traced)`]);
    const ex = await J('-P', pid, 'extract', '-o', 'x.jsft');
    assert.equal(ex.code, 0, ex.stderr);
    assert.match(ex.stderr, /^jsftrace: extracted 2 events from 1 thread to x\.jsft \(\d+\.\d KiB\)\n$/);
    assert.deepEqual(events((await J('report', '-i', 'x.jsft')).stdout), [`${HR}`, `${HH} <-${HR} (nearest traced)`]);

    assert.equal((await J('-P', pid, 'stop')).code, 0);
    assert.equal((await J('-P', pid, 'fs', 'cat', 'tracing_on')).stdout, '0\n');
    await get(port, '/hello');
    assert.equal(events((await J('-P', pid, 'show')).stdout).length, 2, 'nothing written while stopped');

    const bad = await J('-P', pid, 'fs', 'write', 'current_tracer', 'bogus');
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'jsftrace: current_tracer: no tracer "bogus" (EINVAL)\n');
    assert.match((await J('-P', pid, 'fs', 'cat', 'error_log')).stdout, /current_tracer: error: .*\n {2}Command: bogus\n/);
    const ls = (await J('-P', pid, 'fs', 'ls')).stdout.split('\n');
    for (const f of ['current_tracer', 'trace_pipe', 'options/overwrite', 'set_ftrace_filter']) assert.ok(ls.includes(f), f);
    assert.ok((await J('-P', pid, 'fs', 'ls', 'options')).stdout.split('\n').includes('overwrite'));

    const reset = await J('-P', pid, 'reset');
    assert.equal(reset.code, 0, reset.stderr);
    const after = (f: string): Promise<string> => J('-P', pid, 'fs', 'cat', f).then((r) => r.stdout);
    assert.equal(await after('current_tracer'), 'nop\n');
    assert.equal(await after('set_ftrace_filter'), '#### all functions enabled ####\n');
    assert.equal(await after('tracing_on'), '1\n');
    assert.deepEqual(events((await J('-P', pid, 'show')).stdout), []);
    await get(port, '/hello');
    assert.deepEqual(events((await J('-P', pid, 'show')).stdout), [], 'nop traces nothing');
  } finally {
    await pipe?.stop();
    await server.stop('SIGKILL');
    t.done();
  }
});

test('bad frames get error answers and the program serves on', { timeout: 30_000 }, async () => {
  const t = tempDir();
  const env = cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets });
  const { server, port } = await startServer(env);
  try {
    const sock = join(t.sockets, `${server.pid}.sock`);
    const c = await RawClient.open(sock);
    c.send('this is not json\n');
    assert.equal((await c.next())?.['code'], 'EINVAL');
    c.request({ id: 1, op: 'unlink', path: 'trace' });
    const unknown = await c.next();
    assert.deepEqual([unknown?.['id'], unknown?.['code']], [1, 'EINVAL']);
    c.close();

    const v2 = await RawClient.open(sock);
    v2.send(`${JSON.stringify({ v: 2, id: 1, op: 'hello' })}\n`);
    assert.equal((await v2.next())?.['code'], 'EPROTO');
    await v2.closedByServer();

    const big = await RawClient.open(sock);
    big.send('x'.repeat(2 << 20));
    assert.equal((await big.next())?.['code'], 'EMSGSIZE');
    await big.closedByServer();

    assert.equal(await get(port, '/hello'), 'hello world\n');
    const ok = await RawClient.open(sock);
    ok.request({ id: 7, op: 'read', path: 'current_tracer' });
    assert.deepEqual(await ok.next(), { v: 1, id: 7, ok: true, text: 'nop\n' });
    ok.close();
  } finally {
    await server.stop('SIGKILL');
    t.done();
  }
});

test('a pipe ends when the process exits, and the socket goes with it', { timeout: 30_000 }, async () => {
  const t = tempDir();
  const env = cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets });
  const { server, port } = await startServer(env);
  try {
    const pid = String(server.pid);
    assert.equal((await jsftrace(['-P', pid, 'start', '-p', 'function', '-l', '*:handleHello'], { env })).code, 0);
    const pipe = new Running(process.execPath, [mainJs, '-P', pid, 'pipe'], { env });
    // An event through the pipe: it is connected before the process goes.
    await get(port, '/hello');
    await pipe.waitFor(new RegExp(`${HH}(?: <-.*)?\n`));
    assert.equal(await get(port, '/quit'), 'bye\n');
    assert.deepEqual(await server.exited, { code: 0, signal: null });
    assert.deepEqual(await pipe.exited, { code: 0, signal: null });
    assert.equal(pipe.stderr, `jsftrace: process ${pid} ended\n`);
    assert.equal(existsSync(join(t.sockets, `${pid}.sock`)), false);
  } finally {
    await server.stop('SIGKILL');
    t.done();
  }
});

test('the socket of a killed process: ps drops it and removes it, -P refuses it', { timeout: 30_000 }, async () => {
  const t = tempDir();
  const env = cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets });
  const { server } = await startServer(env);
  // A plain node process whose command line has a newline (a two-line -e script): its row stays one line.
  const plain = new Running(process.execPath, ['-e', "process.stdout.write('ready\\n');\nsetInterval(() => {}, 1000);"], { env });
  try {
    await plain.waitFor(/^ready$/m);
    const pid = String(server.pid);
    const sock = join(t.sockets, `${pid}.sock`);
    await server.stop('SIGKILL');
    assert.ok(existsSync(sock), 'SIGKILL runs no exit handler: the socket stays');
    const ps = await jsftrace(['ps'], { env });
    // No traced process; this user's other node processes follow, marked (docs/attach.md).
    const [head, ...rows] = ps.stdout.trimEnd().split('\n');
    assert.equal(head, '    PID     ELAPSED  COMMAND');
    for (const r of rows) assert.match(r, /\(not attached\)$/);
    assert.ok(!rows.some((r) => r.trimStart().startsWith(`${pid} `)), 'the killed process is not listed');
    assert.equal(rows.filter((r) => r.trimStart().startsWith(`${plain.pid} `)).map((r) => r.replace(/^ *\d+ +[\d:-]+  /, '')).join('\n'),
      "node -e process.stdout.write('ready\\n');?setInterval(() => {}, 1000); (not attached)");
    assert.equal(existsSync(sock), false);
    const stop = await jsftrace(['-P', pid, 'stop'], { env });
    assert.equal(stop.code, 1);
    assert.equal(stop.stderr, `jsftrace: no jsftrace process with pid ${pid} (jsftrace ps lists them) (ESRCH)\n`);
  } finally {
    await server.stop('SIGKILL');
    await plain.stop('SIGKILL');
    t.done();
  }
});
