/**
 * `node dist/tools/bundle.js [dist]`: makes jsftrace's runtime one CommonJS
 * file, after tsc has compiled it (`npm run build`, and `prepare`).
 *
 * Owns: dist/src/jsftrace.cjs and the compiled modules that hand its
 * modules on. Invariant: in any thread, each module of the runtime exists
 * once, as the file's: every module compiled to dist/src/ (but those listed
 * in STANDALONE) is replaced by a module that exports the file's instance
 * of it, so that the public entry points, the start (register.cjs,
 * register.js), the CLI, worker entry files and tests that import a module
 * by its path all reach the same one. Why a file (docs/design.md "One
 * file"): a start that loads some fifty ES modules through Node's module
 * loader spends most of its time resolving and linking them, and every
 * loader of the program's sees each of them.
 */

import { readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'acorn';
import { build, type Plugin } from 'esbuild';

/** The runtime's file, under dist/src/. */
export const RUNTIME_FILE = 'jsftrace.cjs';

/**
 * Compiled modules that stay as tsc wrote them. Each imports the runtime's
 * modules through their hand-on modules, so it adds no copy.
 */
const STANDALONE: readonly RegExp[] = [
  // The command line: a process of its own, never the program's.
  /^cli\//,
  // Registered once per loader (`?outer=N` in its URL), each instance with state of its own.
  /^instrument\/hooks\/esm-loader\.js$/,
  // Awaits at its top level, which a CommonJS file cannot.
  /^public\/register\.js$/,
];

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.js')) out.push(p);
  }
  return out;
}

/** The names a compiled ES module exports (tsc output: no `export *` without a name, no default). */
function exportNames(file: string, code: string): string[] {
  const ast = parse(code, { ecmaVersion: 'latest', sourceType: 'module' });
  const names: string[] = [];
  const named = (n: { type: string; name?: string; value?: unknown }): string => (n.type === 'Identifier' ? n.name! : String(n.value));
  for (const node of ast.body) {
    if (node.type === 'ExportNamedDeclaration') {
      if (node.declaration) {
        const d = node.declaration;
        if (d.type === 'VariableDeclaration') {
          for (const v of d.declarations) {
            if (v.id.type !== 'Identifier') throw new Error(`${file}: an exported destructuring is not handed on`);
            names.push(v.id.name);
          }
        } else if (d.id) names.push(d.id.name);
      }
      for (const s of node.specifiers) names.push(named(s.exported));
    } else if (node.type === 'ExportAllDeclaration') {
      if (!node.exported) throw new Error(`${file}: \`export *\` without a name is not handed on`);
      names.push(named(node.exported));
    } else if (node.type === 'ExportDefaultDeclaration') {
      names.push('default');
    }
  }
  return names;
}

/**
 * The modules every start loads: what the start's own modules import,
 * found by esbuild from these roots (imports written as `import()` are
 * left out: they are loaded when first needed).
 */
const START_ROOTS = [
  'public/start.js', 'control/startup.js', 'control/server.js', 'control/tree.js', 'tracers/tracers.js', 'public/index.js', 'public/control.js',
];
/** The two files: what the start needs, and the rest, loaded by the first file when first asked for. */
const FILES = { start: RUNTIME_FILE, later: 'jsftrace-later.cjs' } as const;

/** The static import closure of `roots`, as paths under dist/src/. */
async function startClosure(srcDir: string): Promise<Set<string>> {
  const r = await build({
    entryPoints: START_ROOTS.map((p) => join(srcDir, p)),
    bundle: true, format: 'esm', platform: 'node', write: false, outdir: join(srcDir, '.closure'), splitting: true,
    packages: 'external', metafile: true, logLevel: 'error',
    plugins: [{ name: 'no-dynamic', setup(b) { b.onResolve({ filter: /.*/ }, (a) => (a.kind === 'dynamic-import' ? { external: true } : undefined)); } }],
  });
  return new Set(Object.keys(r.metafile.inputs).map((p) => relative(srcDir, resolve(p)).split(sep).join('/')));
}

