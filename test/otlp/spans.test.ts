// The span reconstruction and decision, driven event by event with a clock
// the test sets (ring time = ns since the epoch): async parts joined by the
// serial of their first entry, suspended time, parents (the traced caller,
// else the program's span, else none), thrown values, tracing_thresh with
// callees that outlive their caller, parent-based sampling, the rate limit
// over whole trees, lost events and returns without entries.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { SpanMaker, type SiteInfo } from '../../src/tracers/otlp/spans.js';
import { samplerOf } from '../../src/tracers/otlp/sampler.js';
import { spanResource, SCOPE } from '../../src/tracers/otlp/resource.js';
import { RateLimit } from '../../src/tracers/otlp/decision.js';
import type { ThreadCalls } from '../../src/tracers/otlp/assemble.js';

const SITES = ['app.js:handle', 'app.js:load', 'app.js:format', 'app.js:check'];
const [HANDLE, LOAD, FORMAT, CHECK] = [0, 1, 2, 3];
const site = (id: number): SiteInfo => ({ name: SITES[id]!, file: 'app.js', line: 10 + id, column: 1, package: id === CHECK ? 'checks' : '' });

const REMOTE = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 };
const THREW = 1;
const UNWOUND = 2;
const SUSPENDED = 4;

interface Setup {
  calls: ThreadCalls;
  spans: ReadableSpan[];
  counts: Record<string, number>;
  /** Serial numbers as a ring would give them. */
  serial: () => number;
}

function setup(opts: { threshNs?: number; sampler?: string; rate?: number } = {}): Setup {
  const spans: ReadableSpan[] = [];
  const counts: Record<string, number> = {};
  const maker = new SpanMaker({
    threshNs: opts.threshNs ?? 0, sampler: samplerOf(opts.sampler ?? 'parentbased_always_on'), ratePerSecond: opts.rate ?? 0,
    resource: spanResource('unit', 7), scope: SCOPE,
  }, site, { span: (s) => spans.push(s), count: (n, k = 1) => { counts[n] = (counts[n] ?? 0) + k; } });
  let n = 0;
  return { calls: maker.threadCalls(3, 'worker', (ts) => [Math.floor(ts / 1e9), ts % 1e9]), spans, counts, serial: () => n++ };
}

/** name -> its parent's name ('remote' for the program's span, '' for none). */
function tree(spans: ReadableSpan[]): string[] {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  return spans.map((s) => {
    const p = s.parentSpanContext;
    const parent = p === undefined ? '' : p.isRemote === true ? 'remote' : byId.get(p.spanId)?.name ?? `?${p.spanId}`;
    return `${parent} > ${s.name}`;
  });
}

const ns = (t: [number, number] | readonly number[]): number => t[0]! * 1e9 + t[1]!;

