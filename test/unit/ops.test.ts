// Ops: what callbacks receive, exits, IPMODIFY, recursion protection,
// callback isolation (G5), errors, slot reuse, and G2 checked with real
// calls at every intermediate state of every transition.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flags as F, instance, setStoreObserver } from '../../src/core/index.js';
import {
  attach, createOps, defineSite, ftraceSetFilter, ftraceSetNotrace, listThreads, opsErrors, registerFtraceDirect,
  registerFtraceFunction, unregisterFtraceDirect, unregisterFtraceFunction, OPS_FL, siteAbi, type FtraceOps,
} from '../../src/public/index.js';

function thisThread(): { recursion: number; callbackErrors: number; missed: number } {
  return listThreads().find((t) => t.state === 'alive')!;
}

test('a callback receives site, parent, ops, arguments (with ARGS) and this', async () => {
  const obj = {
    outer(this: unknown, a: number): number { return this === obj ? obj.inner(a) + 1 : -1; },
    inner(a: number): number { return a * 2; },
  };
  const so = attach(obj, 'outer', { name: 'ops:cb-outer' });
  const si = attach(obj, 'inner', { name: 'ops:cb-inner' });
  const seen: unknown[][] = [];
  const plain = createOps({ func: (site, parent, ops, args, self) => { seen.push(['plain', site, parent, ops.name, args, self]); }, name: 'plain' });
  const withArgs = createOps({
    func: (site, parent, ops, args, self) => { seen.push(['args', site, parent, ops.name, Array.from(args!), self]); },
    flags: OPS_FL.ARGS, name: 'withargs',
  });
  await ftraceSetFilter(plain, 'ops:cb-*');
  await ftraceSetFilter(withArgs, 'ops:cb-inner');
  await registerFtraceFunction(plain);
  await registerFtraceFunction(withArgs);
  assert.equal(obj.outer(4), 9);
  assert.deepEqual(seen, [
    ['plain', so, -1, 'plain', null, obj],
    // inner has two ops: the list function calls the newest first.
    ['args', si, so, 'withargs', [4], obj],
    ['plain', si, so, 'plain', null, obj],
  ]);
  await unregisterFtraceFunction(plain);
  await unregisterFtraceFunction(withArgs);
  seen.length = 0;
  obj.outer(1);
  assert.deepEqual(seen, [], 'a callback ran after unregister resolved');
});

test('exits: retfunc gets the entry data and the result; IPMODIFY replaces it, others cannot', async () => {
  const obj = { f(x: number): number { if (x < 0) throw new RangeError('neg'); return x + 1; } };
  attach(obj, 'f', { name: 'ops:exit-f' });
  const log: unknown[][] = [];
  const watcher = createOps({
    func: (site) => `data${site}`,
    retfunc: (_site, _ops, result, threw, data) => { log.push([result instanceof Error ? result.message : result, threw, data]); return 'ignored'; },
    name: 'watcher',
  });
  await ftraceSetFilter(watcher, 'ops:exit-f');
  await registerFtraceFunction(watcher);
  assert.equal(obj.f(1), 2);
  assert.throws(() => obj.f(-1), RangeError);
  const s = watcher.slot;
  assert.ok(s >= 0);
  const site = log.length > 0 ? (log[0]![2] as string) : '';
  assert.deepEqual(log, [[2, false, site], ['neg', true, site]]);
  const patch = createOps({ func: () => undefined, retfunc: (_s, _o, result) => (result as number) * 100, flags: OPS_FL.IPMODIFY, name: 'patch' });
  await assert.rejects(registerFtraceFunction(patch), { code: 'EINVAL' }, 'IPMODIFY without a filter');
  await ftraceSetFilter(patch, 'ops:exit-f');
  await assert.rejects(ftraceSetNotrace(patch, 'ops:exit-f'), { code: 'EINVAL' }, 'IPMODIFY with a notrace filter');
  await registerFtraceFunction(patch);
  assert.equal(obj.f(1), 200);
  const second = createOps({ func: () => undefined, retfunc: () => 0, flags: OPS_FL.IPMODIFY, name: 'patch2' });
  await ftraceSetFilter(second, 'ops:exit-f');
  await assert.rejects(registerFtraceFunction(second), { code: 'EBUSY' });
  assert.equal(obj.f(2), 300);
  await unregisterFtraceFunction(patch);
  await unregisterFtraceFunction(watcher);
  assert.equal(obj.f(2), 3);
});

