// A Koa app and an Express app written as their READMEs write them,
// driven by real HTTP requests on loopback, in every mode (support.ts):
// the responses, the apps' logs and their exit (a graceful shutdown on
// SIGTERM) must be the same.

import { before, after, test } from 'node:test';
import { ensureInstalled, serverEveryMode, Scratch } from './support.js';

const scratch = new Scratch();
before(ensureInstalled);
after(scratch.done);

type Req = [method: string, path: string, body?: unknown];

/** The requests in order, each answer as one line: status, type, body. */
function driver(requests: Req[]): (port: number) => Promise<string[]> {
  return async (port) => {
    const out: string[] = [];
    for (const [method, path, body] of requests) {
      const init: RequestInit = { method };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers = { 'content-type': 'application/json' };
      }
      const r = await fetch(`http://127.0.0.1:${port}${path}`, init);
      out.push(`${method} ${path} ${r.status} ${r.headers.get('content-type')} ${await r.text()}`);
    }
    return out;
  };
}

test('a Koa app in the README style answers the same', async () => {
  await serverEveryMode('koa', ['koa-app.js'], driver([
    ['GET', '/'], ['GET', '/json?a=1&b=two'], ['GET', '/boom'], ['POST', '/', { big: 'x'.repeat(5000) }], ['GET', '/again'],
  ]), { scratch, minSites: 100 });
});

test('an Express app in the README style answers the same', async () => {
  await serverEveryMode('express', ['express-app.js'], driver([
    ['GET', '/'], ['GET', '/api/users/7?sort=asc'], ['POST', '/api/users', { name: 'ann' }], ['GET', '/fail'],
    ['GET', '/async-fail'], ['GET', '/nowhere'],
  ]), { scratch, minSites: 100 });
});
