// report's selection (tracefile/filters.ts, event-filter.ts), on a program
// whose calls are fixed (select.mjs: main calls mid twice, each mid one
// leaf, then slow with three leaves; a worker calls mid once), recorded
// under the counter clock so every timestamp and duration is exact: each
// filter's exact output, the same selection in other formats, and refusals.

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TraceFile } from '../../src/tracefile/read.js';
import { fixtures, recordProgram, render, scratch } from './support.js';
import type { RenderOptions, ReportFormat } from '../../src/tracefile/report.js';
import { OPT_GRAPH_RETVAL, OPT_GRAPH_RETVAL_HEX } from '../../src/tracers/session.js';

const s = scratch();
const graph = join(s.dir, 'graph.jsft');
const fn = join(s.dir, 'function.jsft');
let pid = 0;
let fnPid = 0;
let worker = 0;

before(async () => {
  for (const [out, tracer] of [[graph, 'function_graph'], [fn, 'function']] as const) {
    const r = await recordProgram({
      args: ['select.mjs'], cwd: fixtures, out,
      init: [['write', 'trace_clock', 'counter'], ['write', 'current_tracer', tracer]],
    });
    assert.equal(r.code, 0, r.stderr);
  }
  const t = TraceFile.open(graph);
  pid = t.processes[0]!.info.pid;
  worker = Math.max(...t.streams.map((x) => x.info.threadId));
  t.close();
  const f = TraceFile.open(fn);
  fnPid = f.processes[0]!.info.pid;
  f.close();
});
after(() => s.done());

/** The rendering's lines after the header, names without their directory. */
function lines(file: string, format: ReportFormat, opts: RenderOptions, skip = 4): string[] {
  return render(file, format, opts).split('\n').slice(skip).filter((l) => l !== '').map((l) => l.replace(/(?:[\w.]+\/)*select\.mjs:/g, ''));
}

test('--thread and --pid: only those threads and processes', () => {
  assert.deepEqual(lines(graph, 'function_graph', { filter: { threads: [worker] } }), [
    ` ${worker})               |  mid() {`, ` ${worker})   0.001 us    |    leaf();`, ` ${worker})   0.003 us    |  }`,
  ]);
  assert.deepEqual(lines(graph, 'function_graph', { filter: { pids: [pid] } }), lines(graph, 'function_graph', {}));
  assert.equal(lines(graph, 'function_graph', {}).length, 16);
  assert.deepEqual(lines(graph, 'function_graph', { filter: { pids: [pid + 1] } }), []);
});

test('--func: the function tracer\'s lines of those functions; function_graph\'s calls and what they call, from depth 0', () => {
  const ctx = `node-${String(fnPid).padEnd(7)} [000] .....`;
  assert.deepEqual(lines(fn, 'function', { filter: { funcs: ['*:leaf'], threads: [0] } }, 12).map((l) => l.trim()), [
    `${ctx}            3: leaf <-mid`, `${ctx}            5: leaf <-mid`,
    `${ctx}            7: leaf <-slow`, `${ctx}            8: leaf <-slow`, `${ctx}            9: leaf <-slow`,
  ]);
  assert.deepEqual(lines(graph, 'function_graph', { filter: { funcs: ['*:mid'], threads: [0] } }), [
    ' 0)               |  mid() {', ' 0)   0.001 us    |    leaf();', ' 0)   0.003 us    |  }',
    ' 0)               |  mid() {', ' 0)   0.001 us    |    leaf();', ' 0)   0.003 us    |  }',
  ]);
  // ! removes, as in set_ftrace_filter.
  assert.deepEqual(lines(graph, 'function_graph', { filter: { funcs: ['*:slow', '*:mid', '!*:mid'], threads: [0] } }), [
    ' 0)               |  slow() {', ' 0)   0.001 us    |    leaf();', ' 0)   0.001 us    |    leaf();', ' 0)   0.001 us    |    leaf();',
    ' 0)   0.007 us    |  }',
  ]);
});