test('recursion: a callback that calls its own function is refused and counted on both paths, with or without RECURSION', async () => {
  const obj = { r(n: number): number { return n; } };
  attach(obj, 'r', { name: 'ops:rec-r' });
  let depth = 0;
  let maxDepth = 0;
  const reenter = (): void => {
    depth++;
    maxDepth = Math.max(maxDepth, depth);
    if (depth < 5) obj.r(0);
    depth--;
  };
  for (const flags of [OPS_FL.RECURSION, 0]) {
    depth = 0;
    maxDepth = 0;
    const before = thisThread().recursion;
    const ops = createOps({ func: reenter, flags, name: `rec${flags}` });
    await ftraceSetFilter(ops, 'ops:rec-r');
    await registerFtraceFunction(ops);
    // One ops on the site: its own entry function.
    obj.r(1);
    assert.equal(maxDepth, 1, `flags ${flags}: one ops`);
    assert.equal(thisThread().recursion - before, 1);
    // Two ops on the site: the list function, the same answer.
    const other = createOps({ func: () => undefined, name: `other${flags}` });
    await ftraceSetFilter(other, 'ops:rec-r');
    await registerFtraceFunction(other);
    depth = 0;
    maxDepth = 0;
    const before2 = thisThread().recursion;
    obj.r(1);
    assert.equal(maxDepth, 1, `flags ${flags}: list function`);
    assert.equal(thisThread().recursion - before2, 1);
    await unregisterFtraceFunction(other);
    await unregisterFtraceFunction(ops);
  }
  // A callback that would recurse without end (a tracer that logs through
  // the function it traces) costs one refused call per traced call.
  let calls = 0;
  const selfish = createOps({ func: () => { calls++; obj.r(0); }, name: 'selfish' });
  await ftraceSetFilter(selfish, 'ops:rec-r');
  await registerFtraceFunction(selfish);
  const before = thisThread().recursion;
  for (let i = 0; i < 100; i++) obj.r(i);
  assert.equal(calls, 100);
  assert.equal(thisThread().recursion - before, 100);
  await unregisterFtraceFunction(selfish);
});

test('G5: a throwing callback is isolated, counted, reported once, and the call goes on', async () => {
  const obj = { g(x: number): number { return x * 3; } };
  attach(obj, 'g', { name: 'ops:throw-g' });
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }): void => { if (w.code === 'JSFTRACE_CALLBACK_ERROR') warnings.push(w.message); };
  process.on('warning', onWarning);
  let after = 0;
  const bad = createOps({ func: () => { throw new TypeError('callback bug'); }, name: 'bad' });
  const good = createOps({ func: () => { after++; }, name: 'good' });
  await ftraceSetFilter(bad, 'ops:throw-g');
  await ftraceSetFilter(good, 'ops:throw-g');
  await registerFtraceFunction(good);
  await registerFtraceFunction(bad);
  const before = thisThread().callbackErrors;
  for (let i = 0; i < 3; i++) assert.equal(obj.g(2), 6);
  assert.equal(after, 3, 'the ops after the throwing one still ran');
  assert.deepEqual(opsErrors(bad), { count: 3, first: 'TypeError: callback bug' });
  assert.deepEqual(opsErrors(good), { count: 0, first: null });
  assert.equal(thisThread().callbackErrors - before, 3);
  await new Promise((r) => setImmediate(r));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /ops bad threw: TypeError: callback bug/);
  process.off('warning', onWarning);
  await unregisterFtraceFunction(bad);
  await unregisterFtraceFunction(good);
  // Kept after unregistering, and added to by a later registration.
  assert.deepEqual(opsErrors(bad), { count: 3, first: 'TypeError: callback bug' });
  await registerFtraceFunction(bad);
  obj.g(1);
  assert.deepEqual(opsErrors(bad), { count: 4, first: 'TypeError: callback bug' });
  await unregisterFtraceFunction(bad);
  assert.deepEqual(opsErrors(bad), { count: 4, first: 'TypeError: callback bug' });
});

