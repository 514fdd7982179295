// G5 for any thrown value: a callback (entry and exit, of a sync and an
// async function; one ops on the site or the list function; a direct
// trampoline) that throws an
// Error whose `message` or `name` getter throws, a Proxy whose traps throw,
// a revoked Proxy, an object whose toString throws, a symbol, null: the
// traced call goes on with its own result, the error is counted per ops
// and per thread, the first one kept with a description, and error_log
// gets one entry per ops.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attach, createOps, ftraceSetFilter, listThreads, opsErrors, registerFtraceDirect, registerFtraceFunction,
  unregisterFtraceDirect, unregisterFtraceFunction,
} from '../../src/public/index.js';
import { readFile, writeFile } from '../../src/public/control.js';
import { describeThrown } from '../../src/core/index.js';

const throwingGetter = (): Error => {
  const e = new Error('hidden');
  Object.defineProperty(e, 'message', { get() { throw new Error('message getter'); } });
  return e;
};
const throwingName = (): Error => {
  const e = new TypeError('kept');
  Object.defineProperty(e, 'name', { get() { throw new Error('name getter'); } });
  return e;
};
const trapAll = (): object => new Proxy(new Error('behind a proxy'), {
  get() { throw new Error('get trap'); },
  getPrototypeOf() { throw new Error('getPrototypeOf trap'); },
  has() { throw new Error('has trap'); },
  ownKeys() { throw new Error('ownKeys trap'); },
  getOwnPropertyDescriptor() { throw new Error('gOPD trap'); },
});
const revoked = (): object => {
  const r = Proxy.revocable({}, {});
  r.revoke();
  return r.proxy;
};
const badToString = (): object => ({ toString() { throw new Error('toString'); }, [Symbol.toPrimitive]() { throw new Error('toPrimitive'); } });

/** What each throws, and what opsErrors() keeps for it. */
const THROWN: [string, () => unknown, string][] = [
  ['Error with a throwing message getter', throwingGetter, 'a thrown object that cannot be described (its getters or proxy traps threw)'],
  ['Error with a throwing name getter', throwingName, 'a thrown object that cannot be described (its getters or proxy traps threw)'],
  ['Proxy whose traps throw', trapAll, 'a thrown object that cannot be described (its getters or proxy traps threw)'],
  ['revoked Proxy', revoked, 'a thrown object that cannot be described (its getters or proxy traps threw)'],
  ['object whose toString throws', badToString, 'a thrown object that cannot be described (its getters or proxy traps threw)'],
  ['symbol', () => Symbol('sym'), 'Symbol(sym)'],
  ['null', () => null, 'null'],
  ['plain Error', () => new RangeError('plain'), 'RangeError: plain'],
  ['Error with a huge multi-line message', () => new Error(`a\n${'x'.repeat(100_000)}`), `Error: a ${'x'.repeat(512 - 'Error: a\n'.length)}`],
];

function thisThread(): { callbackErrors: number } {
  return listThreads().find((t) => t.state === 'alive')!;
}

test('describeThrown never throws and says what it can', () => {
  for (const [what, make, expect] of THROWN) assert.equal(describeThrown(make()), expect, what);
  assert.equal(describeThrown(undefined), 'undefined');
  assert.equal(describeThrown(12n), '12');
});

test('a callback throwing any value: the call goes on, counted, described, in error_log; one ops and the list function', async () => {
  let k = 0;
  for (const [what, make, expect] of THROWN) {
    for (const path of ['one ops', 'list'] as const) {
      k++;
      const obj = { f(x: number): number { return x + 1; }, async a(x: number): Promise<number> { await null; return x * 2; } };
      attach(obj, 'f', { name: `thrown:${k}:f` });
      attach(obj, 'a', { name: `thrown:${k}:a` });
      const name = `thrower${k}`;
      const bad = createOps({
        name,
        func: () => { throw make(); },
        retfunc: () => { throw make(); },
        suspend: () => { throw make(); },
        resume: () => { throw make(); },
      });
      await ftraceSetFilter(bad, `thrown:${k}:*`);
      await registerFtraceFunction(bad);
      const other = createOps({ name: `bystander${k}`, func: () => undefined });
      if (path === 'list') {
        await ftraceSetFilter(other, `thrown:${k}:*`);
        await registerFtraceFunction(other);
      }
      await writeFile('error_log', '');
      const before = thisThread().callbackErrors;
      // entry + exit of each.
      assert.equal(obj.f(1), 2, `${what} (${path})`);
      assert.equal(await obj.a(3), 6, `${what} (${path})`);
      assert.equal(thisThread().callbackErrors - before, 4, `${what} (${path})`);
      assert.deepEqual(opsErrors(bad), { count: 4, first: expect }, `${what} (${path})`);
      const log = await readFile('error_log');
      const heads = log.split('\n').filter((l) => / callback: error: /.test(l));
      assert.equal(heads.length, 1, `${what} (${path}): ${log}`);
      assert.ok(heads[0]!.endsWith(`callback: error: ops "${name}" threw in thread 0: ${expect}; the traced call went on`), heads[0]);
      if (path === 'list') await unregisterFtraceFunction(other);
      await unregisterFtraceFunction(bad);
    }
  }
});

test('a direct trampoline throwing a revoked Proxy: the call goes on, counted, in error_log', async () => {
  const obj = { g(x: number): number { return x * 5; } };
  attach(obj, 'g', { name: 'thrown:direct:g' });
  const direct = createOps({ name: 'direct-thrower' });
  await ftraceSetFilter(direct, 'thrown:direct:g');
  const tramp = { entry: (): void => { throw revoked(); }, exit: (): void => { throw trapAll(); } };
  await registerFtraceDirect(direct, tramp);
  await writeFile('error_log', '');
  const before = thisThread().callbackErrors;
  assert.equal(obj.g(2), 10);
  assert.equal(thisThread().callbackErrors - before, 2);
  const log = await readFile('error_log');
  assert.match(log, /callback: error: trampoline "[^"]+" threw in thread 0: a thrown object that cannot be described/);
  await unregisterFtraceDirect(direct, tramp);
});
