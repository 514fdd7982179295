/**
 * Attaching from outside: `jsftrace -P <pid>` on a Node.js process that has
 * no control socket. Opens the process's inspector (SIGUSR1, as
 * `process._debugProcess` sends it), has it load jsftrace's injected entry
 * (public/inject.cts), and lets it close the inspector again; the process
 * then starts its control server like a preloaded one.
 *
 * Owns: the checks before the signal and the inspector window. Invariants:
 * - nothing is sent to a process that is not ours to trace (its owner, or
 *   root for a process of its own uid), that is not Node.js, or that does
 *   not catch SIGUSR1 (the signal's default action would end it); a process
 *   started with --inspect keeps its inspector to itself; each refusal is
 *   one line with its code;
 * - the inspector is reached on loopback only, and the window (signal to
 *   port closed) is measured and returned.
 */

import { fileURLToPath } from 'node:url';
import { get } from 'node:http';
import { JsftraceError, fail } from '../shared/errors.js';
import { loadCdp, openCdp } from './cdp.js';
import { inspectorOptions, isNodeExecutable, listeners, processFacts, type Listener } from './procfs.js';

export interface AttachResult {
  /** Milliseconds from the signal to the inspector port closed again. */
  windowMs: number;
  /** What the injected entry said: started, restarted, starting, running. */
  status: string;
}

const INJECT = fileURLToPath(new URL('../public/inject.cjs', import.meta.url));
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Refuses, with one line, what may not be attached to. */
async function check(pid: number): Promise<void> {
  let f = processFacts(pid);
  // Node installs its SIGUSR1 handler a moment after it starts running the program.
  for (let i = 0; i < 50 && f !== null && !f.catchesUsr1 && Date.now() - f.startTime < 2000; i++) {
    await sleep(20);
    f = processFacts(pid);
  }
  if (f === null) fail('ESRCH', `no process with pid ${pid}`);
  const me = process.getuid?.() ?? -1;
  if (f.uid !== me) {
    fail('EPERM', me === 0
      ? `process ${pid} belongs to uid ${f.uid}: attach as that user (its control socket lives in that user's socket directory)`
      : `process ${pid} belongs to uid ${f.uid}, not to you (uid ${me}): only its owner may attach`);
  }
  if (!isNodeExecutable(f.exe)) fail('ENODEV', `process ${pid} is not Node.js (${f.exe === '' ? f.argv[0] ?? '?' : f.exe})`);
  const opts = inspectorOptions(f);
  const inspect = opts.find((o) => /^--inspect(-brk|-wait)?(=|$)/.test(o));
  if (inspect !== undefined) fail('EBUSY', `process ${pid} was started with ${inspect}: its inspector belongs to whoever debugs it; jsftrace does not take it over`);
  const off = opts.find((o) => /^--(disable-sigusr1|permission|experimental-permission)/.test(o));
  if (off !== undefined || !f.catchesUsr1) {
    fail('ENODEV', `process ${pid} cannot open its inspector (${off ?? 'it does not handle SIGUSR1'}): start it with --import jsftrace/register to trace it`);
  }
  const port = opts.find((o) => o.startsWith('--inspect-port=') || o.startsWith('--debug-port='));
  const host = port?.split('=')[1]?.includes(':') === true ? port.split('=')[1]!.replace(/:[0-9]+$/, '').replace(/^\[|\]$/g, '') : '127.0.0.1';
  if (!LOOPBACK.has(host)) fail('EACCES', `process ${pid} would open its inspector on ${host} (${port}), not on loopback; refusing`);
}

/** The inspector's target list (node:http rather than fetch: no HTTP client to load inside the window). */
function targetList(port: number, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/json/list', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new JsftraceError('EPROTO', `port ${port} does not serve a Node.js inspector`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new JsftraceError('ETIMEDOUT', `the inspector on port ${port} did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

async function inspectorUrl(port: number, timeoutMs: number): Promise<string> {
  const targets = await targetList(port, timeoutMs) as { type?: string; webSocketDebuggerUrl?: string }[];
  const t = targets.find((x) => x.type === 'node' && typeof x.webSocketDebuggerUrl === 'string');
  if (t === undefined) fail('EPROTO', `port ${port} does not serve a Node.js inspector`);
  return t.webSocketDebuggerUrl!;
}

/**
 * Injects jsftrace into `pid`. `dir` is the socket directory the caller
 * will connect through; resolves once the injected entry has run (the
 * control server comes up a moment later).
 */
export async function injectInto(pid: number, dir: string, timeoutMs = 5000): Promise<AttachResult> {
  await check(pid);
  const key = (l: Listener): string => `${l.host}:${l.port}`;
  const before = new Set(listeners(pid).map(key));
  // Loaded before the signal: the window is only what must happen while the port is open.
  await loadCdp();
  const t0 = performance.now();
  try {
    (process as unknown as { _debugProcess(pid: number): void })._debugProcess(pid);
  } catch (e) {
    fail((e as NodeJS.ErrnoException).code === 'EPERM' ? 'EPERM' : 'ESRCH', `cannot signal process ${pid}: ${(e as Error).message}`);
  }
  let opened: Listener | undefined;
  const deadline = t0 + timeoutMs;
  while (opened === undefined) {
    opened = listeners(pid).find((l) => !before.has(key(l)));
    if (opened !== undefined) break;
    if (performance.now() > deadline) {
      fail('ETIMEDOUT', `process ${pid} opened no inspector within ${timeoutMs} ms of SIGUSR1 (it handles SIGUSR1 itself, or its inspector port is taken: its stderr says which)`);
    }
    await sleep(2);
  }
  let cdp;
  let status: string;
  try {
    cdp = await openCdp(await inspectorUrl(opened.port, timeoutMs), timeoutMs);
    const config = JSON.stringify({ dir });
    // The command line API's require where Node provides it, else one made for the entry's path.
    const expr = `(typeof require === 'function' ? require : process.getBuiltinModule('node:module').createRequire(${JSON.stringify(INJECT)}))(${JSON.stringify(INJECT)})(${config})`;
    const r = await cdp.send('Runtime.evaluate', { expression: expr, includeCommandLineAPI: true, returnByValue: true, silent: true });
    const ex = r['exceptionDetails'] as { exception?: { description?: string }; text?: string } | undefined;
    if (ex !== undefined) fail('EIO', `process ${pid} could not load jsftrace: ${ex.exception?.description?.split('\n')[0] ?? ex.text ?? 'error'}`);
    status = String((r['result'] as { value?: unknown } | undefined)?.value);
  } catch (e) {
    cdp?.close();
    // The entry never ran, so nothing closes the port: say so.
    if (e instanceof JsftraceError && cdp === undefined) {
      fail(e.code, `${e.message}; process ${pid}'s inspector may stay open on port ${opened.port}`);
    }
    throw e;
  }
  // The entry closes the inspector at the process's next turn of its event loop, and with it this connection.
  await cdp.closed(timeoutMs);
  // The entry closes the port at the process's next turn of its event loop.
  while (listeners(pid).some((l) => key(l) === key(opened!)) && performance.now() < deadline) await sleep(2);
  return { windowMs: performance.now() - t0, status };
}

