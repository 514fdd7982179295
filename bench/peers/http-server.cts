/**
 * Workload: a fastify server on 127.0.0.1 (port chosen by the system,
 * printed as `PORT <n>`), with a route that validates its parameters and
 * query string, runs a hook and serialises its reply through a response
 * schema. Loaded from the application tree named by PEERS_APP. Closes
 * and leaves when its standard input ends, so that exit handlers (the
 * contenders' counters, --cpu-prof's profile) run.
 */

const path = require('node:path') as typeof import('node:path');
const { createRequire } = require('node:module') as typeof import('node:module');

interface Reply { header(k: string, v: string): Reply }
interface Req { params: { id: number }; query: { q?: string; n?: number } }
interface Fastify {
  addHook(name: string, fn: (req: unknown, reply: Reply, done: () => void) => void): void;
  get(url: string, opts: unknown, handler: (req: Req) => Promise<unknown>): void;
  listen(o: { port: number; host: string }): Promise<string>;
  close(): Promise<void>;
  server: { address(): { port: number } };
}

async function main(): Promise<void> {
  const app = process.env['PEERS_APP'];
  if (app === undefined) throw new Error('PEERS_APP is not set');
  await (globalThis as { __peersReady?: Promise<unknown> }).__peersReady;
  const req = createRequire(path.join(app, 'package.json'));
  const fastify = req('fastify') as (o: unknown) => Fastify;
  const server = fastify({ logger: false });
  server.addHook('onRequest', (_req, reply, done) => { reply.header('x-bench', '1'); done(); });
  const user = {
    type: 'object',
    properties: {
      id: { type: 'integer' }, name: { type: 'string' }, q: { type: 'string' },
      tags: { type: 'array', items: { type: 'string' } },
      scores: { type: 'array', items: { type: 'object', properties: { k: { type: 'string' }, v: { type: 'number' } } } },
    },
  };
  server.get('/users/:id', {
    schema: {
      params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
      querystring: { type: 'object', properties: { q: { type: 'string' }, n: { type: 'integer', default: 4 } } },
      response: { 200: user },
    },
  }, async (r) => {
    const n = r.query.n ?? 4;
    const scores = [];
    for (let k = 0; k < n; k++) scores.push({ k: `s${k}`, v: (r.params.id * (k + 1)) % 97 });
    return { id: r.params.id, name: `user ${r.params.id}`, q: r.query.q ?? '', tags: ['a', 'b', 'c'], scores };
  });
  await server.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`PORT ${server.server.address().port}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => { void server.close().then(() => process.stdin.pause()); });
}

main().catch((e: unknown) => {
  process.stderr.write(`${String((e as Error)?.stack ?? e)}\n`);
  process.exitCode = 1;
});
