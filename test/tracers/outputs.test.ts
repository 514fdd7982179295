// The outputs drawn from function_graph (and function) events: the decoded
// call tree (pairing, throws, abandoned and open frames, returns-only
// traces, gaps), Chrome/Perfetto trace-event JSON (one thread and two),
// folded stacks, the SVG timeline, and the HTML flame graph (its structure;
// its rendering in headless Chromium when /usr/bin/chromium exists, skipped
// otherwise). A clock the test drives makes every byte exact.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRing, customClock } from '../../src/ring/index.js';
import { attach, defineSites, leave, siteAbi } from '../../src/public/index.js';
import * as T from '../../src/tracers/index.js';
import { currentRings, ENT_RESUMED, EV_GRAPH_ENT, EV_GRAPH_RET, RET_SUSPENDED } from '../../src/tracers/session.js';
import { type Call, threadCalls } from '../../src/tracers/output/calls.js';
import { arraySource, ringEvents, ringView, toText, type Item } from '../../src/tracers/output/common.js';
import { micros, perfettoJson, perfettoJsonTo, readPerfettoJson } from '../../src/tracers/output/perfetto.js';
import { foldStacks, foldedText, parseFolded, readFolded, type FoldedProfile } from '../../src/tracers/output/folded.js';
import { flameGraphHtml, readFlameGraph, type FlameData } from '../../src/tracers/output/flamegraph.js';
import { nameColour, readTimeline, timelineSvg } from '../../src/tracers/output/timeline.js';
import { runWorker } from './support.js';

let now = 0;
T.setThreadClock(customClock('test', () => now));

const prog = {
  a(): void { now += 1000; prog.b(); prog.c(); now += 500; },
  b(): void { now += 2000; },
  c(): void { now += 1000; prog.b(); now += 20000; },
  t(): void { now += 100; prog.u(); },
  u(): void { prog.b(); throw new Error('u failed'); },
};
for (const k of ['a', 'b', 'c', 't', 'u'] as const) attach(prog, k, { name: `out:${k}` });
// The worker fixture's functions, also traced here so that both threads have calls.
const mt = {
  a(): void { now += 1000; mt.b(); },
  b(): void { now += 2000; },
};
attach(mt, 'a', { name: 'mt:a' });
attach(mt, 'b', { name: 'mt:b' });
const P = defineSites('out:raw', [{ name: 'out:p' }, { name: 'out:q' }]);
const Q = P + 1;

function enter(id: number): number {
  const { words, targetBase, handlers } = siteAbi();
  const t = words[targetBase + id]!;
  return t !== 0 ? handlers[t]!(id, undefined, null) : 0;
}

/** Everything the outputs have to show: nesting, a throw, an abandoned frame, an open one. */
async function runAll(): Promise<void> {
  T.clearBuffers();
  now = 1_000_000;
  prog.a(); // 1000 µs .. 1026.5 µs
  now += 500;
  assert.throws(() => prog.t(), /u failed/); // 1027 .. 1029.1
  const tp = enter(P); // 1029.1
  now += 1000;
  enter(Q); // never left: abandoned (UNWOUND) when p leaves
  now += 1000;
  leave(tp, undefined); // 1031.1
  const tp2 = enter(P); // 1031.1, its exit is never written
  now += 1000;
  prog.b(); // 1032.1 .. 1034.1
  T.setTracingOn(false);
  now += 1000;
  leave(tp2, undefined);
  T.setTracingOn(true);
}

/** A call tree as `name start-end exit` lines, indented by depth. */
function shape(cs: readonly Call[], d = 0): string {
  return cs.map((c) => `${'  '.repeat(d)}${c.name} ${c.start}-${c.end} ${c.exit}${c.entrySeen ? '' : ' no-entry'}\n${shape(c.children, d + 1)}`).join('');
}

test('micros: exact decimals of whole nanoseconds', () => {
  assert.deepEqual([0, 2, 1500, 1000, 26500, 1234567891].map(micros), ['0', '0.002', '1.5', '1', '26.5', '1234567.891']);
});

