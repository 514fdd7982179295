/**
 * Contender: jsftrace with something attached. Preloaded with --require
 * after jsftrace/register: starts the ES module that registers the ops or
 * turns the tracer on (PEERS_JSFTRACE) and leaves its promise in
 * globalThis.__peersReady, which every workload awaits before its work.
 * This keeps `--import` (and with it Node 20's ES module loader for a
 * CommonJS main) out of the comparison.
 */

const { pathToFileURL } = require('node:url') as typeof import('node:url');
const path = require('node:path') as typeof import('node:path');

(globalThis as { __peersReady?: Promise<unknown> }).__peersReady = import(pathToFileURL(path.join(__dirname, 'jsftrace-setup.js')).href);
