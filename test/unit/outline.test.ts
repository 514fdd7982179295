// The entry points a site calls on every traced call (leave, the list
// function, the handlers of ops called directly) are compiled once and
// called: V8 must not inline them, with what they inline, into every
// optimised traced function (docs/design.md, "Sites call their handlers").
// Checked on V8's own inlining trace, for each kind of handler.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const index = new URL('../../src/public/index.js', import.meta.url).href;

const script = `
import * as jf from ${JSON.stringify(index)};
const a = jf.defineSite({ name: 'outline:a' });
const b = jf.defineSite({ name: 'outline:b' });
const c = jf.defineSite({ name: 'outline:c' });
const d = jf.defineSite({ name: 'outline:d' });
const { words, targetBase, handlers: H } = jf.siteAbi();
const leave = jf.leave;
let n = 0;
const reg = async (glob, o) => { await jf.ftraceSetFilter(o, glob); await jf.registerFtraceFunction(o); };
await reg('outline:a', jf.createOps({ name: 'exit', flags: jf.OPS_FL.RECURSION, func: () => { n++; }, retfunc: () => { n++; } }));
await reg('outline:b', jf.createOps({ name: 'plain', func: () => { n++; } }));
await reg('outline:c', jf.createOps({ name: 'list1', func: () => { n++; } }));
await reg('outline:c', jf.createOps({ name: 'list2', func: () => { n++; } }));
await reg('outline:d', jf.createOps({ name: 'guarded', flags: jf.OPS_FL.RECURSION, func: () => { n++; } }));
function siteA(x) { const t = words[targetBase + a]; const k = t !== 0 ? H[t](a, this, null) : 0; const r = (x * 31 + 7) | 0; return k !== 0 ? leave(k, r) : r; }
function siteB(x) { const t = words[targetBase + b]; const k = t !== 0 ? H[t](b, this, null) : 0; const r = (x * 31 + 7) | 0; return k !== 0 ? leave(k, r) : r; }
function siteC(x) { const t = words[targetBase + c]; const k = t !== 0 ? H[t](c, this, null) : 0; const r = (x * 31 + 7) | 0; return k !== 0 ? leave(k, r) : r; }
function siteD(x) { const t = words[targetBase + d]; const k = t !== 0 ? H[t](d, this, null) : 0; const r = (x * 31 + 7) | 0; return k !== 0 ? leave(k, r) : r; }
let x = 1;
for (let i = 0; i < 300000; i++) x = siteD(siteC(siteB(siteA(x))));
console.log('calls ' + n);
`;

test('V8 does not inline leave, the list function or an ops handler into a site', () => {
  const r = spawnSync(process.execPath, ['--trace-turbo-inlining', '--no-concurrent-recompilation', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout + r.stderr;
  assert.match(out, /^calls 1800000$/m);
  const names = ['leave', 'listEnter', 'opsEnter', 'opsEnterExit'];
  for (const name of names) {
    // Each was a call target of an optimised site, and was refused.
    assert.match(out, new RegExp(`Cannot consider .*<SharedFunctionInfo ${name}>`), `${name} never came up for inlining`);
  }
  const inlined = out.split('\n').filter((l) => new RegExp(`^Inlining .*<SharedFunctionInfo (${names.join('|')})>\\}? into`).test(l));
  assert.deepEqual(inlined, []);
});