test('calls: entries paired with exits; throws, abandoned and open frames', async () => {
  await T.setTracerFilter('out:*');
  await T.setCurrentTracer('function_graph');
  await runAll();
  const rings = await currentRings();
  assert.equal(rings.length, 1);
  const t = threadCalls(rings[0]!);
  assert.equal(t.threadId, 0);
  assert.equal(t.counts, false);
  assert.equal(shape(t.roots), `out:a 1000000-1026500 return
  out:b 1001000-1003000 return
  out:c 1003000-1026000 return
    out:b 1004000-1006000 return
out:t 1027000-1029100 threw
  out:u 1027100-1029100 threw
    out:b 1027100-1029100 return
out:p 1029100-1031100 return
  out:q 1030100-1031100 unwound
out:p 1031100-1034100 open
  out:b 1032100-1034100 return
`);
});

const PID = process.pid;
const NAMES = { processNames: new Map([[PID, 'test-app']]) };
const THREW = ',"args":{"exit":"threw","note":"the call threw"}';
/** Each call as it ends: children before their parents. */
const PERFETTO = `{"traceEvents":[
{"name":"process_name","ph":"M","pid":${PID},"tid":0,"args":{"name":"test-app"}},
{"name":"thread_name","ph":"M","pid":${PID},"tid":0,"args":{"name":"node-0"}},
{"name":"out:b","cat":"function","ph":"X","ts":1001,"dur":2,"pid":${PID},"tid":0},
{"name":"out:b","cat":"function","ph":"X","ts":1004,"dur":2,"pid":${PID},"tid":0},
{"name":"out:c","cat":"function","ph":"X","ts":1003,"dur":23,"pid":${PID},"tid":0},
{"name":"out:a","cat":"function","ph":"X","ts":1000,"dur":26.5,"pid":${PID},"tid":0},
{"name":"out:b","cat":"function","ph":"X","ts":1027.1,"dur":2,"pid":${PID},"tid":0},
{"name":"out:u","cat":"function","ph":"X","ts":1027.1,"dur":2,"pid":${PID},"tid":0${THREW}},
{"name":"out:t","cat":"function","ph":"X","ts":1027,"dur":2.1,"pid":${PID},"tid":0${THREW}},
{"name":"out:q","cat":"function","ph":"X","ts":1030.1,"dur":1,"pid":${PID},"tid":0,"args":{"exit":"unwound","note":"abandoned by the core (UNWOUND): a throw or an await left it; ends when it was swept"}},
{"name":"out:p","cat":"function","ph":"X","ts":1029.1,"dur":2,"pid":${PID},"tid":0},
{"name":"out:b","cat":"function","ph":"X","ts":1032.1,"dur":2,"pid":${PID},"tid":0},
{"name":"out:p","cat":"function","ph":"X","ts":1031.1,"dur":3,"pid":${PID},"tid":0,"args":{"exit":"open","note":"no exit in the buffer: ends at the last time known inside it"}}
],"displayTimeUnit":"ns"}
`;

test('calls: gaps in the events (exits or entries missing) still give nested calls', async () => {
  const r = (await currentRings())[0]!;
  const ENT = EV_GRAPH_ENT.id;
  const RET = EV_GRAPH_RET.id;
  const ev = (type: number, site: number, depth: number, ts: number, c = 0): Item => ({ ts, type, flags: 0, a: site, b: depth, c, lost: 0 });
  const [A, B] = [P, Q];
  // Events as a ring that refused or lost some may leave them.
  const items: Item[] = [
    ev(ENT, A, 0, 100),
    ev(ENT, B, 1, 110), // its exit is missing
    ev(ENT, B, 2, 120), // and so is this one's
    { ts: Number.NaN, type: 0, flags: 0, a: 0, b: 0, c: 0, lost: 5 },
    ev(RET, A, 1, 150, 20), // an exit of p at depth 1 whose entry is missing: q at depth 1 is over
    ev(RET, A, 0, 200, 100),
    ev(RET, B, 0, 260, 40), // an exit without entry, nothing open
  ];
  assert.equal(shape(threadCalls(r, items).roots), `out:p 100-200 return
  out:q 110-120 open
    out:q 120-120 open
  out:p 130-150 return no-entry
out:q 220-260 return no-entry
`);
});

