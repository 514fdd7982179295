// `jsftrace record` then `jsftrace report` in every format, and `jsftrace
// profile`, on a fixture whose calls are fixed (work x1, middle x3,
// leaf x6): exact lines and counts; the ways of launching (node ...,
// a .mjs, a .cjs, any command through NODE_OPTIONS); filters applied
// before the program's first line; exit codes passed on; what happens when
// no trace is written; usage errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, fixture, jsftrace, mainJs, run, site, tempDir } from './support.js';

const calls = fixture('calls.mjs');
const W = site('calls.mjs', 'work');
const M = site('calls.mjs', 'middle');
const L = site('calls.mjs', 'leaf');

const SUMMARY = /^jsftrace: recorded (\d+) events from 1 thread to (\S+) \(\d+\.\d KiB\)\n$/;

/** The programs a test starts serve their control sockets in its own directory. */
function envOf(t: { sockets: string }): Record<string, string> {
  return cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets });
}

function count(text: string, re: RegExp): number {
  return text.split('\n').filter((l) => re.test(l)).length;
}

test('record with the function tracer (the default), then report text, folded, html', async () => {
  const t = tempDir();
  try {
    const r = await jsftrace(['record', '--', process.execPath, calls], { cwd: t.dir, env: envOf(t) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'sum 18\n');
    assert.deepEqual(SUMMARY.exec(r.stderr)?.slice(1), ['10', 'trace.jsft']);
    assert.ok(existsSync(join(t.dir, 'trace.jsft')));

    const text = await jsftrace(['report'], { cwd: t.dir, env: envOf(t) });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^# tracer: function\n/);
    assert.match(text.stdout, /^# entries-in-buffer\/entries-written: 10\/10 /m);
    const events = text.stdout.split('\n').filter((l) => !l.startsWith('#') && l !== '');
    assert.equal(events.length, 10);
    assert.equal(count(text.stdout, new RegExp(`: ${W}$`)), 1);
    assert.equal(count(text.stdout, new RegExp(`: ${M} <-${W}$`)), 3);
    assert.equal(count(text.stdout, new RegExp(`: ${L} <-${M}$`)), 6);

    // The function tracer's folded stacks count calls by their parent chain.
    const folded = await jsftrace(['report', '--format', 'folded'], { cwd: t.dir, env: envOf(t) });
    assert.equal(folded.stdout, `${M};${L} 6\n${W} 1\n${W};${M} 3\n`);

    const out = join(t.dir, 'flame.html');
    const html = await jsftrace(['report', '--format', 'html', '-o', out], { cwd: t.dir, env: envOf(t) });
    assert.equal(html.code, 0, html.stderr);
    assert.equal(html.stdout, '');
    assert.match(html.stderr, /^jsftrace: wrote html to .*flame\.html \(\d+\.\d KiB\)\n$/);
    const page = readFileSync(out, 'utf8');
    assert.match(page, /^<!DOCTYPE html>/);
    for (const name of [W, M, L]) assert.ok(page.includes(name), `${name} in the flame graph`);
  } finally {
    t.done();
  }
});

test('record function_graph: text shows the call tree; perfetto JSON has every call, nested', async () => {
  const t = tempDir();
  try {
    const r = await jsftrace(['record', '-p', 'function_graph', '-o', 'g.jsft', calls], { cwd: t.dir, env: envOf(t) });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(SUMMARY.exec(r.stderr)?.slice(1), ['20', 'g.jsft']);

    const text = (await jsftrace(['report', '-i', 'g.jsft'], { cwd: t.dir, env: envOf(t) })).stdout;
    assert.match(text, /^# tracer: function_graph\n/);
    assert.equal(count(text, new RegExp(`\\|  ${W}\\(\\) \\{$`)), 1);
    assert.equal(count(text, new RegExp(`\\|    ${M}\\(\\) \\{$`)), 3);
    assert.equal(count(text, new RegExp(`\\|      ${L}\\(\\);$`)), 6);
    assert.equal(count(text, /\|    \}$/), 3);
    assert.equal(count(text, /\|  \}$/), 1);
    // The file named as trace-cmd's report takes it: the same report; one file only.
    assert.equal((await jsftrace(['report', 'g.jsft'], { cwd: t.dir, env: envOf(t) })).stdout, text);
    const two = await jsftrace(['report', '-i', 'g.jsft', 'other.jsft'], { cwd: t.dir, env: envOf(t) });
    assert.equal(two.code, 2);
    assert.match(two.stderr, /two trace files: -i g\.jsft and other\.jsft/);

    const json = (await jsftrace(['report', '-i', 'g.jsft', '--format', 'perfetto-json'], { cwd: t.dir, env: envOf(t) })).stdout;
    const doc = JSON.parse(json) as { traceEvents: { name: string; ph: string; ts: number; dur: number; tid: number }[] };
    const spans = doc.traceEvents.filter((e) => e.ph === 'X');
    const by = (n: string): typeof spans => spans.filter((e) => e.name === n);
    assert.deepEqual([by(W).length, by(M).length, by(L).length, spans.length], [1, 3, 6, 10]);
    // Times are µs with three decimals: compare in whole ns, so that float sums do not decide.
    const ns = (x: number): number => Math.round(x * 1000);
    const inside = (a: { ts: number; dur: number }, b: { ts: number; dur: number }): boolean =>
      ns(a.ts) >= ns(b.ts) && ns(a.ts) + ns(a.dur) <= ns(b.ts) + ns(b.dur);
    const [w] = by(W);
    for (const m of by(M)) assert.ok(inside(m, w!), `middle inside work: ${JSON.stringify([m, w])}`);
    for (const l of by(L)) assert.equal(by(M).filter((m) => inside(l, m)).length, 1, `leaf inside one middle: ${JSON.stringify([l, by(M)])}`);

    // A graph's folded stacks: three stacks, self time in µs.
    const folded = (await jsftrace(['report', '-i', 'g.jsft', '--format', 'folded'], { cwd: t.dir, env: envOf(t) })).stdout;
    assert.deepEqual(folded.split('\n').filter(Boolean).map((l) => l.replace(/ \d+$/, '')), [W, `${W};${M}`, `${W};${M};${L}`]);

    const svg = (await jsftrace(['report', '-i', 'g.jsft', '--format', 'svg'], { cwd: t.dir, env: envOf(t) })).stdout;
    assert.match(svg, /^<svg /);
  } finally {
    t.done();
  }
});

/** The profile's rows: name -> [calls, total, self, running, waiting, avg] (counts: the counter clock). */
function profileRows(text: string): Record<string, number[]> {
  const rows: Record<string, number[]> = {};
  for (const m of text.matchAll(/^ +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)  (\S+)$/gm)) rows[m[7]!] = m.slice(1, 7).map(Number);
  return rows;
}

