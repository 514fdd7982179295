/**
 * `jsftrace -P <pid> reset`: a running process back to how it started:
 * tracer nop, profiler off, filters, pids and probes cleared, options and
 * knobs at their defaults, buffers cleared, tracing_on 1 (trace-cmd reset).
 *
 * Owns: what "default" means. Invariants: defaults are read from a fresh
 * control tree of this jsftrace (settings.ts's localSurface), not written down
 * a second time here; the tracer is switched to nop first, so nothing is
 * traced under a half-reset configuration; only files the process has are
 * written.
 */

import { existsSync } from 'node:fs';
import type { ControlClient } from '../control/client.js';
import { PID_OPTION, targetPid, withProcess, verbArgs, type Command } from './command.js';
import { localSurface, type ControlWrite } from './settings.js';
import { applyWrites } from './start.js';
import { ATTACH_FILE } from '../attach/surface.js';
import { note } from './term.js';

/** How long reset waits for a detached process to close its control socket. */
const DETACH_WAIT_MS = 10_000;

async function detach(c: ControlClient): Promise<void> {
  await c.write(ATTACH_FILE, 'detach');
  const left = (await c.read(ATTACH_FILE).catch(() => '')).split('\n').filter((l) => l.startsWith('left patched'));
  for (const l of left) note(`jsftrace: ${l}`);
  // The process closes its socket a moment after answering: return once it has, so that what runs next sees it detached.
  // A process short of processor time can take a while; past the bound the user is told.
  const deadline = Date.now() + DETACH_WAIT_MS;
  while (existsSync(c.hello.socket) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (existsSync(c.hello.socket)) note(`jsftrace: process ${c.hello.pid} has not closed its socket ${DETACH_WAIT_MS / 1000} s after detaching; it closes it when its event loop next runs`);
}

const HELP = `usage: jsftrace -P <pid> reset

Puts the tracing of the process <pid> back as it started: current_tracer nop,
function_profile_enabled 0, every filter, pid list and probe cleared, options,
trace_clock, buffer_size_kb, max_graph_depth and tracing_thresh at their
defaults, the buffers emptied, tracing_on 1. The program goes on; its sites
call nothing. A process jsftrace attached to (one started without
jsftrace/register) is detached as well: every probe removed, every patched
script given back its source, the debugger session and the control socket
closed (docs/attach.md).

Options:
  -P <pid>        the process
  -h, --help      this text

Example:
  jsftrace -P 4242 reset
`;

const LISTS = ['set_ftrace_filter', 'set_ftrace_notrace', 'set_graph_function', 'set_graph_notrace', 'set_ftrace_pid', 'set_ftrace_notrace_pid'];
const KNOBS = ['trace_clock', 'buffer_size_kb', 'max_graph_depth', 'tracing_thresh'];
/** A probe as set_ftrace_filter lists it: `<function>:<command>:unlimited|count=N`. */
const PROBE = /^(.*):([a-z_]+):(?:unlimited|count=[0-9]+)$/;

async function resetWrites(c: ControlClient): Promise<ControlWrite[]> {
  const files = new Set(await c.list());
  const local = await localSurface();
  const mine = new Set(await local.list());
  const has = (f: string): boolean => files.has(f);
  const writes: ControlWrite[] = [];
  if (has('current_tracer')) writes.push(['write', 'current_tracer', 'nop']);
  if (has('function_profile_enabled')) writes.push(['write', 'function_profile_enabled', '0']);
  for (const f of LISTS) if (has(f)) writes.push(['write', f, '']);
  for (const f of [...files].filter((x) => x.startsWith('options/')).sort()) {
    if (mine.has(f)) writes.push(['write', f, (await local.read(f)).trim()]);
  }
  for (const f of KNOBS) {
    if (!has(f) || !mine.has(f)) continue;
    const v = (await local.read(f)).trim();
    writes.push(['write', f, f === 'trace_clock' ? /\[([^\]]+)\]/.exec(v)?.[1] ?? v : v]);
  }
  return writes;
}

export const reset: Command = {
  name: 'reset',
  help: HELP,
  async run(argv, global) {
    const values = verbArgs(argv, PID_OPTION, HELP);
    if (values === null) return 0;
    await withProcess(targetPid(values.pid, global), async (c) => {
      await applyWrites(c, await resetWrites(c));
      // Probes outlive `> set_ftrace_filter` (ftrace's rule); each goes with its own `!func:cmd`.
      if ((await c.list()).includes('set_ftrace_filter')) {
        const probes = (await c.read('set_ftrace_filter')).split('\n').map((l) => PROBE.exec(l)).filter((m) => m !== null);
        await applyWrites(c, probes.map((m): ControlWrite => ['append', 'set_ftrace_filter', `!${m[1]}:${m[2]}`]));
      }
      await applyWrites(c, [['write', 'trace', ''], ['write', 'tracing_on', '1']]);
      // A process jsftrace attached to (it has the attach file): probes out, scripts restored, socket closed.
      if ((await c.list()).includes(ATTACH_FILE)) await detach(c);
    }, false);
    return 0;
  },
};
