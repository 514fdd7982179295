// Filter and notrace sets through the public API (set_ftrace_filter and
// set_ftrace_notrace): empty = all, notrace wins, `!` removal, `>` and
// `>>`, EINVAL leaves everything unchanged, `:mod:` and its cached form,
// refiltering a registered ops, and the kselftest func-filter-glob.tc
// property. What an ops covers is read back from enabled_functions.
//
// The instance is per process: every test uses its own site names and
// unregisters its ops before it ends.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  JsftraceError, createOps, defineSite, defineSites, ftraceSetFilter, ftraceSetNotrace, readAvailableFilterFunctions,
  readEnabledFunctions, readTouchedFunctions, registerFtraceFunction, siteCount, unregisterFtraceFunction, OPS_FL,
  type FtraceOps,
} from '../../src/public/index.js';

function isErr(code: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof JsftraceError, `expected a JsftraceError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  };
}

/** The `name [package]` column of each record line of a view. */
function names(view: string): string[] {
  const out: string[] = [];
  for (const line of view.split('\n')) {
    if (line === '' || line.startsWith('\t')) continue;
    const m = /^(.*?) \(\d+\)/.exec(line);
    assert.ok(m !== null, `unexpected line ${JSON.stringify(line)}`);
    out.push(m[1]!);
  }
  return out;
}

function enabled(): string[] {
  return names(readEnabledFunctions());
}

function available(): string[] {
  return readAvailableFilterFunctions().split('\n').filter((l) => l !== '');
}

/** The name without its ` [package]`. */
function bare(display: string): string {
  return display.replace(/ \[[^\]]*\]$/, '');
}

function noop(): void { /* counts on the records only */ }

async function withRegistered(ops: FtraceOps, fn: () => Promise<void> | void): Promise<void> {
  await registerFtraceFunction(ops);
  try {
    await fn();
  } finally {
    await unregisterFtraceFunction(ops);
  }
}

test('nothing is enabled while no ops is registered', () => {
  assert.equal(readEnabledFunctions(), '');
});

test('an empty filter covers every function; notrace wins over the filter', async () => {
  defineSite({ name: 't1/a' });
  defineSite({ name: 't1/b', package: 'p1' });
  defineSite({ name: 't1/c' });
  const ops = createOps({ name: 'all1', func: noop });
  await withRegistered(ops, async () => {
    assert.deepEqual(enabled(), available(), 'an empty filter is "all functions"');
    await ftraceSetNotrace(ops, 't1/b');
    assert.deepEqual(enabled(), available().filter((n) => n !== 't1/b [p1]'));
    await ftraceSetFilter(ops, 't1/*');
    assert.deepEqual(enabled(), ['t1/a', 't1/c'], 't1/b is in both: notrace wins');
    await ftraceSetNotrace(ops, []);
    assert.deepEqual(enabled(), ['t1/a', 't1/b [p1]', 't1/c']);
    await ftraceSetFilter(ops, '');
    assert.deepEqual(enabled(), available(), 'an empty pattern list resets to "all functions"');
  });
  assert.equal(readEnabledFunctions(), '');
});

test('`!` removes from the filter in order; the last token that matches decides', async () => {
  for (const n of ['foo1', 'foo2', 'foo3', 'bar']) defineSite({ name: `t2/${n}` });
  const ops = createOps({ name: 'bang2', func: noop });
  await ftraceSetFilter(ops, ['t2/foo*', '!t2/foo2']);
  await withRegistered(ops, async () => {
    assert.deepEqual(enabled(), ['t2/foo1', 't2/foo3']);
    await ftraceSetFilter(ops, 't2/foo*   !t2/foo2\t!t2/foo3');
    assert.deepEqual(enabled(), ['t2/foo1'], 'one string holds whitespace-separated tokens');
    await ftraceSetFilter(ops, ['t2/foo*', '!t2/foo2', 't2/foo2']);
    assert.deepEqual(enabled(), ['t2/foo1', 't2/foo2', 't2/foo3']);
    // A `!` token that matches a defined function not in the filter is accepted.
    await ftraceSetFilter(ops, ['t2/foo1', '!t2/bar']);
    assert.deepEqual(enabled(), ['t2/foo1']);
  });
});

test('notrace: `!` removes from the notrace set too', async () => {
  for (const n of ['a', 'b', 'c']) defineSite({ name: `t11/${n}` });
  const ops = createOps({ name: 'nt11', func: noop });
  await ftraceSetFilter(ops, 't11/*');
  await ftraceSetNotrace(ops, ['t11/*', '!t11/b']);
  await withRegistered(ops, async () => {
    assert.deepEqual(enabled(), ['t11/b']);
    await ftraceSetNotrace(ops, 't11/c', { reset: false });
    assert.deepEqual(enabled(), ['t11/b']);
    await ftraceSetNotrace(ops, '!t11/a', { reset: false });
    assert.deepEqual(enabled(), ['t11/a', 't11/b']);
  });
});

test('reset: false appends (`>>`); the default replaces (`>`)', async () => {
  for (const n of ['a', 'b', 'c', 'd']) defineSite({ name: `t3/${n}` });
  const ops = createOps({ name: 'rs3', func: noop });
  // On an ops not registered yet.
  await ftraceSetFilter(ops, 't3/a');
  await ftraceSetFilter(ops, 't3/b', { reset: false });
  assert.deepEqual(ops.filters.filter.sources, ['t3/a', 't3/b']);
  await withRegistered(ops, async () => {
    assert.deepEqual(enabled(), ['t3/a', 't3/b']);
    await ftraceSetFilter(ops, ['t3/c'], { reset: false });
    assert.deepEqual(enabled(), ['t3/a', 't3/b', 't3/c']);
    await ftraceSetFilter(ops, '!t3/b', { reset: false });
    assert.deepEqual(enabled(), ['t3/a', 't3/c']);
    await ftraceSetFilter(ops, 't3/d', { reset: true });
    assert.deepEqual(enabled(), ['t3/d']);
    await ftraceSetFilter(ops, 't3/c');
    assert.deepEqual(enabled(), ['t3/c'], 'the default is reset');
    assert.deepEqual(ops.filters.filter.sources, ['t3/c']);
  });
});

test('removing every function the filter added leaves a filter that covers nothing (not "all functions")', async () => {
  // The kernel differs here: its hash becomes empty, which reads as "all
  // functions". The filter here is kept as patterns (filter.ts), so a
  // later `t12/*` site stays removed too. Documented, not a kernel copy.
  for (const n of ['a', 'b']) defineSite({ name: `t12/${n}` });
  const ops = createOps({ name: 'rm12', func: noop });
  await ftraceSetFilter(ops, 't12/*');
  await ftraceSetFilter(ops, '!t12/*', { reset: false });
  await withRegistered(ops, () => {
    assert.deepEqual(enabled(), []);
  });
});

test('a token that matches nothing is EINVAL and changes nothing', async () => {
  for (const n of ['a', 'b']) defineSite({ name: `t4/${n}` });
  const ops = createOps({ name: 'inval4', func: noop });
  // Unregistered ops: its sets are unchanged.
  await assert.rejects(ftraceSetFilter(ops, ['t4/a', 't4/nothing']), isErr('EINVAL'));
  assert.deepEqual(ops.filters.filter.sources, []);
  await ftraceSetFilter(ops, 't4/a');
  await ftraceSetNotrace(ops, 't4/b');
  await withRegistered(ops, async () => {
    const before = [readEnabledFunctions(), readTouchedFunctions()];
    assert.deepEqual(enabled(), ['t4/a']);
    const bad: Array<[string | string[], boolean]> = [
      [['t4/b', 't4/nothing'], true],
      [['t4/b', 't4/nothing'], false],
      ['t4/b t4/nothing*', true],
      [['!t4/nothing'], false],
      [['t4/b', 't4/['], true],
      [['t4/b', 't4/x\\'], true],
      [['t4/b', '0'], true],
      [['t4/b', String(siteCount() + 1)], true],
      [['t4/b', 't4/nothing:mod:'], true],
      [['t4/b', 'nothing:mod:p1'], true],
    ];
    for (const [patterns, reset] of bad) {
      await assert.rejects(ftraceSetFilter(ops, patterns, { reset }), isErr('EINVAL'), JSON.stringify(patterns));
      await assert.rejects(ftraceSetNotrace(ops, patterns, { reset }), isErr('EINVAL'), JSON.stringify(patterns));
    }
    assert.deepEqual(ops.filters.filter.sources, ['t4/a']);
    assert.deepEqual(ops.filters.notrace.sources, ['t4/b']);
    assert.deepEqual([readEnabledFunctions(), readTouchedFunctions()], before);
  });
  // Not strings at all.
  await assert.rejects(ftraceSetFilter(ops, [42 as unknown as string]), isErr('EINVAL'));
  await assert.rejects(ftraceSetFilter({} as FtraceOps, 't4/a'), isErr('EINVAL'));
});

test('a number selects by 1-based index into available_filter_functions', async () => {
  const a = defineSite({ name: 't5/a' });
  const b = defineSite({ name: 't5/b' });
  const c = defineSite({ name: 't5/c' });
  assert.deepEqual(available().slice(a, c + 1), ['t5/a', 't5/b', 't5/c'], 'line N+1 is site id N');
  const ops = createOps({ name: 'idx5', func: noop });
  await ftraceSetFilter(ops, [String(a + 1), String(c + 1)]);
  await withRegistered(ops, async () => {
    assert.deepEqual(enabled(), ['t5/a', 't5/c']);
    await ftraceSetFilter(ops, ['t5/*', `!${b + 1}`]);
    assert.deepEqual(enabled(), ['t5/a', 't5/c']);
    await ftraceSetFilter(ops, `${b + 1}`, { reset: false });
    assert.deepEqual(enabled(), ['t5/a', 't5/b', 't5/c']);
  });
});

test('`:mod:` selects by package', async () => {
  defineSite({ name: 't6/a', package: 'pkgA' });
  defineSite({ name: 't6/b', package: 'pkgB' });
  defineSite({ name: 't6/c' });
  defineSite({ name: 't6/d', package: 'pkgA' });
  const ops = createOps({ name: 'mod6', func: noop });
  await ftraceSetFilter(ops, 't6/*:mod:pkgA');
  await withRegistered(ops, async () => {
    assert.deepEqual(enabled(), ['t6/a [pkgA]', 't6/d [pkgA]']);
    await ftraceSetFilter(ops, 't6/*:mod:!pkgA');
    assert.deepEqual(enabled(), ['t6/b [pkgB]', 't6/c'], '`!pkg`: every other package and the own code');
    await ftraceSetFilter(ops, 't6/*:mod:pkg?');
    assert.deepEqual(enabled(), ['t6/a [pkgA]', 't6/b [pkgB]', 't6/d [pkgA]']);
    await ftraceSetFilter(ops, ['t6/*:mod:pkg*', '!t6/a:mod:pkgA']);
    assert.deepEqual(enabled(), ['t6/b [pkgB]', 't6/d [pkgA]']);
    // A package that is loaded but has no such function: EINVAL.
    await assert.rejects(ftraceSetFilter(ops, 't6/c:mod:pkgA'), isErr('EINVAL'));
    assert.deepEqual(enabled(), ['t6/b [pkgB]', 't6/d [pkgA]']);
  });
});

test('`:mod:` with an empty package glob selects packages only; `:mod:!` selects the own code only', async () => {
    defineSite({ name: 't13/a', package: 'pkg13' });
    defineSite({ name: 't13/b' });
    const ops = createOps({ name: 'mod13', func: noop });
    await ftraceSetFilter(ops, 't13/*:mod:');
    await withRegistered(ops, async () => {
      assert.deepEqual(enabled(), ['t13/a [pkg13]']);
      await ftraceSetFilter(ops, 't13/*:mod:!');
      assert.deepEqual(enabled(), ['t13/b']);
    });
  });

test('`:mod:` naming a package with no sites yet is kept; its sites are covered when they are defined', async () => {
  defineSite({ name: 't7/own' });
  const ops = createOps({ name: 'late7', func: noop });
  await ftraceSetFilter(ops, ['t7/*:mod:late7', 't7/y:mod:later7']);
  assert.deepEqual(ops.filters.filter.sources, ['t7/*:mod:late7', 't7/y:mod:later7']);
  await withRegistered(ops, async () => {
    assert.deepEqual(enabled(), [], 'a cached `:mod:` is an active filter: nothing else is covered');
    defineSites('t7-block-1', [
      { name: 't7/x', package: 'late7' },
      { name: 't7/y', package: 'late7' },
      { name: 't7/z', package: 'other7' },
    ]);
    assert.deepEqual(enabled(), ['t7/x [late7]', 't7/y [late7]']);
    defineSite({ name: 't7/y', package: 'later7', file: 'y.js' });
    defineSite({ name: 't7/w', package: 'later7', file: 'w.js' });
    assert.deepEqual(enabled(), ['t7/x [late7]', 't7/y [late7]', 't7/y [later7]']);
    // The block key finds the same ids again: nothing new.
    const again = defineSites('t7-block-1', [
      { name: 't7/x', package: 'late7' },
      { name: 't7/y', package: 'late7' },
      { name: 't7/z', package: 'other7' },
    ]);
    assert.equal(available()[again], 't7/x [late7]');
    assert.deepEqual(enabled(), ['t7/x [late7]', 't7/y [late7]', 't7/y [later7]']);
  });
});

test('patterns, not lists: a site defined later is covered by a registered ops whose filter matches it', async () => {
  defineSite({ name: 't9/a' });
  defineSite({ name: 't9/keep' });
  defineSite({ name: 't9/n0' });
  const ops = createOps({ name: 'pat9', func: noop });
  await ftraceSetFilter(ops, 't9/*');
  await ftraceSetNotrace(ops, 't9/n*');
  await withRegistered(ops, () => {
    assert.deepEqual(enabled(), ['t9/a', 't9/keep']);
    defineSite({ name: 't9/b' });
    defineSite({ name: 't9/no' });
    defineSite({ name: 'x9/c' });
    assert.deepEqual(enabled(), ['t9/a', 't9/keep', 't9/b']);
  });
  assert.equal(readEnabledFunctions(), '');
});

test('a filter set while registered re-targets the sites', async () => {
  for (const n of ['a', 'b', 'c']) defineSite({ name: `t8/${n}` });
  const ops = createOps({ name: 'ret8', func: noop });
  const other = createOps({ name: 'other8', func: noop, flags: OPS_FL.ARGS });
  await ftraceSetFilter(ops, 't8/a');
  await ftraceSetFilter(other, 't8/c');
  await registerFtraceFunction(other);
  try {
    await withRegistered(ops, async () => {
      assert.equal(readEnabledFunctions(),
        't8/a (1)       O   \tops: ret8 (ret8)\n'
        + 't8/c (1) R     O   \tops: other8 (other8)\n');
      await ftraceSetFilter(ops, 't8/[bc]');
      assert.equal(readEnabledFunctions(),
        't8/b (1)       O   \tops: ret8 (ret8)\n'
        + 't8/c (2) R         \n');
      assert.ok(readTouchedFunctions().includes('t8/a (0)           \n'), 't8/a was touched and is now nop');
      await ftraceSetFilter(ops, 't8/a', { reset: false });
      assert.deepEqual(enabled(), ['t8/a', 't8/b', 't8/c']);
    });
    assert.equal(readEnabledFunctions(), 't8/c (1) R     O   \tops: other8 (other8)\n');
  } finally {
    await unregisterFtraceFunction(other);
  }
  assert.equal(readEnabledFunctions(), '');
});

test('an unregistered ops keeps its filter and applies it when registered again', async () => {
  for (const n of ['a', 'b']) defineSite({ name: `t10/${n}` });
  const ops = createOps({ name: 'again10', func: noop });
  await ftraceSetFilter(ops, 't10/b');
  await withRegistered(ops, () => assert.deepEqual(enabled(), ['t10/b']));
  assert.deepEqual(enabled(), []);
  await ftraceSetFilter(ops, 't10/a', { reset: false });
  await withRegistered(ops, () => assert.deepEqual(enabled(), ['t10/a', 't10/b']));
});

// kselftest ftrace/func-filter-glob.tc: set_ftrace_filter equals
// available_filter_functions filtered by the equivalent regular expression.
const CORPUS: Array<[string, string]> = [
  ['schedule', ''], ['__schedule', ''], ['schedule_timeout', ''], ['schedule_hrtimeout_range', ''],
  ['schedule_tail', ''], ['preempt_schedule', ''], ['preempt_schedule_irq', ''], ['io_schedule', 'blk'],
  ['io_schedule_timeout', 'blk'], ['sched_clock', ''], ['sched_fork', ''], ['scheduler_tick', ''],
  ['schedXule', ''], ['sch/ule', ''], ['sch:dule', ''], ['sch/dule', 'kmod'], ['schxdule', ''], ['schdule', ''],
  ['kernel/sched/core.c:schedule', ''], ['kernel/sched/core.c:__schedule_bug', ''],
  ['src/sched.ts:Scheduler.schedule', 'sched-lib'], ['src/sched.ts:Scheduler.reschedule', 'sched-lib'],
  ['src/sched.ts:Scheduler.scheduleNext', 'sched-lib'],
  ['_raw_spin_lock', ''], ['_raw_spin_unlock', ''], ['raw_spin_lock_irqsave', ''], ['spin_lock', ''],
  ['arch_spin_lock', ''], ['queued_spin_lock_slowpath', ''], ['spin_lock_bh', ''], ['pinlock', ''],
  ['src/pin.ts:pin_lock', 'pins'], ['src/pin.ts:pinLock', 'pins'], ['pin:lock', ''], ['lock_pin', ''],
  ['mutex_trylock', 'locks'], ['mutex_lock', ''], ['mutex_unlock', ''], ['mutex_try_to_acquire', ''],
  ['mutex_lock_interruptible', ''], ['mutex/try', ''], ['mutexes:try_again', ''], ['ww_mutex_trylock', ''],
  ['mutex_spin_on_owner', ''], ['SyS_read', ''], ['sys_read', ''], ['Sys_write', ''], ['SYS_open', ''],
  ['sYs_exit', ''], ['SyS_/x', ''], ['sys_', ''], ['xsys_read', ''], ['main', ''],
  ['src/app.ts:Router.handle', ''], ['lib/router.js:next', 'express'],
];

const GLOBS: Array<[string, RegExp]> = [
  ['*schedule', /schedule$/],
  ['*schedule*', /schedule/],
  ['schedule*', /^schedule/],
  ['*pin*lock', /pin.*lock$/],
  ['mutex*try*', /^mutex.*try/],
  ['sch*ule', /^sch.*ule$/],
  ['[Ss]y[Ss]_*', /^[Ss]y[Ss]_/],
  ['sch?dule', /^sch.dule$/],
];

test('func-filter-glob.tc: what the ops covers equals available_filter_functions filtered by the equivalent RegExp', async () => {
  defineSites('ks-corpus', CORPUS.map(([name, pkg]) => ({ name, package: pkg })));
  const ops = createOps({ name: 'glob-ks', func: noop });
  await ftraceSetFilter(ops, 'main');
  await withRegistered(ops, async () => {
    assert.deepEqual(enabled(), ['main']);
    for (const [glob, re] of GLOBS) {
      await ftraceSetFilter(ops, glob);
      const expected = available().filter((d) => re.test(bare(d)));
      assert.ok(expected.length > 1, `corpus has several matches for ${glob}`);
      assert.deepEqual(enabled(), expected, glob);
      assert.deepEqual(enabled().map(bare), CORPUS.map(([n]) => n).filter((n) => re.test(n)), `${glob} over the corpus`);
      // The same glob as the notrace set of an all-functions ops: the complement.
      await ftraceSetFilter(ops, []);
      await ftraceSetNotrace(ops, glob);
      assert.deepEqual(enabled(), available().filter((d) => !re.test(bare(d))), `notrace ${glob}`);
      await ftraceSetNotrace(ops, []);
    }
  });
});