const A = (fn: string): string => site('async-calls.mjs', fn);

test('profile: calls, total, self, running and waiting per function (an async function waits), names whole; the table never on the program\'s stdout', async () => {
  const t = tempDir();
  try {
    // Under the counter clock every time is a count of events: the table is exact.
    const r = await jsftrace(['profile', '-C', 'counter', '-o', 'p.jsft', '--', process.execPath, fixture('async-calls.mjs')], { cwd: t.dir, env: envOf(t) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'sum 6\n', 'the program\'s stdout is its own');
    const expected = {
      // fetchData: 3 calls, each a part before its await (3) and one after (3): running 18, waiting 2 each.
      [A('fetchData')]: [3, 24, 12, 18, 6, 8],
      // main awaits fetchData three times: 4 parts, running 16, waiting 15.
      [A('main')]: [1, 31, 7, 16, 15, 31],
      [A('<anonymous>@9:21')]: [3, 3, 3, 3, 0, 1],
      [A('leaf')]: [3, 3, 3, 3, 0, 1],
    };
    assert.deepEqual(profileRows(r.stderr), expected);
    // Sorted by self (ties by name), names whole in the last column.
    assert.deepEqual(Object.keys(profileRows(r.stderr)), [A('fetchData'), A('main'), A('<anonymous>@9:21'), A('leaf')]);

    const again = await jsftrace(['report', '-i', 'p.jsft', '--format', 'profile', '--sort', 'total', '--top', '2'], { cwd: t.dir, env: envOf(t) });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(Object.keys(profileRows(again.stdout)), [A('main'), A('fetchData')]);

    // -w writes the table to a file, -w - to stdout (after the program's output).
    const w = await jsftrace(['profile', '-C', 'counter', '-w', 'table.txt', fixture('async-calls.mjs')], { cwd: t.dir, env: envOf(t) });
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout, 'sum 6\n');
    assert.equal(w.stderr, '');
    assert.deepEqual(profileRows(readFileSync(join(t.dir, 'table.txt'), 'utf8')), expected);
    const out = await jsftrace(['profile', '-C', 'counter', '-w', '-', fixture('async-calls.mjs')], { cwd: t.dir, env: envOf(t) });
    assert.ok(out.stdout.startsWith('sum 6\n# 4 functions, sorted by self'), out.stdout);
    assert.deepEqual(profileRows(out.stdout), expected);
    assert.equal(existsSync(join(t.dir, 'trace.jsft')), false, 'without -o the trace is not kept');
  } finally {
    t.done();
  }
});

test('profile: the table the threads keep equals the one made from function_graph events, call for call (recursion, generators, throws, awaits, callbacks); without -o nothing is recorded', async () => {
  const t = tempDir();
  try {
    const shapes = fixture('profile-shapes.mjs');
    const r = await jsftrace(['profile', '-C', 'counter', '-w', 'kept.txt', '-o', 'p.jsft', '--', process.execPath, shapes], { cwd: t.dir, env: envOf(t) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'total 36\n');
    const kept = profileRows(readFileSync(join(t.dir, 'kept.txt'), 'utf8'));
    // A selection of events makes the table from the graph's events instead of the threads' tables.
    const fromEvents = await jsftrace(['report', '-i', 'p.jsft', '--format', 'profile', '--func', '*'], { cwd: t.dir, env: envOf(t) });
    assert.equal(fromEvents.code, 0, fromEvents.stderr);
    assert.deepEqual(kept, profileRows(fromEvents.stdout));
    const S = (fn: string): string => site('profile-shapes.mjs', fn);
    assert.deepEqual(Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, v[0]])), {
      [S('fib')]: 25, [S('counter')]: 1, [S('square')]: 6, [S('drain')]: 1, [S('deep')]: 3, [S('guarded')]: 1,
      [S('inner')]: 2, [S('outer')]: 1, [S('<anonymous>@45:21')]: 2, [S('<anonymous>@45:42')]: 1,
    });
    // Without -o: no event recorded, the same table.
    const alone = await jsftrace(['profile', '-C', 'counter', '-w', '-', '--', process.execPath, shapes], { cwd: t.dir, env: envOf(t) });
    assert.equal(alone.code, 0, alone.stderr);
    assert.deepEqual(profileRows(alone.stdout), kept);
  } finally {
    t.done();
  }
});

