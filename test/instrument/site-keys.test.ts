// Each site reads its own key (a field of the one global, shared/site-abi.ts):
// attaching to one function turns on that function's key only, the
// program's own files and its dependencies read separate keys, and a key
// goes off again when its last enabled site does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { installRuntime } from '../../src/instrument/runtime.js';
import { transformSource } from '../../src/instrument/transform.js';
import { KEY_GLOBAL, OWN_SITE_KEYS, SITE_KEYS, siteKeyOf, THROW_NOTE_STATE } from '../../src/shared/site-abi.js';
import * as jf from '../../src/public/index.js';

installRuntime();
const keys = (globalThis as unknown as Record<string, Record<string, boolean>>)[KEY_GLOBAL]!;

/** Transforms and runs a CommonJS module; returns its exports and its tag. */
function load(code: string, file: string, pkg: string): { exports: Record<string, () => number>; tag: string; out: string } {
  const out = transformSource({ code, filename: `/virtual/${pkg || 'app'}/${file}`, format: 'commonjs', file, package: pkg }).code;
  const tag = /\$JB([0-9a-z]{8})/.exec(out)![1]!;
  const module = { exports: {} as Record<string, () => number> };
  (vm.runInThisContext(`(function (module, exports) {${out}\n})`) as (m: unknown, e: unknown) => void)(module, module.exports);
  return { exports: module.exports, tag, out };
}

const on = (): number[] => Array.from({ length: SITE_KEYS }, (_, b) => b).filter((b) => keys[`k${b}`] === true);

test('the key of each site: from the tag and the index, own files and dependencies apart', () => {
  for (const tag of ['00000000', 'zzzzzzzz', '1a2b3c4d', 'q9x8y7w6']) {
    for (let k = 0; k < 2000; k += 37) {
      const own = siteKeyOf(tag, true, k);
      const dep = siteKeyOf(tag, false, k);
      assert.ok(own >= 0 && own < OWN_SITE_KEYS, `own ${own}`);
      assert.ok(dep >= OWN_SITE_KEYS && dep < SITE_KEYS, `dependency ${dep}`);
      // Consecutive functions of a module read consecutive keys.
      assert.equal(siteKeyOf(tag, false, k + 1), dep + 1 === SITE_KEYS ? OWN_SITE_KEYS : dep + 1);
    }
  }
  const { out, tag } = load('function a() { return 1; }\nfunction b() { return 2; }\nmodule.exports = { a, b };\n', 'lib/k.js', 'keysdep');
  const read = [...out.matchAll(new RegExp(`\\${KEY_GLOBAL}\\.k(\\d+)&&`, 'g'))].map((m) => Number(m[1]));
  assert.deepEqual(read, [siteKeyOf(tag, false, 0), siteKeyOf(tag, false, 1)]);
});

test('attaching to one function turns on its key alone; detaching turns it off', async () => {
  const dep = load('function one() { return 1; }\nfunction two() { return 2; }\nfunction three() { return 3; }\n'
    + 'module.exports = { one, two, three };\n', 'lib/a.js', 'keysdep2');
  const own = load('function main() { return 4; }\nmodule.exports = { main };\n', 'src/main.js', '');
  assert.deepEqual(on(), []);
  assert.equal(keys['on'], false);
  let calls = 0;
  const ops = jf.createOps({ name: 'keys-two', func: () => { calls++; } });
  await jf.ftraceSetFilter(ops, 'lib/a.js:two');
  await jf.registerFtraceFunction(ops);
  try {
    assert.deepEqual(on(), [siteKeyOf(dep.tag, false, 1)]);
    assert.equal(keys['on'], true);
    assert.equal(dep.exports['one']!() + dep.exports['two']!() + dep.exports['three']!() + dep.exports['two']!(), 8);
    assert.equal(calls, 2);
    // The program's own files: their keys only.
    await jf.ftraceSetFilter(ops, 'src/*');
    assert.deepEqual(on(), [siteKeyOf(own.tag, true, 0)]);
    assert.equal(own.exports['main']!() + dep.exports['two']!(), 6);
    assert.equal(calls, 3);
  } finally {
    await jf.unregisterFtraceFunction(ops);
  }
  assert.deepEqual(on(), []);
  assert.equal(keys['on'], false);
  assert.equal(dep.exports['two']!(), 2);
  assert.equal(calls, 3);
});

test('the global is one read-only, non-enumerable property holding the keys', () => {
  const d = Object.getOwnPropertyDescriptor(globalThis, KEY_GLOBAL)!;
  assert.equal(d.enumerable, false);
  assert.equal(d.writable, false);
  assert.equal(d.configurable, false);
  // The keys, `on`, and what throws and catches note (site-abi.ts).
  assert.deepEqual(Object.keys(d.value as object).slice(SITE_KEYS), ['on', ...THROW_NOTE_STATE]);
  assert.equal(Object.keys(d.value as object).length, SITE_KEYS + 1 + THROW_NOTE_STATE.length);
  assert.ok(!Object.keys(globalThis).includes(KEY_GLOBAL));
});
