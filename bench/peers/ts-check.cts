/**
 * Workload: the TypeScript compiler, through its API, type-checking its own
 * typescript.d.ts (tens of millions of calls). Loads `typescript` from the
 * application tree named by PEERS_APP, so that every contender instruments
 * the same copy as a user's dependency. Prints one `RESULT` line whose
 * content must not depend on the contender.
 */

const path = require('node:path') as typeof import('node:path');
const { createRequire } = require('node:module') as typeof import('node:module');

async function main(): Promise<void> {
  const app = process.env['PEERS_APP'];
  if (app === undefined) throw new Error('PEERS_APP is not set');
  await (globalThis as { __peersReady?: Promise<unknown> }).__peersReady;
  const req = createRequire(path.join(app, 'package.json'));
  const ts = req('typescript') as typeof import('typescript');
  const lib = path.dirname(req.resolve('typescript'));
  const program = ts.createProgram([path.join(lib, 'typescript.d.ts')], { noEmit: true, lib: ['lib.es2022.d.ts'], types: [] });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  process.stdout.write(`RESULT ${JSON.stringify({ files: program.getSourceFiles().length, diagnostics: diagnostics.length })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${String((e as Error)?.stack ?? e)}\n`);
  process.exitCode = 1;
});
