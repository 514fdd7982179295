// Direct trampolines: the register/modify/unregister API, exit pairing (G3),
// and the seed's switch protocol checked at every interleaving of a call's
// reads with the engine's stores (G1), beside the naive switch that misses.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flags as F, instance, setStoreObserver } from '../../src/core/index.js';
import {
  createOps, defineSite, defineSites, ftraceSetFilter, modifyFtraceDirect, readEnabledFunctions, registerFtraceDirect,
  registerFtraceFunction, unregisterFtraceDirect, unregisterFtraceFunction, siteAbi, siteOf, OPS_FL, attach,
  type TrampolineObject,
} from '../../src/public/index.js';

const abi = siteAbi();
const L = instance().L;

function decode(site: number): ReturnType<typeof F.decodeTarget> {
  return F.decodeTarget(L.maxOps, abi.words[abi.targetBase + site]!);
}

test('registerFtraceDirect refuses bad input and changes nothing', async () => {
  const a = defineSite({ name: 'dir:err-a' });
  defineSite({ name: 'dir:err-b' });
  const t1 = function t1(): void {};
  const empty = createOps({ name: 'empty' });
  await assert.rejects(registerFtraceDirect(empty, t1), { code: 'EINVAL' });
  const withFunc = createOps({ func: () => undefined, name: 'withfunc' });
  await ftraceSetFilter(withFunc, 'dir:err-a');
  await assert.rejects(registerFtraceDirect(withFunc, t1), { code: 'EINVAL' });
  const first = createOps({ name: 'first' });
  await ftraceSetFilter(first, 'dir:err-a');
  await registerFtraceDirect(first, t1);
  await assert.rejects(registerFtraceDirect(first, t1), { code: 'EINVAL' });
  const before = readEnabledFunctions();
  const second = createOps({ name: 'second' });
  await ftraceSetFilter(second, 'dir:err-*');
  await assert.rejects(registerFtraceDirect(second, function t2() {}), { code: 'EBUSY' });
  assert.equal(readEnabledFunctions(), before, 'a refused registration changed enabled_functions');
  assert.equal(decode(a).kind, 'tramp');
  // An IPMODIFY ops may not share a site with a direct ops, either way.
  const ip = createOps({ func: () => undefined, retfunc: (_s, _o, r) => r, flags: OPS_FL.IPMODIFY, name: 'ip' });
  await ftraceSetFilter(ip, 'dir:err-a');
  await assert.rejects(registerFtraceFunction(ip), { code: 'EBUSY' });
  assert.equal(readEnabledFunctions(), before);
  await assert.rejects(unregisterFtraceDirect(first, function other() {}), { code: 'EINVAL' });
  await unregisterFtraceDirect(first, t1);
  assert.equal(decode(a).kind, 'nop');
  // The ops can be registered again after unregistering.
  await registerFtraceDirect(first, t1);
  assert.equal(decode(a).kind, 'tramp');
  await unregisterFtraceDirect(first, t1);
});

test('a direct site calls its trampoline with site, this and arguments; modify switches every site', async () => {
  const obj = {
    f(this: unknown, x: number): number { return x + 1; },
    g(this: unknown, x: number): number { return x * 2; },
  };
  const sf = attach(obj, 'f', { name: 'dir:call-f' });
  const sg = attach(obj, 'g', { name: 'dir:call-g' });
  const seen: [string, number, unknown, unknown[]][] = [];
  const A = function A(site: number, self: unknown, args: ArrayLike<unknown> | null): void { seen.push(['A', site, self, Array.from(args!)]); };
  const B = function B(site: number, self: unknown, args: ArrayLike<unknown> | null): void { seen.push(['B', site, self, Array.from(args!)]); };
  const ops = createOps({ name: 'calls' });
  await ftraceSetFilter(ops, 'dir:call-*');
  await registerFtraceDirect(ops, A);
  assert.equal(obj.f(1), 2);
  assert.equal(obj.g(3), 6);
  const stats = await modifyFtraceDirect(ops, B);
  assert.equal(stats.sites, 2);
  assert.equal(obj.f(5), 6);
  assert.equal(obj.g(7), 14);
  assert.deepEqual(seen, [['A', sf, obj, [1]], ['A', sg, obj, [3]], ['B', sf, obj, [5]], ['B', sg, obj, [7]]]);
  assert.match(readEnabledFunctions(), /^dir:call-f \(1\) R   D   M \n\tdirect-->B\n/m);
  // modify to the current trampoline is a no-op.
  assert.deepEqual(await modifyFtraceDirect(ops, B), { sites: 0 });
  await unregisterFtraceDirect(ops, B);
});