test('API errors carry errno codes and change nothing', async () => {
  defineSite({ name: 'ops:err-x' });
  assert.throws(() => createOps({ func: () => undefined, flags: 1 << 30 }), { code: 'EINVAL' });
  assert.throws(() => createOps({ func: 42 as never }), { code: 'EINVAL' });
  assert.throws(() => createOps({ func: { module: './relative.js' } }), { code: 'EINVAL' });
  await assert.rejects(registerFtraceFunction(createOps({ name: 'nofunc' })), { code: 'EINVAL' });
  await assert.rejects(registerFtraceFunction({} as FtraceOps), { code: 'EINVAL' });
  const ops = createOps({ func: () => undefined, name: 'twice' });
  await ftraceSetFilter(ops, 'ops:err-x');
  await assert.rejects(ftraceSetFilter(ops, 'ops:no-such-function'), { code: 'EINVAL' });
  await registerFtraceFunction(ops);
  await assert.rejects(registerFtraceFunction(ops), { code: 'EBUSY' });
  await unregisterFtraceFunction(ops);
  await assert.rejects(unregisterFtraceFunction(ops), { code: 'EINVAL' });
});

test('ops slots are reused after unregistering; running out is ENOSPC and changes nothing', async () => {
  defineSite({ name: 'ops:slots' });
  for (let i = 0; i < 300; i++) {
    const o = createOps({ func: () => undefined, name: `cycle${i}` });
    await ftraceSetFilter(o, 'ops:slots');
    await registerFtraceFunction(o);
    await unregisterFtraceFunction(o);
  }
  const held: FtraceOps[] = [];
  let refused: unknown;
  for (let i = 0; i < 1000 && refused === undefined; i++) {
    const o = createOps({ func: () => undefined, name: `hold${i}` });
    await ftraceSetFilter(o, 'ops:slots');
    try {
      await registerFtraceFunction(o);
      held.push(o);
    } catch (e) {
      refused = e;
      assert.equal(o.slot, -1);
    }
  }
  assert.equal((refused as { code?: string }).code, 'ENOSPC');
  assert.ok(held.length >= 100);
  for (const o of held) await unregisterFtraceFunction(o);
});

// ---- G2 with real calls at every intermediate store -----------------------

test('G2: registering, refiltering and unregistering X never makes a site skip bystander Y', async () => {
  const N = 6;
  const fns: Record<string, () => number> = {};
  for (let k = 0; k < N; k++) fns[`s${k}`] = () => k;
  const ids: number[] = [];
  for (let k = 0; k < N; k++) ids.push(attach(fns, `s${k}`, { name: `g2:s${k}` }));
  for (const bystanderKind of ['ops', 'direct'] as const) {
    let yHits = 0;
    const yTramp = function yTramp(): void { yHits++; };
    const Y = createOps(bystanderKind === 'ops' ? { func: () => { yHits++; }, name: 'Y' } : { name: 'Ydirect' });
    await ftraceSetFilter(Y, ['g2:s0', 'g2:s1', 'g2:s2', 'g2:s3']);
    if (bystanderKind === 'ops') await registerFtraceFunction(Y);
    else await registerFtraceDirect(Y, yTramp);
    const covered = [0, 1, 2, 3];
    let states = 0;
    // At every state the engine passes through, call each covered site once:
    // Y must run exactly once per call.
    setStoreObserver(() => {
      for (const k of covered) {
        const before = yHits;
        fns[`s${k}`]!();
        assert.equal(yHits - before, 1, `site s${k} skipped Y (${bystanderKind}) at state ${states}`);
      }
      states++;
    });
    try {
      for (const xFlags of [0, OPS_FL.ARGS, OPS_FL.RECURSION]) {
        const X = createOps({ func: () => undefined, flags: xFlags, name: `X${xFlags}` });
        await ftraceSetFilter(X, ['g2:s2', 'g2:s3', 'g2:s4']);
        await registerFtraceFunction(X);
        await ftraceSetFilter(X, ['g2:s0', 'g2:s5']);
        await ftraceSetFilter(X, ['g2:s1', 'g2:s2'], { reset: false });
        await ftraceSetNotrace(X, 'g2:s1');
        await ftraceSetFilter(X, []);
        await unregisterFtraceFunction(X);
      }
    } finally {
      setStoreObserver(null);
    }
    assert.ok(states > 20, `only ${states} intermediate states`);
    if (bystanderKind === 'ops') await unregisterFtraceFunction(Y);
    else await unregisterFtraceDirect(Y, yTramp);
  }
  assert.equal(ids.length, N);
});

