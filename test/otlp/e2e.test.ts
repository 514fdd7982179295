// End to end: an HTTP server instrumented by @opentelemetry/sdk-node with
// its HTTP instrumentation, run under `jsftrace record --otlp` with its
// handlers selected. A real OTLP/HTTP receiver in the test (127.0.0.1)
// gets both the server's own spans and jsftrace's function spans, and
// decodes them with OpenTelemetry's own protobuf definitions. Every
// function span is in the trace of the request that ran it, with a parent
// in that trace (the handler's parent is the HTTP server span itself), and
// the function spans are exactly the calls of jsftrace's own function_graph
// of the same run: same names, same durations to the nanosecond, and the
// same durations as the graph text prints them.
//
// Then, without OpenTelemetry in the program: each root call is a trace of
// its own, and jsftrace says so.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, fixture as cliFixture, jsftrace, mainJs, Running, tempDir } from '../cli/support.js';
import { Receiver, type Span } from './receiver.js';
import { PAGE_DROPPED, PAGE_END, TraceFile } from '../../src/tracefile/read.js';
import { EventCursor, pageFormatFor } from '../../src/ring/index.js';
import { EV_GRAPH_RET, RET_SUSPENDED } from '../../src/tracers/session.js';
import { graphDuration } from '../../src/tracers/output/common.js';

const FIX = 'test/fixtures/otlp';
const HANDLERS = `${FIX}/handlers.cjs`;
const fixture = (name: string): string => cliFixture(`../otlp/${name}`);

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject).end();
  });
}

/** Every call the graph completed: (name, duration in ns), from the return events of the trace file. */
function graphCalls(file: string): string[] {
  const t = TraceFile.open(file);
  const out: string[] = [];
  try {
    for (const st of t.streams) {
      const pages = t.pages(st);
      const e = new EventCursor(pageFormatFor(st.info.pageBytes));
      for (let r = pages.next(); r !== PAGE_END; r = pages.next()) {
        if (r === PAGE_DROPPED) continue;
        e.load(pages.data, pages.base);
        while (e.step()) {
          if (e.is(EV_GRAPH_RET) && (e.flags & RET_SUSPENDED) === 0) out.push(`${st.process.names[e.u32(1)]} ${e.u64(3)}`);
        }
      }
    }
  } finally {
    t.close();
  }
  return out.sort();
}

/**
 * The same from the graph's text (funcgraph-tail names every closing brace):
 * (name, duration as printed) of each completed call.
 */
function graphText(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^ *\d+\) [ +!#*@$] (.+?)\| +(?:\} \/\* (\S+)( threw| unwound)? \*\/|(\S+)\(\);(?: \/\* ([a-z, ]+) \*\/)?)$/.exec(line);
    if (m === null) continue;
    if (m[2] !== undefined) out.push(`${m[2]} ${m[1]!.trim()}`);
    else if (!(m[5] ?? '').includes('suspended')) out.push(`${m[4]} ${m[1]!.trim()}`);
  }
  return out.sort();
}

const dur = (s: Span): bigint => s.endNs - s.startNs;