test('G3: a call that entered through trampoline A leaves through A even if B took over meanwhile', async () => {
  const log: string[] = [];
  const mk = (n: string): TrampolineObject => ({
    name: n,
    entry: (site) => { log.push(`${n} enter ${site}`); return `${n}-data`; },
    exit: (site, result, threw, data) => { log.push(`${n} exit ${site} ${String(result)} ${threw} ${String(data)}`); },
  });
  const A = mk('A');
  const B = mk('B');
  const ops = createOps({ name: 'g3' });
  let switched: Promise<unknown> | undefined;
  const obj = {
    work(n: number): number {
      if (n === 1 && switched === undefined) switched = modifyFtraceDirect(ops, B);
      return n * 10;
    },
  };
  const s = attach(obj, 'work', { name: 'dir:g3-work' });
  await ftraceSetFilter(ops, 'dir:g3-work');
  await registerFtraceDirect(ops, A);
  assert.equal(obj.work(1), 10); // switches to B while inside the call entered through A
  await switched;
  assert.equal(obj.work(2), 20);
  assert.throws(() => (obj as { work: (n: unknown) => unknown }).work.call(null, { valueOf() { throw new Error('boom'); } }), /boom/);
  assert.deepEqual(log, [
    `A enter ${s}`, `A exit ${s} 10 false A-data`,
    `B enter ${s}`, `B exit ${s} 20 false B-data`,
    `B enter ${s}`, `B exit ${s} Error: boom true B-data`,
  ]);
  await unregisterFtraceDirect(ops, B);
});

test('direct and other ops on one site: list function plus direct helper, every handler called once', async () => {
  const calls: string[] = [];
  const obj = { h(): string { calls.push('body'); return 'r'; } };
  attach(obj, 'h', { name: 'dir:mixed-h' });
  const d = createOps({ name: 'mixdirect' });
  await ftraceSetFilter(d, 'dir:mixed-h');
  await registerFtraceDirect(d, function T(): void { calls.push('tramp'); });
  const o = createOps({ func: () => { calls.push('ops'); }, name: 'mixops' });
  await ftraceSetFilter(o, 'dir:mixed-h');
  await registerFtraceFunction(o);
  assert.equal(decode(siteOf(obj.h)).kind, 'list');
  assert.equal(obj.h(), 'r');
  // Newest first: the ops was registered after the direct ops.
  assert.deepEqual(calls, ['ops', 'tramp', 'body']);
  assert.match(readEnabledFunctions(), /^dir:mixed-h \(2\) R   D   M \n\tdirect-->T\n/m);
  await unregisterFtraceFunction(o);
  calls.length = 0;
  obj.h();
  assert.deepEqual(calls, ['tramp', 'body']);
});

// ---- every interleaving of one call's reads with the engine's stores ------

interface Snapshot {
  words: number[];
  direct: number;
}

/**
 * Records the state a call can observe after each store of `action`, then
 * evaluates a call on each site whose first read (its site word) happens at
 * state i and whose second read (the direct word, through the list
 * function) at any state j >= i.
 */
async function interleavings(sites: number[], ops: () => number, action: () => Promise<unknown>): Promise<Snapshot[]> {
  const snap = (): Snapshot => ({ words: sites.map((s) => abi.words[abi.targetBase + s]!), direct: ops() });
  const states: Snapshot[] = [snap()];
  setStoreObserver(() => states.push(snap()));
  try {
    await action();
  } finally {
    setStoreObserver(null);
  }
  return states;
}

type Outcome = { kind: 'tramp'; id: number } | { kind: 'none' } | { kind: 'other' };

