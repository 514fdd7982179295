/**
 * The libraries whose own test suites tools/suites runs, each pinned to a
 * commit of its public repository, with how to prepare its checkout and the
 * command that runs its tests with a TAP reporter.
 *
 * Owns: the table. Invariant: every command is a node script of the
 * checkout (or node itself), so the node that runs it and NODE_OPTIONS
 * decide how it runs; preparing needs the npm registry only.
 */

import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Library {
  name: string;
  /** A git URL of its public repository. */
  repo: string;
  commit: string;
  /** Style, for the record: module format, semicolons, test runner. */
  style: string;
  /**
   * Commands that install its dependencies, in place of `npm install
   * --ignore-scripts` (a pnpm workspace, whose `workspace:` specifiers npm
   * refuses, rewrites its package.json first). Registry only.
   */
  install?: string[][];
  /** Commands run once in the checkout after `npm install` (plain, not measured). */
  prepare: string[][];
  /** Arguments to node that run the suite with a TAP reporter (cwd: the checkout). */
  test: (dir: string) => string[];
}

const mocha = (bin: string, ...args: string[]): string[] => [bin, '--reporter', 'tap', ...args];

/**
 * A jest reporter writing TAP on stdout, a point per test as each file
 * ends (`file > describe... > title`), and a failing point named by the file
 * when the file failed outside its tests (it did not load, a hook threw).
 * (run.ts reads the TAP from stdout alone; jest's own `--json` report, one
 * line of half a megabyte written at the end, is no use to it.)
 */
const JEST_TAP = `'use strict';
const { relative } = require('node:path');
const clean = (s) => s.replace(/\\s+/g, ' ').replace(/#/g, '\\\\#');
module.exports = class JsftraceTap {
  n = 0;
  onRunStart() { process.stdout.write('\\nTAP version 13\\n'); }
  onTestFileResult(test, result) {
    const file = relative(process.cwd(), result.testFilePath);
    for (const a of result.testResults) {
      const name = clean([file, ...a.ancestorTitles, a.title].join(' > '));
      const ok = a.status === 'failed' ? 'not ok' : 'ok';
      const directive = a.status === 'todo' ? ' # TODO' : a.status === 'passed' || a.status === 'failed' ? '' : ' # SKIP';
      process.stdout.write('\\n' + ok + ' ' + ++this.n + ' - ' + name + directive + '\\n');
    }
    if ((result.testExecError || result.failureMessage) && !result.testResults.some((a) => a.status === 'failed')) {
      process.stdout.write('\\nnot ok ' + ++this.n + ' - ' + clean(file) + '\\n');
    }
  }
  onRunComplete() { process.stdout.write('\\n1..' + this.n + '\\n'); }
};
`;

/**
 * bluebird's tools/test.js builds the debug build (js/debug) and runs each
 * group of test/mocha files in a child of its job runner, a mocha function
 * sent as source and eval'ed there, after setting fake timers and the build as
 * the global Promise (tools/mocha_runner.js). This is that preamble, as a
 * mocha --require file; BLUEBIRD_RUN the grouping, a mocha per group.
 */
const BLUEBIRD_SETUP = String.raw`'use strict';
// What tools/mocha_runner.js does before each group: fake timers, the debug build as global adapter and Promise.
var currentTime = 0, timers = {}, currentId = 0;
function checkTimers() {
  var keys = Object.keys(timers);
  for (var i = 0; i < keys.length; ++i) {
    var timer = timers[keys[i]];
    if (!timer) continue;
    if (currentTime >= timer.started + timer.time) {
      if (timer.interval) timer.started = currentTime; else delete timers[keys[i]];
      if (timer.domain) timer.domain.enter();
      timer.fn();
      if (timer.domain) timer.domain.exit();
    }
  }
}
function add(fn, time, interval, min) {
  var id = currentId++;
  time = (+time || 0) | 0;
  if (time < min) time = min;
  timers[id] = { fn: fn, time: time, started: currentTime, interval: interval, domain: process.domain };
  return id;
}
(function timerLoop() {
  currentTime += 10;
  try { checkTimers(); } finally { setImmediate(timerLoop); }
})();
global.oldSetTimeout = global.setTimeout;
global.oldClearTimeout = global.clearTimeout;
global.setTimeout = function setTimeout(fn, time) { return add(fn, time, false, 11); };
global.setInterval = function setInterval(fn, time) { return add(fn, time, true, 0); };
global.clearTimeout = global.clearInterval = function clearTimeout(id) { delete timers[id]; };
delete Error.__BluebirdErrorTypes__;
var adapter = require('./js/debug/bluebird.js');
global.adapter = adapter;
global.Promise = adapter;
adapter.defer = adapter.pending = function () {
  var ret = {};
  ret.promise = new adapter(function (resolve, reject) { ret.resolve = ret.fulfill = resolve; ret.reject = reject; });
  return ret;
};
adapter.config({ cancellation: true });
adapter.config({ longStackTraces: false });
adapter.config({ longStackTraces: true });
`;

const BLUEBIRD_RUN = String.raw`'use strict';
// As tools/test.js groups them: the files that need a fresh process each in a mocha of its own, the rest in one;
// async.js too (its memory tests compare the heap with the heap at its start, too big after 68 other files).
var spawnSync = require('child_process').spawnSync;
var files = require('fs').readdirSync('test/mocha').filter(function (f) { return /\.js$/.test(f); }).sort();
var fresh = /regress|using|domain|multiple-copies|unhandled_rejections|nodeify|getNewLibraryCopy|long_stack_traces|^async\.js$/;
var groups = [files.filter(function (f) { return !fresh.test(f); })]
  .concat(files.filter(function (f) { return fresh.test(f); }).map(function (f) { return [f]; }));
var failed = 0;
groups.forEach(function (g) {
  var t = Date.now();
  var r = spawnSync(process.execPath, ['--expose-gc', 'node_modules/mocha/bin/mocha.js', '--reporter', 'tap', '--exit',
    '--timeout', '300000', '--require', './.jsftrace-bluebird-setup.js'].concat(g.map(function (f) { return 'test/mocha/' + f; })),
    { stdio: 'inherit', timeout: 300000 });
  process.stderr.write('# group ' + g[0] + (g.length > 1 ? ' (+' + (g.length - 1) + ')' : '') + ': ' + (r.status === null ? r.signal : r.status) + ', ' + (Date.now() - t) + ' ms\n');
  if (r.status !== 0) failed = 1;
  if (r.status === null) process.stdout.write('\nnot ok - ' + g.join(' ') + ' (killed: ' + r.signal + ')\n');
});
process.exitCode = failed;
`;

const write = (file: string, text: string): string[] => ['node', '-e', `require('node:fs').writeFileSync(${JSON.stringify(file)}, ${JSON.stringify(text)})`];

/**
 * For a pnpm workspace: its package.json with these devDependencies alone
 * (the lock file's versions; `file:` for a package of the workspace, which
 * npm links) and no dependencies of its own, then npm install.
 */