test('function spans join the requests\' traces, and are exactly the graph\'s calls', { timeout: 120_000 }, async () => {
  const t = tempDir('jsftrace-otlp-');
  const rx = new Receiver();
  await rx.start();
  let app: Running | null = null;
  try {
    const out = join(t.dir, 'trace.jsft');
    const env = cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets, APP_OTLP_URL: `${rx.url}/v1/traces`, OTEL_SERVICE_NAME: 'otlp-e2e', JSFTRACE_EXCLUDE: ':mod:', JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(t.dir, 'cache') });
    app = new Running(process.execPath, [
      mainJs, 'record', '--otlp', rx.url, '-O', 'funcgraph-tail', '-l', `${HANDLERS}:*`, '-o', out, '--', process.execPath, fixture('app.cjs'),
    ], { env, timeoutMs: 110_000 });
    const port = Number((await app.waitFor(/^port (\d+)$/m))[1]);
    // Six one after another, four at once, one that throws (caught in handle).
    const ids = [1, 2, 3, 4, 5, 6];
    for (const id of ids) assert.equal((await get(port, `/user/${id}`)).body, `{"id":${id},"name":"user${id}"}\n`);
    const together = await Promise.all([7, 8, 9, 10].map((id) => get(port, `/user/${id}`)));
    assert.deepEqual(together.map((r) => r.status), [200, 200, 200, 200]);
    assert.deepEqual(await get(port, '/user/0'), { status: 404, body: 'no user 0\n' });
    await get(port, '/quit');
    const end = await app.exited;
    assert.equal(end.code, 0, app.stderr);
    assert.match(app.stderr, /^jsftrace: recorded \d+ events from 1 thread to /m);
    assert.doesNotMatch(app.stderr, /jsftrace: otlp/, 'nothing to say: the program has the API and everything was sent');

    const path = (s: Span): string => String(s.attributes['url.path'] ?? s.attributes['http.target']);
    // The server spans of the user requests (that of /quit may end after the SDK shut down).
    const server = rx.of('@opentelemetry/instrumentation-http').filter((s) => s.kind === 2 /* SERVER */ && path(s) !== '/quit');
    const fns = rx.of('jsftrace');
    assert.equal(server.length, 11, 'one server span per request');
    // handle, loadUser, the timer promise's executor, check, and format (not on the throwing request) per user request.
    const count = (n: string): number => fns.filter((s) => s.name === `${HANDLERS}:${n}`).length;
    assert.deepEqual([count('handle'), count('loadUser'), count('check'), count('format')], [11, 11, 11, 10]);
    assert.equal(fns.length, 11 * 4 + 10);

    const byId = new Map(rx.spans.map((s) => [s.spanId, s]));
    const serverTraces = new Map(server.map((s) => [s.traceId, s]));
    for (const f of fns) {
      const req = serverTraces.get(f.traceId);
      assert.ok(req !== undefined, `${f.name}: its trace ${f.traceId} is a request's`);
      const parent = byId.get(f.parentSpanId);
      assert.ok(parent !== undefined && parent.traceId === f.traceId, `${f.name}: its parent is in the trace`);
      assert.ok(f.startNs >= parent.startNs, `${f.name} starts within its parent`);
      if (f.name.endsWith(':handle')) {
        assert.equal(parent, req, 'a handler hangs from its request\'s server span');
        assert.equal(f.flags & 0x300, 0x300, 'whose parent is remote (another tracer\'s span)');
      } else {
        assert.equal(parent.scope, 'jsftrace');
        assert.equal(f.flags & 0x300, 0x100, 'a function span\'s parent is local');
      }
      assert.equal(f.service, 'otlp-e2e', 'the service the program names in OTEL_SERVICE_NAME');
      assert.equal(req.service, 'otlp-e2e');
      assert.equal(f.attributes['code.file.path'], HANDLERS);
      assert.equal(f.attributes['thread.id'], 0);
      assert.equal(f.attributes['code.function.name'], f.name.slice(HANDLERS.length + 1));
    }
    // The call tree of each request: handle -> loadUser -> (executor, check), handle -> format.
    assert.deepEqual(server.map(path).sort(), [0, ...ids, 7, 8, 9, 10].map((i) => `/user/${i}`).sort());
    for (const req of server) {
      const inTrace = fns.filter((f) => f.traceId === req.traceId);
      const name = (s: Span | undefined): string => (s === undefined ? '' : s.name.slice(HANDLERS.length + 1));
      const edges = inTrace.map((f) => `${name(byId.get(f.parentSpanId)) || 'server'}>${name(f)}`).sort();
      const ok = path(req) !== '/user/0';
      assert.deepEqual(edges, ok
        ? ['handle>format', 'handle>loadUser', 'loadUser><anonymous>@15:21', 'loadUser>check', 'server>handle'].sort()
        : ['handle>loadUser', 'loadUser><anonymous>@15:21', 'loadUser>check', 'server>handle'].sort());
    }
    // Async functions say how long they waited; a sync one does not.
    for (const f of fns.filter((s) => s.name.endsWith(':loadUser') || s.name.endsWith(':handle'))) {
      const waited = f.attributes['jsftrace.suspended_ns'];
      assert.ok(typeof waited === 'number' && waited > 0 && BigInt(waited) < dur(f), `${f.name} waited ${waited} ns of ${dur(f)}`);
    }
    assert.equal(fns.find((s) => s.name.endsWith(':format'))!.attributes['jsftrace.suspended_ns'], undefined);
    // check threw on /user/0 and its span says a throw went through it (load-time sites do not see the value).
    const threw = fns.filter((s) => s.name.endsWith(':check') && s.status.code === 2);
    assert.equal(threw.length, 1);
    assert.equal(threw[0]!.attributes['jsftrace.exit'], 'unwound');

    // The graph of the same run: the same calls, the same durations, exactly and as printed.
    const spans = fns.map((s) => `${s.name} ${dur(s)}`).sort();
    assert.deepEqual(spans, graphCalls(out));
    const text = await jsftrace(['report', '-i', out], { env });
    assert.equal(text.code, 0, text.stderr);
    assert.deepEqual(fns.map((s) => `${s.name} ${graphDuration(Number(dur(s))).trim()}`).sort(), graphText(text.stdout));

    // Offline: the same trace file as an OTLP request, through the same reconstruction.
    const pb = join(t.dir, 'spans.pb');
    const rep = await jsftrace(['report', '-i', out, '--format', 'otlp', '-o', pb], { env });
    assert.equal(rep.code, 0, rep.stderr);
    const offline = new Receiver();
    await offline.start();
    try {
      await new Promise<void>((resolve, reject) => {
        const req = request(`${offline.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' } }, (res) => {
          res.resume().on('end', resolve);
        });
        req.on('error', reject).end(readFileSync(pb));
      });
      assert.deepEqual(offline.spans.map((s) => `${s.name} ${dur(s)}`).sort(), spans);
      assert.deepEqual(new Set(offline.spans.map((s) => s.traceId)), new Set(fns.map((s) => s.traceId)));
    } finally {
      await offline.close();
    }
  } finally {
    await app?.stop('SIGKILL');
    await rx.close();
    t.done();
  }
});

/** `record --otlp <a receiver> -o <a file> ...args -- node <program>`, with the receiver's spans; `threads`: how many were recorded. */
async function recordProgram(program: string, threads: number, args: string[], check: (r: Awaited<ReturnType<typeof jsftrace>>, rx: Receiver) => void): Promise<void> {
  const t = tempDir('jsftrace-otlp-');
  const rx = new Receiver();
  await rx.start();
  try {
    const env = cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets });
    const r = await jsftrace(['record', '--otlp', rx.url, '-o', join(t.dir, 't.jsft'), ...args, '--', process.execPath, fixture(program)], { env });
    assert.equal(r.code, 0, r.stderr);
    // The program's threads alone: no event of the export's own worker.
    assert.match(r.stderr, new RegExp(`^jsftrace: recorded \\d+ events? from ${threads} threads? to `, 'm'), r.stderr);
    check(r, rx);
  } finally {
    await rx.close();
    t.done();
  }
}

function recordPlain(args: string[], check: (r: Awaited<ReturnType<typeof jsftrace>>, rx: Receiver) => void): Promise<void> {
  return recordProgram('plain.mjs', 1, args, check);
}

const PLAIN_ROOTS = [`${FIX}/plain.mjs:main`, `${FIX}/plain.mjs:tick`];

test('without OpenTelemetry in the program: a trace per root call, and jsftrace says so', { timeout: 60_000 }, async () => {
  await recordPlain(['-l', `${FIX}/plain.mjs:*`], (r, rx) => {
    assert.match(r.stderr, /^jsftrace: otlp: the program has no OpenTelemetry API \(@opentelemetry\/api\): each call with no traced caller starts a trace of its own$/m);
    const fns = rx.of('jsftrace');
    const roots = fns.filter((s) => s.parentSpanId === '');
    assert.deepEqual(roots.map((s) => s.name).sort(), PLAIN_ROOTS);
    assert.equal(new Set(fns.map((s) => s.traceId)).size, 2);
    for (const f of fns) assert.ok(roots.some((r0) => r0.traceId === f.traceId));
  });
});

// With --flight-recorder the export runs in a worker of its own (no drain
// hosts it). record's NODE_OPTIONS loads jsftrace/register in every thread
// that applies it, and a worker applies its environment's: the export's
// worker was instrumented and, with every function traced, traced itself.
test('record --flight-recorder --otlp with every function traced: the export\'s own worker is not traced', { timeout: 60_000 }, async () => {
  await recordPlain(['--flight-recorder'], (_r, rx) => {
    assert.deepEqual(rx.of('jsftrace').filter((s) => s.parentSpanId === '').map((s) => s.name).sort(), PLAIN_ROOTS);
  });
});

// Every thread announces its ring again when another thread opens the
// session, each time as a new SharedArrayBuffer object. The export followed
// rings by that object: main's ring, already read, was read again from its
// first event and its calls sent twice.
test('record --flight-recorder --otlp: a thread that starts late does not make the export send the others\' calls again', { timeout: 60_000 }, async () => {
  await recordProgram('late-thread.mjs', 2, ['--flight-recorder'], (_r, rx) => {
    const roots = rx.of('jsftrace').filter((s) => s.parentSpanId === '').map((s) => s.name.replace(`${FIX}/late-thread.mjs:`, '')).sort();
    assert.deepEqual(roots, ['done', 'inWorker', 'later', 'main', 'startWorker']);
  });
});
