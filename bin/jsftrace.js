#!/usr/bin/env node
// The `jsftrace` command: the CLI compiled to dist/. A checkout that was
// never built (a clone before `npm install`) says so instead of a stack trace.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`jsftrace: ${new URL('..', import.meta.url).pathname} is not built (no dist/): run npm install (or npm run build) there\n`);
  process.exit(1);
}
await import(main.href);