test('flame: one command from a program to its flame graph (html by default), a .cpuprofile on request; the trace kept only with --trace', async () => {
  const t = tempDir();
  try {
    const r = await jsftrace(['flame', '--', process.execPath, calls], { cwd: t.dir, env: envOf(t) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'sum 18\n');
    assert.match(r.stderr, /^jsftrace: wrote the flame graph of 20 events to flame\.html \(\d+\.\d KiB\)\n$/);
    const page = readFileSync(join(t.dir, 'flame.html'), 'utf8');
    for (const name of [W, M, L]) assert.ok(page.includes(name), `${name} in the flame graph`);
    assert.equal(existsSync(join(t.dir, 'trace.jsft')), false);

    const p = await jsftrace(['flame', '--format', 'cpuprofile', '--trace', 'k.jsft', '-o', 'c.cpuprofile', calls], { cwd: t.dir, env: envOf(t) });
    assert.equal(p.code, 0, p.stderr);
    const prof = JSON.parse(readFileSync(join(t.dir, 'c.cpuprofile'), 'utf8')) as { nodes: { callFrame: { functionName: string } }[]; samples: number[] };
    assert.deepEqual(prof.nodes.map((n) => n.callFrame.functionName).sort(), ['(idle)', '(root)', 'leaf', 'middle', 'work']);
    assert.ok(existsSync(join(t.dir, 'k.jsft')), '--trace keeps the trace');
    const bad = await jsftrace(['flame', '-p', 'function', calls], { cwd: t.dir, env: envOf(t) });
    assert.equal(bad.code, 2);
  } finally {
    t.done();
  }
});

test('filters apply from the first line; .cjs and commands through NODE_OPTIONS are traced too', async () => {
  const t = tempDir();
  try {
    // Independent runs, each to its own file: run them side by side.
    const [only, but, two, cjs, sh] = await Promise.all([
      ['record', '-l', '*:leaf', '-o', 'l.jsft', calls],
      ['record', '-n', '*:leaf', '-o', 'n.jsft', calls],
      ['record', '-l', '*:work', '-l', '*:middle', '-o', 'two.jsft', calls],
      ['record', '-o', 'c.jsft', fixture('calls.cjs')],
      ['record', '-o', 's.jsft', '--', 'sh', '-c', `"${process.execPath}" "${calls}"`],
    ].map((args) => jsftrace(args, { cwd: t.dir, env: envOf(t) })));
    assert.deepEqual(SUMMARY.exec(only!.stderr)?.slice(1), ['6', 'l.jsft'], only!.stderr);
    assert.deepEqual(SUMMARY.exec(but!.stderr)?.slice(1), ['4', 'n.jsft'], but!.stderr);
    assert.deepEqual(SUMMARY.exec(two!.stderr)?.slice(1), ['4', 'two.jsft'], two!.stderr);

    assert.equal(cjs!.stdout, 'sum 18\n');
    assert.deepEqual(SUMMARY.exec(cjs!.stderr)?.slice(1), ['10', 'c.jsft'], cjs!.stderr);
    const report = (await jsftrace(['report', '-i', 'c.jsft'], { cwd: t.dir, env: envOf(t) })).stdout;
    assert.equal(count(report, new RegExp(`: ${site('calls.cjs', 'leaf')} <-`)), 6);

    assert.equal(sh!.stdout, 'sum 18\n');
    assert.deepEqual(SUMMARY.exec(sh!.stderr)?.slice(1), ['10', 's.jsft'], sh!.stderr);
  } finally {
    t.done();
  }
});

test('a module first loaded by another thread is traced at once in a worker that never returns to its event loop (a pool serving tasks between Atomics.wait calls)', async () => {
  const t = tempDir();
  try {
    writeFileSync(join(t.dir, 'task.cjs'), 'function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\nmodule.exports = fib;\n');
    writeFileSync(join(t.dir, 'pool.cjs'), `const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');
if (isMainThread) {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  // B waits first; A loads the module, then wakes B, which loads and calls it without a turn of its event loop.
  const b = new Worker(__filename, { workerData: { role: 'b', flag } });
  b.once('online', () => {
    const a = new Worker(__filename, { workerData: { role: 'a', flag } });
    a.once('message', (m) => { console.log('a', m); Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); });
  });
  b.once('message', (m) => console.log('b', m));
} else if (workerData.role === 'a') {
  parentPort.postMessage(require('./task.cjs')(10));
} else {
  Atomics.wait(workerData.flag, 0, 0);
  parentPort.postMessage(require('./task.cjs')(10));
}
`);
    const r = await jsftrace(['record', '-p', 'function', '-l', 'task.cjs:*', '--', process.execPath, 'pool.cjs'], { cwd: t.dir, env: envOf(t) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'a 55\nb 55\n');
    const text = await jsftrace(['report'], { cwd: t.dir, env: envOf(t) });
    const perThread = new Map<string, number>();
    for (const l of text.stdout.split('\n').filter((x) => / task\.cjs:fib(?: |$)/.test(x))) {
      const task = l.trim().split(/\s+/)[0]!;
      perThread.set(task, (perThread.get(task) ?? 0) + 1);
    }
    // fib(10) makes 177 calls, in each worker.
    assert.deepEqual([...perThread.values()], [177, 177], text.stdout.slice(0, 2000));
  } finally {
    t.done();
  }
});

test('a recorded program prints exactly what it prints without jsftrace: its stack traces, an uncaught error and its caret, its exit code, its own keys of the global object and the process', async () => {
  const t = tempDir();
  try {
    // The Error is made on one line and thrown on another: Node puts the
    // caret under the throw only when the main module runs as it does with
    // no preload. The stacks show the loader's frames under a module's top
    // level, and an async function's continuation.
    // (Lines that carry inserted code, the first and a function's first,
    // print instrumented: docs/transparency.md, difference 11.)
    const program = `// app
function fail() {
  const e = new Error('boom')
  ; throw e }
const frames = (e) => e.stack.split('\\n').slice(1).join('\\n')
console.log(frames(new Error('top')))
async function later() { await null; console.log(frames(new Error('after await'))) }
// Nothing of jsftrace's own on the global object (but its one binding) or the process.
console.log(Reflect.ownKeys(globalThis).filter((k) => typeof k !== 'string' || !/^\\$jsftrace_[0-9a-z]{12}$/.test(k)).map(String).join(), Reflect.ownKeys(process).map(String).join())
if (process.argv[2] === 'throw') fail()
else later()
`;
    writeFileSync(join(t.dir, 'package.json'), '{"name":"app"}');
    writeFileSync(join(t.dir, 'main.js'), program);
    writeFileSync(join(t.dir, 'main.mjs'), program);
    for (const [main, arg] of [['main.js', 'throw'], ['main.mjs', 'throw'], ['main.js', 'stacks'], ['main.mjs', 'stacks']] as const) {
      const plain = await run(process.execPath, ['--stack-trace-limit=50', main, arg], { cwd: t.dir, env: envOf(t) });
      if (arg === 'throw') {
        assert.equal(plain.code, 1);
        // (An ES module's evaluation is asynchronous: there Node itself reports from the Error's stack.)
        if (main === 'main.js') assert.match(plain.stderr, /^ {2}; throw e }\n {4}\^$/m);
      } else {
        assert.equal(plain.code, 0);
        assert.match(plain.stdout, /^ {4}at later /m);
      }
      for (const tracer of ['function', 'function_graph']) {
        const r = await jsftrace(['record', '-p', tracer, '-o', 'main.jsft', '--', process.execPath, '--stack-trace-limit=50', main, arg], { cwd: t.dir, env: envOf(t) });
        const what = `${main} ${arg} under ${tracer}`;
        const printed = r.stderr.replace(/jsftrace: recorded .*\n$/, '');
        assert.equal(r.stdout, plain.stdout, `${what}: stdout`);
        assert.equal(printed, plain.stderr, `${what}: stderr`);
        assert.equal(r.code, plain.code, `${what}: exit code`);
        // Recorded all the same: fail, or later and frames (twice).
        assert.ok(Number(/jsftrace: recorded (\d+) events? /.exec(r.stderr)?.[1]) >= (arg === 'throw' ? 1 : 3), `${what}: ${r.stderr}`);
      }
    }
    // A preload of the user's own in NODE_OPTIONS (as `-r dotenv/config`)
    // runs after jsftrace's, so it does not hold the start: the main
    // module still starts as Node starts it (not from the tick queue).
    writeFileSync(join(t.dir, 'pre.cjs'), "process.env.FROM_PRELOAD = 'set'\n");
    writeFileSync(join(t.dir, 'env.js'), `console.log(process.env.FROM_PRELOAD)\n${program}`);
    const withPreload = { ...envOf(t), NODE_OPTIONS: '--require ./pre.cjs' };
    for (const arg of ['stacks', 'throw']) {
      const plain = await run(process.execPath, ['--stack-trace-limit=50', 'env.js', arg], { cwd: t.dir, env: withPreload });
      assert.match(plain.stdout, /^set\n/);
      const r = await jsftrace(['record', '-o', 'env.jsft', '--', process.execPath, '--stack-trace-limit=50', 'env.js', arg], { cwd: t.dir, env: withPreload });
      assert.equal(r.stdout, plain.stdout, `env.js ${arg} with a preload of the user's: stdout`);
      assert.equal(r.stderr.replace(/jsftrace: recorded .*\n$/, ''), plain.stderr, `env.js ${arg} with a preload of the user's: stderr`);
      assert.equal(r.code, plain.code);
    }
  } finally {
    t.done();
  }
});

test('threads that hear jsftrace\'s threads talk (the drain asking for rings, a worker announcing its own) gain nothing on their global object: no symbol of Node\'s undici', async () => {
  const t = tempDir();
  try {
    // Both threads print their global object's own keys once the other has
    // spoken: the main thread after the worker has ended, the worker after
    // the main thread has answered its announcement.
    const keys = `Reflect.ownKeys(globalThis).filter((k) => typeof k !== 'string' || !/^\\$jsftrace_[0-9a-z]{12}$/.test(k)).map(String).join()`;
    writeFileSync(join(t.dir, 'main.mjs'), `import { Worker } from 'node:worker_threads'
await new Promise((r) => setTimeout(r, 300))
const w = new Worker(new URL('./worker.cjs', import.meta.url))
w.on('message', (m) => console.log('worker:', m))
w.on('exit', () => console.log('main:', ${keys}))
`);
    writeFileSync(join(t.dir, 'worker.cjs'), `const { parentPort } = require('node:worker_threads')
function inWorker() { return 1 }
inWorker()
setTimeout(() => parentPort.postMessage(${keys}), 300)
`);
    const plain = await run(process.execPath, ['main.mjs'], { cwd: t.dir, env: envOf(t) });
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^worker: .*\nmain: /);
    assert.doesNotMatch(plain.stdout, /undici/);
    for (const tracer of ['function', 'function_graph']) {
      const r = await jsftrace(['record', '-p', tracer, '-o', 'main.jsft', '--', process.execPath, 'main.mjs'], { cwd: t.dir, env: envOf(t) });
      assert.equal(r.stdout, plain.stdout, `under ${tracer}`);
      assert.equal(r.code, 0, r.stderr);
      // The worker's ring was found through the channel all the same.
      const report = await jsftrace(['report', '-i', 'main.jsft'], { cwd: t.dir, env: envOf(t) });
      assert.match(report.stdout, tracer === 'function' ? /^ +worker-\d+ .*: worker\.cjs:inWorker$/m : /inWorker\(\);$/m, `under ${tracer}: ${report.stdout}`);
    }
  } finally {
    t.done();
  }
});