test('--from and --to: the events in the window, absolute or from the first event', () => {
  const window = [
    ' 0)   0.001 us    |      leaf();', ' 0)   0.003 us    |    } /* mid */', ' 0)               |    mid() {',
  ];
  assert.deepEqual(lines(graph, 'function_graph', { filter: { threads: [0], from: 3, to: 6 } }), window);
  // The first event of thread 0 is at count 1.
  assert.deepEqual(lines(graph, 'function_graph', { filter: { threads: [0], from: 2, to: 5, relative: true } }), window);
});

test('--min-duration: tracing_thresh when reading, the returns of calls at least that long', () => {
  assert.deepEqual(lines(graph, 'function_graph', { filter: { threads: [0], minDurationNs: 4 } }), [
    ' 0)   0.007 us    |    } /* slow */', ' 0)   0.017 us    |  } /* main */',
  ]);
});

test('-F: trace-cmd\'s event filters on the events\' fields; functions by name', () => {
  assert.deepEqual(lines(graph, 'function_graph', { filter: { threads: [0], events: ['funcgraph_exit: duration >= 3 && !(func ~ "*:slow")'] } }), [
    ' 0)   0.003 us    |    } /* mid */', ' 0)   0.003 us    |    } /* mid */', ' 0)   0.017 us    |  } /* main */',
  ]);
  assert.deepEqual(lines(fn, 'function', { filter: { events: ['function: parent_ip ~ "*:mid"'] } }, 12).map((l) => l.replace(/^.*: /, '')), [
    'leaf <-mid', 'leaf <-mid', 'leaf <-mid',
  ]);
  assert.deepEqual(lines(fn, 'function', { filter: { threads: [0], events: ['function: ip == "select.mjs:main"', 'function: parent_ip == "(root)"'] } }, 12)
    .map((l) => l.replace(/^.*: /, '')), ['main']);
});

test('every format reads the same selection: folded, profile, perfetto-json', () => {
  assert.deepEqual(lines(graph, 'folded', { filter: { funcs: ['*:mid'] } }, 0), ['mid 6', 'mid;leaf 3']);
  assert.deepEqual(lines(graph, 'profile', { filter: { funcs: ['*:mid'] } }, 4).map((l) => l.trim().split(/\s+/)), [
    ['3', '9', '6', '9', '0', '3', 'mid'], ['3', '3', '3', '3', '0', '1', 'leaf'],
  ]);
  const json = JSON.parse(render(graph, 'perfetto-json', { filter: { funcs: ['*:slow'] } })) as { traceEvents: { ph: string; name: string }[] };
  assert.deepEqual(json.traceEvents.filter((e) => e.ph === 'X').map((e) => e.name.replace(/^.*:/, '')), ['leaf', 'leaf', 'leaf', 'slow']);
});

test('report -O: display options apply when the trace is read (funcgraph-retval-hex, funcgraph-retval)', async () => {
  const out = join(s.dir, 'retval.jsft');
  const r = await recordProgram({
    args: ['retval.mjs'], cwd: fixtures, out,
    init: [['write', 'trace_clock', 'counter'], ['write', 'options/funcgraph-retval', '1'], ['write', 'current_tracer', 'function_graph']],
  });
  assert.equal(r.code, 0, r.stderr);
  const calls = (o: RenderOptions): string[] => lines(out, 'function_graph', o).map((l) => l.replace(/^.*\|  (?:[\w./]+\/)?retval\.mjs:/, ''));
  assert.deepEqual(calls({}), ['fail_io(); /* = -5 */', 'add(); /* = 15 */']);
  assert.deepEqual(calls({ set: OPT_GRAPH_RETVAL_HEX }), ['fail_io(); /* = 0xfffffffb */', 'add(); /* = 0xf */']);
  assert.deepEqual(calls({ clear: OPT_GRAPH_RETVAL }), ['fail_io();', 'add();']);
});

test('a bad selection is refused before anything is written', () => {
  assert.throws(() => render(graph, 'text', { filter: { events: ['nosuch'] } }), /no event "nosuch"/);
  assert.throws(() => render(graph, 'text', { filter: { events: ['funcgraph_exit: nosuch > 1'] } }), /no field "nosuch"/);
  assert.throws(() => render(graph, 'text', { filter: { events: ['funcgraph_exit: duration > "x"'] } }), /compares numbers/);
  assert.throws(() => render(graph, 'text', { filter: { funcs: ['a['] } }), /unclosed/);
});
