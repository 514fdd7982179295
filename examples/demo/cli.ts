// `npm run demo`, part 1: the jsftrace CLI records a program it knows
// nothing about (examples/orders) with function_graph, then reports the
// trace as text, as a flame graph (HTML) and as a Perfetto file.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'bin', 'jsftrace.js');
const app = join(root, 'dist', 'examples', 'orders', 'app.js');
const out = join(root, 'demo-out');
mkdirSync(out, { recursive: true });
const trace = join(out, 'orders.jsft');

function jsftrace(args: string[], show = true): string {
  process.stdout.write(`$ jsftrace ${args.map((a) => (/[\s*']/.test(a) ? `'${a}'` : a)).join(' ')}\n`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  if (show) process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.status !== 0) throw new Error(`jsftrace ${args[0]} exited with ${r.status}`);
  return r.stdout;
}

const rel = (p: string): string => relative(root, p);
jsftrace(['record', '-p', 'function_graph', '-O', 'funcgraph-retval', '-l', 'dist/examples/orders/*', '-o', rel(trace), '--', 'node', rel(app)]);
const text = jsftrace(['report', '-i', rel(trace)], false);
const lines = text.split('\n');
process.stdout.write(`${lines.slice(0, 40).join('\n')}\n    ... (${lines.length - 40} more lines)\n`);
jsftrace(['report', '-i', rel(trace), '--format', 'html', '-o', rel(join(out, 'orders-flame.html'))]);
jsftrace(['report', '-i', rel(trace), '--format', 'perfetto', '-o', rel(join(out, 'orders.perfetto-trace'))]);
const html = readFileSync(join(out, 'orders-flame.html'), 'utf8');
process.stdout.write(`\nOpen ${rel(join(out, 'orders-flame.html'))} in a browser (${(html.length / 1024).toFixed(0)} KiB, self-contained),\n`
  + `or load ${rel(join(out, 'orders.perfetto-trace'))} into https://ui.perfetto.dev.\n\n`);
