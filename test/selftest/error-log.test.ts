// tracing-error-log.tc, for the control files: a refused write gives an
// errno code, changes nothing, and leaves an entry in error_log with the
// caret under the refused word; `echo > error_log` clears it.

import assert from 'node:assert/strict';
import type { ControlSurface } from '../../src/control/surface.js';
import { refused, selftests } from './harness.js';

interface Bad {
  /** What is set up first (so that "changes nothing" means something). */
  setup: [string, string][];
  path: string;
  op: 'write' | 'append';
  text: string;
  code: string;
  /** The files read before and after. */
  check: string[];
  /** The error line after `<path>: error: `. */
  message: RegExp;
  /** Where the caret points in the command. */
  pos: number;
}

const BAD: Bad[] = [
  {
    setup: [['set_ftrace_filter', 'lib.mjs:schedule']], path: 'set_ftrace_filter', op: 'write', text: 'lib.mjs:spin_lock nosuch*',
    code: 'EINVAL', check: ['set_ftrace_filter', 'enabled_functions'], message: /^"nosuch\*" matches no function$/, pos: 18,
  },
  {
    setup: [['set_ftrace_filter', 'lib.mjs:schedule']], path: 'set_ftrace_filter', op: 'append', text: '*lock [unclosed',
    code: 'EINVAL', check: ['set_ftrace_filter'], message: /unclosed \[/, pos: 6,
  },
  {
    setup: [['current_tracer', 'function']], path: 'current_tracer', op: 'write', text: 'blk',
    code: 'EINVAL', check: ['current_tracer', 'available_tracers'], message: /^no tracer "blk"$/, pos: 0,
  },
  {
    setup: [], path: 'buffer_size_kb', op: 'write', text: '12x',
    code: 'EINVAL', check: ['buffer_size_kb'], message: /"12x" is not a non-negative integer/, pos: 0,
  },
  {
    setup: [], path: 'tracing_on', op: 'write', text: 'yes',
    code: 'EINVAL', check: ['tracing_on'], message: /"yes" is not a non-negative integer/, pos: 0,
  },
  {
    setup: [], path: 'trace_options', op: 'write', text: 'noprint-parent nosuchopt',
    code: 'EINVAL', check: ['trace_options', 'options/print-parent'], message: /no option "nosuchopt"/, pos: 15,
  },
  {
    setup: [['current_tracer', 'function']], path: 'trace_options', op: 'write', text: 'funcgraph-cpu',
    code: 'EINVAL', check: ['trace_options', 'options/funcgraph-cpu'], message: /function_graph tracer, which is not current/, pos: 0,
  },
  {
    setup: [['set_ftrace_notrace', 'lib.mjs:mutex_lock']], path: 'set_ftrace_notrace', op: 'append',
    text: 'lib.mjs:spin_lock lib.mjs:schedule:traceoff', code: 'EINVAL', check: ['set_ftrace_notrace', 'set_ftrace_filter'],
    message: /commands \(traceoff\) go to set_ftrace_filter only/, pos: 18,
  },
  {
    setup: [], path: 'set_ftrace_filter', op: 'append', text: 'lib.mjs:schedule:traceoff:x',
    code: 'EINVAL', check: ['set_ftrace_filter'], message: /"x" is not a count for traceoff/, pos: 26,
  },
  {
    setup: [], path: 'set_ftrace_pid', op: 'write', text: '0 zero',
    code: 'EINVAL', check: ['set_ftrace_pid'], message: /"zero" is not a thread id/, pos: 2,
  },
  // Numbers are parsed whole, with their range: never wrapped, rounded or taken as a sign.
  {
    setup: [['set_ftrace_pid', '0']], path: 'set_ftrace_pid', op: 'write', text: '4294967297',
    code: 'EINVAL', check: ['set_ftrace_pid'], message: /4294967297 is out of range for a thread id \(0 to 2147483647\)/, pos: 0,
  },
  {
    setup: [['set_ftrace_pid', '0']], path: 'set_ftrace_pid', op: 'append', text: '1 2147483648',
    code: 'EINVAL', check: ['set_ftrace_pid'], message: /2147483648 is out of range for a thread id/, pos: 2,
  },
  {
    setup: [], path: 'set_ftrace_notrace_pid', op: 'write', text: '-1',
    code: 'EINVAL', check: ['set_ftrace_notrace_pid'], message: /"-1" is not a thread id/, pos: 0,
  },
  {
    setup: [], path: 'set_ftrace_filter', op: 'append', text: 'lib.mjs:schedule:traceoff:99999999999999',
    code: 'EINVAL', check: ['set_ftrace_filter'], message: /99999999999999 is out of range for a count for traceoff \(0 to 2147483647\)/, pos: 26,
  },
  {
    setup: [], path: 'set_ftrace_filter', op: 'append', text: 'lib.mjs:schedule:stacktrace:1e3',
    code: 'EINVAL', check: ['set_ftrace_filter'], message: /"1e3" is not a count for stacktrace/, pos: 28,
  },
  {
    setup: [['tracing_on', '1']], path: 'tracing_on', op: 'write', text: '99999999999999999999',
    code: 'EINVAL', check: ['tracing_on'], message: /99999999999999999999 is out of range \(0 to 18446744073709551615\)/, pos: 0,
  },
  {
    setup: [['function_profile_enabled', '0']], path: 'function_profile_enabled', op: 'write', text: '-1',
    code: 'EINVAL', check: ['function_profile_enabled'], message: /"-1" is not a non-negative integer/, pos: 0,
  },
  {
    setup: [], path: 'buffer_size_kb', op: 'write', text: ' 1048577',
    code: 'EINVAL', check: ['buffer_size_kb', 'buffer_total_size_kb'], message: /1048577 is out of range/, pos: 1,
  },
  {
    setup: [], path: 'max_graph_depth', op: 'write', text: '4294967296',
    code: 'EINVAL', check: ['max_graph_depth'], message: /4294967296 is out of range/, pos: 0,
  },
  {
    setup: [], path: 'tracing_thresh', op: 'write', text: '0x10',
    code: 'EINVAL', check: ['tracing_thresh'], message: /"0x10" is not a non-negative integer/, pos: 0,
  },
  {
    setup: [], path: 'options/markers', op: 'write', text: '2',
    code: 'EINVAL', check: ['options/markers', 'trace_options'], message: /0 or 1, not "2"/, pos: 0,
  },
  {
    setup: [], path: 'trace_clock', op: 'write', text: 'jiffies',
    code: 'EINVAL', check: ['trace_clock'], message: /unknown clock "jiffies"/, pos: 0,
  },
  {
    setup: [], path: 'available_tracers', op: 'write', text: 'nop',
    code: 'EACCES', check: ['available_tracers'], message: /read-only/, pos: 0,
  },
  {
    setup: [], path: 'no_such_file', op: 'write', text: '1',
    code: 'ENOENT', check: [], message: /no such control file/, pos: 0,
  },
];

/** error_log's entries as { location, message, command, caret }. */
function entries(log: string): { location: string; message: string; command: string; caret: number }[] {
  const lines = log.split('\n');
  const out = [];
  for (let i = 0; i + 2 < lines.length; i += 3) {
    const head = /^\[ *\d+\.\d{6}\] ([^:]+): error: (.*)$/.exec(lines[i]!);
    const cmd = /^ {2}Command: (.*)$/.exec(lines[i + 1]!);
    assert.ok(head !== null && cmd !== null, `not an error_log entry:\n${lines.slice(i, i + 3).join('\n')}`);
    assert.match(lines[i + 2]!, /^ *\^$/);
    out.push({ location: head[1]!, message: head[2]!, command: cmd[1]!, caret: lines[i + 2]!.length - 1 - '  Command: '.length });
  }
  return out;
}

async function snapshot(fs: ControlSurface, files: string[]): Promise<string[]> {
  return Promise.all(files.map((f) => fs.read(f)));
}

selftests({
  async 'tracing-error-log: a refused write changes nothing and is logged where it failed'(fs) {
    for (const b of BAD) {
      for (const [p, t] of b.setup) await fs.write(p, t);
      await fs.write('error_log', '');
      const before = await snapshot(fs, b.check);
      await refused(b.op === 'write' ? fs.write(b.path, b.text) : fs.append(b.path, b.text), b.code);
      assert.deepEqual(await snapshot(fs, b.check), before, `${b.path} ${b.text}: nothing changed`);
      const log = entries(await fs.read('error_log'));
      assert.equal(log.length, 1, `${b.path} ${b.text}: one entry`);
      const e = log[0]!;
      assert.equal(e.location, b.path);
      assert.match(e.message, b.message, `${b.path} ${b.text}`);
      assert.equal(e.command, b.text);
      assert.equal(e.caret, b.pos, `${b.path} ${b.text}: the caret under ${JSON.stringify(b.text.slice(b.pos))}`);
    }
  },

  async 'tracing-error-log: at most 8 entries, oldest dropped; echo > error_log clears'(fs) {
    assert.equal(await fs.read('error_log'), '');
    for (let i = 0; i < 10; i++) await refused(fs.write('max_graph_depth', `bad${i}`), 'EINVAL');
    const log = entries(await fs.read('error_log'));
    assert.deepEqual(log.map((e) => e.command), ['bad2', 'bad3', 'bad4', 'bad5', 'bad6', 'bad7', 'bad8', 'bad9']);
    // `>>` to error_log is accepted and changes nothing.
    await fs.append('error_log', '\n');
    assert.equal(entries(await fs.read('error_log')).length, 8);
    await fs.write('error_log', '\n');
    assert.equal(await fs.read('error_log'), '');
  },
});