test('perfetto: exact trace-event JSON, parseable, calls nested per thread', async () => {
  const rings = await currentRings();
  const json = perfettoJson(rings, NAMES);
  assert.equal(json, PERFETTO);
  assert.equal(perfettoJson(rings, NAMES), json, 'deterministic');
  assert.equal(await readPerfettoJson(NAMES), json, 'the reader of the current buffers');
  const doc = JSON.parse(json) as { traceEvents: { ph: string; ts: number; dur: number }[]; displayTimeUnit: string };
  assert.equal(doc.displayTimeUnit, 'ns');
  // Complete events on one thread either nest or are disjoint.
  const xs = doc.traceEvents.filter((e) => e.ph === 'X');
  for (const x of xs) {
    for (const y of xs) {
      const disjoint = x.ts + x.dur <= y.ts + 1e-9 || y.ts + y.dur <= x.ts + 1e-9;
      const nested = (x.ts >= y.ts && x.ts + x.dur <= y.ts + y.dur + 1e-9) || (y.ts >= x.ts && y.ts + y.dur <= x.ts + x.dur + 1e-9);
      assert.ok(disjoint || nested, `${JSON.stringify(x)} overlaps ${JSON.stringify(y)}`);
    }
  }
});

const FOLDED = `out:a 1500
out:a;out:b 2000
out:a;out:c 21000
out:a;out:c;out:b 2000
out:p 2000
out:p;out:b 2000
out:p;out:q 1000
out:t 100
out:t;out:u;out:b 2000
`;

test('folded: self time in ns per distinct stack, sorted; thread frames on request', async () => {
  const rings = await currentRings();
  const p = foldStacks(rings);
  assert.equal(p.unit, 'ns');
  assert.equal(foldedText(p), FOLDED);
  assert.deepEqual(parseFolded(FOLDED), p, 'parses back');
  assert.deepEqual(await readFolded(), p);
  assert.deepEqual(stacksOf(dataOf(await readFlameGraph({ threads: true })))[0], [['node-0', 'out:a'], 1500]);
  assert.ok((await readTimeline()).includes('data-name="out:q"'));
  assert.equal(foldedText(foldStacks(rings, { threads: true })), FOLDED.replace(/^/gm, 'node-0;').replace(/node-0;$/, ''));
});

test('returns only (tracing_thresh): deeper returns become children of the next shallower one', async () => {
  T.clearBuffers();
  T.setTracingThresh(10);
  now = 0;
  prog.a();
  T.setTracingThresh(0);
  const rings = await currentRings();
  assert.equal(shape(threadCalls(rings[0]!).roots), `out:a 0-26500 return no-entry
  out:c 3000-26000 return no-entry
`);
  assert.equal(foldedText(foldStacks(rings)), 'out:a 3500\nout:a;out:c 23000\n');
});

test('timeline: bars per call on a time axis, a row per depth, labels only where they fit', async () => {
  T.clearBuffers();
  now = 5000;
  prog.a(); // 26.5 µs: at 265 px, 1 px is 100 ns
  const svg = timelineSvg([ringEvents((await currentRings())[0]!)], { width: 265, title: 'a <run>' });
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="305" height="116" viewBox="0 0 305 116" '));
  assert.ok(svg.includes('<title>a &lt;run&gt;</title>'));
  assert.ok(svg.endsWith('</svg>\n'));
  // Drawn as each call ends: children before their parents.
  assert.deepEqual(svg.split('\n').filter((l) => l.startsWith('<g class="call')), [
    '<g class="call" data-name="out:b"><title>out:b',
    '<g class="call" data-name="out:b"><title>out:b',
    '<g class="call" data-name="out:c"><title>out:c',
    '<g class="call" data-name="out:a"><title>out:a',
  ]);
  assert.ok(svg.includes(`<text class="head" x="20" y="47">node-${PID} [0]</text>`));
  assert.ok(svg.includes(`<g class="call" data-name="out:c"><title>out:c
start 3 µs, duration 23 µs</title><rect x="50" y="70" width="230" height="16" fill="${nameColour('out:c')}"/><text x="53" y="82">c (out)</text></g>`));
  assert.equal(svg.match(/<text x="[\d.]+" y="\d+">[abc] \(out\)/g)?.length, 2, 'the 2 µs calls (20 px) have no room for a label');
  assert.ok(svg.includes('<text x="20" y="21">0 ns</text>') && svg.includes('<text x="270" y="21">25 µs</text>'), 'axis ticks');
  assert.doesNotMatch(svg.replace('xmlns="http://www.w3.org/2000/svg"', ''), /https?:|href/);
});