test('a stack taken in a listener of the process\'s events, deep in the program, keeps its ten frames under the recorder\'s wrapper of process.emit too', async () => {
  const t = tempDir();
  try {
    const plain = await run(process.execPath, [fixture('deep-listeners.cjs')], { cwd: t.dir, env: envOf(t) });
    assert.match(plain.stdout, /^custom 10 .*\nexit 10 /);
    for (const tracer of ['function', 'function_graph']) {
      const r = await jsftrace(['record', '-p', tracer, '-o', 'deep.jsft', '--', process.execPath, fixture('deep-listeners.cjs')], { cwd: t.dir, env: envOf(t) });
      assert.equal(r.stdout, plain.stdout, `under ${tracer}`);
      assert.equal(r.code, 0, r.stderr);
    }
  } finally {
    t.done();
  }
});

test('a program whose clocks and timers are fakes (as a test\'s fake timers make them): jsftrace calls none of them, its timestamps are real, the recording ends', async () => {
  const t = tempDir();
  try {
    // Every clock and timer of the global scope replaced, as fake-timer
    // libraries do (some replace the methods of the real performance
    // object): frozen clocks, timers that never fire, each counting its
    // calls. The program's own output is the counts, which must be the
    // plain run's (none): jsftrace's waits and timestamps use the clocks
    // and timers of its start.
    // The fakes go in from the program's first line, or from a --require
    // preload of its own (beside a loader of its own, where jsftrace's start
    // waits for the main module: register.cts). A module loaded after them
    // (dep.js, new to the cache) has its transform and cache entry made
    // while they are in place.
    writeFileSync(join(t.dir, 'fakes.js'), `const calls = globalThis.calls = { date: 0, perf: 0, timeout: 0, immediate: 0, microtask: 0 }
Date.now = () => { calls.date++; return 0 }
performance.now = () => { calls.perf++; return 0 }
globalThis.setTimeout = () => { calls.timeout++; return {} }
globalThis.setImmediate = () => { calls.immediate++; return {} }
globalThis.queueMicrotask = () => { calls.microtask++ }
`);
    writeFileSync(join(t.dir, 'loader.mjs'), 'export async function resolve(s, c, next) { return next(s, c) }\n');
    writeFileSync(join(t.dir, 'dep.js'), 'module.exports = function work(n) { return n <= 1 ? n : work(n - 1) + 1 }\n');
    const program = (fakes: boolean): string => `${fakes ? "require('./fakes.js')\n" : ''}const realTimeout = require('node:timers').setTimeout
const work = require('./dep.js')
let total = 0
for (let i = 0; i < 3000; i++) total += work(20)
realTimeout(() => { for (let i = 0; i < 300; i++) total += work(20); console.log(total, JSON.stringify(calls)) }, 20)
`;
    writeFileSync(join(t.dir, 'fake.js'), program(true));
    writeFileSync(join(t.dir, 'main.js'), program(false));
    const runs = [['fake.js'], ['--no-warnings', '--require', './fakes.js', '--experimental-loader', './loader.mjs', 'main.js']];
    for (const args of runs) {
      const what = args.join(' ');
      const plain = await run(process.execPath, args, { cwd: t.dir, env: envOf(t) });
      assert.equal(plain.stdout, '66000 {"date":0,"perf":0,"timeout":0,"immediate":0,"microtask":0}\n', what);
      // A cache of its own: dep.js is new to it.
      const env = { ...envOf(t), JSFTRACE_CACHE_DIR: join(t.dir, `cache-${runs.indexOf(args)}`) };
      const r = await jsftrace(['record', '-p', 'function', '-o', 'fake.jsft', '--', process.execPath, ...args], { cwd: t.dir, env });
      assert.equal(r.stdout, plain.stdout, what);
      assert.equal(r.code, 0, what);
      assert.match(r.stderr, /^jsftrace: recorded \d+ events from 1 thread to fake\.jsft \(/, what);
      const text = (await jsftrace(['report', 'fake.jsft'], { cwd: t.dir, env: envOf(t) })).stdout;
      const stamps = text.split('\n').filter((l) => l.includes('dep.js:work')).map((l) => Number(/ (\d+\.\d+): /.exec(l)?.[1]));
      assert.equal(stamps.length, 3300 * 20, `${what}: every call of work recorded`);
      assert.ok(stamps.every((x, i) => Number.isFinite(x) && (i === 0 || x >= stamps[i - 1]!)), `${what}: timestamps in order`);
      // The calls after the 20 ms timer are at least that much later than the first.
      assert.ok(stamps.at(-1)! - stamps[0]! >= 0.015, `${what}: timestamps from a real clock: ${stamps[0]} to ${stamps.at(-1)}`);
    }
  } finally {
    t.done();
  }
});

test('the program\'s preloads and loaders run as without jsftrace: a loader sees what the preloads put in the environment; no preload runs in jsftrace\'s own threads', async () => {
  const t = tempDir();
  try {
    // A preload that sets a variable for a loader (`-r dotenv/config
    // --loader ...`); the loader and the preload say where they ran in a
    // file (the loader thread's stdout is not ordered with the main
    // thread's). Node 20 also runs --require preloads in its own loader
    // thread (no parentPort), with or without jsftrace's loader there.
    // Given through NODE_OPTIONS, the preload also runs in jsftrace's own
    // command (which the log leaves out).
    writeFileSync(join(t.dir, 'set-env.cjs'), `const wt = require('node:worker_threads')
if (require('node:path').dirname(process.argv[1] ?? '') === process.cwd()) require('node:fs').appendFileSync(process.env.LOG, 'preload ' + (wt.isMainThread ? 'main' : wt.parentPort === null ? 'node-loader-thread' : 'worker') + '\\n')
if (wt.isMainThread) process.env.SET_BY_PRELOAD = 'yes'
`);
    // A preload that holds the main module back past the first turn (as a
    // preload that awaits something before calling runMain).
    writeFileSync(join(t.dir, 'hold.cjs'), `const Module = require('node:module')
const runMain = Module.runMain
Module.runMain = function (...args) { setImmediate(() => runMain.apply(this, args)) }
`);
    writeFileSync(join(t.dir, 'loader.mjs'), "import { appendFileSync } from 'node:fs'\nappendFileSync(process.env.LOG, 'loader sees ' + process.env.SET_BY_PRELOAD + '\\n')\n");
    writeFileSync(join(t.dir, 'main.js'), 'function f(n) { return n + 1 }\nconsole.log(process.env.SET_BY_PRELOAD, f(1))\n');
    writeFileSync(join(t.dir, 'main.mjs'), 'function f(n) { return n + 1 }\nconsole.log(process.env.SET_BY_PRELOAD, f(1))\n');
    const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && l !== 'preload node-loader-thread').sort();
    const ways: [string, string[], Record<string, string>][] = [
      ['main.js', ['--require', './set-env.cjs', '--experimental-loader', './loader.mjs'], {}],
      ['main.mjs', ['--require', './set-env.cjs', '--experimental-loader', './loader.mjs'], {}],
      ['main.js', ['--require', './set-env.cjs', '--require', './hold.cjs', '--experimental-loader', './loader.mjs'], {}],
      ['main.js', ['--experimental-loader', './loader.mjs'], { NODE_OPTIONS: `--require ${join(t.dir, 'set-env.cjs')}` }],
    ];
    for (const [n, [main, flags, extra]] of ways.entries()) {
      const args = ['--no-warnings', ...flags, main];
      const what = `${extra['NODE_OPTIONS'] ?? ''} ${args.join(' ')}`;
      const plainLog = join(t.dir, `${n}.plain.log`);
      const plain = await run(process.execPath, args, { cwd: t.dir, env: { ...envOf(t), ...extra, LOG: plainLog } });
      assert.equal(plain.stdout, 'yes 2\n', what);
      assert.deepEqual(lines(plainLog), ['loader sees yes', 'preload main'], what);
      for (const tracer of ['nop', 'function']) {
        const log = join(t.dir, `${n}.${tracer}.log`);
        const r = await jsftrace(['record', '-p', tracer, '-o', 'l.jsft', '--', process.execPath, ...args], { cwd: t.dir, env: { ...envOf(t), ...extra, LOG: log } });
        assert.equal(r.stdout, plain.stdout, `${what} under ${tracer}: stdout`);
        assert.deepEqual(lines(log), lines(plainLog), `${what} under ${tracer}: where the preload and the loader ran, and what the loader saw`);
        // One process, started once: f traced once. (Where jsftrace starts
        // at its own preload, the program's preloads after it are
        // instrumented too: hold.cjs's runMain.)
        if (tracer === 'function') {
          assert.match(r.stderr, /recorded \d+ events? from 1 thread to/, what);
          const report = (await jsftrace(['report', 'l.jsft'], { cwd: t.dir, env: envOf(t) })).stdout;
          assert.equal(report.split('\n').filter((l) => / main\.m?js:f(?: <|$)/.test(l)).length, 1, `${what}: f traced, once\n${report}`);
        }
      }
    }
    // With no loader of the program's, a preload that ends the process:
    // on Node 20 it ended jsftrace's loader thread too (Node runs preloads
    // there), for which the main thread then waited for good. The preload
    // writes to stderr, which is not buffered on a pipe (Node 20 runs it in
    // that thread as well, whose stdout comes later, if at all).
    writeFileSync(join(t.dir, 'bye.cjs'), "if (require('node:worker_threads').isMainThread) console.error('bye')\nprocess.exit(3)\n");
    const registerCjs = fileURLToPath(new URL('../../src/public/register.cjs', import.meta.url));
    const plain = await run(process.execPath, ['--require', './bye.cjs', 'main.js'], { cwd: t.dir, env: envOf(t) });
    assert.equal(plain.code, 3);
    // Started directly (a hang then fails the test when the run times out).
    const r = await run(process.execPath, ['--require', registerCjs, '--require', './bye.cjs', 'main.js'], { cwd: t.dir, env: envOf(t), timeoutMs: 30_000 });
    assert.deepEqual([r.code, r.stdout, r.stderr], [plain.code, plain.stdout, plain.stderr], 'a preload that calls process.exit()');
  } finally {
    t.done();
  }
});

