/**
 * `npm run bench -- otlp`: what the OTLP export adds to a traced server's
 * request latency, and how fast it exports.
 *
 * One small HTTP server (three traced functions a request: route, compute,
 * digits), on 127.0.0.1, run four ways in the same run: plain node; under
 * `jsftrace record -p function_graph` on those functions; the same with
 * `--otlp` to a receiver in this process (it reads each request and answers
 * 200, decoding nothing); and with `--otlp` to a port where nothing listens
 * (the receiver is down). Each way: WARMUP requests, then REQUESTS requests,
 * AT_ONCE at a time, each timed at the client from request to last byte.
 * Printed: p50 and p99 per way and their ratio to plain, and the spans the
 * export counted (trace_stat/otlp) against those the requests made.
 *
 * Owns: the target program (written to a temporary directory) and the
 * figures. Latency at p99 on a shared machine is noisy: compare ways within
 * one run, and note the machine's load beside the figures.
 */

import { spawn, spawnSync } from 'node:child_process';
import { createServer, request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeResults } from '../harness.js';

const mainJs = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const WARMUP = 1000;
const REQUESTS = 6000;
const AT_ONCE = 8;

const APP = `
import { createServer } from 'node:http';
function digits(k) { let s = 0; for (const d of String(k)) s += Number(d); return s; }
function compute(k) { return digits(k) * 2; }
function route(req, res) {
  if (req.url === '/quit') { res.end('bye', () => process.exit(0)); return; }
  res.end(String(compute(Number(req.url.slice(3)))));
}
const server = createServer(route);
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
`;

interface Way {
  name: string;
  args: (app: string, receiver: string) => string[];
}

const FILTER = ['-l', 'app.mjs:route', '-l', 'app.mjs:compute', '-l', 'app.mjs:digits'];
const WAYS: Way[] = [
  { name: 'plain', args: (app) => [app] },
  { name: 'function_graph', args: (app, _r) => [mainJs, 'record', '-p', 'function_graph', ...FILTER, '-o', `${app}.g.jsft`, '--', process.execPath, app] },
  { name: 'function_graph + otlp', args: (app, r) => [mainJs, 'record', '--otlp', r, ...FILTER, '-o', `${app}.o.jsft`, '--', process.execPath, app] },
  { name: 'otlp, receiver down', args: (app) => [mainJs, 'record', '--otlp', 'http://127.0.0.1:9', ...FILTER, '-o', `${app}.d.jsft`, '--', process.execPath, app] },
];

function get(port: number, path: string, agent: import('node:http').Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume().on('end', () => resolve(Number(process.hrtime.bigint() - t0)));
    });
    req.on('error', reject).end();
  });
}

async function drive(port: number, n: number, from: number): Promise<number[]> {
  const { Agent } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: AT_ONCE });
  const lat: number[] = [];
  let next = from;
  await Promise.all(Array.from({ length: AT_ONCE }, async () => {
    while (next < from + n) lat.push(await get(port, `/n/${next++}`, agent));
  }));
  agent.destroy();
  return lat;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'jsftrace-bench-otlp-'));
  const app = join(dir, 'app.mjs');
  writeFileSync(app, APP);
  let received = 0;
  const rx = createServer((req, res) => {
    req.resume().on('end', () => {
      received++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
  const receiver = `http://127.0.0.1:${(rx.address() as AddressInfo).port}`;
  const load = loadavg();
  const results: Record<string, unknown> = {};
  let plain: { p50: number; p99: number } | null = null;
  const env = { ...process.env, JSFTRACE_SOCKET_DIR: join(dir, 'sockets'), NODE_OPTIONS: '' };
  try {
    for (const way of WAYS) {
      const child = spawn(process.execPath, way.args(app, receiver), { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          const m = /port (\d+)/.exec(out);
          if (m !== null) resolve(Number(m[1]));
        });
        child.once('exit', () => reject(new Error(`${way.name}: ended early: ${err}`)));
      });
      await drive(port, WARMUP, 0);
      const lat = await drive(port, REQUESTS, WARMUP);
      let stat = '';
      if (way.name.includes('otlp')) {
        await new Promise((r) => setTimeout(r, 1500)); // one batch delay: what was made is sent or counted
        const ps = spawnSync(process.execPath, [mainJs, 'ps', '--json'], { env, encoding: 'utf8' });
        const row = ps.stdout.trim().split('\n').map((l) => JSON.parse(l) as { pid: number; argv: string[] }).find((r) => r.argv.some((a) => a === app));
        if (row !== undefined) stat = spawnSync(process.execPath, [mainJs, '-P', String(row.pid), 'fs', 'cat', 'trace_stat/otlp'], { env, encoding: 'utf8' }).stdout;
      }
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        request({ host: '127.0.0.1', port, path: '/quit' }).on('error', () => resolve()).end();
      });
      const p50 = pct(lat, 50) / 1e3;
      const p99 = pct(lat, 99) / 1e3;
      if (plain === null) plain = { p50, p99 };
      const counts: Record<string, number> = {};
      for (const m of stat.matchAll(/^([a-z_]+) +(\d+)  /gm)) counts[m[1]!] = Number(m[2]);
      results[way.name] = { p50us: p50, p99us: p99, p50Ratio: p50 / plain.p50, p99Ratio: p99 / plain.p99, otlp: counts };
      const c = way.name.includes('otlp')
        ? `  spans ${counts['spans'] ?? '?'} (of ${(WARMUP + REQUESTS) * 3}): exported ${counts['exported'] ?? '?'}, failed ${counts['export_failed'] ?? '?'}, queue_full ${counts['queue_full'] ?? '?'}, queued ${counts['queued'] ?? '?'}, backlog ${counts['backlog'] ?? '?'} events, lost ${counts['events_lost'] ?? '?'} events`
        : '';
      process.stdout.write(`${way.name.padEnd(24)} p50 ${p50.toFixed(1).padStart(7)} us (${(p50 / plain.p50).toFixed(2)}x)  p99 ${p99.toFixed(1).padStart(7)} us (${(p99 / plain.p99).toFixed(2)}x)${c}\n`);
    }
  } finally {
    rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`receiver got ${received} batches; load average before the run ${load.map((x) => x.toFixed(2)).join(' ')}\n`);
  process.stdout.write(`wrote ${writeResults('otlp', { requests: REQUESTS, atOnce: AT_ONCE, loadavg: load, ways: results })}\n`);
}

await main();
