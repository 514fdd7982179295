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
    test: () => mocha('node_modules/mocha/bin/mocha', '--throw-deprecation', 'test/*.test.js'),
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
];