test('a loader of the program\'s sees the requests it sees without jsftrace, none of jsftrace\'s own modules', async () => {
  const t = tempDir();
  try {
    // Each resolve the loader is asked for, with its parent, in order.
    writeFileSync(join(t.dir, 'log-loader.mjs'), `import { appendFileSync } from 'node:fs'
export async function resolve(specifier, context, next) {
  appendFileSync(process.env.LOG, specifier + ' <- ' + (context.parentURL ?? '') + '\\n')
  return next(specifier, context)
}
`);
    writeFileSync(join(t.dir, 'dep.mjs'), 'export function twice(n) { return n * 2 }\n');
    writeFileSync(join(t.dir, 'main.mjs'), "import { twice } from './dep.mjs'\nconst os = await import('node:os')\nconsole.log(twice(21), typeof os.cpus)\n");
    writeFileSync(join(t.dir, 'main.cjs'), "function twice(n) { return n * 2 }\nimport('./dep.mjs').then((d) => console.log(twice(21), d.twice(2)))\n");
    const ownSrc = fileURLToPath(new URL('../../src/', import.meta.url));
    // On Node 20 (and where in-thread hooks are missing), jsftrace's own
    // hooks are a loader registered after the program's, and Node resolves
    // that loader's module through the program's as it would any other's.
    const ownLoader = /instrument\/hooks\/esm-loader\.js/;
    const seen = (log: string): string[] => readFileSync(log, 'utf8').split('\n').filter((l) => l !== '' && !ownLoader.test(l));
    for (const main of ['main.mjs', 'main.cjs']) {
      const args = ['--no-warnings', '--experimental-loader', './log-loader.mjs', main];
      const plainLog = join(t.dir, `${main}.plain.log`);
      const plain = await run(process.execPath, args, { cwd: t.dir, env: { ...envOf(t), LOG: plainLog } });
      assert.equal(plain.code, 0, plain.stderr);
      assert.ok(seen(plainLog).some((l) => l.startsWith('./dep.mjs <- ')), `${main}: the loader sees the program's import`);
      const idleLog = join(t.dir, `${main}.idle.log`);
      const idle = await run(process.execPath, ['--require', join(ownSrc, 'public', 'register.cjs'), ...args], { cwd: t.dir, env: { ...envOf(t), LOG: idleLog } });
      const graphLog = join(t.dir, `${main}.graph.log`);
      const graph = await jsftrace(['record', '-p', 'function_graph', '-o', 'g.jsft', '--', process.execPath, ...args], { cwd: t.dir, env: { ...envOf(t), LOG: graphLog } });
      for (const [mode, r, log] of [['idle', idle, idleLog], ['function_graph', graph, graphLog]] as const) {
        assert.equal(r.stdout, plain.stdout, `${main} ${mode}: stdout`);
        const lines = seen(log);
        assert.deepEqual(lines.filter((l) => l.includes(ownSrc) || l.includes(`file://${ownSrc}`)), [], `${main} ${mode}: jsftrace's modules seen by the program's loader`);
        assert.deepEqual(lines, seen(plainLog), `${main} ${mode}: what the program's loader is asked`);
      }
      assert.match(graph.stderr, /recorded \d+ events from 1 thread to/, `${main}: traced`);
    }
  } finally {
    t.done();
  }
});

