/**
 * The load generator of the HTTP workload, in its own process: autocannon
 * on loopback against the URL given, a warm-up that is not counted, then
 * a measured period. Prints one `RESULT` line: requests per second, p99
 * latency in ms, errors and non-2xx replies.
 *
 * usage: node load.cjs <url> <warm s> <measure s> <connections>
 */

const path = require('node:path') as typeof import('node:path');
const { createRequire } = require('node:module') as typeof import('node:module');

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p99: number; p50: number };
  errors: number; timeouts: number; non2xx: number; duration: number;
}
type Autocannon = (o: Record<string, unknown>) => Promise<AutocannonResult>;

async function main(): Promise<void> {
  const [url, warm, measure, connections] = process.argv.slice(2);
  const dir = process.env['PEERS_DEPS'];
  if (url === undefined || dir === undefined) throw new Error('usage: load.cjs <url> <warm s> <measure s> <connections> (PEERS_DEPS set)');
  const autocannon = createRequire(path.join(dir, 'package.json'))('autocannon') as Autocannon;
  const opts = { url, connections: Number(connections ?? 10), pipelining: 1 };
  await autocannon({ ...opts, duration: Number(warm ?? 1) });
  const r = await autocannon({ ...opts, duration: Number(measure ?? 2) });
  process.stdout.write(`RESULT ${JSON.stringify({
    rps: r.requests.total / r.duration, p99: r.latency.p99, p50: r.latency.p50, total: r.requests.total,
    errors: r.errors + r.timeouts, non2xx: r.non2xx,
  })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${String((e as Error)?.stack ?? e)}\n`);
  process.exitCode = 1;
});