// ---- G2 by exhaustive interleaving of one call with the engine's stores ---

interface State {
  words: number[];
  list: number[];
  /** cov[slot][k]: whether slot covers site k; flags per slot. */
  cov: Map<number, boolean[]>;
  flags: Map<number, number>;
}

/**
 * A call on site k reads its word at state i and, through the list
 * function, the registered list and coverage at a later state j. Returns
 * the ops slots it runs ('T' for a direct trampoline).
 */
function ranAt(states: State[], k: number, i: number, j: number): (number | 'T')[] {
  const d = F.decodeTarget(instance().L.maxOps, states[i]!.words[k]!);
  if (d.kind === 'nop') return [];
  if (d.kind === 'ops') return [d.index];
  if (d.kind === 'tramp') return ['T'];
  const s = states[j]!;
  const out: (number | 'T')[] = [];
  for (const slot of s.list) {
    const fl = s.flags.get(slot)!;
    if ((fl & OPS_FL.STUB) !== 0 || !s.cov.get(slot)![k]) continue;
    out.push((fl & OPS_FL.DIRECT) !== 0 ? 'T' : slot);
  }
  return out;
}

test('G2 by exhaustive interleaving: no state pair of a call against any transition of X drops bystander Y', async () => {
  const inst = instance();
  const abi = siteAbi();
  const N = 4;
  const ids = Array.from({ length: N }, (_, k) => defineSite({ name: `g2m:s${k}` }));
  const snap = (): State => {
    const list: number[] = [];
    const n = inst.i32[13]!; // H_LIST_LEN
    for (let q = 0; q < n; q++) list.push(inst.i32[inst.L.list + q]!);
    const cov = new Map<number, boolean[]>();
    const flags = new Map<number, number>();
    for (const slot of list) {
      cov.set(slot, ids.map((id) => (inst.i32[inst.L.cov + slot * inst.L.covWords + (id >>> 5)]! & (1 << (id & 31))) !== 0));
      flags.set(slot, inst.i32[inst.L.ops + slot * 32 + 1]!);
    }
    return { words: ids.map((id) => abi.words[abi.targetBase + id]!), list, cov, flags };
  };
  for (const yKind of ['ops', 'direct'] as const) {
    const Y = createOps(yKind === 'ops' ? { func: () => undefined, name: 'Ym' } : { name: 'Ymd' });
    const yTramp = function yTramp(): void {};
    await ftraceSetFilter(Y, ['g2m:s0', 'g2m:s1', 'g2m:s2']);
    if (yKind === 'ops') await registerFtraceFunction(Y);
    else await registerFtraceDirect(Y, yTramp);
    const yMark: number | 'T' = yKind === 'ops' ? Y.slot : 'T';
    const X = createOps({ func: () => undefined, name: 'Xm' });
    const steps: [string, () => Promise<unknown>][] = [
      ['register X', async () => { await ftraceSetFilter(X, ['g2m:s1', 'g2m:s3']); await registerFtraceFunction(X); }],
      ['refilter X', () => ftraceSetFilter(X, ['g2m:s0', 'g2m:s2'])],
      ['append X', () => ftraceSetFilter(X, 'g2m:s1', { reset: false })],
      ['notrace X', () => ftraceSetNotrace(X, 'g2m:s0')],
      ['unregister X', () => unregisterFtraceFunction(X)],
    ];
    let pairs = 0;
    for (const [what, step] of steps) {
      const states: State[] = [snap()];
      setStoreObserver(() => states.push(snap()));
      try {
        await step();
      } finally {
        setStoreObserver(null);
      }
      assert.ok(states.length > 1, `${what}: no store observed`);
      for (let k = 0; k < 3; k++) {
        for (let i = 0; i < states.length; i++) {
          for (let j = i; j < states.length; j++) {
            const ran = ranAt(states, k, i, j);
            assert.equal(ran.filter((r) => r === yMark).length, 1, `${yKind} Y, ${what}: site s${k} read at ${i}/${j} ran [${ran.join(',')}]`);
            pairs++;
          }
        }
      }
    }
    assert.ok(pairs > 100, `only ${pairs} interleavings`);
    if (yKind === 'ops') await unregisterFtraceFunction(Y);
    else await unregisterFtraceDirect(Y, yTramp);
  }
});