test('the exit code is the program\'s; a program killed by SIGKILL writes no trace and an old one stays', async () => {
  const t = tempDir();
  try {
    const three = await jsftrace(['record', calls, '3'], { cwd: t.dir, env: envOf(t) });
    assert.equal(three.code, 3);
    assert.deepEqual(SUMMARY.exec(three.stderr)?.slice(1), ['10', 'trace.jsft']);
    const before = readFileSync(join(t.dir, 'trace.jsft'));

    const killed = await jsftrace(['record', '--', process.execPath, '-e', 'process.kill(process.pid, "SIGKILL")'], { cwd: t.dir, env: envOf(t) });
    assert.equal(killed.code, 128 + 9);
    assert.equal(killed.stderr, 'jsftrace: the program failed (exit 137) with nothing traced; trace.jsft is left as it was\n');
    assert.ok(readFileSync(join(t.dir, 'trace.jsft')).equals(before));

    const none = await jsftrace(['record', '--', 'sh', '-c', 'exit 0'], { cwd: t.dir, env: envOf(t) });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^jsftrace: no trace written to trace\.jsft: no node process of the command was recorded/);

    const missing = await jsftrace(['record', 'no-such-command-here'], { cwd: t.dir, env: envOf(t) });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'jsftrace: cannot run "no-such-command-here": no such command (ENOENT)\n');
  } finally {
    t.done();
  }
});