test('async parts are one span each call, with their suspended time; parents are traced callers, the root\'s the program\'s span', () => {
  const { calls, spans, serial } = setup();
  // handle (root, under the program's span) calls load, which awaits; handle awaits load.
  calls.parent(REMOTE, true);
  const handleSerial = serial();
  calls.entry(1000, HANDLE, 0, false, handleSerial);
  const loadSerial = serial();
  calls.entry(1100, LOAD, 1, false, loadSerial);
  calls.exit(1300, LOAD, 1, 200, SUSPENDED);
  serial();
  calls.exit(1400, HANDLE, 0, 400, SUSPENDED);
  serial();
  // A second handle (another request, another program span) starts meanwhile and suspends.
  calls.parent({ ...REMOTE, traceId: 'c'.repeat(32), spanId: 'd'.repeat(16) }, true);
  const other = serial();
  calls.entry(1500, HANDLE, 0, false, other);
  calls.exit(1600, HANDLE, 0, 100, SUSPENDED);
  serial();
  // load resumes at depth 0, calls format, returns.
  calls.resumeOf(loadSerial);
  calls.entry(5000, LOAD, 0, true, serial());
  calls.entry(5100, FORMAT, 1, false, serial());
  calls.exit(5150, FORMAT, 1, 50, 0);
  serial();
  calls.exit(5300, LOAD, 0, 5300 - 1100, 0);
  serial();
  // The second handle resumes first, then the first.
  calls.resumeOf(other);
  calls.entry(6000, HANDLE, 0, true, serial());
  calls.exit(6100, HANDLE, 0, 6100 - 1500, 0);
  serial();
  calls.resumeOf(handleSerial);
  calls.entry(7000, HANDLE, 0, true, serial());
  calls.exit(7200, HANDLE, 0, 6200, 0);
  assert.deepEqual(tree(spans), ['app.js:load > app.js:format', 'app.js:handle > app.js:load', 'remote > app.js:handle', 'remote > app.js:handle']);
  const [format, load, second, first] = spans;
  assert.deepEqual([ns(load!.startTime), ns(load!.endTime)], [1100, 5300]);
  // load ran 200 ns, then 300 ns after it resumed: it waited 4200 - 500.
  assert.equal(load!.attributes['jsftrace.suspended_ns'], 5300 - 1100 - 500);
  assert.equal(first!.attributes['jsftrace.suspended_ns'], 6200 - 400 - 200);
  assert.equal(second!.attributes['jsftrace.suspended_ns'], 4600 - 100 - 100);
  assert.equal(format!.attributes['jsftrace.suspended_ns'], undefined);
  assert.equal(first!.spanContext().traceId, REMOTE.traceId);
  assert.equal(second!.spanContext().traceId, 'c'.repeat(32));
  assert.equal(load!.spanContext().traceId, REMOTE.traceId);
  assert.equal(first!.parentSpanContext!.isRemote, true);
  assert.equal(load!.parentSpanContext!.isRemote, false);
  assert.deepEqual(load!.attributes, {
    'code.function.name': 'load', 'code.file.path': 'app.js', 'code.line.number': 11, 'code.column.number': 1,
    'thread.id': 3, 'thread.name': 'worker', 'jsftrace.suspended_ns': 3700,
  });
  assert.equal(load!.resource.attributes['service.name'], 'unit');
  assert.equal(load!.resource.attributes['process.pid'], 7);
  assert.deepEqual(load!.instrumentationScope.name, 'jsftrace');
});

test('a thrown value becomes an exception event; a call a throw went through has status ERROR', () => {
  const { calls, spans } = setup();
  calls.parent(null, true);
  calls.entry(10, HANDLE, 0, false, 0);
  calls.entry(20, CHECK, 1, false, 1);
  calls.threw(1, 'RangeError', 'no user 0');
  calls.exit(30, CHECK, 1, 10, THREW);
  calls.exit(40, HANDLE, 0, 30, UNWOUND);
  const [check, handle] = spans;
  assert.deepEqual(check!.events.map((e) => [e.name, e.attributes, ns(e.time as [number, number])]),
    [['exception', { 'exception.type': 'RangeError', 'exception.message': 'no user 0' }, 30]]);
  assert.deepEqual(check!.status, { code: 2, message: 'RangeError: no user 0' });
  assert.equal(check!.attributes['jsftrace.exit'], 'threw');
  assert.equal(check!.attributes['jsftrace.package'], 'checks');
  assert.deepEqual(handle!.status, { code: 2, message: 'a throw went through this call' });
  assert.equal(handle!.attributes['jsftrace.exit'], 'unwound');
  assert.deepEqual(handle!.events, []);
  assert.equal(handle!.parentSpanContext, undefined, 'no program span: the first span of its own trace');
});

test('tracing_thresh: short calls are not spans; a callee that outlives its dropped caller hangs from the next one kept', () => {
  const { calls, spans, counts } = setup({ threshNs: 1000 });
  calls.parent(REMOTE, true);
  calls.entry(0, HANDLE, 0, false, 0);
  calls.entry(100, FORMAT, 1, false, 1);
  calls.exit(200, FORMAT, 1, 100, 0); // short: dropped
  calls.entry(300, LOAD, 1, false, 3);
  calls.exit(400, LOAD, 1, 100, SUSPENDED); // load does not finish before handle
  calls.exit(500, HANDLE, 0, 500, 0); // short: dropped
  calls.resumeOf(3);
  calls.entry(9000, LOAD, 0, true, 7);
  calls.exit(9100, LOAD, 0, 8800, 0); // long: kept, under the program's span since handle was dropped
  assert.deepEqual(tree(spans), ['remote > app.js:load']);
  assert.equal(counts['below_thresh'], 2);
});

