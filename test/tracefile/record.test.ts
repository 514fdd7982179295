// Recording a program: JSFTRACE_CONTROL_INIT configures it (filters may
// name functions not loaded yet), its drain streams every thread's events
// to the recorder (JSFTRACE_RECORD), and its end, by itself, by
// process.exit or by a signal it does not handle, keeps its fate (the
// same exit code or signal) with the trace saved first and no listener of
// jsftrace's in the program's view; the file renders in every format with
// the recorded names and options.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TraceFile } from '../../src/tracefile/read.js';
import { summary } from '../../src/cli/record.js';
import { fileThreads, fileTotals } from '../../src/tracefile/threads.js';
import { fixtures, programEnv, recordProgram, register, render, scratch, tracerFixtures } from './support.js';

const INIT = (tracer: string): [string, string, string][] => [
  ['write', 'trace_clock', 'counter'],
  ['write', 'set_ftrace_filter', '*record-prog.mjs:*'],
  ['append', 'set_ftrace_notrace', '*:main'],
  ['write', 'current_tracer', tracer],
];

/** Lines without the header, names without their directory (names are relative to the package root). */
function strip(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map(short);
}

function short(text: string): string {
  return text.replace(/(?<=^|[\s;"]|<-)(?:[\w.@-]+\/)+(record-prog|worker-prog|fate)\.mjs:/gm, '$1.mjs:');
}

function totals(path: string): { entries: number; written: number; threads: number; lost: number } {
  const t = TraceFile.open(path);
  try {
    return fileTotals(fileThreads(t));
  } finally {
    t.close();
  }
}

test('record with JSFTRACE_CONTROL_INIT and JSFTRACE_RECORD, then render every format', async () => {
  const s = scratch();
  try {
    const out = join(s.dir, 'fn.jsft');
    const r = await recordProgram({ args: ['record-prog.mjs'], cwd: tracerFixtures, init: INIT('function'), out });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '12\n');
    assert.deepEqual(totals(out), { entries: 6, written: 6, threads: 1, lost: 0 });
    // main is in notrace: the parent of mid is a caller that was not traced, `(root)`.
    const text = render(out, 'text');
    assert.match(text, /^# tracer: function\n/);
    // TASK-PID is the process's pid; the thread id stands where ftrace puts the CPU.
    const pid = TraceFile.open(out).processes[0]!.info.pid;
    assert.match(text, new RegExp(`^ {12}node-${pid} +\\[000\\] \\.{5} +\\d+: `, 'm'));
    assert.deepEqual(strip(text).map((l) => l.replace(/^.*: /, '')), [
      'record-prog.mjs:mid', 'record-prog.mjs:leaf <-record-prog.mjs:mid (nearest traced)',
      'record-prog.mjs:mid', 'record-prog.mjs:leaf <-record-prog.mjs:mid (nearest traced)',
      'record-prog.mjs:mid', 'record-prog.mjs:leaf <-record-prog.mjs:mid (nearest traced)',
    ]);
    assert.equal(short(render(out, 'folded')), 'record-prog.mjs:mid 3\nrecord-prog.mjs:mid;record-prog.mjs:leaf 3\n');

    const gout = join(s.dir, 'graph.jsft');
    const g = await recordProgram({ args: ['record-prog.mjs'], cwd: tracerFixtures, init: INIT('function_graph'), out: gout });
    assert.equal(g.code, 0, g.stderr);
    const body = strip(render(gout, 'text')).map((l) => l.replace(/^ *\d+\) +[0-9.]+ us +\|/, 'D |').replace(/^ *\d+\) +\|/, '  |'));
    assert.deepEqual(body, [
      '  |  record-prog.mjs:mid() {', 'D |    record-prog.mjs:leaf();', 'D |  }',
      '  |  record-prog.mjs:mid() {', 'D |    record-prog.mjs:leaf();', 'D |  }',
      '  |  record-prog.mjs:mid() {', 'D |    record-prog.mjs:leaf();', 'D |  }',
    ]);
    assert.equal(render(gout, 'function_graph'), render(gout, 'text'));
    const json = JSON.parse(render(gout, 'perfetto-json')) as { traceEvents: { name: string; ph: string; pid: number }[] };
    const spans = json.traceEvents.filter((e) => e.ph === 'X');
    assert.deepEqual(spans.map((e) => short(e.name)).sort(),
      ['record-prog.mjs:leaf', 'record-prog.mjs:leaf', 'record-prog.mjs:leaf', 'record-prog.mjs:mid', 'record-prog.mjs:mid', 'record-prog.mjs:mid']);
    const gpid = TraceFile.open(gout).processes[0]!.info.pid;
    assert.ok(spans.every((e) => e.pid === gpid));
    const folded = short(render(gout, 'folded')).split('\n').filter((l) => l !== '').map((l) => l.replace(/ \d+$/, ''));
    assert.deepEqual(folded.sort(), ['record-prog.mjs:mid', 'record-prog.mjs:mid;record-prog.mjs:leaf']);
    const html = render(gout, 'html');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.ok(html.includes('record-prog.mjs:leaf"'));
    assert.match(render(gout, 'svg'), /^<svg/);
    // Without profiler tables, stat is made from the graph events: hits exact.
    const stat = render(gout, 'stat');
    assert.match(stat, /^function0 \(node\):\n {2}Function/);
    // Names are cut at 30 characters, as ftrace's %-30.30s: both start test/fixtures/tracers/record-p.
    assert.deepEqual([...stat.matchAll(/^ {2}(\S+) +(\d+) /gm)].map((m) => `${m[1]} ${m[2]}`),
      ['test/fixtures/tracers/record-p 3', 'test/fixtures/tracers/record-p 3']);
  } finally {
    s.done();
  }
});

test('a filter pattern that never matched a function is named in the process\'s end', async () => {
  const s = scratch();
  try {
    const out = join(s.dir, 'x.jsft');
    const r = await recordProgram({
      args: ['record-prog.mjs'], cwd: tracerFixtures, out,
      init: [['write', 'set_ftrace_filter', '*record-prog.mjs:mid *:nosuch'], ['write', 'current_tracer', 'function']],
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(r.collector.unmatched(), ['set_ftrace_filter "*:nosuch"']);
    const t = TraceFile.open(out);
    assert.deepEqual(t.processes[0]!.end!.unmatched, ['set_ftrace_filter "*:nosuch"']);
    t.close();
    assert.equal(totals(out).entries, 3);
  } finally {
    s.done();
  }
});

test('a worker started while tracing is on is traced from its first line, in its own stream', async () => {
  const s = scratch();
  try {
    const out = join(s.dir, 'worker.jsft');
    const r = await recordProgram({
      args: ['worker-prog.mjs'], cwd: tracerFixtures, out,
      init: [['write', 'set_ftrace_filter', '*worker-prog.mjs:*'], ['write', 'current_tracer', 'function']],
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = strip(render(out, 'text')).map((l) => l.replace(/^ *(\S+)-(\d+) +\[\d+\] \S+ +[\d.]+: /, '$1 ').replace(/ <-.*$/, ''));
    assert.deepEqual(lines.filter((l) => l.startsWith('worker ')), ['worker worker-prog.mjs:wtick', 'worker worker-prog.mjs:wtick', 'worker worker-prog.mjs:wtick'], lines.join('\n'));
    assert.ok(lines.includes('node worker-prog.mjs:mtick'), lines.join('\n'));
    assert.equal(totals(out).threads, 2);
  } finally {
    s.done();
  }
});

const FATE_INIT: [string, string, string][] = [['write', 'set_ftrace_filter', '*fate.mjs:work'], ['write', 'current_tracer', 'function']];

/** The listeners line of fate.mjs run with jsftrace/register alone (no recording): what the program sees without the recorder. */
function listenersWithoutRecorder(dir: string): string {
  const r = spawnSync(process.execPath, ['--import', register, 'fate.mjs', 'none'], { cwd: fixtures, encoding: 'utf8', env: programEnv(dir), timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n')[0]!;
}

test('the recorder keeps the program\'s fate: its own SIGTERM kills it, process.exit and its own handler keep their codes, the trace is saved first', async () => {
  const s = scratch();
  try {
    const plain = listenersWithoutRecorder(s.dir);
    const runs = await Promise.all(['self', 'exit3', 'own', 'none'].map((how) => recordProgram({
      args: ['fate.mjs', how], cwd: fixtures, out: join(s.dir, `${how}.jsft`), init: FATE_INIT,
    })));
    const [self, exit3, own, none] = runs;
    assert.deepEqual([self!.code, self!.signal], [null, 'SIGTERM'], self!.stderr);
    assert.deepEqual([exit3!.code, exit3!.signal], [3, null], exit3!.stderr);
    assert.deepEqual([own!.code, own!.signal], [7, null], own!.stderr);
    assert.deepEqual([none!.code, none!.signal], [0, null], none!.stderr);
    // No listener of the recorder's in the program's view.
    for (const r of runs) assert.equal(r.stdout.split('\n')[0], plain);
    // Every call of each is in its trace, and each process says how it ended.
    for (const [how, r, calls, end] of [['self', self, 5, 'signal SIGTERM'], ['exit3', exit3, 5, 'exit 3'], ['own', own, 6, 'exit 7'], ['none', none, 5, 'exit 0']] as const) {
      const t = TraceFile.open(r!.file);
      try {
        assert.equal(fileTotals(fileThreads(t)).entries, calls, how);
        const e = t.processes[0]!.end!;
        assert.equal(e.how === 'signal' ? `signal ${e.signal}` : `exit ${e.code}`, end, how);
      } finally {
        t.close();
      }
    }
  } finally {
    s.done();
  }
});

test('a program that replaces itself with process.execve: its trace is saved first, and the program it becomes is recorded too', { skip: typeof (process as { execve?: unknown }).execve !== 'function' && 'no process.execve before Node 22.15' }, async () => {
  const s = scratch();
  try {
    const r = await recordProgram({ args: ['fate.mjs', 'execve'], cwd: fixtures, out: join(s.dir, 'execve.jsft'), init: FATE_INIT });
    // The process goes on as the program execve started (same pid), which exits 3.
    assert.deepEqual([r.code, r.signal], [3, null], r.stderr);
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('listeners ')).length, 2, r.stdout);
    // Two processes under one pid, a main thread each, as record's summary counts them.
    assert.match(summary(r.collector, 'out', 0), /^jsftrace: recorded 10 events from 2 threads of 2 processes to out /);
    const t = TraceFile.open(r.file);
    try {
      assert.deepEqual(t.processes.map((p) => [p.end?.how, p.end?.code, p.end?.execve]), [['exit', null, true], ['exit', 3, undefined]]);
      assert.equal(t.processes[0]!.info.pid, t.processes[1]!.info.pid);
      assert.equal(fileTotals(fileThreads(t)).entries, 10);
    } finally {
      t.close();
    }
  } finally {
    s.done();
  }
});

test('a SIGTERM from outside that the program does not handle: the trace is saved, then it dies of the signal', async () => {
  const s = scratch();
  try {
    const r = await recordProgram({
      args: ['fate.mjs', 'wait'], cwd: fixtures, out: join(s.dir, 'sig.jsft'), init: FATE_INIT,
      onLine: { line: /waiting/, then: (pid) => process.kill(pid, 'SIGTERM') },
    });
    assert.deepEqual([r.code, r.signal], [null, 'SIGTERM'], r.stderr);
    assert.equal(totals(r.file).entries, 5);
  } finally {
    s.done();
  }
});

test('a bad JSFTRACE_CONTROL_INIT stops the program before it runs, with one line and exit code 2', () => {
  const s = scratch();
  try {
    for (const [v, want] of [
      ['[["write","current_tracer","bogus"]]', /^jsftrace: current_tracer: .*no tracer "bogus" \(EINVAL\)\n$/],
      ['{"not":"a list"}', /^jsftrace: JSFTRACE_CONTROL_INIT must be a JSON array/],
      ['[["write","set_ftrace_filter","x:traceoff"]]', /^jsftrace: set_ftrace_filter: .*commands attach to loaded functions/],
    ] as const) {
      const r = spawnSync(process.execPath, ['--import', register, 'record-prog.mjs'], {
        cwd: tracerFixtures, encoding: 'utf8', timeout: 60_000, env: programEnv(s.dir, { JSFTRACE_CONTROL_INIT: v }),
      });
      assert.equal(r.status, 2, v);
      assert.equal(r.stdout, '', v);
      assert.match(r.stderr, want, v);
    }
  } finally {
    s.done();
  }
});