test('usage errors exit 2; a bad or missing trace file exits 1 with its code', async () => {
  const t = tempDir();
  try {
    const cases: [string[], RegExp][] = [
      [['record'], /^jsftrace record: no command to record/],
      [['record', '-p', 'bogus', calls], /^jsftrace record: -p "bogus": no such tracer \(function_graph, function, nop\)\n\(try 'jsftrace record --help'\)\n$/],
      [['record', '-O', 'nosuch', calls], /^jsftrace record: -O "nosuch": no such option/],
      [['record', '-C', 'tsc', calls], /^jsftrace record: -C "tsc": no such clock/],
      [['record', '-b', 'lots', calls], /^jsftrace record: -b "lots": a size in KiB/],
      [['report', '--format', 'pdf'], /^jsftrace report: --format "pdf": one of text, function, function_graph, perfetto, perfetto-json, folded, html, svg, stat, profile, cpuprofile, otlp\n/],
      [['record', '-b', '1048576', calls], /^jsftrace record: -b 1048576: at most 524288 KiB per thread\n/],
      [['record', '--max-size', '0', calls], /^jsftrace record: --max-size "0": a number from 0 to/],
      [['record', '--wait', 'soon', calls], /^jsftrace record: --wait "soon": milliseconds from 0 to 60000/],
      [['report', '--frobnicate'], /^jsftrace report: Unknown option '--frobnicate'/],
      [['frobnicate'], /^jsftrace: unknown command "frobnicate"\n\(try 'jsftrace --help'\)\n$/],
      [[], /^usage: jsftrace /],
    ];
    // Many at once: each may wait long for the processor.
    const runs = await Promise.all(cases.map(([args]) => jsftrace(args, { cwd: t.dir, env: envOf(t), timeoutMs: 120_000 })));
    for (const [i, [args, re]] of cases.entries()) {
      const r = runs[i]!;
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, '');
    }
    const missing = await jsftrace(['report'], { cwd: t.dir, env: envOf(t) });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'jsftrace: no trace.jsft here (record one with jsftrace record, or give -i <file>) (ENOENT)\n');
    writeFileSync(join(t.dir, 'junk.jsft'), 'not a trace');
    const junk = await jsftrace(['report', '-i', 'junk.jsft'], { cwd: t.dir, env: envOf(t) });
    assert.equal(junk.code, 1);
    assert.equal(junk.stderr, 'jsftrace: junk.jsft: not a jsftrace trace file (too short) (EINVAL)\n');
    writeFileSync(join(t.dir, 'junk2.jsft'), 'x'.repeat(64));
    assert.equal((await jsftrace(['report', '-i', 'junk2.jsft'], { cwd: t.dir, env: envOf(t) })).stderr, 'jsftrace: junk2.jsft: not a jsftrace trace file (bad magic) (EINVAL)\n');
    // Every verb has --help, exit 0, on stdout, with examples.
    const verbs = ['record', 'report', 'profile', 'flame', 'list', 'ps', 'stat', 'start', 'stop', 'reset', 'show', 'pipe', 'extract', 'fs'];
    const helps = await Promise.all(verbs.map((verb) => jsftrace([verb, '--help'], { cwd: t.dir, env: envOf(t), timeoutMs: 120_000 })));
    for (const [i, verb] of verbs.entries()) {
      const h = helps[i]!;
      assert.equal(h.code, 0, verb);
      assert.match(h.stdout, new RegExp(`^usage: jsftrace (-P <pid> )?${verb}\\b`), verb);
      assert.match(h.stdout, /\nExamples?:\n/, verb);
    }
  } finally {
    t.done();
  }
});

test('list without a process: the tracers, clocks, options and events of a fresh one; functions need -P', async () => {
  const [tracers, clocks, options, functions, events] = await Promise.all([['list', '-t'], ['list', '-C'], ['list', '-o'], ['list', '-f'], ['list', '-e']].map((a) => jsftrace(a)));
  assert.equal(events!.stdout, 'noasync_hook\nnogc\nnoloop_delay\n', 'the runtime events, each off');
  assert.equal(tracers!.stdout, 'function_graph\nfunction\nnop\n');
  assert.equal(clocks!.stdout, '[local]\nglobal\ncounter\nmono\n');
  const opts = options!.stdout.split('\n');
  for (const o of ['overwrite', 'funcgraph-duration', 'nofuncgraph-proc', 'nofunc_stack_trace', 'nofunc-caller']) assert.ok(opts.includes(o), o);
  assert.equal(functions!.code, 2);
  assert.match(functions!.stderr, /^jsftrace list: functions exist only in a traced process: give -P <pid>/);
});

