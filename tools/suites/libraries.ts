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
];