test('folded from the function tracer: caller;callee weighted by calls', async () => {
  await T.setCurrentTracer('function');
  prog.a();
  prog.a();
  const p = foldStacks(await currentRings());
  assert.equal(p.unit, 'calls');
  assert.equal(foldedText(p), 'out:a 2\nout:a;out:b 2\nout:a;out:c 2\nout:c;out:b 2\n');
  await T.setCurrentTracer('nop');
});

test('timeline: calls that threw, were abandoned or stayed open are marked', async () => {
  await T.setCurrentTracer('function_graph');
  await runAll();
  const svg = timelineSvg([ringEvents((await currentRings())[0]!)]);
  assert.equal(svg.match(/<g class="call threw"/g)?.length, 2);
  assert.equal(svg.match(/<g class="call unwound" data-name="out:q"/g)?.length, 1);
  assert.equal(svg.match(/<g class="call open" data-name="out:p"/g)?.length, 1);
  await T.setCurrentTracer('nop');
});


test('two threads: a tid and thread_name per thread in the JSON; folded stacks merge them or name them', async () => {
  await T.setTracerFilter('mt:*');
  await T.setCurrentTracer('function_graph');
  now = 2_000_000_000;
  mt.a();
  const id = await runWorker(2_000_100_000, 2, 'resizer');
  const rings = await currentRings();
  assert.deepEqual(rings.map((r) => r.threadId), [0, id]);
  const json = perfettoJson(rings, { processNames: new Map([[PID, 'two']]) });
  const ev = (tid: number, ts: string, name: string, dur: string): string =>
    `{"name":"${name}","cat":"function","ph":"X","ts":${ts},"dur":${dur},"pid":${PID},"tid":${tid}}`;
  assert.equal(json, `{"traceEvents":[
{"name":"process_name","ph":"M","pid":${PID},"tid":0,"args":{"name":"two"}},
{"name":"thread_name","ph":"M","pid":${PID},"tid":0,"args":{"name":"node-0"}},
{"name":"thread_name","ph":"M","pid":${PID},"tid":${id},"args":{"name":"resizer-${id}"}},
${ev(0, '2000001', 'mt:b', '2')},
${ev(0, '2000000', 'mt:a', '3')},
${ev(id, '2000101', 'mt:b', '2')},
${ev(id, '2000100', 'mt:a', '3')},
${ev(id, '2000104', 'mt:b', '2')},
${ev(id, '2000103', 'mt:a', '3')}
],"displayTimeUnit":"ns"}
`);
  assert.equal(foldedText(foldStacks(rings)), 'mt:a 3000\nmt:a;mt:b 6000\n');
  assert.equal(foldedText(foldStacks(rings, { threads: true })),
    `node-0;mt:a 1000\nnode-0;mt:a;mt:b 2000\nresizer-${id};mt:a 2000\nresizer-${id};mt:a;mt:b 4000\n`);
  await T.setCurrentTracer('nop');
});