/**
 * Each compiled module's `import.meta.url` becomes its own file's URL in
 * dist/src/, found from the runtime file's directory at run time, so that
 * what a module finds beside itself (package.json, worker entry files,
 * register.cjs) is what it found before. An import of a module that lives
 * in the other file is that file's instance: the first file's, through
 * the table it gives the later one (`__jsftraceStart`); the later file's,
 * through the first file's own `load` (`__jsftraceLoad`), which requires
 * it once. Neither file reaches the other through the require cache,
 * which a program may clear.
 */
function ownModules(srcDir: string, other: ReadonlySet<string>, reach: (rel: string) => string): Plugin {
  return {
    name: 'jsftrace-own-modules',
    setup(b) {
      b.onResolve({ filter: /^\.\/(?:jsftrace(?:-later)?|shared\/runtime-file)\.cjs$/ }, (args) => ({ path: args.path, external: true }));
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.kind === 'entry-point' || args.namespace === 'jsftrace-other') return undefined;
        const rel = relative(srcDir, resolve(args.resolveDir, args.path)).split(sep).join('/');
        return other.has(rel) ? { path: rel, namespace: 'jsftrace-other' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'jsftrace-other' }, (args) => ({
        contents: `module.exports = ${reach(args.path)};`,
        loader: 'js',
        resolveDir: srcDir,
      }));
      b.onLoad({ filter: /\.js$/ }, (args) => {
        const code = readFileSync(args.path, 'utf8');
        if (!args.path.startsWith(srcDir + sep)) return { contents: code, loader: 'js' };
        const rel = relative(srcDir, args.path).split(sep).join('/');
        return { contents: code.replaceAll('import.meta.url', `(__jsftraceSrc + ${JSON.stringify(rel)})`), loader: 'js' };
      });
    },
  };
}

