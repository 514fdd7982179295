// trace_marker (the marker in both tracers, refused with nomarkers) and
// the options: trace_options per tracer, options/<name>, the funcgraph
// columns, funcgraph-retval, funcgraph-args, func_stack_trace.

import assert from 'node:assert/strict';
import { body, events, graphCalls, refused, selftests } from './harness.js';

const GENERAL = ['print-parent', 'context-info', 'overwrite', 'irq-info', 'markers'];
const FUNCTION = ['func_stack_trace', 'func-caller'];
const GRAPH = [
  'funcgraph-cpu', 'funcgraph-overhead', 'funcgraph-proc', 'funcgraph-duration', 'funcgraph-abstime', 'funcgraph-tail',
  'funcgraph-retval', 'funcgraph-retval-hex', 'funcgraph-args', 'otlp',
];

/** trace_options as option names (without `no`). */
const names = (text: string): string[] => text.split('\n').filter((l) => l !== '').map((l) => l.replace(/^no/, ''));

/** The graph of schedule_timeout(1) with the counter clock (one tick per event), default columns. */
const SCHEDULE_TIMEOUT = [
  ' 0)               |  lib.mjs:schedule_timeout() {',
  ' 0)               |    lib.mjs:schedule() {',
  ' 0)               |      lib.mjs:__schedule() {',
  ' 0)   0.001 us    |        lib.mjs:pick_next_task();',
  ' 0)   0.003 us    |      }',
  ' 0)   0.005 us    |    }',
  ' 0)   0.007 us    |  }',
];