test('a ring that overflowed: lost events counted, calls still nest, folded weights add up to the roots', async () => {
  T.setBufferSizeKb(1);
  await T.setTracerFilter('out:*');
  await T.setCurrentTracer('function_graph');
  now = 0;
  for (let i = 0; i < 300; i++) prog.a();
  const t = threadCalls((await currentRings())[0]!);
  assert.ok(t.lost > 0, 'the ring overflowed');
  assert.ok(t.roots.length > 0);
  let rootTime = 0;
  for (const r of t.roots) rootTime += r.end - r.start;
  const check = (c: Call): void => {
    assert.ok(c.end >= c.start);
    let prev = c.start;
    for (const k of c.children) {
      assert.ok(k.start >= prev && k.end <= c.end, `${k.name} within ${c.name}`);
      prev = k.end;
      check(k);
    }
  };
  t.roots.forEach(check);
  // Every full call of a here lasts 26.5 µs; only the first may have lost its entry or children.
  assert.ok(t.roots.slice(1).every((r) => r.name === 'out:a' && r.end - r.start === 26500 && r.exit === 'return'));
  let folded = 0;
  for (const s of foldStacks(await currentRings()).stacks) folded += s.weight;
  assert.equal(folded, rootTime);
  T.setBufferSizeKb(1408);
  await T.setCurrentTracer('nop');
});

const DATA_OPEN = '<script type="application/json" id="fg-data">';

/** The stacks the data block stands for: [frames, self weight] of each node with weight, in preorder. */
function stacksOf(d: FlameData): [string[], number][] {
  const paths: string[][] = [];
  const out: [string[], number][] = [];
  for (let i = 0; i < d.nodes.length; i += 3) {
    const path = [...(d.nodes[i + 1]! < 0 ? [] : paths[d.nodes[i + 1]!]!), d.names[d.nodes[i]!]!];
    paths.push(path);
    if (d.nodes[i + 2]! > 0) out.push([path, d.nodes[i + 2]!]);
  }
  return out;
}

function dataOf(html: string): FlameData {
  const i = html.indexOf(DATA_OPEN);
  assert.ok(i >= 0, 'data block present');
  const j = html.indexOf('</script>', i);
  return JSON.parse(html.slice(i + DATA_OPEN.length, j)) as FlameData;
}

test('flame graph: one self-contained file; the data block parses back to the stacks', () => {
  const p = parseFolded(FOLDED);
  const html = flameGraphHtml(p, { title: 'outputs <test>' });
  assert.ok(html.startsWith('<!DOCTYPE html>\n'));
  assert.ok(html.includes('<title>outputs &lt;test&gt;</title>'));
  const d = dataOf(html);
  assert.equal(d.unit, 'ns');
  assert.equal(d.title, 'outputs <test>');
  assert.deepEqual(stacksOf(d).map(([frames, weight]) => ({ frames, weight })), p.stacks);
  // Each name once, however many stacks it is in.
  assert.deepEqual(d.names, ['out:a', 'out:b', 'out:c', 'out:p', 'out:q', 'out:t', 'out:u']);
  // Inline only: no URL, no external script, stylesheet or image.
  assert.doesNotMatch(html, /https?:|\/\/[a-z]|src=|href=|url\(|@import|<link/i);
  assert.equal((html.match(/<script[ >]/g) ?? []).length, 2);
  assert.equal((html.match(/<\/script>/g) ?? []).length, 2);
  assert.equal((html.match(/<style>/g) ?? []).length, 1);
  assert.equal(flameGraphHtml(p, { title: 'outputs <test>' }), html, 'deterministic');
});

test('flame graph: frame names cannot break out of the data block', () => {
  const evil: FoldedProfile = { unit: 'calls', stacks: [{ frames: ['</script><!--x', 'a&b>c\u2028'], weight: 3 }] };
  const html = flameGraphHtml(evil);
  assert.equal(html.match(/<\/script/gi)?.length, 2, 'only the two real closing tags');
  assert.ok(!html.includes('<!--'));
  assert.deepEqual(stacksOf(dataOf(html)), [[['</script><!--x', 'a&b>c\u2028'], 3]]);
});

const CHROMIUM = '/usr/bin/chromium';
const NO_CHROMIUM = existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed: rendering check skipped (structure is checked above)`;

/** The DOM of the page after its script ran, as headless Chromium dumps it. */
async function renderedDom(html: string, hash = ''): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'jsft-flame-'));
  try {
    const file = join(dir, 'flame.html');
    writeFileSync(file, html);
    return await new Promise<string>((resolve, reject) => {
      execFile(CHROMIUM, [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`, '--dump-dom', `file://${file}${hash}`,
      ], { timeout: 90_000, maxBuffer: 16 << 20 }, (err, stdout) => (err !== null ? reject(err) : resolve(stdout)));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** [class, data-name] of every drawn frame, in drawing order. */
