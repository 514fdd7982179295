// The entry functions of an ops called directly (with and without an exit
// part, RECURSION or not) and the short path of leave: parents, entry and
// exit paired with their data, recursion refused and counted whatever the
// flags (as on the list function's path), a frame
// abandoned by a throw discarded (its exit sees UNWOUND) whether the exit
// takes the short path or not, and the stack empty afterwards.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UNWOUND } from '../../src/core/index.js';
import {
  createOps, currentSite, defineSites, ftraceSetFilter, leave, listThreads, registerFtraceFunction, siteAbi,
  unregisterFtraceFunction, OPS_FL,
} from '../../src/public/index.js';

const base = defineSites('handlers', [{ name: 'handlers:outer' }, { name: 'handlers:inner' }, { name: 'handlers:cb' }]);
const OUTER = base;
const INNER = base + 1;
const CB = base + 2;
const { words, handlers: H, targetBase } = siteAbi();

function enter(site: number): number {
  const t = words[targetBase + site]!;
  return t !== 0 ? H[t]!(site, undefined, (t & 1) !== 0 ? [] : null) : 0;
}

/** A traced function, by hand: enters, runs `body`, leaves with its result. */
function call(site: number, body: () => number): number {
  const tok = enter(site);
  const r = body();
  return tok !== 0 ? leave(tok, r) as number : r;
}

function recursion(): number {
  return listThreads().find((t) => t.state === 'alive')!.recursion;
}

for (const guarded of [false, true]) {
  for (const exit of [false, true]) {
    test(`one ops called directly, ${guarded ? 'RECURSION' : 'no flags'}, ${exit ? 'with' : 'without'} an exit part`, async () => {
      const log: string[] = [];
      let depth = 0;
      const ops = createOps({
        name: `h-${guarded}-${exit}`,
        flags: guarded ? OPS_FL.RECURSION : 0,
        func: (site, parent) => {
          log.push(`entry ${site - base} parent ${parent < 0 ? -1 : parent - base}`);
          // The callback calls traced code: refused and counted, with or without RECURSION.
          if (site === INNER && depth++ === 0) call(CB, () => 0);
          return site * 10;
        },
        ...(exit ? { retfunc: (site: number, _o: unknown, result: unknown, threw: boolean, data: unknown) => { log.push(`exit ${site - base} ${String(result)} ${threw} data ${String(data)}`); } } : {}),
      });
      await ftraceSetFilter(ops, 'handlers:*');
      await registerFtraceFunction(ops);
      const before = recursion();
      assert.equal(call(OUTER, () => call(INNER, () => 7) + 1), 8);
      assert.equal(currentSite(), -1);
      await unregisterFtraceFunction(ops);
      // Called from inner's entry, before inner's frame is pushed: its parent is outer.
      assert.deepEqual(log, [
        'entry 0 parent -1',
        'entry 1 parent 0',
        ...(exit ? [`exit 1 7 false data ${INNER * 10}`, `exit 0 8 false data ${OUTER * 10}`] : []),
      ]);
      assert.equal(recursion() - before, 1);
    });
  }
}

test('leave: a frame a throw abandoned above the call is discarded, its exit sees UNWOUND', async () => {
  const log: string[] = [];
  const ops = createOps({
    name: 'unwind',
    flags: OPS_FL.RECURSION,
    func: (site) => site - base,
    retfunc: (site, _o, result, threw) => { log.push(`exit ${site - base} ${result === UNWOUND ? 'UNWOUND' : String(result)} ${threw}`); },
  });
  const plain = createOps({ name: 'plain', func: () => undefined });
  await ftraceSetFilter(ops, 'handlers:outer handlers:inner');
  await ftraceSetFilter(plain, 'handlers:cb');
  await registerFtraceFunction(ops);
  await registerFtraceFunction(plain);
  // inner (exit part) and cb (a plain frame) are entered and never left, as
  // when a throw goes through them; outer's exit finds them above its frame.
  const tok = enter(OUTER);
  enter(INNER);
  enter(CB);
  assert.equal(currentSite(), CB);
  assert.equal(leave(tok, 'r'), 'r');
  assert.equal(currentSite(), -1);
  // A plain frame alone on top takes the short path; abandoned under an
  // ops frame it is discarded with it.
  const t1 = enter(OUTER);
  const t2 = enter(CB);
  assert.equal(leave(t2, 1), 1);
  assert.equal(currentSite(), OUTER);
  enter(CB);
  assert.equal(leave(t1, 2), 2);
  assert.equal(currentSite(), -1);
  // A late exit of a frame already discarded does nothing.
  assert.equal(leave(t2, 3), 3);
  await unregisterFtraceFunction(plain);
  await unregisterFtraceFunction(ops);
  assert.deepEqual(log, ['exit 1 UNWOUND true', 'exit 0 r false', 'exit 0 2 false']);
});