/** A function's name in compiled code (tsc's or the bundle's). */
const FUNCTION_NAME = /(^|[^\w$.])function\*?\s*([A-Za-z_$][\w$]*)\s*\(/g;
/** A function expression (after `=`, `:`, `(` or `,`) whose name ends in digits. */
const RENAMED_EXPRESSION = /[=:(,]\s*(?:\/\* @__PURE__ \*\/\s*)?(?:async\s+)?function\*?\s*([A-Za-z_$][\w$]*?)(\d+)\s*\(/g;

/** Packages left to Node's resolution; every other import is in the files. */
const EXTERNAL = ['ws', '@opentelemetry/*'];
/**
 * Writes the characters esbuild leaves as they are (in comments and regular
 * expression literals; it escapes strings and names) as `\u` escapes. One
 * character above U+00FF makes V8 hold the whole file's source two bytes a
 * character: the later file's 0.65 MB took 1.3 MB of every thread's heap
 * that loaded it. An escape means the same in both places.
 */
function asciiOnly(file: string): void {
  const code = readFileSync(file, 'utf8');
  if (!/[^\x00-\x7f]/.test(code)) return;
  writeFileSync(file, code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** Packages copied into the files, whose licences the files then carry. */
const BUNDLED_PACKAGES = ['acorn', '@jridgewell/sourcemap-codec'];

/** The licences of the packages copied into a file, as one comment. */
function licences(root: string, names: readonly string[]): string {
  const parts = names.map((name) => {
    const dir = join(root, 'node_modules', name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string; license?: string };
    const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
    const text = file === undefined ? `(${pkg.license ?? 'no licence file'})` : readFileSync(join(dir, file), 'utf8').trim();
    return `${name} ${pkg.version}:\n\n${text}`;
  });
  const body = parts.join('\n\n').replaceAll('*/', '* /').split('\n').map((l) => ` * ${l}`.trimEnd()).join('\n');
  return `/*\n * This file contains code of the following packages, under their licences.\n *\n${body}\n */\n`;
}

const tableOf = (mine: readonly string[]): string[] => [
  `const table = {`,
  ...mine.map((rel) => `  ${JSON.stringify(rel)}: () => require(${JSON.stringify(`./${rel}`)}),`),
  `};`,
  `const loaded = new Map();`,
];

/**
 * The first file's entry: its modules by path, each run when first asked
 * for (esbuild wraps what is required), the later file's through it. The
 * file evaluated again in a thread that already has its modules (a program
 * that cleared the require cache) hands those on instead
 * (shared/own-load.ts, priorOwnModules).
 */
function startEntry(mine: readonly string[], later: readonly string[]): string {
  return [
    `const ownLoad = require('./shared/own-load.js');`,
    `const prior = ownLoad.priorOwnModules(__filename);`,
    ...tableOf(mine),
    `const later = new Set(${JSON.stringify(later)});`,
    `let laterFile;`,
    `function load(path) {`,
    `  let m = loaded.get(path);`,
    `  if (m !== undefined) return m;`,
    `  if (Object.hasOwn(table, path)) m = table[path]();`,
    `  else if (later.has(path)) {`,
    `    if (laterFile === undefined) {`,
    `      laterFile = require('./shared/runtime-file.cjs').requireRuntime(${JSON.stringify(FILES.later)});`,
    `      laterFile.init(load);`,
    `    }`,
    `    m = laterFile.load(path);`,
    `  }`,
    `  if (m !== undefined) loaded.set(path, m);`,
    `  return m;`,
    `}`,
    `__jsftraceLoad = load;`,
    `if (prior === undefined) ownLoad.setOwnModules(load, __filename);`,
    `module.exports = { load: prior ?? load };`,
  ].join('\n');
}

/** The later file's entry: its modules by path; the first file's come from the table it is given. */
function laterEntry(mine: readonly string[]): string {
  return [
    ...tableOf(mine),
    `function load(path) {`,
    `  let m = loaded.get(path);`,
    `  if (m === undefined && Object.hasOwn(table, path)) loaded.set(path, m = table[path]());`,
    `  return m;`,
    `}`,
    `module.exports = { load, init(startLoad) { __jsftraceStart = startLoad; } };`,
  ].join('\n');
}

export async function bundle(dist: string): Promise<{ modules: number; start: number; bytes: number; laterBytes: number }> {
  const srcDir = resolve(dist, 'src');
  const HAND_ON = '// ';
  const files = walk(srcDir)
    .map((f) => relative(srcDir, f).split(sep).join('/'))
    .filter((rel) => !STANDALONE.some((re) => re.test(rel)))
    .sort();
  for (const rel of files) {
    if (readFileSync(join(srcDir, rel), 'utf8').startsWith(`${HAND_ON}${rel} is part of`)) {
      throw new Error(`dist/src/${rel} already hands the runtime's module on: compile with tsc before bundling (npm run build)`);
    }
  }
  const closure = await startClosure(srcDir);
  const atStart = files.filter((f) => closure.has(f));
  const later = files.filter((f) => !closure.has(f));
  if (!atStart.includes('shared/own-load.js')) throw new Error('shared/own-load.js is not among the modules every start loads');
  const withMaps = files.some((rel) => existsSync(join(srcDir, `${rel}.map`)));
  const common = {
    bundle: true, format: 'cjs', platform: 'node', target: 'node20',
    // The parser and the source map codec are jsftrace's own copies, in
    // the file: as packages they would be the very modules a program that
    // requires the same files gets (one require cache), which it may patch,
    // and which would then not be instrumented. ws and OpenTelemetry stay
    // packages (OpenTelemetry's API is shared with the program by design).
    external: EXTERNAL,
    sourcemap: withMaps ? 'linked' : false,
    legalComments: 'none',
    // A function keeps the name tsc gave it where esbuild renames its
    // binding to keep the two files' modules apart: a program sees the
    // names of what it is given (process.emit, process.kill under a
    // recording).
    keepNames: true,
    logLevel: 'warning',
    metafile: true,
  } as const;
  const srcBanner = `'use strict';\nconst __jsftraceSrc = require('node:url').pathToFileURL(__dirname).href + '/';`;
  const outputs = [
    await build({
      ...common,
      banner: { js: `${srcBanner}\nlet __jsftraceLoad;` },
      stdin: { contents: startEntry(atStart, later), resolveDir: srcDir, sourcefile: 'jsftrace-start.js', loader: 'js' },
      outfile: join(srcDir, FILES.start),
      plugins: [ownModules(srcDir, new Set(later), (rel) => `__jsftraceLoad(${JSON.stringify(rel)})`)],
    }),
    await build({
      ...common,
      banner: { js: `${srcBanner}\nlet __jsftraceStart;` },
      stdin: { contents: laterEntry(later), resolveDir: srcDir, sourcefile: 'jsftrace-later.js', loader: 'js' },
      outfile: join(srcDir, FILES.later),
      plugins: [ownModules(srcDir, new Set(atStart), (rel) => `__jsftraceStart(${JSON.stringify(rel)})`)],
    }),
  ];
  // A function expression the bundler renamed (it does so to one that has
  // the name of its own binding, `const f = function f`) has another
  // `name`, which a program can see where the function is one it is given
  // (process.emit): the build fails, and the source names them apart.
  const declared = new Set(files.flatMap((rel) => [...readFileSync(join(srcDir, rel), 'utf8').matchAll(FUNCTION_NAME)].map((m) => m[2]!)));
  for (const file of [FILES.start, FILES.later]) {
    const renamed = [...readFileSync(join(srcDir, file), 'utf8').matchAll(RENAMED_EXPRESSION)]
      .map((m) => m[1]! + m[2]!)
      .filter((n) => !declared.has(n) && declared.has(n.replace(/\d+$/, '')));
    if (renamed.length > 0) throw new Error(`${file}: function expressions renamed by the bundler: ${[...new Set(renamed)].join(', ')} (give their bindings other names)`);
  }
  for (const [i, out] of outputs.entries()) {
    const file = join(srcDir, i === 0 ? FILES.start : FILES.later);
    const inputs = Object.keys(out.metafile.inputs);
    const copied = [...new Set(inputs.map((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)?.[1]).filter((n): n is string => n !== undefined))].sort();
    const unplanned = copied.filter((n) => !BUNDLED_PACKAGES.includes(n));
    // A package copied into the files is no longer the program's module of
    // that name, and the files must carry its licence: a decision, not a
    // side effect of a new import.
    if (unplanned.length > 0) throw new Error(`${file}: packages copied in that are neither in BUNDLED_PACKAGES nor in EXTERNAL: ${unplanned.join(', ')}`);
    if (copied.length > 0) {
      const code = readFileSync(file, 'utf8');
      const at = code.lastIndexOf('\n//# sourceMappingURL=');
      const notice = licences(resolve(dist, '..'), copied);
      writeFileSync(file, at < 0 ? `${code}${notice}` : `${code.slice(0, at + 1)}${notice}${code.slice(at + 1)}`);
    }
    asciiOnly(file);
    if (i === 0 && inputs.some((p) => p.includes('node_modules/'))) throw new Error(`${FILES.start} holds a package: ${inputs.filter((p) => p.includes('node_modules/')).join(', ')}`);
  }
  for (const rel of files) {
    const path = join(srcDir, rel);
    const names = exportNames(rel, readFileSync(path, 'utf8'));
    const depth = rel.split('/').length - 1;
    const runtimeFile = `${depth === 0 ? './' : '../'.repeat(depth)}shared/runtime-file.cjs`;
    const lines = [
      `${HAND_ON}${rel} is part of jsftrace's runtime (tools/bundle.ts): this module hands that runtime's instance on.`,
      `import { createRequire } from 'node:module';`,
      `const m = createRequire(import.meta.url)(${JSON.stringify(runtimeFile)}).requireRuntime(${JSON.stringify(RUNTIME_FILE)}).load(${JSON.stringify(rel)});`,
    ];
    const plain = names.filter((n) => n !== 'default');
    if (plain.length > 0) lines.push(`export const { ${plain.join(', ')} } = m;`);
    if (names.includes('default')) lines.push(`export default m.default;`);
    writeFileSync(path, `${lines.join('\n')}\n`);
    rmSync(`${path}.map`, { force: true });
  }
  return { modules: files.length, start: atStart.length, bytes: statSync(join(srcDir, FILES.start)).size, laterBytes: statSync(join(srcDir, FILES.later)).size };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dist = resolve(process.argv[2] ?? fileURLToPath(new URL('../', import.meta.url)));
  const started = process.hrtime.bigint();
  const r = await bundle(dist);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const kib = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;
  console.log(`jsftrace runtime: ${r.modules} modules; ${r.start} loaded at every start (${kib(r.bytes)}), the rest when first needed (${kib(r.laterBytes)}) (${ms.toFixed(0)} ms)`);
}