function callAt(states: Snapshot[], k: number, i: number, j: number): Outcome {
  const d = F.decodeTarget(L.maxOps, states[i]!.words[k]!);
  if (d.kind === 'tramp') return { kind: 'tramp', id: d.index };
  if (d.kind === 'list') return { kind: 'tramp', id: states[j]!.direct };
  if (d.kind === 'nop') return { kind: 'none' };
  return { kind: 'other' };
}

function directWordOf(opsSlotRow: () => number): () => number {
  return () => instance().i32[opsSlotRow() + 2]!; // O_DIRECT
}

test('G1: the seed protocol, every interleaving of a call with the switch: exactly one of A or B, never A after the switch', async () => {
  for (const n of [1, 2, 3, 5]) {
    const base = defineSites(`g1model-${n}`, Array.from({ length: n }, (_, k) => ({ name: `g1model${n}:s${k}` })));
    const sites = Array.from({ length: n }, (_, k) => base + k);
    const ops = createOps({ name: `model${n}` });
    await ftraceSetFilter(ops, `g1model${n}:*`);
    const A = function A(): void {};
    const B = function B(): void {};
    await registerFtraceDirect(ops, A);
    const row = (): number => L.ops + ops.slot * 32;
    const tA = F.decodeTarget(L.maxOps, abi.words[abi.targetBase + sites[0]!]!).index;
    const states = await interleavings(sites, directWordOf(row), () => modifyFtraceDirect(ops, B));
    const tB = F.decodeTarget(L.maxOps, abi.words[abi.targetBase + sites[0]!]!).index;
    assert.notEqual(tA, tB);
    const switchAt = states.findIndex((s) => s.direct === tB);
    assert.ok(switchAt > 0, 'no single switch store observed');
    // Before the switch every site went through the list function (the stub
    // phase), so the single store switches them all.
    for (const w of states[switchAt - 1]!.words) assert.equal(F.decodeTarget(L.maxOps, w).kind, 'list');
    let evaluated = 0;
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < states.length; i++) {
        for (let j = i; j < states.length; j++) {
          const o = callAt(states, k, i, j);
          assert.equal(o.kind, 'tramp', `site ${k}: a call reading at state ${i} ran no trampoline`);
          const id = (o as { id: number }).id;
          assert.ok(id === tA || id === tB, `site ${k}: state ${i}/${j} reached trampoline ${id}`);
          if (i >= switchAt) assert.equal(id, tB, `site ${k}: a call starting after the switch (state ${i}) ran A`);
          evaluated++;
        }
      }
    }
    assert.equal(evaluated, n * states.length * (states.length + 1) / 2);
    // Each site's word goes A -> list -> B, one store each.
    for (let k = 0; k < n; k++) {
      const seq = states.map((s) => s.words[k]!).filter((w, i, a) => i === 0 || w !== a[i - 1]);
      assert.deepEqual(seq.map((w) => F.decodeTarget(L.maxOps, w).kind), ['tramp', 'list', 'tramp']);
    }
    await unregisterFtraceDirect(ops, B);
  }
});

test('G1, the naive way: unregister then register leaves calls that run nothing', async () => {
  const n = 3;
  const base = defineSites('g1naive', Array.from({ length: n }, (_, k) => ({ name: `g1naive:s${k}` })));
  const sites = Array.from({ length: n }, (_, k) => base + k);
  const ops = createOps({ name: 'naive' });
  await ftraceSetFilter(ops, 'g1naive:*');
  const A = function A(): void {};
  const B = function B(): void {};
  await registerFtraceDirect(ops, A);
  const states = await interleavings(sites, () => 0, async () => {
    await unregisterFtraceDirect(ops, A);
    await registerFtraceDirect(ops, B);
  });
  let missed = 0;
  for (let k = 0; k < n; k++) for (let i = 0; i < states.length; i++) if (callAt(states, k, i, i).kind === 'none') missed++;
  assert.ok(missed >= n, `expected calls to miss during the naive switch, saw ${missed}`);
  await unregisterFtraceDirect(ops, B);
});
