// The filter glob grammar (ftrace's filter_parse_regex + glob_match):
// classification into the kernel's match classes, matching over names
// that contain `/` and `:` (our site names look like
// `src/app.ts:Router.handle`), token parsing (`!`, indices, `:mod:`), and
// malformed globs. Pure functions: no tracing instance is needed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MATCH_ALL, MATCH_END, MATCH_FRONT, MATCH_FULL, MATCH_GLOB, MATCH_INDEX, MATCH_MIDDLE,
  compileGlob, globSteps, parseToken, tokenMatches, type FilterToken,
} from '../../src/core/glob.js';
import { JsftraceError } from '../../src/shared/errors.js';
import { prng } from '../ring/support.js';

function isErr(code: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof JsftraceError, `expected a JsftraceError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  };
}

const KIND_NAMES = ['FULL', 'FRONT', 'END', 'MIDDLE', 'GLOB', 'INDEX', 'ALL'];
assert.equal(KIND_NAMES[MATCH_INDEX], 'INDEX');

test('compileGlob classifies like filter_parse_regex', () => {
  const cases: Array<[string, number, string]> = [
    ['abc', MATCH_FULL, 'abc'],
    ['src/app.ts:Router.handle', MATCH_FULL, 'src/app.ts:Router.handle'],
    ['abc*', MATCH_FRONT, 'abc'],
    ['src/*', MATCH_FRONT, 'src/'],
    ['*abc', MATCH_END, 'abc'],
    ['*:Router.handle', MATCH_END, ':Router.handle'],
    ['*abc*', MATCH_MIDDLE, 'abc'],
    ['*/lib/*', MATCH_MIDDLE, '/lib/'],
    // `**`: the kernel sees a leading and a trailing star (MIDDLE, empty text).
    ['**', MATCH_MIDDLE, ''],
    // A star anywhere else, `?`, `[` or a backslash: full glob.
    ['sch*ule', MATCH_GLOB, 'sch*ule'],
    ['*a*b', MATCH_GLOB, '*a*b'],
    ['a*b*', MATCH_GLOB, 'a*b*'],
    ['a**', MATCH_GLOB, 'a**'],
    ['***', MATCH_GLOB, '***'],
    ['[Ss]y[Ss]_*', MATCH_GLOB, '[Ss]y[Ss]_*'],
    ['sch?dule', MATCH_GLOB, 'sch?dule'],
    ['a\\*b', MATCH_GLOB, 'a\\*b'],
    ['abc\\d', MATCH_GLOB, 'abc\\d'],
    ['?', MATCH_GLOB, '?'],
    ['*', MATCH_ALL, ''],
    ['', MATCH_ALL, ''],
  ];
  for (const [glob, kind, text] of cases) {
    const m = compileGlob(glob);
    assert.equal(KIND_NAMES[m.kind], KIND_NAMES[kind], `kind of ${JSON.stringify(glob)}`);
    assert.equal(m.text, text, `text of ${JSON.stringify(glob)}`);
  }
});

const NAMES = [
  'schedule',
  '__schedule',
  'schedule_timeout',
  'preempt_schedule',
  'schXdule',
  'sch/dule',
  'sch:dule',
  'sched',
  'src/app.ts:Router.handle',
  'src/app.ts:Router.handle2',
  'src/app.ts:Router.use',
  'src/lib/db.ts:query',
  'lib/app.ts:main',
  'Src/App.ts:x',
  'src/a.b',
  'src/aXb',
  'a*b',
  'a?b',
  '[x]',
  'x]',
  'a\\b',
  'SyS_read',
  'sys_read',
  'Sys_write',
];

test('matching results over names with / and :', () => {
  const cases: Array<[string, string[]]> = [
    ['src/app.ts:Router.handle', ['src/app.ts:Router.handle']],
    ['src/*', ['src/app.ts:Router.handle', 'src/app.ts:Router.handle2', 'src/app.ts:Router.use', 'src/lib/db.ts:query', 'src/a.b', 'src/aXb']],
    ['*.handle', ['src/app.ts:Router.handle']],
    ['*Router*', ['src/app.ts:Router.handle', 'src/app.ts:Router.handle2', 'src/app.ts:Router.use']],
    ['*app.ts:*', ['src/app.ts:Router.handle', 'src/app.ts:Router.handle2', 'src/app.ts:Router.use', 'lib/app.ts:main']],
    // `*` matches any run of characters, `/` and `:` included.
    ['src*query', ['src/lib/db.ts:query']],
    ['*/*:*', ['src/app.ts:Router.handle', 'src/app.ts:Router.handle2', 'src/app.ts:Router.use', 'src/lib/db.ts:query', 'lib/app.ts:main', 'Src/App.ts:x']],
    ['src/app.ts:Router.*e', ['src/app.ts:Router.handle', 'src/app.ts:Router.use']],
    // Regular-expression characters in a glob are literal.
    ['src/a.b', ['src/a.b']],
    ['src/a?b', ['src/a.b', 'src/aXb']],
    // `?` matches exactly one character, `/` and `:` included.
    ['sch?dule', ['schedule', 'schXdule', 'sch/dule', 'sch:dule']],
    ['sch*ule', ['schedule', 'schXdule', 'sch/dule', 'sch:dule']],
    ['*schedule', ['schedule', '__schedule', 'preempt_schedule']],
    ['schedule*', ['schedule', 'schedule_timeout']],
    ['*schedule*', ['schedule', '__schedule', 'schedule_timeout', 'preempt_schedule']],
    ['[Ss]rc/*', ['src/app.ts:Router.handle', 'src/app.ts:Router.handle2', 'src/app.ts:Router.use', 'src/lib/db.ts:query', 'Src/App.ts:x', 'src/a.b', 'src/aXb']],
    ['[!s]rc/*', ['Src/App.ts:x']],
    ['[Ss]y[Ss]_*', ['SyS_read', 'sys_read', 'Sys_write']],
    ['[A-Z]y?_*', ['SyS_read', 'Sys_write']],
    ['x[]]', ['x]']],
    ['[]x]]', ['x]']],
    // Backslash escapes the next character.
    ['a\\*b', ['a*b']],
    ['a\\?b', ['a?b']],
    ['\\[x]', ['[x]']],
    ['a\\\\b', ['a\\b']],
    ['\\s\\c\\h\\e\\d', ['sched']],
    ['*', NAMES],
    ['', NAMES],
    ['**', NAMES],
    ['nothing', []],
  ];
  for (const [glob, expected] of cases) {
    const m = compileGlob(glob);
    assert.deepEqual(NAMES.filter((n) => m.test(n)), expected, `names matched by ${JSON.stringify(glob)}`);
  }
});

test('a `]` right after `[!` is a member of the class, as in glob_match', () => {
  // lib/glob.c: inverted = (*pat == '!'); the first span after it may be ']'.
  // So `x[!]]` is `x` then one character that is not `]`.
  const m = compileGlob('x[!]]');
  assert.equal(m.test('xa'), true);
  assert.equal(m.test('x]'), false);
  assert.equal(m.test('xa]'), false);
});

test('malformed globs are EINVAL', () => {
  for (const bad of ['abc[de', 'abc[', '[', '[]', 'abc\\', '\\', 'src/*[a-']) {
    assert.throws(() => compileGlob(bad), isErr('EINVAL'), JSON.stringify(bad));
    assert.throws(() => parseToken(bad), isErr('EINVAL'), `parseToken ${JSON.stringify(bad)}`);
  }
  // In the package part too.
  assert.throws(() => parseToken('foo:mod:bar['), isErr('EINVAL'));
  assert.throws(() => parseToken('foo:mod:bar\\'), isErr('EINVAL'));
});

function summary(t: FilterToken): unknown {
  return {
    source: t.source,
    negate: t.negate,
    kind: KIND_NAMES[t.func.kind],
    text: t.func.text,
    mod: t.mod === null ? null : { negate: t.mod.negate, kind: KIND_NAMES[t.mod.match.kind], text: t.mod.match.text },
    index: t.index,
  };
}

test('parseToken: `!`, globs and indices', () => {
  assert.deepEqual(summary(parseToken('foo*')), { source: 'foo*', negate: false, kind: 'FRONT', text: 'foo', mod: null, index: -1 });
  assert.deepEqual(summary(parseToken('!foo*')), { source: '!foo*', negate: true, kind: 'FRONT', text: 'foo', mod: null, index: -1 });
  assert.deepEqual(summary(parseToken('!src/app.ts:Router.handle')),
    { source: '!src/app.ts:Router.handle', negate: true, kind: 'FULL', text: 'src/app.ts:Router.handle', mod: null, index: -1 });
  assert.deepEqual(summary(parseToken('!*')), { source: '!*', negate: true, kind: 'ALL', text: '', mod: null, index: -1 });
  // A number is a 1-based index into available_filter_functions.
  assert.deepEqual(summary(parseToken('3')), { source: '3', negate: false, kind: 'INDEX', text: '3', mod: null, index: 2 });
  assert.deepEqual(summary(parseToken('1')), { source: '1', negate: false, kind: 'INDEX', text: '1', mod: null, index: 0 });
  assert.deepEqual(summary(parseToken('!12')), { source: '!12', negate: true, kind: 'INDEX', text: '12', mod: null, index: 11 });
  assert.throws(() => parseToken('0'), isErr('EINVAL'));
  assert.throws(() => parseToken('!0'), isErr('EINVAL'));
  assert.throws(() => parseToken('000'), isErr('EINVAL'));
  assert.throws(() => parseToken(''), isErr('EINVAL'));
});

test('parseToken: `:mod:` with package globs, `!` and an empty package glob', () => {
  assert.deepEqual(summary(parseToken('foo*:mod:express')),
    { source: 'foo*:mod:express', negate: false, kind: 'FRONT', text: 'foo', mod: { negate: false, kind: 'FULL', text: 'express' }, index: -1 });
  assert.deepEqual(summary(parseToken('!*:mod:!express')),
    { source: '!*:mod:!express', negate: true, kind: 'ALL', text: '', mod: { negate: true, kind: 'FULL', text: 'express' }, index: -1 });
  assert.deepEqual(summary(parseToken('*write*:mod:*snd*')),
    { source: '*write*:mod:*snd*', negate: false, kind: 'MIDDLE', text: 'write', mod: { negate: false, kind: 'MIDDLE', text: 'snd' }, index: -1 });
  assert.deepEqual(summary(parseToken('src/*:mod:@scope/p?g')),
    { source: 'src/*:mod:@scope/p?g', negate: false, kind: 'FRONT', text: 'src/', mod: { negate: false, kind: 'GLOB', text: '@scope/p?g' }, index: -1 });
  assert.deepEqual(summary(parseToken('foo:mod:')),
    { source: 'foo:mod:', negate: false, kind: 'FULL', text: 'foo', mod: { negate: false, kind: 'ALL', text: '' }, index: -1 });
  assert.deepEqual(summary(parseToken('*write*:mod:!*')),
    { source: '*write*:mod:!*', negate: false, kind: 'MIDDLE', text: 'write', mod: { negate: true, kind: 'ALL', text: '' }, index: -1 });
  // A name that contains `:` but not `:mod:` is all function glob.
  assert.deepEqual(summary(parseToken('src/app.ts:Router.*')),
    { source: 'src/app.ts:Router.*', negate: false, kind: 'FRONT', text: 'src/app.ts:Router.', mod: null, index: -1 });
});

// Records: [id, name, package]; '' is the program's own code (the kernel's
// core image, as opposed to a module).
const RECS: Array<[number, string, string]> = [
  [0, 'foo1', ''],
  [1, 'foo2', 'express'],
  [2, 'foo3', 'koa'],
  [3, 'bar', 'express'],
  [4, 'src/app.ts:foo', ''],
];

function matching(tokenSource: string): number[] {
  const tok = parseToken(tokenSource);
  return RECS.filter(([id, name, pkg]) => tokenMatches(tok, id, name, pkg)).map(([id]) => id);
}

test('tokenMatches: names, indices and packages', () => {
  assert.deepEqual(matching('foo*'), [0, 1, 2]);
  assert.deepEqual(matching('!foo*'), [0, 1, 2], '`!` does not change what a token selects');
  assert.deepEqual(matching('*foo'), [4]);
  assert.deepEqual(matching('3'), [2]);
  assert.deepEqual(matching('!1'), [0]);
  assert.deepEqual(matching('6'), []);
  assert.deepEqual(matching('foo*:mod:express'), [1]);
  assert.deepEqual(matching('*:mod:express'), [1, 3]);
  assert.deepEqual(matching('*:mod:e*'), [1, 3]);
  assert.deepEqual(matching('*:mod:*o*'), [2]);
  // `!` on the package glob: every record not in a matching package,
  // the program's own code included (the kernel includes core-kernel
  // records for `:mod:!ext3`).
  assert.deepEqual(matching('foo*:mod:!express'), [0, 2]);
  assert.deepEqual(matching('*:mod:!express'), [0, 2, 4]);
  assert.deepEqual(matching('!foo*:mod:koa'), [2]);
});

test('an empty (or `*`) package glob selects every package but not the program\'s own code; `!` selects only the own code', () => {
    // ftrace_match_module_record: for a blank module glob, match iff
    // (record has a module) xor exclude_mod; `*` parses to a blank search.
    assert.deepEqual(matching('foo*:mod:'), [1, 2]);
    assert.deepEqual(matching('*:mod:*'), [1, 2, 3]);
    assert.deepEqual(matching('foo*:mod:!'), [0]);
    assert.deepEqual(matching('*:mod:!*'), [0, 4]);
  });

// ---- linear-time matching ---------------------------------------------------

test('a glob that backtracks exponentially as a regular expression takes at most (n + 1) x (m + 2) steps', { timeout: 60_000 }, () => {
  // Compiled to /^.*a.*a.*a ... .*b$/, this glob against a run of `a`s tries
  // every way of placing ten `a`s: C(n, 10) ways, minutes for n = 60, never
  // ending for the n below. The timeout above only bounds a regression;
  // what is asserted is the step count.
  const glob = '*a*a*a*a*a*a*a*a*a*a*b';
  const m = compileGlob(glob);
  assert.equal(m.kind, MATCH_GLOB);
  const elements = 21; // 10 stars (a run counts once), 10 a, 1 b
  for (const n of [60, 1_000, 100_000]) {
    const name = 'a'.repeat(n);
    const before = globSteps();
    assert.equal(m.test(name), false);
    const used = globSteps() - before;
    assert.ok(used <= (n + 1) * (elements + 2), `n=${n}: ${used} steps`);
    // A matching name costs no more.
    const b = globSteps();
    assert.equal(m.test(`${name}b`), true);
    assert.ok(globSteps() - b <= (n + 2) * (elements + 2));
  }
  // Classes and `?` between the stars change nothing.
  const m2 = compileGlob('*[a]*?*[!b]*a*a*a*a*a*a*a*a*c');
  const before = globSteps();
  assert.equal(m2.test('a'.repeat(50_000)), false);
  assert.ok(globSteps() - before <= 50_001 * 25);
});

/** The glob as the regular expression main used to build: the oracle of the differential test. */
function oracle(glob: string): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '\\') {
      i++;
      if (i >= glob.length) throw new Error('lone backslash');
      re += glob[i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else if (c === '[') {
      let start = i + 1;
      const neg = glob[start] === '!';
      if (neg) start++;
      const close = glob.indexOf(']', start + 1);
      if (close < 0) throw new Error('unclosed');
      re += '[' + (neg ? '^' : '') + glob.slice(start, close).replace(/[\\\]^]/g, (x) => '\\' + x) + ']';
      i = close;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

test('matching agrees with the regular-expression reading on 20,000 seeded random globs and names', () => {
  const rand = prng(0x91ab);
  const pick = (alphabet: string, n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    return s;
  };
  const globChars = 'ab/:*?[]!-\\';
  const nameChars = 'ab/:]-[!*\\';
  let compared = 0;
  let refused = 0;
  for (let k = 0; k < 20_000; k++) {
    const glob = pick(globChars, 1 + Math.floor(rand() * 8));
    let re: RegExp | null = null;
    try {
      re = oracle(glob);
    } catch {
      re = null;
    }
    let m: ReturnType<typeof compileGlob> | null = null;
    try {
      m = compileGlob(glob);
    } catch (e) {
      assert.ok(e instanceof JsftraceError && e.code === 'EINVAL', `${JSON.stringify(glob)}: ${String(e)}`);
    }
    assert.equal(m === null, re === null, `both refuse or both accept ${JSON.stringify(glob)}`);
    if (m === null || re === null) {
      refused++;
      continue;
    }
    for (let j = 0; j < 5; j++) {
      const name = pick(nameChars, Math.floor(rand() * 10));
      assert.equal(m.test(name), re.test(name), `${JSON.stringify(glob)} on ${JSON.stringify(name)}`);
      compared++;
    }
  }
  // The draw covers both sides (figures fixed by the seed).
  assert.ok(compared > 40_000 && refused > 5_000, `${compared} compared, ${refused} refused`);
});

test('a reversed range is EINVAL; an index beyond int32 is EINVAL', () => {
  assert.throws(() => compileGlob('[z-a]'), isErr('EINVAL'));
  assert.throws(() => parseToken('2147483648'), isErr('EINVAL'));
  assert.equal(parseToken('2147483647').index, 2147483646);
});
