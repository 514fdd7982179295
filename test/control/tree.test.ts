// The control tree in the program: refused writes change nothing and leave a
// positioned error_log entry, also where a write would have half-applied
// before (filter commands beyond the table's room, options); filter commands
// keep their counts while others are added; patterns given before the
// program loaded are kept (and listed) without being checked again; error_log
// takes any path and any text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineSites } from '../../src/public/index.js';
import { controlSurface } from '../../src/control/tree.js';
import { clearErrorLog } from '../../src/control/error-log.js';
import { setBooting } from '../../src/tracers/tracers.js';

const fs = controlSurface();
defineSites('tree:test', Array.from({ length: 300 }, (_, i) => ({ name: `tr.js:f${i}` })));

async function refused(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => (e as { code?: string }).code === code);
}

test('commands beyond the table\'s room: ENOSPC, the filter and the commands as they were, the caret on the command', async () => {
  clearErrorLog();
  await fs.write('set_ftrace_filter', 'tr.js:f1');
  await fs.append('set_ftrace_filter', 'tr.js:f2:traceoff:5');
  const before = await fs.read('set_ftrace_filter');
  assert.equal(before, 'tr.js:f1\ntr.js:f2:traceoff:count=5\n');
  await refused(fs.append('set_ftrace_filter', 'tr.js:f3 tr.js:*:stacktrace'), 'ENOSPC');
  assert.equal(await fs.read('set_ftrace_filter'), before);
  await refused(fs.write('set_ftrace_filter', 'tr.js:*:dump'), 'ENOSPC');
  assert.equal(await fs.read('set_ftrace_filter'), before);
  const log = (await fs.read('error_log')).split('\n');
  assert.match(log[0]!, /^\[ *\d+\.\d{6}\] set_ftrace_filter: error: no room for 300 more commands \(\d+ free\)$/);
  assert.equal(log[1], '  Command: tr.js:f3 tr.js:*:stacktrace');
  assert.equal(log[2], `${' '.repeat('  Command: tr.js:f3 '.length)}^`);
  await fs.append('set_ftrace_filter', '!tr.js:f2:traceoff:0');
  await fs.write('set_ftrace_filter', '');
  assert.equal(await fs.read('set_ftrace_filter'), '#### all functions enabled ####\n');
});

test('adding and removing commands leaves the others\' counts alone', async () => {
  await fs.write('set_ftrace_filter', 'tr.js:f10:traceoff:7');
  for (let i = 11; i < 20; i++) await fs.append('set_ftrace_filter', `tr.js:f${i}:stacktrace:${i}`);
  await fs.append('set_ftrace_filter', '!tr.js:f11:stacktrace:0 !tr.js:f12:stacktrace:0');
  await fs.append('set_ftrace_filter', 'tr.js:f11:stacktrace');
  const lines = (await fs.read('set_ftrace_filter')).split('\n');
  assert.equal(lines[0], '#### all functions enabled ####');
  assert.ok(lines.includes('tr.js:f10:traceoff:count=7'));
  assert.ok(lines.includes('tr.js:f13:stacktrace:count=13'));
  assert.ok(lines.includes('tr.js:f11:stacktrace:unlimited'));
  assert.ok(!lines.some((l) => l.startsWith('tr.js:f12:')));
  // Each form by its own removal: the uncounted f11, then the counted ones.
  await fs.append('set_ftrace_filter', '!tr.js:*:stacktrace !tr.js:*:stacktrace:0 !tr.js:*:traceoff:0');
  assert.equal(await fs.read('set_ftrace_filter'), '#### all functions enabled ####\n');
});

test('patterns given before the program loaded are kept, listed as written, and not checked again', async () => {
  setBooting(true);
  try {
    await fs.write('set_ftrace_filter', 'lazy/*.mjs:*');
    await fs.write('set_graph_function', 'lazy/*.mjs:main');
  } finally {
    setBooting(false);
  }
  assert.equal(await fs.read('set_ftrace_filter'), 'lazy/*.mjs:*\n');
  await fs.append('set_ftrace_filter', 'tr.js:f7');
  assert.equal(await fs.read('set_ftrace_filter'), 'tr.js:f7\nlazy/*.mjs:*\n');
  await fs.append('set_graph_function', 'tr.js:f8');
  assert.equal(await fs.read('set_graph_function'), 'tr.js:f8\nlazy/*.mjs:main\n');
  // A new word that matches nothing is still refused, and changes nothing.
  await refused(fs.append('set_ftrace_filter', 'nowhere*'), 'EINVAL');
  assert.equal(await fs.read('set_ftrace_filter'), 'tr.js:f7\nlazy/*.mjs:*\n');
  await fs.write('set_ftrace_filter', '');
  await fs.write('set_graph_function', '');
});

