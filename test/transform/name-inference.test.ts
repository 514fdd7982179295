// The model of V8's name inference the transform keeps its insertions
// neutral with (src/instrument/name-inference.ts): how many functions may
// wait for a name at a point of the source, whether anything names them
// later, and how many drops a copied return value makes. What the model
// claims is checked against V8 itself in the corpus (inferred-names.cjs,
// frame-names.cjs); here, its answers on small programs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModule } from '../../src/instrument/parse.js';
import { drops, held, waitingAt } from '../../src/instrument/name-inference.js';

type Node = { type: string; start: number; end: number; [k: string]: unknown };

function parse(code: string): Node {
  return parseModule(code, 'commonjs') as unknown as Node;
}

/** The waiting bound just before the first occurrence of `marker` in `code`. */
function before(code: string, marker: string): number {
  const at = code.indexOf(marker);
  assert.ok(at >= 0, marker);
  return waitingAt(parse(code)).before(at);
}

test('an anonymous function waits until an assignment names it or a call drops it', () => {
  const code = 'const v = [() => 1, () => { A; f(); B; x = 1; C }, D]';
  assert.equal(before(code, 'A'), 1, 'the first arrow waits in the second one');
  assert.equal(before(code, 'B'), 0, 'the call dropped it');
  assert.equal(before(code, 'C'), 0);
  assert.equal(before(code, 'D'), 1, 'the second arrow waits after it');
  const named = 'const v = [() => 1, () => { x = 1; A }]';
  assert.equal(before(named, 'A'), 0, 'the assignment named it');
  const newOnly = 'const v = [() => 1, () => { new F(); t`x`; A }]';
  assert.equal(before(newOnly, 'A'), 1, 'new and tagged templates neither name nor drop');
});

test('a function body is read apart unless the function is in parentheses; an arrow body with the code around', () => {
  assert.equal(before('const v = [() => 1, function () { A }]', 'A'), 0);
  assert.equal(before('const v = [() => 1, (function () { A })]', 'A'), 1);
  assert.equal(before('const v = [() => 1, function () { x = 1 }, B]', 'B'), 2, 'what a body read apart does is not seen outside');
  assert.equal(before('class K { m() { A } }', 'A'), 0);
});

test('members of object literals and classes name what waits, computed ones do not', () => {
  assert.equal(before('const v = [() => 1, () => { ({ a: 1 }); A }]', 'A'), 0);
  assert.equal(before('const v = [() => 1, () => { ({ [k]: 1 }); A }]', 'A'), 1);
  assert.equal(before('const v = [() => 1, () => { ({ m() {} }); A }]', 'A'), 0);
});

test('after(node) counts what the node does, not what the constructs ending with it do', () => {
  const code = 'const v = [() => f()]';
  const program = parse(code);
  const w = waitingAt(program);
  const call = { start: code.indexOf('f()'), end: code.indexOf('f()') + 3 };
  assert.equal(w.after(call), 0, 'the arrow ending at the same place is not added yet');
  assert.equal(w.before(code.length), 0, 'the declaration named it');
});

test('namedAfter: only a naming between the offset and the end counts', () => {
  const code = 'function g() { const a = [() => 1]; A; }\nx = 1';
  const w = waitingAt(parse(code));
  const g = code.indexOf('}') + 1;
  assert.equal(w.namedAfter(code.indexOf('A'), g), false);
  assert.equal(w.namedAfter(code.indexOf('A'), code.length), true);
});

test('drops counts calls, compound assignments and assignments of calls; held writes placeholders only where needed', () => {
  const expr = (src: string): Node => ((parse(src)['body'] as Node[])[0]!['expression'] as Node);
  assert.equal(drops(expr('a(b(c))')), 2);
  assert.equal(drops(expr('x += f()')), 2);
  assert.equal(drops(expr('x = f()')), 2);
  assert.equal(drops(expr('x = y')), 0);
  assert.equal(drops(expr('new F(g())')), 1);
  assert.equal(held(2, true, '$Jt'), '0&&(()=>0)&&(()=>0)||$Jt');
  assert.equal(held(2, false, '$Jt'), '$Jt');
  assert.equal(held(0, true, '$Jt'), '$Jt');
});