test('head sampling follows the program span\'s sampled flag, a whole tree at a time', () => {
  const { calls, spans, counts } = setup();
  calls.parent({ ...REMOTE, traceFlags: 0 }, true);
  calls.entry(0, HANDLE, 0, false, 0);
  calls.entry(10, FORMAT, 1, false, 1);
  calls.exit(20, FORMAT, 1, 10, 0);
  calls.exit(30, HANDLE, 0, 30, 0);
  calls.parent(REMOTE, true);
  calls.entry(40, HANDLE, 0, false, 4);
  calls.exit(50, HANDLE, 0, 10, 0);
  assert.deepEqual(tree(spans), ['remote > app.js:handle']);
  assert.equal(counts['not_sampled'], 2);
  // always_on ignores the flag; traceidratio 0 keeps nothing without a parent.
  const on = setup({ sampler: 'always_on' });
  on.calls.parent({ ...REMOTE, traceFlags: 0 }, true);
  on.calls.entry(0, HANDLE, 0, false, 0);
  on.calls.exit(1, HANDLE, 0, 1, 0);
  assert.equal(on.spans.length, 1);
  const none = setup({ sampler: 'parentbased_traceidratio 0' });
  none.calls.parent(null, false);
  none.calls.entry(0, HANDLE, 0, false, 0);
  none.calls.exit(1, HANDLE, 0, 1, 0);
  assert.deepEqual([none.spans.length, none.counts['not_sampled'], none.counts['roots_no_api']], [0, 1, 1]);
});

test('rate limit: trees begin while a token is left; every span takes one; a second refills the bucket', () => {
  const { calls, spans, counts } = setup({ rate: 2 });
  const S = 1e9;
  const handle3 = (t: number, serial: number): void => {
    calls.parent(REMOTE, true);
    calls.entry(t, HANDLE, 0, false, serial);
    calls.entry(t + 1, FORMAT, 1, false, serial + 1);
    calls.exit(t + 2, FORMAT, 1, 1, 0);
    calls.entry(t + 3, CHECK, 1, false, serial + 3);
    calls.exit(t + 4, CHECK, 1, 1, 0);
    calls.exit(t + 5, HANDLE, 0, 5, 0);
  };
  handle3(10 * S, 0); // 2 tokens: admitted, 3 spans leave -1
  handle3(10.5 * S, 10); // -1 + 1 = 0 tokens: refused, whole
  handle3(11.7 * S, 20); // 0 + 2.4, capped at 2: admitted
  assert.equal(spans.length, 6);
  assert.equal(counts['rate_limited'], 3);
  const r = new RateLimit(0);
  for (let i = 0; i < 1000; i++) r.take(0);
  assert.equal(r.admit(0), true, '0 is no limit');
});

test('lost events end the calls they may have ended (kept, end unknown); a return without its entry is counted', () => {
  const { calls, spans, counts } = setup();
  calls.parent(REMOTE, true);
  calls.entry(0, HANDLE, 0, false, 0);
  calls.entry(10, LOAD, 1, false, 1);
  calls.lostEvents(40);
  calls.exit(100, LOAD, 1, 90, 0);
  calls.exit(110, HANDLE, 0, 110, 0);
  assert.deepEqual(tree(spans), ['remote > app.js:handle', 'app.js:handle > app.js:load']);
  assert.deepEqual(spans.map((s) => s.attributes['jsftrace.exit']), ['unknown', 'unknown']);
  assert.deepEqual([counts['events_lost'], counts['unmatched'], counts['end_unknown']], [40, 2, 2]);
  // A resumed entry whose call is unknown opens a part nobody's span: its callees start trees of their own.
  const u = setup();
  u.calls.resumeOf(99);
  u.calls.entry(0, LOAD, 0, true, 5);
  u.calls.entry(1, FORMAT, 1, false, 6);
  u.calls.exit(2, FORMAT, 1, 1, 0);
  u.calls.exit(3, LOAD, 0, 100, 0);
  assert.deepEqual(tree(u.spans), [' > app.js:format']);
  assert.equal(u.counts['unmatched'], 1);
});