const pnpmWorkspace = (devDependencies: Record<string, string>): string[][] => [
  ['node', '-e', `const fs = require('node:fs'); const p = JSON.parse(fs.readFileSync('package.json', 'utf8'));
p.devDependencies = ${JSON.stringify(devDependencies)}; delete p.dependencies; delete p.packageManager;
fs.writeFileSync('package.json', JSON.stringify(p, null, 2) + '\\n');`],
  ['npm', 'install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
];

/**
 * date-fns's scripts/test/tz.sh (its CI's node tests run it after vitest):
 * each `env TZ=<zone> pnpm tsx <file>` line of the pinned script, a node
 * running tsx on the file in that time zone, as a TAP point (its output to
 * stderr). The files import date-fns's TypeScript sources, which tsx's
 * loader hooks compile as node loads them; seven of them through the
 * `@wrkspc/src/*` path of test/tsconfig.json, which tsx reads only when told
 * (TSX_TSCONFIG_PATH; tz.sh as it is fails them with ERR_MODULE_NOT_FOUND).
 */
const DATEFNS_TZ_RUN = String.raw`'use strict';
const { readFileSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const runs = [...readFileSync('scripts/test/tz.sh', 'utf8').matchAll(/^env TZ=(\S+) pnpm tsx (\S+)$/gm)];
process.stdout.write('TAP version 13\n1..' + runs.length + '\n');
let n = 0;
for (const [, tz, file] of runs) {
  const env = { ...process.env, TZ: tz, NODE_ENV: 'test', TSX_TSCONFIG_PATH: 'test/tsconfig.json' };
  const r = spawnSync(process.execPath, ['node_modules/tsx/dist/cli.mjs', file], { env, encoding: 'utf8' });
  process.stderr.write(r.stdout + r.stderr);
  if (r.status !== 0) process.exitCode = 1;
  process.stdout.write((r.status === 0 ? 'ok ' : 'not ok ') + ++n + ' - TZ=' + tz + ' ' + file + '\n');
}
`;

/**
 * import-in-the-middle's npm test without c8. Its package.json gives
 * imhotap the test files' NODE_OPTIONS (the loader), which would replace the
 * NODE_OPTIONS of the run; here they are given on its command line, after
 * those of the run. (imhotap keeps what follows the first '=' of a
 * --test-env up to the next '=': no '=' in them.)
 */
const IITM_RUN = String.raw`'use strict';
const { spawnSync } = require('node:child_process');
const options = [process.env.NODE_OPTIONS, '--no-warnings --require ./test/version-check.js --experimental-loader ./test/generic-loader.mjs']
  .filter(Boolean).join(' ');
const r = spawnSync(process.execPath, ['node_modules/imhotap/imhotap', '--test-env', 'NODE_OPTIONS=' + options,
  '--files', 'test/{hook,low-level,other,get-esm-exports}/*'], { stdio: 'inherit' });
process.exitCode = r.status === null ? 1 : r.status;
`;

/**
 * require-in-the-middle's npm test:tape, then its test:babel (a plain
 * script: a TAP point by its exit status).
 */
const RITM_RUN = String.raw`'use strict';
const { spawnSync } = require('node:child_process');
const tape = spawnSync(process.execPath, ['node_modules/tape/bin/tape', 'test/*.js'], { stdio: 'inherit' });
const babel = spawnSync(process.execPath, ['test/babel/babel-register.js'], { stdio: ['ignore', 'pipe', 'inherit'] });
process.stderr.write(babel.stdout);
process.stdout.write('\n' + (babel.status === 0 ? 'ok' : 'not ok') + ' - test:babel test/babel/babel-register.js\n');
process.exitCode = tape.status === 0 && babel.status === 0 ? 0 : 1;
`;

/**
 * acorn's test/run.js with a TAP point per test and parser mode instead of
 * its summary: the test files run.js requires (read from it), the same four
 * modes (acorn and acorn-loose, each also with sourceType 'commonjs') and
 * the same driver, named `mode > index > code` (the code cut to 100 characters;
 * the index keeps repeated snippets apart; characters outside printable ASCII
 * escaped, so that each name stays on its line of the TAP).
 */
const ACORN_TAP = `'use strict';
const fs = require('node:fs');
const driver = require('./test/driver.js');
for (const m of fs.readFileSync('test/run.js', 'utf8').matchAll(/require\\("(\\.\\/tests[^"]*)"\\)/g)) require('./test/' + m[1].slice(2));
const acorn = require('./acorn');
const loose = require('./acorn-loose');
const script = (o) => o.commonjs !== false && !o.allowAwaitOutsideFunction && (!o.sourceType || o.sourceType === 'script');
const modes = {
  Normal: { parse: acorn.parse },
  Loose: { parse: loose.parse, loose: true, filter: (t) => (t.options || {}).loose !== false },
  'Normal with sourceType: commonjs': { parse: (c, o) => acorn.parse(c, Object.assign({}, o, { sourceType: 'commonjs' })),
    filter: (t) => script(t.options || {}) },
  'Loose with sourceType: commonjs': { parse: (c, o) => loose.parse(c, Object.assign({}, o, { sourceType: 'commonjs' })), loose: true,
    filter: (t) => (t.options || {}).loose !== false && script(t.options || {}) },
};
const clean = (s) => JSON.stringify(s).slice(1, -1).slice(0, 100).replace(/#/g, '\\\\#')
  .replace(/[^\\x20-\\x7e]/g, (c) => '\\\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
let n = 0;
process.stdout.write('TAP version 13\\n');
for (const [name, config] of Object.entries(modes)) {
  let i = 0;
  driver.runTests(config, (state, code, message) => {
    const ok = state === 'ok' ? 'ok' : 'not ok';
    process.stdout.write(ok + ' ' + ++n + ' - ' + name + ' > ' + ++i + ' > ' + clean(code) + '\\n');
    if (ok !== 'ok') process.stdout.write('  # ' + String(message).replace(/\\n/g, '\\n  # ') + '\\n');
  });
}
process.stdout.write('1..' + n + '\\n');
`;

/**
 * ajv's spec/**\/*.ts compiled one file at a time to CommonJS beside their
 * sources (ts.transpileModule with spec/tsconfig.json's options, as ts-node's
 * transpile-only would), so mocha loads them with require.
 */
const AJV_SPEC_JS = `const ts = require('typescript');
const fs = require('node:fs');
const cfg = ts.getParsedCommandLineOfConfigFile('spec/tsconfig.json', {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic() {} });
for (const f of cfg.fileNames.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))) {
  const options = { ...cfg.options, sourceMap: false, declaration: false };
  fs.writeFileSync(f.replace(/\\.ts$/, '.js'), ts.transpileModule(fs.readFileSync(f, 'utf8'), { compilerOptions: options, fileName: f }).outputText);
}
`;

/**
 * terser's test/compress.js (2678 cases in test/compress/*.js, each a
 * top-level label, run in two forked workers of compress.js itself) prints
 * nothing per passing case, only a log per failing one ('--- Running test
 * [name]' and its file:line) and 'Passed N test cases.'. This adapter lists
 * the cases of every file (top-level `name: {` lines, block comments
 * removed: the same 2678 names terser's parser finds), runs `node
 * test/compress.js` (its output goes to stderr, for the log), writes a TAP
 * point per case (`compress > file > name`, failing when compress.js logged
 * it) and one for compress.js's exit status (a crashed worker), then runs
 * mocha over test/mocha with its TAP reporter on the same stdout.
 */
const TERSER_TAP = `'use strict';
const { spawnSync } = require('node:child_process');
const { readdirSync, readFileSync } = require('node:fs');
const { basename } = require('node:path');
const files = readdirSync('test/compress').filter((f) => /\\.js$/i.test(f)).sort();
const r = spawnSync(process.execPath, ['test/compress.js'], { encoding: 'utf8', maxBuffer: 1 << 30 });
process.stderr.write(r.stdout + r.stderr);
const failed = new Set();
for (const m of r.stdout.matchAll(/--- Running test \\[([^\\]]+)\\]\\n\\s+(\\S+?):\\d+/g)) failed.add(basename(m[2]) + ' > ' + m[1]);
let n = 0;
process.stdout.write('TAP version 13\\n');
for (const f of files) {
  const src = readFileSync('test/compress/' + f, 'utf8').replace(/\\/\\*[\\s\\S]*?\\*\\//g, '');
  for (const m of src.matchAll(/^([A-Za-z_$][\\w$]*)\\s*:\\s*\\{/gm)) {
    const name = f + ' > ' + m[1];
    process.stdout.write((failed.has(name) ? 'not ok ' : 'ok ') + ++n + ' - compress > ' + name + '\\n');
  }
}
process.stdout.write((r.status === 0 ? 'ok ' : 'not ok ') + ++n + ' - test/compress.js exit status 0\\n1..' + n + '\\n');
const m = spawnSync(process.execPath, ['node_modules/mocha/bin/mocha', '--reporter', 'tap', 'test/mocha'], { stdio: ['ignore', 'inherit', 'inherit'] });
process.exitCode = r.status || m.status || 0;
`;

/**
 * A TAP adapter for lodash's QUnit suites (qunit-extras 3 over QUnit 2,
 * which print only failing tests and a summary): \`node
 * .jsftrace-qunit-tap.cjs FILE...\` runs each test file in a node of its
 * own (the same NODE_OPTIONS), registers a QUnit.testDone callback on the
 * QUnit that the file's own require('qunit-extras') returns (one module),
 * and writes a point per QUnit test, \`file > module > test\`, before
 * qunit-extras ends the process from its QUnit.done callback.
 */
const QUNIT_TAP = `'use strict';
// node .jsftrace-qunit-tap.cjs FILE...: each FILE (a test file of lodash's
// that loads QUnit with require('qunit-extras') and starts it) in a node of
// its own, with a TAP point per QUnit test on stdout.
const { spawnSync } = require('node:child_process');
const files = process.argv.slice(2);
if (files.length > 1) {
  let status = 0;
  for (const f of files) {
    const r = spawnSync(process.execPath, [__filename, f], { stdio: 'inherit' });
    if (r.status !== 0) status = 1;
  }
  process.exit(status);
}
const file = files[0];
const QUnit = require('qunit-extras');
const clean = (s) => String(s).replace(/\\s+/g, ' ').replace(/#/g, '\\\\#');
let n = 0;
process.stdout.write('\\nTAP version 13\\n');
QUnit.testDone((d) => {
  const ok = d.failed > 0 ? 'not ok' : 'ok';
  const directive = d.skipped ? ' # SKIP' : d.todo ? ' # TODO' : '';
  process.stdout.write('\\n' + ok + ' ' + ++n + ' - ' + clean([file, d.module, d.name].join(' > ')) + directive + '\\n');
});
// qunit-extras ends the process in its own QUnit.done callback.
process.on('exit', () => process.stdout.write('\\n1..' + n + '\\n'));
require(require('node:path').resolve(file));
`;

/**
 * A TAP adapter for UglifyJS's own runners (test/compress.js and
 * test/mocha.js print their own marks): \`node .jsftrace-uglify-tap.js
 * compress FILE... mocha FILE...\` runs test/compress.js a batch of 50
 * cases of a file at a time (as its parent mode does) and test/mocha.js a
 * file at a time, each in a node of its own with the same NODE_OPTIONS, and
 * writes a point per test case and per it(). UGLIFY_GITHUB_LAG (their own
 * knob for slow CI machines) lifts the 10-30 s timeouts of the mocha tests.
 */
const UGLIFY_TAP = `'use strict';
// node .jsftrace-uglify-tap.js [compress FILE...] [mocha FILE...]: UglifyJS's
// own runners, test/compress.js (a batch of 50 test cases of one file per
// child node, as its parent mode runs them) and test/mocha.js (one file per
// node), read into a TAP point per test case and per it(): a compress case
// fails when its batch logged a '!!!' line under its 'Running test [name]',
// or when the batch ended with more failures than that (a crash: the last
// case started); a mocha test passes or fails by its mark, nested under the
// describe titles above it.
var spawnSync = require('child_process').spawnSync;
var n = 0;
var failed = false;
function point(ok, name) {
  if (!ok) failed = true;
  process.stdout.write('\\n' + (ok ? 'ok ' : 'not ok ') + ++n + ' - ' + name.replace(/\\s+/g, ' ').replace(/#/g, '\\\\#') + '\\n');
}
// Their timeouts (10 to 30 s a test, plus UGLIFY_GITHUB_LAG) measure the machine, not the code.
var env = Object.assign({}, process.env, { UGLIFY_GITHUB_LAG: process.env.UGLIFY_GITHUB_LAG || '600000' });
function run(args) {
  var r = spawnSync(process.execPath, args, { env: env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 30 });
  return { out: r.stdout || '', status: r.status === null ? 1 : r.status };
}
process.stdout.write('\\nTAP version 13\\n');
var kind = null;
process.argv.slice(2).forEach(function(arg) {
  if (arg === 'compress' || arg === 'mocha') return void (kind = arg);
  if (kind === 'compress') {
    for (var start = 0; ; start += 50) {
      var r = run(['test/compress.js', arg, String(start)]);
      var cases = [];
      r.out.split('\\n').forEach(function(line) {
        var m = /^ {4}Running test \\[(.*)\\]$/.exec(line);
        if (m) cases.push({ name: m[1], ok: true });
        else if (/^!!! /.test(line) && cases.length) cases[cases.length - 1].ok = false;
      });
      var bad = cases.filter(function(c) { return !c.ok; }).length;
      if (r.status > bad && cases.length) cases[cases.length - 1].ok = false;
      cases.forEach(function(c) { point(c.ok, 'compress/' + arg + ' > ' + c.name); });
      if (cases.length === 0 && r.status !== 0) point(false, 'compress/' + arg + ' from ' + start);
      if (cases.length < 50) break;
    }
  } else if (kind === 'mocha') {
    var r = run(['test/mocha.js', arg]);
    var stack = [];
    var seen = 0;
    r.out.split('\\n').forEach(function(raw) {
      var line = raw.replace(/\\u001B\\[\\d+m/g, '');
      var m = /^( *)(\\u221A |\\u00D7 )?(.*)$/.exec(line);
      if (!m[3]) return;
      var level = m[1].length >> 1;
      stack.length = level;
      if (m[2]) { seen++; point(m[2] === '\\u221A ', ['mocha/' + arg].concat(stack, m[3]).join(' > ')); }
      else stack[level] = m[3];
    });
    if (r.status !== 0 && !/test\\(s\\) failed!/.test(r.out)) point(false, 'mocha/' + arg + ' (ended early, exit ' + r.status + ')');
  } else throw new Error('compress or mocha first: ' + arg);
});
process.stdout.write('\\n1..' + n + '\\n');
process.exitCode = failed ? 1 : 0;
`;

/**
 * UglifyJS loads its eleven lib/*.js files as one \`new Function("domprops",
 * "exports", <their text>)\` (tools/node.js, and test/node.js for the
 * tests): code jsftrace does not instrument. prepare writes this beside
 * them and makes those two calls require it instead: it writes the same
 * function, as a module, into .jsftrace-functions/ of the checkout and
 * requires it, so the minifier runs through require.
 */
const FUNCTION_BY_REQUIRE = `'use strict';
// require('../.jsftrace-function.js')(params..., body): what new Function(params..., body)
// makes (a sloppy function of the global scope, strict if the body says so), as a module
// of the checkout written once per body, so that it loads through require.
var crypto = require('crypto');
var fs = require('fs');
var path = require('path');
module.exports = function() {
  var params = Array.prototype.slice.call(arguments, 0, -1);
  var body = arguments[arguments.length - 1];
  var source = 'module.exports = function(' + params.join(', ') + ') {\\n' + body + '\\n};\\n';
  var dir = path.join(__dirname, '.jsftrace-functions');
  var file = path.join(dir, crypto.createHash('sha1').update(source).digest('hex').slice(0, 16) + '.js');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    var tmp = file + '.' + process.pid;
    fs.writeFileSync(tmp, source);
    fs.renameSync(tmp, file);
  }
  return require(file);
};
`;

/**
 * mozilla/source-map's test/run-tests.js requires every test/test-*.js, awaits
 * each of their exported test* functions in turn (passing assert) and prints
 * only the failures and 'passed / total'. This is the same loop with a TAP
 * point per test function, `file > name`.
 */
const SOURCE_MAP_TAP = `'use strict';
const assert = require('node:assert');
const fs = require('node:fs');
const files = fs.readdirSync('test').filter((f) => /^test\\-.*?\\.js/.test(f));
(async () => {
  let n = 0;
  let failed = 0;
  process.stdout.write('TAP version 13\\n');
  for (const f of files) {
    const testCase = require('./test/' + f);
    for (const k in testCase) {
      if (!/^test/.test(k)) continue;
      let error = null;
      try { await testCase[k](assert); } catch (e) { error = e; }
      if (error) failed++;
      process.stdout.write((error ? 'not ok ' : 'ok ') + ++n + ' - ' + (f + ' > ' + k).replace(/#/g, '\\\\#') + '\\n');
      if (error) process.stdout.write('  # ' + String(error && error.stack).replace(/\\n/g, '\\n  # ') + '\\n');
    }
  }
  process.stdout.write('1..' + n + '\\n');
  process.exit(failed);
})().catch((e) => { console.error(e); process.exit(1); });
`;

/**
 * nunjucks's test:runner without nyc and the browser half (phantomjs), as
 * scripts/lib/runtests.js runs the node half: mocha over tests/ but the
 * 'precompile cli' tests, with tests/setup (NODE_ENV=test) and
 * @babel/register (.babelrc: preset-env, and babel-plugin-istanbul's
 * counters in env test) as --require, then mocha over tests/cli.js alone
 * (bin/precompile, the transpiled sources, in child processes), with
 * NODE_PATH=tests/test-node-pkgs as its script sets it, each with TAP.
 * Its three express tests run: supertest's request(app) listens on
 * loopback by the suites' preload (loopback.cts).
 */
const NUNJUCKS_RUN = String.raw`'use strict';
const { spawnSync } = require('node:child_process');
const env = Object.assign({}, process.env, { NODE_PATH: 'tests/test-node-pkgs' });
const mocha = (args) => spawnSync(process.execPath, ['node_modules/mocha/bin/mocha', '-R', 'tap', '--timeout', '60000'].concat(args),
  { stdio: 'inherit', env }).status;
const a = mocha(['-r', 'tests/setup', '-r', '@babel/register', '--grep', '^precompile cli ', '--invert', 'tests']);
const b = mocha(['tests/cli.js']);
process.exitCode = a === 0 && b === 0 ? 0 : 1;
`;

export const LIBRARIES: Library[] = [
  {
    name: 'express', repo: 'https://github.com/expressjs/express.git', commit: 'a3714473feb3d2908add734d340e7755fd85e0a3',
    style: 'CommonJS, semicolons, mocha + supertest (HTTP on loopback)', prepare: [],
    test: () => mocha('node_modules/mocha/bin/mocha.js', '--require', 'test/support/env', '--check-leaks', 'test/', 'test/acceptance/'),
  },
  {
    name: 'koa', repo: 'https://github.com/koajs/koa.git', commit: 'e0ba8ef39d27fe5dae5492f9fe753d155124f994',
    style: 'CommonJS, no semicolons (standard), async middleware, node:test (a process per file)', prepare: [['npm', 'run', 'build']],
    test: () => ['--test', '--test-reporter=tap', '--test-timeout=120000'],
  },
  {
    name: 'qs', repo: 'https://github.com/ljharb/qs.git', commit: '3a890d4ecd3deb72a45d90be36f4f8c5970467c7',
    style: 'CommonJS, ES5, semicolons, tape (assertions counted)', prepare: [],
    test: () => ['node_modules/tape/bin/tape', 'test/**/*.js'],
  },
  {
    name: 'semver', repo: 'https://github.com/npm/node-semver.git', commit: '6e05b7637396ac66522cff8731f07cfe0ef49a29',
    style: 'CommonJS, no semicolons (npm style), node-tap 16 (a process per file)', prepare: [],
    test: () => ['node_modules/tap/bin/run.js', '-R', 'tap', '--no-coverage', '-j', '1'],
  },
  {
    name: 'js-yaml', repo: 'https://github.com/nodeca/js-yaml.git', commit: '74a01992953302040be3277c08ba214a06f00b87',
    style: 'CommonJS, semicolons, mocha', prepare: [],
    test: () => mocha('node_modules/mocha/bin/mocha'),
  },
  {
    name: 'ws', repo: 'https://github.com/websockets/ws.git', commit: 'a2f4e7c046c2112bbce6fef39a083dac77d6f0d2',
    style: 'CommonJS, semicolons, streams and sockets, mocha', prepare: [],
    // One test asserts that a server given no host binds the wildcard
    // address '::'; the loopback preload (loopback.cts) binds 127.0.0.1, so
    // it fails in every mode, plain included, and leaves its server open:
    // --exit, or mocha would wait on that server for ever.
    test: () => mocha('node_modules/mocha/bin/mocha', '--throw-deprecation', '--exit', 'test/*.test.js'),
  },
  {
    name: 'chalk', repo: 'https://github.com/chalk/chalk.git', commit: '678e5505458d0cf40134e205aed4454e0eeac45c',
    style: 'ES modules, semicolons, ava 3 (worker threads)', prepare: [],
    test: () => ['node_modules/ava/cli.js', '--tap'],
  },
  {
    name: 'uuid', repo: 'https://github.com/uuidjs/uuid.git', commit: '70177807e9229dfacde2038dc1e722f1828f358a',
    style: 'TypeScript compiled to ES modules, node:test with source maps', prepare: [['npm', 'run', 'build']],
    test: (dir) => ['--test', '--enable-source-maps', '--test-reporter=tap', '--test-timeout=120000',
      ...readdirSync(join(dir, 'dist-node', 'test')).filter((f) => f.endsWith('.js')).sort().map((f) => join('dist-node', 'test', f))],
  },
  {
    // Fastify 6 needs Node 22 or later (Promise.withResolvers): run this one
    // with such a node. Its whole suite (131 files, one at a time) had not
    // finished after 16 minutes plain on a loaded two-core machine, so a
    // fixed part of it: routing, hooks, errors, async handlers, schemas,
    // plugins and the logger.
    name: 'fastify', repo: 'https://github.com/fastify/fastify.git', commit: '83e69762aff047940b376fc2a266d143499ef727',
    style: 'CommonJS, no semicolons (neostandard), node:test (as borp runs it), HTTP on loopback; Node 22+', prepare: [],
    test: () => ['--test', '--test-reporter=tap', '--test-concurrency=1', '--test-timeout=120000', 'test/404s.test.js', 'test/500s.test.js',
      'test/async-await.test.js', 'test/hooks.test.js', 'test/route.1.test.js', 'test/schema-feature.test.js', 'test/plugin.1.test.js',
      'test/logger/logging.test.js'],
  },
  {
    // The last commit before vitest 3 (npm refuses the later ones' devDependencies:
    // @vitest/coverage-v8 2.1.9 wants vitest 2). vitest runs each file in a child
    // process of its own (pool 'forks'), transforming the sources with vite and
    // running them with vm (vite-node), past the module hooks: what gets sites
    // is vitest's own code and its dependencies, not immer's nor the tests'.
    name: 'immer', repo: 'https://github.com/immerjs/immer.git', commit: 'eb35b376fc8fbee5a0c74942da0f5c5646cf8d64',
    style: 'TypeScript and ES modules transformed by vite, proxies, vitest 2 (a child process per file)', prepare: [],
    test: () => ['node_modules/vitest/vitest.mjs', 'run', '--reporter=tap-flat'],
  },
  {
    // The last commit before commander left jest for node:test. Jest has no TAP
    // reporter: prepare writes JEST_TAP into the checkout, which jest loads
    // beside its own. run.ts sets NO_COLOR=1 and FORCE_COLOR=0, so the four
    // tests of command.configureOutput.test.js that set FORCE_COLOR or
    // CLICOLOR_FORCE and expect colours fail in every mode. Two jest workers
    // (child processes), as jest would pick on a machine with three cores or
    // more; its own config asks for coverage, off here as for the others.
    // Jest compiles the tests and commander with vm, past the module hooks:
    // commander gets sites only in the programs the tests start with node.
    name: 'commander', repo: 'https://github.com/tj/commander.js.git', commit: '63eed4aa05435575d515311bb5efaf6d88b6be84',
    style: 'CommonJS, semicolons (prettier), jest 29 (module registry in vm contexts, worker processes), ts-jest, '
      + 'child processes for executable subcommands',
    prepare: [['node', '-e', `require('node:fs').writeFileSync('.jsftrace-jest-tap.cjs', ${JSON.stringify(JEST_TAP)})`]],
    test: () => ['node_modules/jest/bin/jest.js', '--ci', '--coverage=false', '--maxWorkers=2',
      '--reporters=default', '--reporters=./.jsftrace-jest-tap.cjs'],
  },
  {
    // Most tests import the build (dist/, made by tshy), six the TypeScript
    // sources, which tap's ts-node loader compiles; tap runs each file in a
    // process of its own with its loaders (TypeScript, mocks, process info) as
    // --import hooks.
    name: 'minimatch', repo: 'https://github.com/isaacs/minimatch.git', commit: 'ded1bbd01beca62a5978bc1650ed0a1ccf9039d5',
    style: 'TypeScript built by tshy, ES modules, no semicolons, node-tap 21 (ts-node and mock loader hooks, a process per file)',
    prepare: [['npm', 'run', 'prepare']],
    test: () => ['node_modules/tap/dist/esm/run.mjs', '-R', 'tap', '--disable-coverage', '-j', '1'],
  },
  {
    // pino's own borp runs node:test over test/**/*.test.{js,mjs,ts}; here
    // node:test itself, one file at a time, over the JavaScript ones but
    // transport/big.test.js (eight million lines through a worker: 72 s of
    // the 2 min plain). Its transports run in worker threads (thread-stream),
    // which load the transport modules with require and import in the
    // worker. prepare compiles the TypeScript transport fixtures with tsc.
    name: 'pino', repo: 'https://github.com/pinojs/pino.git', commit: 'b394c2c16ac6a8919cd33d7f5684a01baca1096f',
    style: 'CommonJS, no semicolons (neostandard), node:test (a process per file), worker-thread transports, child processes',
    prepare: [['npm', 'run', 'transpile']],
    test: (dir) => ['--test', '--test-reporter=tap', '--test-concurrency=1', '--test-timeout=120000',
      ...['test', join('test', 'transport'), join('test', 'esm')].flatMap((d) => readdirSync(join(dir, d))
        .filter((f) => f.endsWith('.test.js') && f !== 'big.test.js').sort().map((f) => join(d, f)))],
  },
  {
    // The TypeScript sources compiled by tsc (prepare, as its pretest does)
    // to ES modules in build/; mocha loads the .mjs tests with import. Its
    // test/before.mjs makes console.warn throw. --enable-source-maps makes
    // mocha start a second node with that flag.
    name: 'yargs', repo: 'https://github.com/yargs/yargs.git', commit: '2a4378bdc2eac9cf7d0cdfe0a52b1b25f779806a',
    style: 'TypeScript compiled to ES modules, semicolons (gts), mocha 11 (ESM tests, a child node for --enable-source-maps)',
    prepare: [['npm', 'run', 'compile', '--', '-p', 'tsconfig.test.json']],
    test: () => mocha('node_modules/mocha/bin/mocha.js', '--enable-source-maps', './test/*.mjs', '--require', './test/before.mjs',
      '--timeout=24000', '--check-leaks'),
  },
  {
    name: 'body-parser', repo: 'https://github.com/expressjs/body-parser.git', commit: 'b1f3d588c5dca4b3a4ca7d5d3765c9129118926a',
    style: 'CommonJS, semicolons, mocha + supertest, zlib/brotli/zstd streams',
    prepare: [],
    test: () => mocha('node_modules/mocha/bin/mocha.js', '--check-leaks', 'test/'),
  },
  {
    // The sources are ES modules (lib/) that babel-register (babel 6, from
    // test/mocha.opts) compiles to CommonJS as they are required: a
    // require.extensions hook beside jsftrace's. Timers everywhere.
    name: 'async', repo: 'https://github.com/caolan/async.git', commit: '77fd31096b7b421d6cd6be84757c767e0b35b9fd',
    style: 'ES modules compiled on require by babel-register 6, semicolons, mocha 6 (mocha.opts), chai, timers',
    prepare: [],
    test: () => mocha('node_modules/mocha/bin/mocha'),
  },
  {
    // Six test points fail plain on Node 20 and 24, in every mode: three need
    // the internet (httpbin.org, github.com); 'supports supplying a famliy
    // option to the agent' (its lookup stub is older than Node 20's
    // net.lookup); 'should handle chunked response with final chunk and EOM in
    // separate packets' twice (its server's socket is null on newer nodes,
    // then mocha's done() is called twice).
    name: 'node-fetch', repo: 'https://github.com/node-fetch/node-fetch.git', commit: '8b3320d2a7c07bce4afc6b2bf6c3bbddda85b01f',
    style: 'ES modules, semicolons (xo), mocha 9 (ESM tests), chai plugins, HTTP on loopback, streams, Blob/FormData',
    prepare: [],
    test: () => mocha('node_modules/mocha/bin/mocha'),
  },
  {
    name: 'eventemitter3', repo: 'https://github.com/primus/eventemitter3.git', commit: 'b0144e940ace8add8f335a8adfbed9284eb419f3',
    style: 'CommonJS, ES5 (prototype methods, arguments, fn.length checks), semicolons, mocha',
    prepare: [],
    test: () => mocha('node_modules/mocha/bin/mocha', 'test/test.js'),
  },
  {
    name: 'debug', repo: 'https://github.com/debug-js/debug.git', commit: 'f405ade8a4b7a0dc353e0f7390c1be90060f3621',
    style: 'CommonJS, semicolons (xo), mocha, environment and util.inspect options',
    prepare: [],
    test: () => mocha('node_modules/mocha/bin/mocha', 'test.js', 'test.node.js'),
  },
  {
    // tools/test.js (build, then a job runner of its own that evals mocha in
    // child processes) is replaced by its pieces: prepare builds js/debug
    // once (tools/build.js --debug) and writes BLUEBIRD_SETUP and BLUEBIRD_RUN;
    // the test runs node .jsftrace-bluebird-run.js, which runs mocha (TAP,
    // --expose-gc, the setup as --require) over all 78 files of test/mocha:
    // the 8 that tools/test.js gives a fresh process each in one of their own,
    // as async.js (its 'Frees memory' tests fail after 68 other files in the
    // same process: they compare the heap with the heap at their start), the
    // other 68 in one mocha. The generator tests run (Node has generators);
    // the browser tests and jshint do not.
    name: 'bluebird', repo: 'https://github.com/petkaantonov/bluebird.git', commit: 'c220cfe480868e2f5c5de4fe8bb3b04b97588d7f',
    style: 'CommonJS, ES5, semicolons, promises built from one source by a build script, stack-trace parsing (long stack traces), '
      + 'fake timers, domains and async_hooks, mocha 10 (a child process per group)',
    prepare: [['node', 'tools/build.js', '--debug'], write('.jsftrace-bluebird-setup.js', BLUEBIRD_SETUP),
      write('.jsftrace-bluebird-run.js', BLUEBIRD_RUN)],
    test: () => ['.jsftrace-bluebird-run.js'],
  },
  {
    // Substitute for ramda: every ramda commit since July 2018 has
    // browserify as a devDependency fetched from an api.github.com tarball
    // (package.json and package-lock.json), so npm install fails without
    // github.com, and the runner's npm install comes before any prepare step.
    // Its own test-node script: QUnit's CLI (TAP reporter) over test/, which
    // requires the UMD bundle ('..', package main) that prepare-tests builds
    // from modules/ with rollup (and the tree-shaking fixtures). QUnit 2.10's
    // TAP reporter (js-reporters 1) colours 'not ok' lines with the
    // supports-color of 2016, for which FORCE_COLOR set at all (run.ts sets
    // it to 0) forces colour: a preload deletes FORCE_COLOR, else a failing
    // point begins with an escape code and reads as no point. The timing
    // tests of throttle ('more throttling', 'throttle triggers trailing call
    // when invoked repeatedly') fail now and then in every mode on a loaded
    // machine (timers late by more than 25 ms).
    name: 'underscore', repo: 'https://github.com/jashkenas/underscore.git', commit: 'e70d5bd070f1d883b40e786a955a61e4f4b3c2c6',
    style: 'ES modules bundled by rollup into a UMD file, ES3/ES5 style (arguments, Function.prototype tricks, new Function in _.template), '
      + 'semicolons, QUnit 2 CLI',
    prepare: [['npm', 'run', 'prepare-tests'], write('.jsftrace-no-force-color.cjs', 'delete process.env.FORCE_COLOR;\n')],
    test: () => ['--require', './.jsftrace-no-force-color.cjs', 'node_modules/qunit/bin/qunit.js', '--reporter', 'tap', 'test/'],
  },
  {
    // The TypeScript sources built to dist/ as its build script does, but with
    // --skipLibCheck (the newest re2's typings want ES2022's lib) and its steps
    // spelled out; node_modules/ajv (ajv-formats' copy) made a link to the
    // checkout, as its test script's npm link does; spec/_json written by its
    // json-tests script; the specs compiled to JavaScript beside their sources
    // (AJV_SPEC_JS) and run by mocha with require, as test-spec runs them with
    // ts-node. The JSON-Schema-Test-Suite and json-typedef-spec tests are git
    // submodules (prepare checks them out). All the specs but
    // issues/1683_re2_engine (re2 is a native addon, not built with
    // --ignore-scripts): 7943 points, 103 s plain. A 60 s mocha timeout
    // instead of 2 s, so that the graph mode's slowness is not counted as
    // failures; but jtd-schema.spec's 'validation' describe sets its own 10 s,
    // and its first test ('empty schema - null should be valid', which
    // compiles the JTD meta-schema for 16 instances) takes 6 to 11 s plain
    // on a loaded two-core machine and twice that with function_graph: it
    // times out with the graph tracer on (and now and then plain).
    name: 'ajv', repo: 'https://github.com/ajv-validator/ajv.git', commit: '82735a15826a30cc51e97a1bbfb59b3d388e4b98',
    style: 'TypeScript compiled to CommonJS, no semicolons (prettier), code generation with new Function, mocha 10 + chai',
    prepare: [['git', 'submodule', 'update', '--init'], ['rm', '-rf', 'node_modules/ajv'], ['ln', '-s', '..', 'node_modules/ajv'],
      ['node', 'node_modules/typescript/bin/tsc', '--skipLibCheck'], ['cp', '-r', 'lib/refs', 'dist'],
      ['rm', 'dist/refs/json-schema-2019-09/index.ts', 'dist/refs/json-schema-2020-12/index.ts', 'dist/refs/jtd-schema.ts'],
      ['node', 'scripts/jsontests'], ['node', '-e', AJV_SPEC_JS]],
    test: () => mocha('node_modules/mocha/bin/mocha.js', '--timeout', '60000', 'spec/**/*.spec.js',
      '--ignore', 'spec/issues/1683_re2_engine.spec.js'),
  },
  {
    // The sources (ES modules) bundled by rollup (prepare: its build script) to
    // acorn/dist and acorn-loose/dist, which the tests require. Its own
    // test/run.js prints a summary of failures per parser mode, not a point
    // per test: prepare writes ACORN_TAP into the checkout, the same run with
    // a point per test and mode. Its devDependency test262 is a git
    // dependency (github.com, only for bin/run_test262.js).
    name: 'acorn', repo: 'https://github.com/acornjs/acorn.git', commit: '5b9d16c256b81682d2b26246d86387f1d78633e9',
    style: 'ES modules bundled by rollup to UMD, no semicolons, recursive-descent parser, own test driver (13541 tests in 2 s)',
    prepare: [['npm', 'run', 'build'],
      ['node', '-e', `require('node:fs').writeFileSync('.jsftrace-acorn-tap.cjs', ${JSON.stringify(ACORN_TAP)})`]],
    test: () => ['.jsftrace-acorn-tap.cjs'],
  },
  {
    // node:test over the spec tests (test/run-spec-tests.js: CommonMark, GFM,
    // marked's own and the ReDoS specs, through @markedjs/testutils) and the
    // unit tests (test/unit/*.test.js; bin.test.js also starts `node
    // bin/marked` with exec), as its test:specs and test:unit scripts do.
    // Both import the esbuild bundle lib/marked.esm.js (minified, with a
    // source map): prepare runs build:esbuild only (the type and man-page
    // builds are not needed by the tests). Every spec test also fails when
    // marked.parse took a second or more (testutils' run-tests.js), so the
    // big ReDoS inputs are timing tests: quadratic_inline_masking[2] (and
    // its suite point) fails in every mode on a loaded two-core machine
    // (1.0-1.5 s), and under function_graph quadratic_inline_masking[1] and
    // quadratic_em_mask[0] and [2] can cross the second too when the
    // machine is busy. A timeout of 10 minutes a file: the spec file alone
    // (1779 tests in one process) took over the 2 minutes others use under
    // function_graph on a busy machine (its huge ReDoS outputs compared by
    // testutils' html-differ). npm install needs github.com:
    // @markedjs/testutils depends on marked-repo, a tarball of marked v18.0.0
    // from github (used only for its default spec folders, not here).
    name: 'marked', repo: 'https://github.com/markedjs/marked.git', commit: '681373ccc058b5dc93c1f63291d755d7d714c2fa',
    style: 'TypeScript bundled and minified by esbuild to ES modules, semicolons, node:test (a process per file), child processes',
    prepare: [['npm', 'run', 'build:esbuild']],
    test: (dir) => ['--test', '--test-reporter=tap', '--test-timeout=600000', join('test', 'run-spec-tests.js'),
      ...readdirSync(join(dir, 'test', 'unit')).filter((f) => f.endsWith('.test.js')).sort().map((f) => join('test', 'unit', f))],
  },
  {
    // Both halves of its npm test: test/compress.js (its own runner, which
    // forks a worker per core and runs the compressed code with vm: the
    // compressor itself, lib/, is imported as ES modules and goes through
    // the hooks) through TERSER_TAP, which prepare writes into the checkout,
    // then mocha over test/mocha (main.js, and the CLI bin/terser, which
    // requires dist/bundle.min.js, in child processes). prepare builds that
    // bundle with rollup, as its own prepare script does.
    name: 'terser', repo: 'https://github.com/terser/terser.git', commit: '9fc8a85aaa7087d2b8c9b4b31d267202b731b5f1',
    style: 'ES modules, semicolons, a big compressor (AST classes, tree walkers), own runner in forked workers + mocha 9, CLI child processes',
    prepare: [['npm', 'run', 'build'],
      ['node', '-e', `require('node:fs').writeFileSync('.jsftrace-terser-tap.cjs', ${JSON.stringify(TERSER_TAP)})`]],
    test: () => ['.jsftrace-terser-tap.cjs'],
  },
  {
    // The 4.17 line (4.17.21, the tip of its 4.17 branch; main is 4.18.1 on
    // the same layout) rather than the v5-wip rewrite: its suite is plain
    // node scripts, test/test.js (lodash.js itself, required from the
    // checkout; a few tests use vm.runInNewContext for a second realm and
    // load lodash again with natives shadowed) and test/test-fp.js (the fp
    // wrapper), both QUnit 2 under qunit-extras, which prints no TAP:
    // prepare writes QUNIT_TAP into the checkout and that runs each file in a
    // node of its own. npm's pretest (rebuilding dist/ with uglify-js 2) is
    // not run: the tests load lodash.js and fp/*.js, not dist/.
    name: 'lodash', repo: 'https://github.com/lodash/lodash.git', commit: 'f299b52f39486275a9e6483b60a410e06520c538',
    style: 'CommonJS/UMD, ES5 (native detection through Function.prototype.toString, _.template with new Function and '
      + 'sourceURL, arguments), semicolons, QUnit 2 + qunit-extras (a process per file)',
    prepare: [['node', '-e', `require('node:fs').writeFileSync('.jsftrace-qunit-tap.cjs', ${JSON.stringify(QUNIT_TAP)})`]],
    test: () => ['.jsftrace-qunit-tap.cjs', 'test/test.js', 'test/test-fp.js'],
  },
  {
    // npm test is test/compress.js (4262 cases in 126 files, about 18 min plain
    // here: each case with expect_stdout is run, and reminified with the 30
    // option sets of test/ufuzz/options.json and run again) and test/mocha.js
    // (its own little mocha, 4 min plain, bin/uglifyjs in child processes).
    // A fixed part, about 3.5 min plain: seven compress files (371 cases:
    // arguments, arrows, keep_fargs, optional chains, templates, typeof,
    // generators) and eleven mocha files, through UGLIFY_TAP.
    // prepare makes the minifier load through require (FUNCTION_BY_REQUIRE);
    // the sandbox that runs the cases' code still uses vm, or a child node
    // when the code is async.
    name: 'uglify-js', repo: 'https://github.com/mishoo/UglifyJS.git', commit: '111746bbae5f55c88e3b82b42f14fd0f3129ea53',
    style: 'ES5, semicolons, one 25k-line program of eleven files (loaded with new Function, here with require), '
      + 'its own runners test/compress.js (a child node per 50 cases, vm sandbox) and test/mocha.js',
    prepare: [
      ['node', '-e', `require('node:fs').writeFileSync('.jsftrace-uglify-tap.js', ${JSON.stringify(UGLIFY_TAP)})`],
      ['node', '-e', `require('node:fs').writeFileSync('.jsftrace-function.js', ${JSON.stringify(FUNCTION_BY_REQUIRE)})`],
      ['node', '-e', `const fs = require('node:fs'); const call = 'new Function("domprops", "exports", ';
for (const f of ['tools/node.js', 'test/node.js']) {
  const s = fs.readFileSync(f, 'utf8');
  if (s.split(call).length !== 2) throw new Error(f + ': no ' + call);
  fs.writeFileSync(f, s.replace(call, 'require("../.jsftrace-function.js")("domprops", "exports", '));
}`],
    ],
    test: () => ['.jsftrace-uglify-tap.js', 'compress', 'arguments.js', 'arrows.js', 'keep_fargs.js', 'optional-chains.js',
      'templates.js', 'typeof.js', 'yields.js', 'mocha', 'arguments.js', 'comments.js', 'directives.js', 'getter-setter.js',
      'number-literal.js', 'operator.js', 'parentheses.js', 'string-literal.js', 'templates.js', 'with.js', 'yields.js'],
  },
  {
    // co 4.6.0 (the tip of master): generator functions driven through
    // promises, thunks, arrays and objects of them; mocha 2 (its _mocha, the
    // runner itself, rather than bin/mocha, which only restarts node with
    // --harmony).
    name: 'co', repo: 'https://github.com/tj/co.git', commit: '249bbdc72da24ae44076afd716349d2089b31c4c',
    style: 'CommonJS, ES2015 generators (yield of promises, thunks, arrays, objects), semicolons, mocha 2',
    prepare: [],
    test: () => mocha('node_modules/mocha/bin/_mocha'),
  },
  {
    // Its test/run-tests.js (npm test) through SOURCE_MAP_TAP, which prepare
    // writes into the checkout: 14 files of exported test functions, some
    // async (the consumers parse mappings with lib/mappings.wasm through
    // WebAssembly), including the tc39 source-map-tests (a git submodule,
    // test/source-map-tests, which prepare checks out).
    name: 'source-map', repo: 'https://github.com/mozilla/source-map.git', commit: '801be934007c3ed0ef66c620641b1668e92c891d',
    style: 'CommonJS, semicolons (prettier), classes, async consumers over WebAssembly, own test runner (exported test functions)',
    prepare: [['git', 'submodule', 'update', '--init'], write('.jsftrace-source-map-tap.cjs', SOURCE_MAP_TAP)],
    test: () => ['.jsftrace-source-map-tap.cjs'],
  },
  {
    // The tip of the 4.x branch (after v4.7.9; master, 5.0 alphas, is ES
    // modules under vitest). prepare builds what the node tests load, as its
    // grunt build does for node: the parser with jison (task parser) and
    // lib/ compiled by babel 5 to CommonJS in dist/cjs (task node); the
    // mustache spec tests are a git submodule (spec/mustache). Of the three
    // environments of spec/env/runner.js (runtime, browser and node, the first
    // two over the webpack bundles in dist/) the node one: mocha over spec/*.js
    // with spec/env/node.js as --require. Templates are compiled to source and
    // made into functions with new Function, precompiled ones with eval.
    name: 'handlebars', repo: 'https://github.com/handlebars-lang/handlebars.js.git', commit: 'd069c1caf164eac7ca30fd1b3fcf1f2edfe39967',
    style: 'ES modules compiled by babel 5 to CommonJS, jison parser, semicolons (prettier), code generation with new Function '
      + 'and eval, require.extensions for .hbs, mocha 5 + chai + sinon',
    prepare: [['git', 'submodule', 'update', '--init'], ['npx', '--no-install', 'grunt', 'parser', 'node']],
    test: () => mocha('node_modules/mocha/bin/_mocha', '--require', './spec/env/node.js', 'spec/*.js'),
  },
  {
    // The tip of 16.x.x, its default branch. Its testonly script: mocha 9
    // over src/**/__tests__/**/*-test.ts, the TypeScript compiled as it is
    // required by @babel/register (resources/ts-register.js, from
    // .mocharc.yml, with check-leaks and throw-deprecation): a
    // require.extensions hook for .ts beside jsftrace's. Execution and
    // subscriptions with promises, async iterators and generators.
    name: 'graphql', repo: 'https://github.com/graphql/graphql-js.git', commit: 'a7db60beb22b0e417f9ed12215945c7fcb43246e',
    style: 'TypeScript compiled on require by @babel/register, semicolons (prettier), async iterators and generators, mocha 9',
    prepare: [],
    test: () => mocha('node_modules/mocha/bin/mocha', '--full-trace', 'src/**/__tests__/**/*-test.ts'),
  },
  {
    // graphql-js's next branch (17.0 alphas), a checkout of its own: ES
    // modules in TypeScript, which mocha 11 imports through ts-node's ESM
    // loader (node-option loader=ts-node/esm/transpile-only in .mocharc.yml):
    // module hooks beside jsftrace's. Its testonly script, as for graphql;
    // beyond 16, incremental delivery (@defer, @stream) built on async
    // generators and async iterators.
    name: 'graphql-next', repo: 'https://github.com/graphql/graphql-js.git', commit: 'f808084e5d9bb05ca45fcaec4422eb86516ea784',
    style: 'TypeScript ES modules through the ts-node/esm loader, semicolons (prettier), async generators (@defer, @stream), mocha 11',
    prepare: [],
    test: () => mocha('node_modules/mocha/bin/mocha', '--full-trace', 'src/**/__tests__/**/*-test.ts'),
  },
  {
    // The Proxy-based watcher (source/index.js and its traps, caches and
    // smart clones of arrays, Maps, Sets, Dates and ArrayBuffers) under ava 6,
    // which imports each test file in a worker thread of its own; 6135 tests,
    // many generated over combinations of options.
    name: 'on-change', repo: 'https://github.com/sindresorhus/on-change.git', commit: 'ded74e8f50545245509d433b232fb964dc74659a',
    style: 'ES modules, semicolons (xo), Proxy traps, Reflect, getters and setters, ava 6 (worker threads)',
    prepare: [],
    test: () => ['node_modules/ava/entrypoints/cli.mjs', '--tap'],
  },
  {
    // The develop branch. Its grunt test:node transpiles src/ (ES modules) with
    // rollup into UMD files in build/umd (moment.js, each test file bundled
    // with its helpers and requiring ../../moment), then runs them through
    // node-qunit, a child process per file. Here prepare runs the same
    // transpile task, and QUnit 2's own CLI (TAP reporter) runs the 52 core
    // and 138 locale test files in one process, sharing one moment.
    name: 'moment', repo: 'https://github.com/moment/moment.git', commit: '18aba135ab927ffe7f868ee09276979bed6993a6',
    style: 'ES modules bundled by rollup to UMD, ES5 (prototype methods, arguments, regular expressions, Date), semicolons, QUnit 2 CLI',
    prepare: [['node', 'node_modules/grunt/bin/grunt', 'transpile']],
    test: () => ['node_modules/qunit/bin/qunit.js', '--reporter', 'tap', 'build/umd/test/moment/*.js', 'build/umd/test/locale/*.js'],
  },
  {
    // The 7.x branch (7.8.2; master is a pnpm/nx monorepo for Node 22.13+).
    // Its npm test: mocha 8 with spec/support/.mocharc.js (ts-node/register
    // with the swc transpiler of tsconfig.mocha.json, which TS_NODE_PROJECT
    // names: a preload written by prepare sets it; a resolver patch mapping
    // 'rxjs/*' to src/; marble-testing UI; --enable-source-maps and
    // --expose-gc, for which mocha starts a second node) over
    // spec/**/*-spec.ts, the TypeScript sources compiled on require.
    // Left out by --grep/--invert: the eight 'Promise resolves/rejects' tests
    // of buffer, window, skipUntil and delayWhen, which race interval(1-3 ms)
    // against a setTimeout promise on the real clock; on a loaded machine
    // they fail now and then in every mode, and their assertion then throws
    // from a timer after the test ended, which ends the whole mocha run. 'ajax
    // should fail if fails to parse response in older IE' fails in every
    // mode (it expects the JSON.parse message of older V8s). A 60 s mocha
    // timeout instead of its 5 s.
    name: 'rxjs', repo: 'https://github.com/ReactiveX/rxjs.git', commit: 'e5351d02e225e275ac0e497c7b66eaa5f0c88791',
    style: 'TypeScript compiled on require by ts-node (swc), classes, schedulers, iterators and async iterators, '
      + 'marble tests with a virtual clock, mocha 8 + chai + sinon',
    prepare: [write('.jsftrace-rxjs-env.cjs', "process.env.TS_NODE_PROJECT = 'tsconfig.mocha.json';\n")],
    test: () => ['--require', './.jsftrace-rxjs-env.cjs', 'node_modules/mocha/bin/mocha', '--config', 'spec/support/.mocharc.js',
      '--reporter', 'tap', '--timeout', '60000', '--grep', 'Promise (resolves|rejects)', '--invert', 'spec/**/*-spec.ts'],
  },
  {
    // Serializes functions, regular expressions, dates, Maps, Sets, BigInts
    // and URLs to JavaScript source: functions by their Function.prototype.toString
    // text, which the tests compare with the text they wrote and eval back.
    // node:test over test/unit.
    name: 'serialize-javascript', repo: 'https://github.com/yahoo/serialize-javascript.git',
    commit: '739145a671afd4b81a416e15888f8f5e637d08d6',
    style: 'CommonJS, ES5, semicolons, functions serialized from their source text (toString) and eval, node:test',
    prepare: [],
    test: () => ['--test', '--test-reporter=tap', join('test', 'unit', 'serialize.js')],
  },
  {
    // Its npm test-node: mocha 11 over test/ and integration-test/ with
    // --check-leaks, against src/ (CommonJS): fake setTimeout, setInterval,
    // setImmediate, nextTick, queueMicrotask, Date, performance,
    // process.hrtime, Intl and requestAnimationFrame installed on the global
    // object and on given objects, and restored. A 60 s mocha timeout
    // instead of its 200 ms.
    name: 'fake-timers', repo: 'https://github.com/sinonjs/fake-timers.git', commit: 'c4d8e46477e5c7b2121e3505de9fcb10e8fe5b79',
    style: 'CommonJS, semicolons (prettier), replaces the global timers and clocks, mocha 11 + @sinonjs/referee-sinon, jsdom',
    prepare: [],
    test: () => mocha('node_modules/mocha/bin/mocha.js', '--timeout', '60000', '--check-leaks', 'test/', 'integration-test/'),
  },
  {
    // Its npm test-node: build.cjs first (rollup writes lib/, CommonJS, from
    // the ES modules of src/; esbuild the bundles of pkg/), then mocha 11 over
    // test/{src,issues,scripts}/**/*-test.js, which require lib/. Spies,
    // stubs, mocks and fakes wrapping methods and accessors, sandboxes, fake
    // timers through @sinonjs/fake-timers. A 60 s mocha timeout instead of
    // its 2 s ('Sandbox ... warns of potential leak when many fakes are
    // created' makes 10000 spies).
    name: 'sinon', repo: 'https://github.com/sinonjs/sinon.git', commit: 'cf5d9e8de1a5307ed7b329b6306ee86982453db7',
    style: 'ES modules built to CommonJS by rollup, semicolons (prettier), wraps methods, accessors and functions '
      + '(Function.prototype.toString, length, name of the wrapped), fake timers, mocha 11 + @sinonjs/referee',
    prepare: [['node', 'build.cjs']],
    test: () => mocha('node_modules/mocha/bin/mocha.js', '--timeout', '60000', '--recursive',
      'test/{src,issues,scripts}/**/*-test.js'),
  },
  {
    // Its npm test-node without c8: mocha 11 over test/*.js with
    // test/bootstrap/index.js required first, against index.js, the ES module
    // bundle of lib/ that its npm run build makes with esbuild (prepare).
    // The tests check the messages of failed assertions and that the stack of
    // their errors holds no frames of chai (Error.captureStackTrace from the
    // assertion's start); assertions are getters and Proxies.
    name: 'chai', repo: 'https://github.com/chaijs/chai.git', commit: '099f48a326f0d77a0e4e9a34d7050b4217dd62d1',
    style: 'ES modules bundled by esbuild (--keep-names), semicolons (prettier), chained getters, Proxies, '
      + 'Error.captureStackTrace, mocha 11',
    prepare: [['node', 'node_modules/esbuild/bin/esbuild', '--bundle', '--format=esm', '--target=es2021', '--keep-names',
      '--legal-comments=none', '--outfile=index.js', 'lib/chai.js']],
    test: () => mocha('node_modules/mocha/bin/mocha.js', '--require', './test/bootstrap/index.js', 'test/*.js'),
  },
  {
    // Its npm test:tape and test:babel (standard's lint left out) through
    // RITM_RUN, which prepare writes into the checkout: tape over test/*.js
    // (hooks on Module.prototype.require: exports of built-in modules, of
    // packages under test/node_modules and of absolute paths replaced, the
    // require cache invalidated, process.getBuiltinModule), then
    // test/babel/babel-register.js in a node of its own (a '*' hook beside
    // @babel/register compiling .js and .ts on require), as one more point.
    name: 'require-in-the-middle', repo: 'https://github.com/elastic/require-in-the-middle.git',
    commit: 'f7b785370fb1b9a239e4aac54da76e9525a71964',
    style: 'CommonJS, no semicolons (standard), replaces Module.prototype.require, tape 4, @babel/register',
    prepare: [write('.jsftrace-ritm-run.cjs', RITM_RUN)],
    test: () => ['.jsftrace-ritm-run.cjs'],
  },
  {
    // Its npm test without standard's lint and coverage: tap 12 over
    // test/*.tap.js, each file in a node of its own (wrap, unwrap, massWrap,
    // massUnwrap of methods, the __wrapped, __original and __unwrap marks
    // defined on the wrapper, sinon 7 spies as loggers). A 600 s tap timeout
    // per file instead of its 30 s.
    name: 'shimmer', repo: 'https://github.com/othiym23/shimmer.git', commit: 'b2b29d760aa664767f71f37dbcbfac0b9250421b',
    style: 'CommonJS, ES5, no semicolons (standard), replaces methods with wrappers, tap 12 + sinon 7',
    prepare: [],
    test: () => ['node_modules/tap/bin/run.js', '--reporter=tap', '--no-coverage', '--timeout=600', 'test/*.tap.js'],
  },
  {
    // Its npm test without c8, through IITM_RUN, which prepare writes into
    // the checkout: imhotap runs each of test/{hook,low-level,other,
    // get-esm-exports}/* in a node of its own, with the ESM loader hook
    // test/generic-loader.mjs (import-in-the-middle's hook.mjs: every ES
    // module's exports re-exported through a generated wrapper module whose
    // namespace its Hook callbacks may replace), a TAP point per file.
    // 'test/hook/v18.19-openai.mjs' fails in every mode (no lock file: the
    // openai 4.x that npm installs now throws 'you must import
    // openai/shims/node' when imported through the hook). On Node 20 every
    // file fails idle and under graph: test/generic-loader.mjs reads
    // IITM_TEST_FILE, which the --require'd test/version-check.js sets in the
    // main thread, and the loader thread started before it does.
    name: 'import-in-the-middle', repo: 'https://github.com/DataDog/import-in-the-middle.git',
    commit: '29c77b560aec0429154632c950923d12db36f79e',
    style: 'ES modules and CommonJS, no semicolons (standard), ESM loader hooks (--experimental-loader) generating '
      + 'wrapper modules, acorn and cjs-module-lexer, a node per test file (imhotap)',
    prepare: [write('.jsftrace-iitm-run.cjs', IITM_RUN)],
    test: () => ['.jsftrace-iitm-run.cjs'],
  },
  {
    // readable-stream 4.7.0 (the tip of main): Node 18.19's streams, lib/
    // built from Node's sources and checked in, with Node's own stream tests
    // ported to it (test/parallel, 186 files, and test/ours): nextTick and
    // microtask ordering, errors and destroy, pipeline and finished, async
    // iterators, AbortSignal. Its npm test: node-tap 16, a node per file, with
    // tap.yml (--expose-internals, --no-warnings); one file at a time and a
    // 10-minute timeout a file instead of tap's 30 s.
    name: 'readable-stream', repo: 'https://github.com/nodejs/readable-stream.git', commit: '88df21041dc26c210fab3e074ab6bb681a604b8e',
    style: 'CommonJS, no semicolons (prettier), Node core streams (process.nextTick, queueMicrotask, errors, AbortSignal), '
      + "Node's own tests under node-tap 16 (a process per file)",
    prepare: [],
    test: () => ['node_modules/tap/bin/run.js', '--rcfile=./tap.yml', '-R', 'tap', '--no-coverage', '-j', '1', '-t', '600',
      'test/parallel/test-*.js', 'test/ours/test-*.js'],
  },
  {
    // protobuf.js 8.7.2 (the tip of master). Its test:sources: tape with
    // lib/tape-adapter over tests/*.js and tests/node/*.js (3166 assertions):
    // parsing .proto files, reflection, encoders, decoders, verifiers and
    // converters generated as source text (util.codegen) and made into
    // functions with new Function, the static code generator of the CLI
    // (cli/, which requires protobufjs: its own npm install links the
    // checkout) and the bundles in dist/ (tests/node/comp_loaders.js reads
    // dist/protobuf.min.js): prepare installs cli/ and runs build:bundle, as
    // its prepublish script does (without the types).
    name: 'protobufjs', repo: 'https://github.com/protobufjs/protobuf.js.git', commit: '8845d2aba910d255679fcfe8479f79cc0f8ccf74',
    style: 'CommonJS, ES5, semicolons, code generation with new Function (encoders, decoders, verifiers), '
      + 'browserify bundles, tape (assertions counted)',
    prepare: [['npm', '--prefix', 'cli', 'install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
      ['npm', 'run', 'build:bundle']],
    test: () => ['node_modules/tape/bin/tape', '-r', './lib/tape-adapter', 'tests/*.js', 'tests/node/*.js'],
  },
  {
    // iconv-lite 0.7.0 (the tip of master). Its test:tap script: mocha 6
    // (test/mocha.opts, --check-leaks) with --grep . (also the 'Full' tests
    // that test/mocha.opts leaves out): single-byte and double-byte codecs
    // over Buffers, BOM handling, UTF-7/16/32, the encode and decode streams.
    // The comparisons with the native iconv module (a devDependency built by
    // node-gyp, which npm install --ignore-scripts does not build) skip.
    name: 'iconv-lite', repo: 'https://github.com/ashtuchkin/iconv-lite.git', commit: '165af7178c9c0bdd05623cfdd2f96cb526ca0a5a',
    style: 'CommonJS, no semicolons (neostandard), Buffers, typed-array tables, Transform streams, mocha 6',
    prepare: [],
    test: () => mocha('node_modules/mocha/bin/_mocha', '--check-leaks', '--grep', '.'),
  },
  {
    // bn.js 5.2.5 (the tip of master): arbitrary-precision integers on
    // arrays of 26-bit words, Montgomery and pseudo-Mersenne reductions.
    // Its unit script (mocha 8 over test/*-test.js) and the slow
    // Diffie-Hellman test of test/pummel (modular exponentiation of
    // 1024-8192-bit numbers: hot loops of small functions).
    name: 'bn.js', repo: 'https://github.com/indutny/bn.js.git', commit: 'eb2e57c4e50a9b9a1f277a59ef446c13f564dddc',
    style: 'CommonJS, ES5 prototypes, semicolons (standard), big-number arithmetic in hot loops, mocha 8',
    prepare: [],
    test: () => mocha('node_modules/mocha/bin/mocha', 'test/*-test.js', 'test/pummel/*-test.js'),
  },
  {
    // minimist 1.2.8 (the tip of main): the argument parser, one function
    // of nested closures over its flags, aliases and booleans, with its
    // prototype-pollution guards. Its tests-only script without nyc: tape over
    // test/*.js (assertions counted).
    name: 'minimist', repo: 'https://github.com/minimistjs/minimist.git', commit: '30b56212c17fdad7575c652a6aef5e61afa026e4',
    style: 'CommonJS, ES5, semicolons (ljharb), closures, tape (assertions counted)',
    prepare: [],
    test: () => ['node_modules/tape/bin/tape', 'test/*.js'],
  },
  {
    // ejs 6.0.1 (the tip of main): the ES module sources (lib/esm) compiled
    // by tsc to CommonJS in lib/cjs (the package's main), which the tests
    // require: prepare runs its jake compile task (tsc and the rewrites
    // after it), not the lint, browserify and minify steps of its build.
    // Templates are compiled to source and made into functions with
    // Function (an AsyncFunction for async templates); includes, caches,
    // the CLI (bin/cli.js in child processes). Its testOnly task: mocha
    // --ui tdd, with --check-leaks of test/mocha.opts (which mocha 10 no
    // longer reads).
    name: 'ejs', repo: 'https://github.com/mde/ejs.git', commit: '2c41365ca042a70978e5795adc05fbb8b35fb013',
    style: 'ES modules compiled by tsc to CommonJS, semicolons, templates made into functions with new Function, '
      + 'CLI child processes, mocha 10 (tdd)',
    prepare: [['node', 'node_modules/jake/bin/cli.js', 'compile']],
    test: () => mocha('node_modules/mocha/bin/mocha.js', '--ui', 'tdd', '--check-leaks'),
  },
  {
    // nunjucks 3.2.4 (the tip of master). NUNJUCKS_RUN (prepare writes it
    // into the checkout) runs the node half of its test:runner; prepare also
    // runs build:transpile (babel over nunjucks/ into src/, which
    // bin/precompile requires). The sources and tests compiled as they are
    // required by @babel/register, with istanbul's counters; templates
    // compiled to source and made into functions with new Function; its
    // loaders (file system, node packages through NODE_PATH), async
    // filters and extensions, and its express views. A 60 s mocha timeout
    // instead of its 2 s.
    name: 'nunjucks', repo: 'https://github.com/mozilla/nunjucks.git', commit: '13239ff5c2193978d6a567305fe4264c64b7f35e',
    style: 'CommonJS (ES2015) compiled on require by @babel/register with babel-plugin-istanbul, semicolons (airbnb), '
      + 'templates made into functions with new Function, mocha 7, CLI child processes',
    prepare: [['npm', 'run', 'build:transpile'], write('.jsftrace-nunjucks-run.cjs', NUNJUCKS_RUN)],
    test: () => ['.jsftrace-nunjucks-run.cjs'],
  },
  {
    // escodegen 2.1.0 (the tip of master): its gulp test task (gulp-mocha,
    // reporter spec, 100 s timeout) as mocha itself over test/*.js. The
    // code generator and the tests are ES5 of 2012-2020; the tests parse
    // fixtures with acorn and with old esprima builds vendored in
    // test/3rdparty (big ES5 files), generate code and compare.
    name: 'escodegen', repo: 'https://github.com/estools/escodegen.git', commit: '899cfdf5dc99de324fb6f1087aa9bab4d4bc2f00',
    style: 'CommonJS, ES5 (one strict IIFE, a generator method per node type merged into CodeGenerator.prototype), semicolons, '
      + 'old esprima builds, mocha 6',
    prepare: [],
    test: () => mocha('node_modules/mocha/bin/mocha', '--timeout', '100000', 'test/*.js'),
  },
  {
    // estraverse 5.3.0 (the tip of master): its unit-test script, mocha 2
    // with --compilers js:babel-register (babel 6, preset env for node 4),
    // which compiles the tests and estraverse.js (an ES5 IIFE over exports) on
    // require.
    name: 'estraverse', repo: 'https://github.com/estools/estraverse.git', commit: 'ec3f900528eac270a51f7b079edeae086e7ebce4',
    style: 'CommonJS, ES5, semicolons, compiled on require by babel-register 6 (mocha --compilers), mocha 2',
    prepare: [],
    test: () => mocha('node_modules/mocha/bin/_mocha', '--compilers', 'js:babel-register'),
  },
  {
    // jsonwebtoken 9.0.2 (the tip of master): its coverage script without
    // nyc, mocha 5 --use_strict (bin/mocha starts _mocha in a second node
    // with that V8 flag: all code strict, jsftrace's too) over test/*.js:
    // signing and verifying with crypto keys (HMAC, RSA, RSA-PSS, ECDSA),
    // callbacks, claims checked against sinon's fake clocks.
    name: 'jsonwebtoken', repo: 'https://github.com/auth0/node-jsonwebtoken.git', commit: 'bc28861f1fa981ed9c009e29c044a19760a0b128',
    style: 'CommonJS, semicolons, node:crypto keys and signatures, callbacks, sinon fake timers, mocha 5 in a child node with --use_strict',
    prepare: [],
    test: () => mocha('node_modules/mocha/bin/mocha', '--use_strict'),
  },
  {
    // validator 13.15.35 (the tip of master). npm refuses its
    // devDependencies (rollup-plugin-babel 4 wants rollup >= 0.60, it names
    // ^0.47): prepare this one with npm_config_legacy_peer_deps=true in the
    // environment of run.js (its npm install reads it). prepare runs its
    // build (babel to index.js and lib/, the ES build, and rollup and uglify-js
    // for validator.js and validator.min.js, which some tests read and run
    // in vm contexts), as its pretest does. Its test script without nyc:
    // mocha 6 with @babel/register (.babelrc: preset-env for node 0.10,
    // add-module-exports), the tests and src/ compiled on require. A 60 s
    // mocha timeout instead of its 2 s.
    name: 'validator', repo: 'https://github.com/validatorjs/validator.js.git', commit: 'cdb7dafc281d14125b924969bf3ee5bc482ec169',
    style: 'ES modules compiled on require by @babel/register, semicolons (airbnb), regular expressions over strings, '
      + 'vm contexts for the browser build, mocha 6',
    prepare: [['npm', 'run', 'build']],
    test: () => mocha('node_modules/mocha/bin/mocha', '--require', '@babel/register', '--recursive', '--timeout', '60000'),
  },
  {
    // jsdiff 9.0.0 (the tip of master; npm name diff): the TypeScript
    // sources compiled by tsc to libesm (ES modules, "type": "module") and
    // libcjs, as its generate-esm and generate-cjs scripts do (prepare).
    // Its run-mocha script: mocha 11 over test/**/*.js with runtime.js as
    // --require; that file calls require in a "type": "module" package, so
    // mocha cannot load it on Node 20: prepare copies it to a .cjs file. It
    // registers @babel/register (ignoring libesm, libcjs and node_modules),
    // which compiles the tests (ES modules) to CommonJS on require; they
    // then require libesm and the package itself ('diff', through its
    // exports): ES modules loaded by require. A 60 s mocha timeout instead
    // of its 2 s (createPatch of a million-line hunk).
    name: 'diff', repo: 'https://github.com/kpdecker/jsdiff.git', commit: '2d923cea1dffc832b6e4ba0c6e3eec1f742faa3c',
    style: 'TypeScript compiled by tsc to ES modules, tests compiled on require by @babel/register to CommonJS that '
      + 'requires ES modules (require(esm)), semicolons, mocha 11',
    prepare: [['node', 'node_modules/typescript/bin/tsc', '--module', 'nodenext', '--outDir', 'libesm', '--target', 'es6'],
      write('libesm/package.json', JSON.stringify({ type: 'module', sideEffects: false })),
      ['node', 'node_modules/typescript/bin/tsc', '--module', 'commonjs', '--outDir', 'libcjs'],
      write('libcjs/package.json', JSON.stringify({ type: 'commonjs', sideEffects: false })),
      ['cp', 'runtime.js', '.jsftrace-diff-runtime.cjs']],
    test: () => mocha('node_modules/mocha/bin/mocha.js', '--require', './.jsftrace-diff-runtime.cjs', '--timeout', '60000', 'test/**/*.js'),
  },
  {
    // zod 4.4.3 (the tip of main): a pnpm workspace; pnpmWorkspace installs
    // what the tests of packages/zod import (the lock file's versions) and
    // links the workspace's zod. Its npm test (vitest run) less the other
    // projects of the workspace (docs, treeshake, resolution; and
    // compile-mode, which runs the same files again with zod/compile's parsers
    // made with new Function): 8.5 min plain here. Project zod alone: its
    // TypeScript sources (the @zod/source condition) run by vitest 4, a child
    // process per file, and tsc over the test files (typecheck: about 2,400 of
    // the points, a node child process, instrumented like any other). vitest
    // evaluates the sources in its module runner, past the module hooks: zod
    // gets no sites (0 of 3,941 functions traced in three of its files, 1,412
    // of them tsc's).
    name: 'zod', repo: 'https://github.com/colinhacks/zod.git', commit: 'e516c3baf22615e20934116abebfed6c000222c2',
    style: 'TypeScript sources through vite, ES modules, semicolons (biome), classes made by a constructor factory, '
      + 'vitest 4 (a child process per file) with tsc typecheck, project zod only',
    install: pnpmWorkspace({ zod: 'file:packages/zod', vitest: '4.1.5', vite: '7.3.2', typescript: '5.5.4', esbuild: '0.25.5',
      '@types/node': '22.13.13', benchmark: '2.1.4', '@types/benchmark': '2.1.5', 'ts-morph': '28.0.0', recheck: '4.6.0-beta.3',
      '@web-std/file': '3.0.3', '@seriousme/openapi-schema-validator': '2.9.0' }),
    prepare: [],
    test: () => ['node_modules/vitest/vitest.mjs', 'run', '--project', 'zod', '--reporter=tap-flat'],
  },
  {
    // date-fns 4.1.0 (the tip of main): a pnpm workspace whose @date-fns/tz and
    // @date-fns/utc are git submodules (not in a clone): pnpmWorkspace takes
    // the versions of the submodules' commits from the registry. Its npm test
    // (vitest run): vitest 3, every src/**/test.ts in one child process
    // (isolate: false), the TypeScript sources evaluated by vitest's module
    // runner, past the module hooks: date-fns gets no sites (0 of 2,502
    // functions traced in the whole suite), while what vitest leaves to
    // node's import (node_modules: @date-fns/tz, @date-fns/utc, sinon,
    // lodash) does. In the machine's zone (UTC here, where 18 DST tests
    // skip); the time-zone programs of its CI are date-fns-tz's.
    name: 'date-fns', repo: 'https://github.com/date-fns/date-fns.git', commit: 'dd66398305c2b015fba3c1b3d31ccff42ee8d4cf',
    style: 'TypeScript sources through vite, ES modules, semicolons (prettier), a function per module, time zones, '
      + 'vitest 3 (one child process, isolate: false)',
    install: pnpmWorkspace({ vitest: '3.2.4', '@date-fns/tz': '1.4.1', '@date-fns/utc': '2.1.1', sinon: '7.5.0', lodash: '4.17.21',
      'js-fns': '2.5.2', 'fp-ts': '2.16.10' }),
    // The tsconfig.json files refer to the submodules' (vite reads them).
    prepare: ['tz', 'utc', 'docs', 'build', 'mcp'].map((m) => write(`submodules/${m}/tsconfig.json`, '{}\n')),
    test: () => ['node_modules/vitest/vitest.mjs', 'run', '--reporter=tap-flat'],
  },
  {
    // date-fns's time-zone tests (scripts/test/tz.sh, DATEFNS_TZ_RUN): 15
    // programs under tsx 4 (its lock file's version), each in the zone it
    // asserts (DST edges of parseISO, eachDayOfInterval, addBusinessDays,
    // formatDistanceStrict, getOverlappingDaysInIntervals; formatISO and
    // formatRFC3339 at odd offsets). Here date-fns's own functions run
    // instrumented: tsx's hooks compile src/**/*.ts in node, not in a vm (40
    // of them traced, from 29 files, besides tsx's __name helpers).
    // samoa.ts fails in every mode: this ICU names Pacific/Apia's zone
    // 'Samoa Daylight Time', the test expects 'Apia Daylight Time'.
    name: 'date-fns-tz', repo: 'https://github.com/date-fns/date-fns.git', commit: 'dd66398305c2b015fba3c1b3d31ccff42ee8d4cf',
    style: 'TypeScript sources compiled by tsx 4 loader hooks, ES modules, a node per file in its TZ, assert',
    install: pnpmWorkspace({ tsx: '4.20.3', '@date-fns/tz': '1.4.1', '@date-fns/utc': '2.1.1' }),
    prepare: [write('.jsftrace-tz-run.cjs', DATEFNS_TZ_RUN)],
    test: () => ['.jsftrace-tz-run.cjs'],
  },
];
