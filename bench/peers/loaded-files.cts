/**
 * Preloaded with --require in one uninstrumented run of each workload:
 * at exit, writes the files of the application tree that the workload
 * loaded (require.cache) to the JSON file named by PEERS_LOADED. These
 * are the files the TracingChannel transform rewrites.
 */

const fs = require('node:fs') as typeof import('node:fs');
const path = require('node:path') as typeof import('node:path');

const out = process.env['PEERS_LOADED'];
const root = path.join(process.env['PEERS_APP'] ?? '', 'node_modules') + path.sep;
process.on('exit', () => {
  if (out === undefined) return;
  const files = Object.keys(require.cache).filter((f) => f.startsWith(root)).sort();
  fs.writeFileSync(out, JSON.stringify(files));
});
