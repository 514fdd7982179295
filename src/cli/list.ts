/**
 * `jsftrace list -t|-f|-o|-C|-e [-P pid]`: tracers, functions, options,
 * clocks, runtime events.
 *
 * Owns: which file answers which flag. Invariant: with -P the lists are the
 * process's own files, as they are now (trace_clock marks the current
 * clock, options show their current state); without it,
 * those of a fresh process of this jsftrace, read from a control tree made
 * in this process, which holds every static list but no function (a
 * function has a site only in a traced program).
 */

import { PID_OPTION, parsePid, UsageError, withProcess, verbArgs, type Command } from './command.js';
import type { ControlSurface } from '../control/surface.js';
import { localSurface } from './settings.js';
import { out } from './term.js';

const OPTIONS = {
  ...PID_OPTION,
  tracers: { type: 'boolean', short: 't' },
  functions: { type: 'boolean', short: 'f' },
  options: { type: 'boolean', short: 'o' },
  clocks: { type: 'boolean', short: 'C' },
  events: { type: 'boolean', short: 'e' },
} as const;

const HELP = `usage: jsftrace list -t|-f|-o|-C|-e [-P <pid>]

  -t, --tracers     the tracers (available_tracers)
  -f, --functions   the functions that have a site (available_filter_functions: the
                    names -l/-n/-g patterns match); needs -P: functions exist only in
                    a traced process
  -o, --options     every option (options/<name>, for every tracer): 'name' when set,
                    'noname' when not
  -C, --clocks      the clocks; [brackets] mark the current one (trace_clock)
  -e, --events      the runtime events (-e of record, profile, flame): 'name' when on,
                    'noname' when off (events/<name>/enable)
  -P <pid>          from the running process <pid>; without it, a fresh process's
  -h, --help        this text

Examples:
  jsftrace list -t
  jsftrace list -o
  jsftrace -P 4242 list -f | grep handle
`;

const FILES = {
  tracers: 'available_tracers', functions: 'available_filter_functions', options: 'options/', clocks: 'trace_clock', events: 'events/',
} as const;

type Files = Pick<ControlSurface, 'list' | 'read'>;

async function listText(s: Files, what: keyof typeof FILES): Promise<string> {
  if (what === 'options') {
    // Every option, not trace_options' view: that hides the options of tracers that are not current.
    const names = (await s.list()).filter((f) => f.startsWith('options/'));
    const lines = await Promise.all(names.map(async (f) => `${(await s.read(f)).trim() === '1' ? '' : 'no'}${f.slice(8)}\n`));
    return lines.join('');
  }
  if (what === 'events') {
    const names = (await s.list()).filter((f) => /^events\/[^/]+\/enable$/.test(f));
    const lines = await Promise.all(names.map(async (f) => `${(await s.read(f)).trim() === '1' ? '' : 'no'}${f.slice(7, -7)}\n`));
    return lines.join('');
  }
  const text = await s.read(FILES[what]);
  // available_tracers and trace_clock are one line of words; a list reads better one per line.
  return what === 'functions' ? text : text.trim().split(/\s+/).map((w) => `${w}\n`).join('');
}

export const list: Command = {
  name: 'list',
  help: HELP,
  async run(argv, global) {
    const values = verbArgs(argv, OPTIONS, HELP);
    if (values === null) return 0;
    const asked = (Object.keys(FILES) as (keyof typeof FILES)[]).filter((k) => values[k] === true);
    if (asked.length !== 1) throw new UsageError('give one of -t (tracers), -f (functions), -o (options), -C (clocks), -e (events)');
    const what = asked[0]!;
    const pid = parsePid(values.pid) ?? global.pid;
    if (pid === undefined && what === 'functions') throw new UsageError('functions exist only in a traced process: give -P <pid> (jsftrace ps lists them)');
    const text = pid !== undefined ? await withProcess(pid, (c) => listText(c, what)) : await listText(await localSurface(), what);
    await out(text);
    return 0;
  },
};