selftests({
  async 'trace_marker: tracing_mark_write in function, a comment in function_graph, refused with nomarkers'(fs, prog) {
    await fs.write('trace_clock', 'counter');
    await fs.write('set_ftrace_filter', 'lib.mjs:spin_lock');
    await fs.write('current_tracer', 'function');
    await prog.call('spin_lock', 1);
    await fs.write('trace_marker', 'hello marker\n');
    await prog.call('spin_lock', 1);
    assert.deepEqual(events(await fs.read('trace')),
      ['0: lib.mjs:spin_lock', '0: tracing_mark_write: hello marker', '0: lib.mjs:spin_lock']);
    // With nop too (the marker is not the tracer's); while tracing is off the
    // write is refused with EBADF, as ftrace's when the ring buffer is off.
    await fs.write('current_tracer', 'nop');
    await fs.write('trace_marker', 'under nop');
    await fs.write('tracing_on', '0');
    await refused(fs.write('trace_marker', 'not written'), 'EBADF');
    await fs.write('tracing_on', '1');
    assert.deepEqual(events(await fs.read('trace')), ['0: tracing_mark_write: under nop']);
    await fs.write('current_tracer', 'function_graph');
    await fs.write('set_ftrace_filter', '');
    await prog.call('schedule_timeout', 1);
    await fs.write('trace_marker', 'hello graph');
    assert.deepEqual(body(await fs.read('trace')), [...SCHEDULE_TIMEOUT, ' 0)               |  /* hello graph */']);
    // nomarkers: refused, and nothing is written.
    await fs.write('trace_options', 'nomarkers');
    assert.equal(await fs.read('options/markers'), '0\n');
    await fs.write('trace', '');
    await refused(fs.write('trace_marker', 'refused'), 'EINVAL');
    assert.deepEqual(body(await fs.read('trace')), []);
    assert.match(await fs.read('error_log'), /trace_marker: error: /);
    await fs.write('options/markers', '1');
    await fs.write('trace_marker', 'back');
    assert.deepEqual(body(await fs.read('trace')), [' 0)               |  /* back */']);
  },

  async 'options: trace_options lists tracer options only while that tracer is current'(fs) {
    await fs.write('current_tracer', 'nop');
    assert.deepEqual(names(await fs.read('trace_options')), GENERAL);
    await fs.write('current_tracer', 'function');
    assert.deepEqual(names(await fs.read('trace_options')), [...GENERAL, ...FUNCTION]);
    await fs.write('current_tracer', 'function_graph');
    assert.deepEqual(names(await fs.read('trace_options')), [...GENERAL, ...GRAPH]);
    // Defaults, as ftrace's.
    assert.equal(await fs.read('trace_options'), 'print-parent\ncontext-info\noverwrite\nirq-info\nmarkers\n'
      + 'funcgraph-cpu\nfuncgraph-overhead\nnofuncgraph-proc\nfuncgraph-duration\nnofuncgraph-abstime\nnofuncgraph-tail\n'
      + 'nofuncgraph-retval\nnofuncgraph-retval-hex\nnofuncgraph-args\nnootlp\n');
    // options/<name> exists for every option whatever the tracer, and reads 0/1 as trace_options says.
    const files = (await fs.list()).filter((f) => f.startsWith('options/')).map((f) => f.slice('options/'.length));
    assert.deepEqual(files.sort(), [...GENERAL, ...FUNCTION, ...GRAPH].sort());
    for (const line of (await fs.read('trace_options')).split('\n').filter((l) => l !== '')) {
      const on = !line.startsWith('no') || GENERAL.includes(line) || GRAPH.includes(line);
      assert.equal(await fs.read(`options/${on ? line : line.slice(2)}`), on ? '1\n' : '0\n', line);
    }
    // Set through one, seen in the other.
    await fs.write('trace_options', 'funcgraph-tail noprint-parent');
    assert.equal(await fs.read('options/funcgraph-tail'), '1\n');
    assert.equal(await fs.read('options/print-parent'), '0\n');
    await fs.write('options/funcgraph-tail', '0');
    assert.match(await fs.read('trace_options'), /^nofuncgraph-tail$/m);
    // A tracer's option through trace_options only while it is current; options/<name> always.
    await fs.write('current_tracer', 'function');
    await refused(fs.write('trace_options', 'funcgraph-proc'), 'EINVAL');
    await fs.write('options/funcgraph-proc', '1');
    assert.equal(await fs.read('options/funcgraph-proc'), '1\n');
    await refused(fs.write('options/funcgraph-proc', '2'), 'EINVAL');
  },

  async 'options: the funcgraph columns follow nofuncgraph-cpu, -duration, funcgraph-proc, -abstime, -tail'(fs, prog) {
    await fs.write('trace_clock', 'counter');
    await fs.write('current_tracer', 'function_graph');
    await prog.call('schedule_timeout', 1);
    const read = async (): Promise<string[]> => (await fs.read('trace')).split('\n').filter((l) => l !== '');
    assert.deepEqual(await read(), [
      '# tracer: function_graph', '#', '# CPU  DURATION                  FUNCTION CALLS', '# |     |   |                     |   |   |   |',
      ...SCHEDULE_TIMEOUT,
    ]);
    await fs.write('trace_options', 'nofuncgraph-cpu');
    assert.deepEqual((await read()).slice(2), [
      '#  DURATION                  FUNCTION CALLS', '#   |   |                     |   |   |   |',
      ...SCHEDULE_TIMEOUT.map((l) => l.slice(' 0) '.length)),
    ]);
    await fs.write('trace_options', 'nofuncgraph-duration');
    assert.deepEqual((await read()).slice(2), [
      '#               FUNCTION CALLS', '#               |   |   |   |',
      'lib.mjs:schedule_timeout() {', '  lib.mjs:schedule() {', '    lib.mjs:__schedule() {', '      lib.mjs:pick_next_task();',
      '    }', '  }', '}',
    ]);
    await fs.write('trace_options', 'funcgraph-proc funcgraph-tail');
    // TASK/PID: the thread's comm and the process's pid (the main thread's), centred in the
    // kernel's 14 columns, under a header whose bars stand over them.
    const proc = `node-${prog.pid}`;
    const pad = 14 - proc.length;
    const col = `${' '.repeat(pad >> 1)}${proc}${' '.repeat(pad - (pad >> 1))} | `;
    assert.deepEqual((await read()).slice(2), [
      '#  TASK/PID                      FUNCTION CALLS', '#   |    |                       |   |   |   |',
      `${col}lib.mjs:schedule_timeout() {`, `${col}  lib.mjs:schedule() {`, `${col}    lib.mjs:__schedule() {`,
      `${col}      lib.mjs:pick_next_task();`, `${col}    } /* lib.mjs:__schedule */`, `${col}  } /* lib.mjs:schedule */`,
      `${col}} /* lib.mjs:schedule_timeout */`,
    ]);
    await fs.write('trace_options', 'nofuncgraph-proc nofuncgraph-tail funcgraph-abstime');
    assert.deepEqual((await read()).slice(4).map((l) => l.replace(/^ *\d+ \|  /, 'T |  ')), [
      'T |  lib.mjs:schedule_timeout() {', 'T |    lib.mjs:schedule() {', 'T |      lib.mjs:__schedule() {',
      'T |        lib.mjs:pick_next_task();', 'T |      }', 'T |    }', 'T |  }',
    ]);
  },

  async 'options: funcgraph-retval shows = value, funcgraph-args the arguments'(fs, prog) {
    await fs.write('trace_clock', 'counter');
    await fs.write('set_ftrace_filter', 'lib.mjs:add lib.mjs:fail_io lib.mjs:schedule lib.mjs:__schedule');
    await fs.write('current_tracer', 'function_graph');
    await fs.write('trace_options', 'funcgraph-retval');
    await prog.call('add', 1);
    await prog.call('fail_io', 1);
    await prog.call('schedule', 1);
    assert.deepEqual(graphCalls(await fs.read('trace')), [
      'lib.mjs:add(); /* = 3 */', 'lib.mjs:fail_io(); /* = -5 */',
      'lib.mjs:schedule() {', '  lib.mjs:__schedule(); /* = 2 */', '} /* lib.mjs:schedule = 2 */',
    ]);
    await fs.write('trace', '');
    await fs.write('trace_options', 'funcgraph-args');
    await prog.call('add', 2);
    assert.deepEqual(graphCalls(await fs.read('trace')), ['lib.mjs:add(1, 2); /* = 3 */', 'lib.mjs:add(2, 2); /* = 4 */']);
    await fs.write('trace', '');
    await fs.write('trace_options', 'nofuncgraph-retval');
    await prog.call('add', 1);
    assert.deepEqual(graphCalls(await fs.read('trace')), ['lib.mjs:add(1, 2);']);
    // funcgraph-retval and -retval-hex apply when the trace is read (fgraph-retval.tc): the same
    // events show -5, then in hex the int's two's complement, then no value at all.
    await fs.write('trace', '');
    await fs.write('trace_options', 'nofuncgraph-args funcgraph-retval');
    await prog.call('fail_io', 1);
    await prog.call('add', 13);
    const retvals = async (): Promise<string[]> => {
      const calls = graphCalls(await fs.read('trace'));
      return [calls[0]!, ...calls.slice(-2)];
    };
    assert.deepEqual(await retvals(), ['lib.mjs:fail_io(); /* = -5 */', 'lib.mjs:add(); /* = 14 */', 'lib.mjs:add(); /* = 15 */']);
    await fs.write('trace_options', 'funcgraph-retval-hex');
    assert.deepEqual(await retvals(), ['lib.mjs:fail_io(); /* = 0xfffffffb */', 'lib.mjs:add(); /* = 0xe */', 'lib.mjs:add(); /* = 0xf */']);
    await fs.write('options/funcgraph-retval', '0');
    assert.deepEqual(await retvals(), ['lib.mjs:fail_io();', 'lib.mjs:add();', 'lib.mjs:add();']);
  },

  async 'options: func_stack_trace gives a <stack trace> after each function line'(fs, prog) {
    await fs.write('trace_clock', 'counter');
    await fs.write('set_ftrace_filter', 'lib.mjs:schedule lib.mjs:__schedule');
    await fs.write('current_tracer', 'function');
    await fs.write('options/func_stack_trace', '1');
    assert.match(await fs.read('trace_options'), /^func_stack_trace$/m);
    await prog.call('schedule', 1);
    const lines = events(await fs.read('trace'));
    assert.deepEqual(lines.filter((l) => !l.startsWith(' => ')),
      ['0: lib.mjs:schedule', '0: <stack trace>', '0: lib.mjs:__schedule <-lib.mjs:schedule (nearest traced)', '0: <stack trace>']);
    // The first frame of each stack is the function of the line before.
    const firsts = lines.filter((_, i) => i > 0 && lines[i - 1] === '0: <stack trace>');
    assert.equal(firsts.length, 2);
    assert.match(firsts[0]!, /^ => schedule \(/);
    assert.match(firsts[1]!, /^ => __schedule \(/);
    await fs.write('trace_options', 'nofunc_stack_trace');
    await fs.write('trace', '');
    await prog.call('schedule', 1);
    assert.deepEqual(events(await fs.read('trace')), ['0: lib.mjs:schedule', '0: lib.mjs:__schedule <-lib.mjs:schedule (nearest traced)']);
  },

  // The kernel's `<-parent` is the direct caller, traced or not. Here a function's caller is known
  // when the caller's site did something: with a filter the parent is the nearest traced caller,
  // and the line says so; options/func-caller gives every untraced function a frame, and the direct caller.
  async 'options: func-caller: the direct caller, traced or not; without it the line says the parent is the nearest traced one'(fs, prog) {
    await fs.write('trace_clock', 'counter');
    await fs.write('current_tracer', 'function');
    await prog.call('schedule_timeout', 1);
    // No filter: every function traced, every parent direct.
    assert.deepEqual(events(await fs.read('trace')), [
      '0: lib.mjs:schedule_timeout', '0: lib.mjs:schedule <-lib.mjs:schedule_timeout', '0: lib.mjs:__schedule <-lib.mjs:schedule',
      '0: lib.mjs:pick_next_task <-lib.mjs:__schedule',
    ]);
    await fs.write('set_ftrace_filter', 'lib.mjs:schedule_timeout lib.mjs:pick_next_task');
    await fs.write('trace', '');
    await prog.call('schedule_timeout', 1);
    assert.deepEqual(events(await fs.read('trace')), [
      '0: lib.mjs:schedule_timeout', '0: lib.mjs:pick_next_task <-lib.mjs:schedule_timeout (nearest traced)',
    ]);
    await fs.write('options/func-caller', '1');
    await fs.write('trace', '');
    await prog.call('schedule_timeout', 1);
    assert.deepEqual(events(await fs.read('trace')), ['0: lib.mjs:schedule_timeout', '0: lib.mjs:pick_next_task <-lib.mjs:__schedule']);
    // With a notrace list too.
    await fs.write('set_ftrace_notrace', 'lib.mjs:schedule');
    await fs.write('set_ftrace_filter', '');
    await fs.write('trace', '');
    await prog.call('schedule_timeout', 1);
    assert.deepEqual(events(await fs.read('trace')), [
      '0: lib.mjs:schedule_timeout', '0: lib.mjs:__schedule <-lib.mjs:schedule', '0: lib.mjs:pick_next_task <-lib.mjs:__schedule',
    ]);
    await fs.write('options/func-caller', '0');
  },

  // The general options on the function tracer's line.
  async 'options: noprint-parent, noirq-info, nocontext-info change the function line'(fs, prog) {
    await fs.write('trace_clock', 'counter');
    await fs.write('set_ftrace_filter', 'lib.mjs:spin_lock');
    await fs.write('current_tracer', 'function');
    await prog.call('raw_spin_lock_irq', 1);
    const line = async (): Promise<string> => body(await fs.read('trace'))[0]!;
    assert.match(await line(), /^ +node-\d+ +\[000\] \.{5} +\d+: lib\.mjs:spin_lock$/);
    await fs.write('trace_options', 'noprint-parent');
    assert.match(await line(), /^ +node-\d+ +\[000\] \.{5} +\d+: lib\.mjs:spin_lock$/);
    await fs.write('trace_options', 'noirq-info');
    assert.match(await line(), /^ +node-\d+ +\[000\] +\d+: lib\.mjs:spin_lock$/);
    await fs.write('trace_options', 'nocontext-info');
    assert.equal(await line(), 'lib.mjs:spin_lock');
  },
});
