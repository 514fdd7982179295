/**
 * `jsftrace ps`: the traced processes of this user: pid, uptime, command.
 *
 * Owns: nothing but the listing. Invariant: a process that does not answer
 * in time (a busy main thread) is still listed, marked so, and never holds
 * the listing up for longer than that time; sockets of dead processes are
 * removed on the way (discovery.ts).
 */

import { basename } from 'node:path';
import { connect } from '../control/client.js';
import { listTraced } from '../control/discovery.js';
import { nodeProcesses } from '../attach/procfs.js';
import type { Hello } from '../control/protocol.js';
import { JsftraceError } from '../shared/errors.js';
import { verbArgs, type Command } from './command.js';
import { bold, dim, out } from './term.js';

const OPTIONS = { json: { type: 'boolean' } } as const;

const HELP = `usage: jsftrace ps [--json]

Lists the Node.js processes of this user: those running under
jsftrace/register or attached to (they have a control socket) with pid, time
since start and command line, then the others, marked '(not attached)':
'jsftrace -P <pid> ...' attaches to them through their inspector
(docs/attach.md). The socket directory is $JSFTRACE_SOCKET_DIR, else
$XDG_RUNTIME_DIR/jsftrace, else <tmpdir>/jsftrace-<uid>.

Options:
  --json          one JSON object per process (pid, uptime in seconds, argv, node,
                  jsftrace; attached: false for a process without a socket)
  -h, --help      this text

Example:
  jsftrace ps && jsftrace -P <pid> stat
`;

/** ps's ELAPSED: [[dd-]hh:]mm:ss. */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number): string => String(n).padStart(2, '0');
  const [d, h, m, sec] = [Math.floor(s / 86400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60];
  if (d > 0) return `${d}-${two(h)}:${two(m)}:${two(sec)}`;
  if (h > 0) return `${two(h)}:${two(m)}:${two(sec)}`;
  return `${two(m)}:${two(sec)}`;
}

/** What a traced process shows as its command: `node app.js --port 1`. */
export function commandLine(h: Hello): string {
  const [exe, ...rest] = h.argv;
  return [exe === undefined ? 'node' : basename(exe), ...rest].join(' ');
}

type Row = { pid: number; hello: Hello | null; error: string | null };

async function ask(pid: number): Promise<Row> {
  try {
    const c = await connect(pid, { timeoutMs: 2000 });
    await c.close();
    return { pid, hello: c.hello, error: null };
  } catch (e) {
    return { pid, hello: null, error: e instanceof JsftraceError ? `${e.code}: ${e.message}` : String(e) };
  }
}

export const ps: Command = {
  name: 'ps',
  help: HELP,
  async run(argv) {
    const values = verbArgs(argv, OPTIONS, HELP);
    if (values === null) return 0;
    const rows = (await Promise.all(listTraced().map((p) => ask(p.pid))))
      // ESRCH: it ended (or its socket was stale) between the listing and the hello.
      .filter((r) => r.error === null || !r.error.startsWith('ESRCH'));
    const now = Date.now();
    const known = new Set(rows.map((r) => r.pid));
    const plain = typeof process.getuid === 'function' && process.platform === 'linux'
      ? nodeProcesses(process.getuid()).filter((p) => !known.has(p.pid)) : [];
    if (values.json === true) {
      await out(rows.map((r) => `${JSON.stringify(r.hello === null
        ? { pid: r.pid, error: r.error }
        : { pid: r.pid, uptime: Math.floor((now - r.hello.startTime) / 1000), argv: r.hello.argv, node: r.hello.node, jsftrace: r.hello.jsftrace })}\n`).join('')
        + plain.map((p) => `${JSON.stringify({ pid: p.pid, uptime: Math.floor((now - p.startTime) / 1000), argv: p.argv, attached: false })}\n`).join(''));
      return 0;
    }
    const lines = rows.map((r) => `${String(r.pid).padStart(7)} ${(r.hello === null ? '?' : elapsed(now - r.hello.startTime)).padStart(11)}  ${r.hello === null ? dim(`(not answering: ${r.error})`) : commandLine(r.hello)}\n`);
    const others = plain.map((p) => `${String(p.pid).padStart(7)} ${elapsed(now - p.startTime).padStart(11)}  ${[basename(p.argv[0] ?? 'node'), ...p.argv.slice(1)].join(' ')} ${dim('(not attached)')}\n`);
    await out(`${bold(`${'PID'.padStart(7)} ${'ELAPSED'.padStart(11)}  COMMAND`)}\n${lines.join('')}${others.join('')}`);
    return 0;
  },
};