function frames(dom: string): string[][] {
  return [...dom.matchAll(/<div class="(fr[^"]*)"[^>]*data-name="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]);
}

test('flame graph renders in headless Chromium: a frame element per expected frame', { skip: NO_CHROMIUM, timeout: 120_000 }, async () => {
  const dom = await renderedDom(flameGraphHtml(parseFolded(FOLDED), { title: 'outputs' }));
  // One element per node of the merged tree (all, then name order), all wide enough to draw.
  assert.deepEqual(frames(dom).map(([, n]) => n), ['all', 'out:a', 'out:b', 'out:c', 'out:b', 'out:p', 'out:b', 'out:q', 'out:t', 'out:u', 'out:b']);
  assert.ok(frames(dom).every(([c]) => c === 'fr'));
  // Drawn function first, file after (the full name is data-name's and the tooltip's).
  assert.match(dom, /data-name="out:a"[^>]*>a \(out\)</);
  assert.match(dom, /data-name="all"[^>]*>all</);
  assert.match(dom, /id="fg-info">total 33\.600 µs of self time</);
});

test('flame graph in headless Chromium: zoomed view and search highlight with the matched share', { skip: NO_CHROMIUM, timeout: 120_000 }, async () => {
  const dom = await renderedDom(flameGraphHtml(parseFolded(FOLDED), { title: 'outputs' }), '#q=OUT:B&zoom=out:a');
  assert.deepEqual(frames(dom), [['fr anc', 'all'], ['fr', 'out:a'], ['fr hl', 'out:b'], ['fr', 'out:c'], ['fr hl', 'out:b']]);
  // out:b's time everywhere (4 × 2 µs) of the whole profile.
  assert.match(dom, /id="fg-match">matched: 23\.81% \(8\.000 µs\)</);
});

test('calls: an async call is one call per part; the last part ends at its return, not after the whole duration', async () => {
  const ring = createRing({ sizeKb: 8, clock: 'counter' });
  const r = { threadId: 3, name: 'node', gen: 1, ring };
  const ENT = EV_GRAPH_ENT.id;
  const RET = EV_GRAPH_RET.id;
  const item = (ts: number, type: number, flags: number, a: number, b: number, c = 0): Item => ({ ts, type, flags, a, b, c, lost: 0 });
  // f runs 100-110 and suspends; g runs meanwhile; f resumes at 200 and returns at 230, 130 after it began.
  const items = [
    item(100, ENT, 0, P, 0), item(110, RET, RET_SUSPENDED, P, 0, 10),
    item(150, ENT, 0, Q, 0), item(160, RET, 0, Q, 0, 10),
    item(200, ENT, ENT_RESUMED, P, 0), item(230, RET, 0, P, 0, 130),
  ];
  const t = threadCalls(r, items);
  assert.equal(shape(t.roots), 'out:p 100-110 suspended\nout:q 150-160 return\nout:p 200-230 return\n');
  assert.deepEqual(t.roots.map((c) => c.resumed), [false, false, true]);
  const events = { view: ringView(r), open: () => arraySource(items) };
  const json = JSON.parse(toText((sink) => perfettoJsonTo([events], sink))) as { traceEvents: { name: string; ph: string; args?: { exit?: string } }[] };
  assert.deepEqual(json.traceEvents.filter((e) => e.ph === 'X').map((e) => e.args?.exit ?? 'return'), ['suspended', 'return', 'return']);
});