test('an option write is all or nothing', async () => {
  await fs.write('current_tracer', 'function_graph');
  try {
    await refused(fs.write('trace_options', 'funcgraph-retval funcgraph-args nosuch'), 'EINVAL');
    assert.equal(await fs.read('options/funcgraph-retval'), '0\n');
    assert.equal(await fs.read('options/funcgraph-args'), '0\n');
    await fs.write('trace_options', 'funcgraph-retval nofuncgraph-retval');
    assert.equal(await fs.read('options/funcgraph-retval'), '0\n', 'the last word about an option wins');
  } finally {
    await fs.write('current_tracer', 'nop');
  }
});

test('error_log takes any path and any text: one entry each, the command on one line', async () => {
  clearErrorLog();
  await refused(fs.write('../etc/passwd', 'x'), 'ENOENT');
  await refused(fs.write('tracing_on', 3 as unknown as string), 'EINVAL');
  await refused(fs.write('max_graph_depth', '1\nx'), 'EINVAL');
  const log = await fs.read('error_log');
  assert.equal(log.split('\n').filter((l) => l.includes(': error: ')).length, 3, log);
  assert.match(log, /\] \.\.\/etc\/passwd: error: /);
  assert.match(log, /\] tracing_on: error: .*\n {2}Command: 3\n/);
  assert.match(log, /\] max_graph_depth: error: "1 x" is not a non-negative integer\n {2}Command: 1 x\n {11}\^\n/);
  await fs.write('error_log', '');
  assert.equal(await fs.read('error_log'), '');
});

test('writing the current tracer again keeps the buffers; another tracer clears them', async () => {
  await fs.write('current_tracer', 'function');
  await fs.write('trace_marker', 'kept');
  await fs.write('current_tracer', 'function');
  assert.match(await fs.read('trace'), /tracing_mark_write: kept\n/);
  await fs.write('current_tracer', 'nop');
  assert.doesNotMatch(await fs.read('trace'), /kept/);
});

test('a glob that a regular expression would take forever on is answered within the step bound, in every file and rule that takes one', async () => {
  const { globSteps } = await import('../../src/core/glob.js');
  const { compileScope } = await import('../../src/instrument/scope.js');
  const name = `tr.js:${'a'.repeat(5000)}`;
  defineSites('tree:glob', [{ name }]);
  const glob = '*a*a*a*a*a*a*a*a*a*a*b';
  const names = (await fs.read('available_filter_functions')).split('\n').filter((l) => l !== '');
  // Every record is matched once per file: at most (n + 1) x (m + 2) steps each.
  const bound = names.reduce((s, n) => s + (n.length + 1) * 23, 0);
  for (const file of ['set_ftrace_filter', 'set_ftrace_notrace', 'set_graph_function', 'set_graph_notrace']) {
    const before = globSteps();
    await refused(fs.write(file, glob), 'EINVAL');
    assert.ok(globSteps() - before <= 2 * bound, `${file}: ${globSteps() - before} steps`);
  }
  const before = globSteps();
  const scope = compileScope({ include: [glob], exclude: [], origin: 'test' });
  assert.equal(scope.covers({ root: '/', file: 'a'.repeat(100_000), package: '' }, '/x.js'), false);
  assert.ok(globSteps() - before <= 100_001 * 23);
});

// ftrace_mod_callback caches a `:mod:` that matches nothing only for a module
// not loaded: cache_mod refuses one that exists (module_exists) with EINVAL.
test('a :mod: of a loaded package that matches nothing is EINVAL; of a package not loaded, kept', async () => {
  defineSites('tree:pkg', [{ name: 'index.js:pkgWork', package: 'pkgx' }]);
  await fs.write('set_ftrace_filter', '');
  await refused(fs.write('set_ftrace_filter', 'tr.js:f1:mod:pkgx'), 'EINVAL');
  assert.equal(await fs.read('set_ftrace_filter'), '#### all functions enabled ####\n');
  await fs.write('set_ftrace_filter', 'index.js:pkg*:mod:pkgx');
  assert.equal(await fs.read('set_ftrace_filter'), 'index.js:pkgWork [pkgx]\n');
  await fs.write('set_ftrace_filter', 'tr.js:f1:mod:notloaded');
  assert.equal(await fs.read('set_ftrace_filter'), 'tr.js:f1:mod:notloaded\n');
  await fs.write('set_ftrace_filter', '');
});
