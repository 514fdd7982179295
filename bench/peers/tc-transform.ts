/**
 * The TracingChannel contender's transform: `@apm-js-collab/code-transformer`
 * (orchestrion-js) rewriting every function of a file so that its body runs
 * inside a TracingChannel (`traceSync` shape for plain functions, the
 * promise shape for async ones), exactly as its generated code does for a
 * named target. Its configuration names targets one by one, but takes a raw
 * esquery selector (`astQuery`) with `index: null` (every match); the
 * selectors below pick every function it can rewrite:
 * - function declarations and expressions, methods, constructors, arrows;
 * - not getters and setters (it gives them a rest parameter: a syntax error);
 * - not generators (its inner arrow cannot hold `yield`);
 * - arrows, minus the ones it generates itself (it would rewrite its own
 *   output forever).
 * One channel pair per package: `orchestrion:<package>:sync` and `:async`.
 * A file it cannot rewrite is kept as it was and reported.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';

interface Transformer { transform(code: string, type: 'cjs' | 'esm', map?: unknown): { code: string } }
interface Matcher { getTransformer(name: string, version: string, filePath: string): Transformer | undefined }
interface CodeTransformer { create(configs: unknown[]): Matcher }

const NOT_ACCESSOR = ':not([kind="get"] > FunctionExpression):not([kind="set"] > FunctionExpression)';
const NOT_OWN = ':not(VariableDeclarator[id.name=/^(__apm|tr_ch_apm)/] > ArrowFunctionExpression)'
  + ':not(CallExpression[callee.property.name="runStores"] > ArrowFunctionExpression)';
export const SYNC_QUERY = `FunctionDeclaration[generator=false][async=false], FunctionExpression[generator=false][async=false]${NOT_ACCESSOR}, `
  + `ArrowFunctionExpression[async=false]${NOT_OWN}`;
export const ASYNC_QUERY = `FunctionDeclaration[generator=false][async=true], FunctionExpression[generator=false][async=true]${NOT_ACCESSOR}, `
  + `ArrowFunctionExpression[async=true]${NOT_OWN}`;

export interface TransformReport {
  files: number;
  rewritten: number;
  failed: { file: string; error: string }[];
  channels: string[];
  functions: number;
  ms: number;
}

/** The package a file under node_modules belongs to, and its version. */
function packageOf(file: string): { name: string; version: string; root: string } {
  const parts = file.split(sep);
  const at = parts.lastIndexOf('node_modules');
  const scoped = parts[at + 1]!.startsWith('@');
  const root = parts.slice(0, at + (scoped ? 3 : 2)).join(sep);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  return { name: pkg.name, version: pkg.version, root };
}

/** Rewrites each file in place (files of a copy of the application tree). */
export function transformFiles(depsDir: string, files: readonly string[]): TransformReport {
  const ct = createRequire(join(depsDir, 'package.json'))('@apm-js-collab/code-transformer') as CodeTransformer;
  const t0 = performance.now();
  const report: TransformReport = { files: files.length, rewritten: 0, failed: [], channels: [], functions: 0, ms: 0 };
  const channels = new Set<string>();
  for (const file of files) {
    const pkg = packageOf(file);
    const mod = { name: pkg.name, versionRange: '*', filePath: /./ };
    const matcher = ct.create([
      { channelName: 'sync', module: mod, astQuery: SYNC_QUERY, functionQuery: { kind: 'Sync', index: null } },
      { channelName: 'async', module: mod, astQuery: ASYNC_QUERY, functionQuery: { kind: 'Async', index: null } },
    ]);
    const code = readFileSync(file, 'utf8');
    const type = file.endsWith('.mjs') ? 'esm' : 'cjs';
    try {
      const tr = matcher.getTransformer(pkg.name, pkg.version, relative(pkg.root, file).split(sep).join('/'));
      if (tr === undefined) throw new Error('no transformer');
      const out = tr.transform(code, type).code;
      writeFileSync(file, out);
      report.rewritten++;
      report.functions += out.split('.start.runStores(').length - 1;
      channels.add(`orchestrion:${pkg.name}:sync`);
      channels.add(`orchestrion:${pkg.name}:async`);
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      // A file without a function has nothing to rewrite.
      if (!msg.startsWith('Failed to find injection points')) report.failed.push({ file: relative(dirname(pkg.root), file), error: msg.slice(0, 200) });
    }
  }
  report.channels = [...channels].sort();
  report.ms = performance.now() - t0;
  return report;
}

// As a script: node tc-transform.js <deps dir> <files.json> <report.json>
// (the suite runs it in its own process, with room for the parser).
if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split(sep).slice(-1)[0]!) && process.argv.length === 5) {
  const [deps, list, out] = process.argv.slice(2) as [string, string, string];
  writeFileSync(out, JSON.stringify(transformFiles(deps, JSON.parse(readFileSync(list, 'utf8')) as string[])));
}
