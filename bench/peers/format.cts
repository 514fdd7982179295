/**
 * Workload: prettier (its CommonJS build) formatting a corpus of markdown
 * files, one after the other. The corpus is a list of files written by
 * others (the documentation shipped in installed packages), given in the
 * file named by PEERS_CORPUS; prettier is loaded from the application tree
 * named by PEERS_APP. Prints one `RESULT` line (sizes and a checksum of
 * the output) that must not depend on the contender.
 */

const path = require('node:path') as typeof import('node:path');
const fs = require('node:fs') as typeof import('node:fs');
const { createHash } = require('node:crypto') as typeof import('node:crypto');
const { createRequire } = require('node:module') as typeof import('node:module');

interface Prettier {
  format(source: string, options: { parser: string; plugins: unknown[] }): Promise<string>;
}

async function main(): Promise<void> {
  const app = process.env['PEERS_APP'];
  const corpus = process.env['PEERS_CORPUS'];
  if (app === undefined || corpus === undefined) throw new Error('PEERS_APP and PEERS_CORPUS must be set');
  await (globalThis as { __peersReady?: Promise<unknown> }).__peersReady;
  const req = createRequire(path.join(app, 'package.json'));
  const prettier = req('prettier/standalone') as Prettier;
  const markdown = req('prettier/plugins/markdown') as unknown;
  const files = JSON.parse(fs.readFileSync(corpus, 'utf8')) as string[];
  const hash = createHash('sha256');
  let bytesIn = 0;
  let bytesOut = 0;
  for (const f of files) {
    const src = fs.readFileSync(f, 'utf8');
    const out = await prettier.format(src, { parser: 'markdown', plugins: [markdown] });
    bytesIn += src.length;
    bytesOut += out.length;
    hash.update(out);
  }
  process.stdout.write(`RESULT ${JSON.stringify({ files: files.length, bytesIn, bytesOut, sha256: hash.digest('hex').slice(0, 16) })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${String((e as Error)?.stack ?? e)}\n`);
  process.exitCode = 1;
});
