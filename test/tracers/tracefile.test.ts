// The trace file: a program configured through JSFTRACE_CONTROL_INIT (with
// filters naming functions not loaded yet) records to JSFTRACE_RECORD when
// it ends, by itself or by a signal it does not handle; the file renders
// in every report format with the recorded names and options; a bad file or
// a bad configuration is refused with one clear line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { loadTrace, renderTrace, traceCounts } from '../../src/tracers/tracefile.js';
import { JsftraceError } from '../../src/shared/errors.js';

const register = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
const fixtures = fileURLToPath(new URL('../../../test/fixtures/tracers/', import.meta.url));

function init(tracer: string): string {
  return JSON.stringify([
    ['write', 'trace_clock', 'counter'],
    ['write', 'set_ftrace_filter', '*record-prog.mjs:*'],
    ['append', 'set_ftrace_notrace', '*:main'],
    ['write', 'current_tracer', tracer],
  ]);
}

function env(work: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, NODE_OPTIONS: '', JSFTRACE_CACHE_DIR: join(work, 'cache'), JSFTRACE_CONTROL: '0', ...extra };
}

/** Lines without the header, names without their directory (names are relative to the package root). */
function strip(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map(short);
}

function short(text: string): string {
  return text.replace(/(?<=^|[\s;"]|<-)(?:[\w.@-]+\/)+(record-prog|worker-prog)\.mjs:/gm, '$1.mjs:');
}

test('record with JSFTRACE_CONTROL_INIT and JSFTRACE_RECORD, then render every format', () => {
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-tf-'));
  try {
    const out = join(work, 'fn.jsft');
    const r = spawnSync(process.execPath, ['--import', register, 'record-prog.mjs'], {
      cwd: fixtures, encoding: 'utf8', timeout: 60_000, env: env(work, { JSFTRACE_CONTROL_INIT: init('function'), JSFTRACE_RECORD: out }),
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '12\n');
    const t = loadTrace(readFileSync(out));
    assert.equal(t.tracer, 'function');
    assert.equal(t.clock, 'counter');
    assert.deepEqual(traceCounts(t), { entries: 6, written: 6 });
    // main is in notrace: the parent of mid is a caller that was not traced, `(root)`.
    const lines = strip(renderTrace(t, 'text')).map((l) => l.replace(/^.*: /, ''));
    assert.deepEqual(lines, [
      'record-prog.mjs:mid <-(root)', 'record-prog.mjs:leaf <-record-prog.mjs:mid',
      'record-prog.mjs:mid <-(root)', 'record-prog.mjs:leaf <-record-prog.mjs:mid',
      'record-prog.mjs:mid <-(root)', 'record-prog.mjs:leaf <-record-prog.mjs:mid',
    ]);
    assert.equal(short(renderTrace(t, 'folded')), 'record-prog.mjs:mid 3\nrecord-prog.mjs:mid;record-prog.mjs:leaf 3\n');

    const gout = join(work, 'graph.jsft');
    const g = spawnSync(process.execPath, ['--import', register, 'record-prog.mjs'], {
      cwd: fixtures, encoding: 'utf8', timeout: 60_000, env: env(work, { JSFTRACE_CONTROL_INIT: init('function_graph'), JSFTRACE_RECORD: gout }),
    });
    assert.equal(g.status, 0, g.stderr);
    const gt = loadTrace(readFileSync(gout));
    const body = strip(renderTrace(gt, 'text')).map((l) => l.replace(/^ *\d+\) +[0-9.]+ us +\|/, 'D |').replace(/^ *\d+\) +\|/, '  |'));
    assert.deepEqual(body, [
      '  |  record-prog.mjs:mid() {', 'D |    record-prog.mjs:leaf();', 'D |  }',
      '  |  record-prog.mjs:mid() {', 'D |    record-prog.mjs:leaf();', 'D |  }',
      '  |  record-prog.mjs:mid() {', 'D |    record-prog.mjs:leaf();', 'D |  }',
    ]);
    const json = JSON.parse(renderTrace(gt, 'perfetto')) as { traceEvents: { name: string; ph: string }[] };
    assert.deepEqual(json.traceEvents.filter((e) => e.ph === 'X').map((e) => short(e.name)).sort(),
      ['record-prog.mjs:leaf', 'record-prog.mjs:leaf', 'record-prog.mjs:leaf', 'record-prog.mjs:mid', 'record-prog.mjs:mid', 'record-prog.mjs:mid']);
    const folded = short(renderTrace(gt, 'folded')).split('\n').filter((l) => l !== '').map((l) => l.replace(/ \d+$/, ''));
    assert.deepEqual(folded.sort(), ['record-prog.mjs:mid', 'record-prog.mjs:mid;record-prog.mjs:leaf']);
    const html = renderTrace(gt, 'html');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.ok(html.includes('record-prog.mjs:leaf"'));
    assert.match(renderTrace(gt, 'svg'), /^<svg/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a filter pattern that never matched a function is named when the recording ends', () => {
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-tf-'));
  try {
    const init = JSON.stringify([['write', 'set_ftrace_filter', '*record-prog.mjs:mid *:nosuch'], ['write', 'current_tracer', 'function']]);
    const r = spawnSync(process.execPath, ['--import', register, 'record-prog.mjs'], {
      cwd: fixtures, encoding: 'utf8', timeout: 60_000, env: env(work, { JSFTRACE_CONTROL_INIT: init, JSFTRACE_RECORD: join(work, 'x.jsft') }),
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, `jsftrace: set_ftrace_filter "*:nosuch" matched no function of this run (names are <file>:<name>, as 'src/app.js:main')\n`);
    assert.equal(traceCounts(loadTrace(readFileSync(join(work, 'x.jsft')))).entries, 3);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a worker started while tracing is on is traced from its first line', () => {
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-tf-'));
  try {
    const out = join(work, 'worker.jsft');
    const init = JSON.stringify([['write', 'set_ftrace_filter', '*worker-prog.mjs:*'], ['write', 'current_tracer', 'function']]);
    const r = spawnSync(process.execPath, ['--import', register, 'worker-prog.mjs'], {
      cwd: fixtures, encoding: 'utf8', timeout: 60_000, env: env(work, { JSFTRACE_CONTROL_INIT: init, JSFTRACE_RECORD: out }),
    });
    assert.equal(r.status, 0, r.stderr);
    const t = loadTrace(readFileSync(out));
    const lines = strip(renderTrace(t, 'text')).map((l) => l.replace(/^ *(\S+)-(\d+) +\[\d+\] \S+ +[\d.]+: /, '$1 ').replace(/ <-.*$/, ''));
    const worker = lines.filter((l) => l.startsWith('worker '));
    assert.deepEqual(worker, ['worker worker-prog.mjs:wtick', 'worker worker-prog.mjs:wtick', 'worker worker-prog.mjs:wtick'], lines.join('\n'));
    assert.ok(lines.includes('node worker-prog.mjs:mtick'), lines.join('\n'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a program ended by SIGTERM it does not handle still writes its trace, and dies of the signal', async () => {
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-tf-'));
  try {
    const out = join(work, 'sig.jsft');
    const child = spawn(process.execPath, ['--import', register, 'record-prog.mjs'], {
      cwd: fixtures, env: env(work, { JSFTRACE_CONTROL_INIT: init('function'), JSFTRACE_RECORD: out, WAIT: '1' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no 'waiting' line: ${stdout} ${stderr}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('waiting')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    child.kill('SIGTERM');
    const how = await ended;
    assert.equal(how.signal, 'SIGTERM');
    assert.ok(existsSync(out), stderr);
    assert.equal(traceCounts(loadTrace(readFileSync(out))).entries, 6);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a bad JSFTRACE_CONTROL_INIT stops the program before it runs, with one line and exit code 2', () => {
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-tf-'));
  try {
    for (const [v, want] of [
      ['[["write","current_tracer","bogus"]]', /^jsftrace: current_tracer: .*no tracer "bogus" \(EINVAL\)\n$/],
      ['{"not":"a list"}', /^jsftrace: JSFTRACE_CONTROL_INIT must be a JSON array/],
      ['[["write","set_ftrace_filter","x:traceoff"]]', /^jsftrace: set_ftrace_filter: .*commands attach to loaded functions/],
    ] as const) {
      const r = spawnSync(process.execPath, ['--import', register, 'record-prog.mjs'], {
        cwd: fixtures, encoding: 'utf8', timeout: 60_000, env: env(work, { JSFTRACE_CONTROL_INIT: v }),
      });
      assert.equal(r.status, 2, v);
      assert.equal(r.stdout, '', v);
      assert.match(r.stderr, want, v);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('loadTrace refuses what is not a trace file of this version, with EINVAL and the reason', () => {
  const bad = (bytes: Uint8Array, re: RegExp): void => {
    assert.throws(() => loadTrace(bytes), (e: unknown) => e instanceof JsftraceError && e.code === 'EINVAL' && re.test(e.message));
  };
  bad(Buffer.from('hello'), /not gzip data/);
  bad(gzipSync(Buffer.from('NOTATRACEFILE-------------')), /bad magic/);
  const head = Buffer.alloc(20);
  head.write('JSFTRACE', 0, 'latin1');
  head.writeUInt32LE(99, 8);
  bad(gzipSync(head), /version 99\.x/);
  head.writeUInt32LE(1, 8);
  head.writeUInt32LE(5, 16);
  bad(gzipSync(Buffer.concat([head, Buffer.from('{bad}')])), /not valid JSON/);
});

test('loadTrace refuses a header of the wrong shape, and sizes beyond the data, with EINVAL', () => {
  const file = (header: unknown, tail: Uint8Array = new Uint8Array(0)): Uint8Array => {
    const json = Buffer.from(JSON.stringify(header));
    const head = Buffer.alloc(20);
    head.write('JSFTRACE', 0, 'latin1');
    head.writeUInt32LE(1, 8);
    head.writeUInt32LE(1, 12);
    head.writeUInt32LE(json.length, 16);
    return gzipSync(Buffer.concat([head, json, tail]));
  };
  const good = {
    tracer: 'function', clock: 'counter', pid: 1, argv: [], created: '', threshUs: 0, options: 0, events: [], namesBytes: 0,
    rings: [], profiles: [],
  };
  assert.equal(loadTrace(file(good)).rings.length, 0);
  const bad = (h: unknown, re: RegExp, tail?: Uint8Array): void => {
    assert.throws(() => loadTrace(file(h, tail)), (e: unknown) => e instanceof JsftraceError && e.code === 'EINVAL' && re.test(e.message), re.source);
  };
  bad({}, /header: tracer, clock or created is missing/);
  bad({ ...good, events: 'x' }, /header: events is malformed/);
  bad({ ...good, rings: [{ threadId: 0, name: 'node', gen: 1, bytes: -1 }] }, /header: rings is malformed/);
  bad({ ...good, rings: [{ threadId: 0, name: 'node', gen: 1, bytes: 4096 }] }, /truncated/);
  bad({ ...good, profiles: [{ threadId: 0, name: 'node', gen: 1, bytes: 5 }] }, /a profile table has a size no table has/, Buffer.alloc(5));
  bad({ ...good, namesBytes: 10 }, /truncated \(names\)/);
});