test('colour and the progress line only on a TTY, never with NO_COLOR', { skip: !existsSync('/usr/bin/script') && 'needs script(1) for a TTY' }, async () => {
  const t = tempDir();
  try {
    const tty = (cmd: string[], env: Record<string, string> = {}): Promise<string> => run('/usr/bin/script', ['-qec', cmd.map((a) => JSON.stringify(a)).join(' '), '/dev/null'], { cwd: t.dir, env: cleanEnv({ JSFTRACE_SOCKET_DIR: t.sockets, ...env }) })
      .then((r) => r.stdout);
    const fail = await tty([process.execPath, mainJs, 'report', '-i', 'missing.jsft']);
    assert.match(fail, /\x1b\[31mjsftrace:\x1b\[0m missing\.jsft: no such file \(ENOENT\)/);
    const plain = await tty([process.execPath, mainJs, 'report', '-i', 'missing.jsft'], { NO_COLOR: '1' });
    assert.doesNotMatch(plain, /\x1b\[3/);
    assert.match(plain, /jsftrace: missing\.jsft: no such file \(ENOENT\)/);

    await jsftrace(['record', '-o', 'c.jsft', calls], { cwd: t.dir, env: envOf(t) });
    const rendered = await tty([process.execPath, mainJs, 'report', '-i', 'c.jsft', '-o', 'c.txt']);
    // The progress line is shown, then erased before the result's line.
    assert.match(rendered, /^\r\x1b\[2Kjsftrace: reading c\.jsft\r\x1b\[2Kjsftrace: rendering c\.jsft \(\d+\.\d KiB\) as text\r\x1b\[2Kjsftrace: wrote text to c\.txt/);
    // Not on a pipe: the same command without a TTY writes only its line.
    assert.match((await jsftrace(['report', '-i', 'c.jsft', '-o', 'c.txt'], { cwd: t.dir, env: envOf(t) })).stderr, /^jsftrace: wrote text to c\.txt \(\d+\.\d KiB\)\n$/);
  } finally {
    t.done();
  }
});

test('a recording is never lost to a report or a failed run: -o onto the input, a script that does not exist', async () => {
  const t = tempDir();
  try {
    const r = await jsftrace(['record', '--', process.execPath, calls], { cwd: t.dir, env: envOf(t) });
    assert.equal(r.code, 0, r.stderr);
    const before = readFileSync(join(t.dir, 'trace.jsft'));
    const same = await jsftrace(['report', '-o', 'trace.jsft'], { cwd: t.dir, env: envOf(t) });
    assert.equal(same.code, 2);
    assert.match(same.stderr, /-o trace\.jsft is the trace being read: give another file/);
    const dir = await jsftrace(['report', '-o', t.dir], { cwd: t.dir, env: envOf(t) });
    assert.equal(dir.code, 2);
    assert.match(dir.stderr, /is a directory: give a file name/);
    const stat = await jsftrace(['report', '--format', 'stat'], { cwd: t.dir, env: envOf(t) });
    assert.equal(stat.code, 1);
    assert.match(stat.stderr, /^jsftrace: trace\.jsft has no profiler tables and no function_graph events \(record with jsftrace profile, or -p function_graph\) \(ENOENT\)\n$/);
    const failed = await jsftrace(['record', '--', process.execPath, join(t.dir, 'nosuch.mjs')], { cwd: t.dir, env: envOf(t) });
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /jsftrace: the program failed \(exit 1\) with nothing traced; trace\.jsft is left as it was\n$/);
    assert.deepEqual(readFileSync(join(t.dir, 'trace.jsft')), before);
  } finally {
    t.done();
  }
});

test('a TypeScript program run by Node itself is recorded whole, imported and required', {
  skip: (process.features as { typescript?: unknown }).typescript === 'strip' ? false : 'this Node does not strip TypeScript types',
  timeout: 60_000,
}, async () => {
  const t = tempDir();
  try {
    writeFileSync(join(t.dir, 'package.json'), JSON.stringify({ name: 'tsapp', type: 'module' }));
    writeFileSync(join(t.dir, 'main.ts'), `import { createRequire } from 'node:module';
import { fib } from './fib.mts';
interface Job { n: number }
function run(job: Job): number { return fib(job.n) + helper.triple(job.n); }
const helper = createRequire(import.meta.url)('./helper.cts') as { triple(n: number): number };
console.log(run({ n: 10 }));
`);
    writeFileSync(join(t.dir, 'fib.mts'), 'export function fib(n: number): number { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\n');
    writeFileSync(join(t.dir, 'helper.cts'), 'exports.triple = function triple(n: number): number { return n * 3; };\n');
    const plain = await run(process.execPath, ['main.ts'], { cwd: t.dir, env: envOf(t) });
    const r = await jsftrace(['record', '-p', 'function', '--', process.execPath, 'main.ts'], { cwd: t.dir, env: envOf(t) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, plain.stdout);
    const text = (await jsftrace(['report'], { cwd: t.dir, env: envOf(t) })).stdout;
    // fib(10) makes 177 calls; run and triple one each.
    assert.deepEqual([count(text, / fib\.mts:fib( |$)/), count(text, / main\.ts:run( |$)/), count(text, / helper\.cts:triple( |$)/)], [177, 1, 1], text.slice(0, 3000));
  } finally {
    t.done();
  }
});

test('-o names the trace file: a directory, or a name ending in a separator, is refused before the program runs', { timeout: 30_000 }, async () => {
  const t = tempDir();
  try {
    writeFileSync(join(t.dir, 'app.js'), "require('node:fs').writeFileSync('ran', '1');\n");
    const slash = await jsftrace(['record', '-o', 'out/', '--', process.execPath, 'app.js'], { cwd: t.dir, env: envOf(t) });
    assert.notEqual(slash.code, 0);
    assert.match(slash.stderr, /-o out\/: names a directory; -o takes the trace file's name \(-o out\/trace\.jsft\)/);
    assert.equal(existsSync(join(t.dir, 'out')), false);
    const dir = await jsftrace(['record', '-o', '.', '--', process.execPath, 'app.js'], { cwd: t.dir, env: envOf(t) });
    assert.notEqual(dir.code, 0);
    assert.match(dir.stderr, /it is a directory \(-o takes the trace file's name, as .*trace\.jsft\)/);
    assert.equal(existsSync(join(t.dir, 'ran')), false);
  } finally {
    t.done();
  }
});
