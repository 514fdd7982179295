// Every syntax form, differentially: each fixture of the corpus runs as
// written, reformatted without semicolons (prettier, `semi: false`: the
// style of npm, standard and koa) and minified (esbuild), and each form each
// way: plain `node` (with an empty `--import`: any preload changes how Node
// starts the main module, which shows in stack traces), and with a counting
// ops on every function under `--import jsftrace/register`; as written, also
// under jsftrace/register with nothing attached (idle and traced run the same
// instrumented code, so the reformatted forms are run traced only). Exit
// status, stdout and stderr must be identical to the plain run's.
//
// The counted entries and exits must be the ones each fixture declares
// (`//@count <name> <entries> <exits>`), and so must the callers seen as
// parents (`//@parents <name> <p1,p2,...>`, `-` for none): a frame left on
// the stack by a throw or a suspension shows up as a wrong parent. And
// `//@unwound <name> <n>`: how many of its exits were frames the core
// abandoned (a throw went through them, or they were still open when the
// stack emptied), where a trace that ends a call late would say so. The
// minifier renames, inlines and drops functions, so in the minified form a
// declared count is checked only for balance (as many exits as entries,
// when the declaration says so) for the names that survived, and parents
// are not checked. `//@node <flags>` gives node flags for every run;
// `//@variants <v> ...` limits a fixture to some forms (with the reason);
// `//@since <major> <reason>` skips it on older Node lines, where its
// syntax does not compile.
// `//@known <lines> <forms> <reason>` records a difference that is known
// and documented in docs/transparency.md (`*`, or Node majors and forms
// separated by commas): the case still runs, and is reported as a TODO
// there instead of failing, so a fix shows as a passing TODO.
// `//@arrow <lines> <forms> <reason>` is narrower: only the source line and
// caret above an uncaught exception may differ (docs/transparency.md,
// difference 11); the rest of every output is compared as usual.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { format } from 'prettier';
import { assertSameOutcomes, maskArrows, outcomeOf, type Outcome } from '../support/difference.js';
import { cleanEnv, run, scratchDir } from '../support/process.js';

const corpus = fileURLToPath(new URL('../../../test/fixtures/transform/corpus/', import.meta.url));
const register = fileURLToPath(new URL('../../src/public/register.js', import.meta.url));
const count = fileURLToPath(new URL('../fixtures/transform/count.js', import.meta.url));
const nothing = fileURLToPath(new URL('../fixtures/transform/nothing.js', import.meta.url));
const registerCjs = fileURLToPath(new URL('../../src/public/register.cjs', import.meta.url));
const nothingCjs = fileURLToPath(new URL('../../../test/fixtures/transform/nothing.cjs', import.meta.url));
/** The function tracer on before the program's first line, as `jsftrace record -p function` asks. */
const TRACING = { JSFTRACE_CONTROL_INIT: JSON.stringify([['write', 'current_tracer', 'function']]) };
const work = scratchDir('jsftrace-corpus-');
test.after(work.done);

type Variant = 'as written' | 'semicolon-free' | 'minified';
const slug = (v: Variant): string => v.replace(/ /g, '-');
const VARIANTS: Variant[] = ['as written', 'semicolon-free', 'minified'];

async function variantOf(variant: Variant, code: string, name: string): Promise<string> {
  switch (variant) {
    case 'as written': return code;
    case 'semicolon-free': return format(code, { parser: 'babel', semi: false, filepath: name });
    case 'minified': {
      // The declarations at the end are comments: kept so that the names
      // that survive the renaming are still checked.
      const decl = code.match(/^\/\/@.*$/gm) ?? [];
      const min = await transform(code, { minify: true, loader: 'js', target: 'esnext', legalComments: 'none' });
      return `${min.code}${decl.join('\n')}\n`;
    }
  }
}

/** Whether each part of a qualified name (`K.#m:get` → K, m) is a word of `code`. */
function survives(name: string, code: string): boolean {
  if (name === '-') return true;
  const parts = name.replace(/:(get|set)$/, '').split(/[.#[\]]+/).filter((p) => p !== '');
  return parts.every((p) => new RegExp(`(?<![\\w$])${p.replace(/[$]/g, '\\$')}(?![\\w$])`).test(code));
}


const major = process.versions.node.split('.')[0]!;

/** The reason of the fixture's `//@<kind>` declaration that covers this Node line and form, if any. */
function knownDifference(code: string, form: string, kind: 'known' | 'arrow' = 'known'): string | undefined {
  for (const [, lines, forms, reason] of code.matchAll(new RegExp(`^//@${kind} (\\S+) (\\S+) (.+)$`, 'gm'))) {
    const covers = (list: string, value: string): boolean => list === '*' || list.split(',').includes(value);
    if (covers(lines!, major) && covers(forms!, form)) return reason;
  }
  return undefined;
}

const names = readdirSync(corpus).filter((n) => /\.[cm]js$/.test(n)).sort();
// Two fixtures at a time: each waits on its child processes.
describe('corpus', { concurrency: 2 }, () => {
for (const variant of VARIANTS) {
  const dir = join(work.dir, slug(variant));
  mkdirSync(join(dir, 'cache'), { recursive: true });
  for (const name of names) {
    const original = readFileSync(join(corpus, name), 'utf8');
    const only = original.match(/^\/\/@variants (.+)$/m)?.[1].split(' ');
    if (only !== undefined && !only.includes(slug(variant))) continue;
    const file = join(dir, name);
    const known = knownDifference(original, slug(variant));
    const since = /^\/\/@since (\d+) (.+)$/m.exec(original);
    const skip = since !== null && Number(major) < Number(since[1]) ? since[2] : undefined;
    const masked = knownDifference(original, slug(variant), 'arrow') !== undefined
      ? maskArrows : <O extends Outcome>(o: O): O => o;
    test(`corpus ${name} ${variant}: same status and output plain, idle and traced; declared counts`, { todo: known, skip }, async () => {
      const code = await variantOf(variant, original, name);
      if (variant === 'as written') copyFileSync(join(corpus, name), file);
      else writeFileSync(file, code);
      const flags = (code.match(/^\/\/@node (.+)$/m)?.[1] ?? '').split(' ').filter((f) => f !== '');
      const countsFile = `${file}.counts.json`;
      const env = cleanEnv({ JSFTRACE_CACHE: undefined, JSFTRACE_CACHE_DIR: join(dir, 'cache') });
      const opts = { cwd: dir, timeoutMs: 60_000 };
      const [plain, traced, idle] = await Promise.all([
        run(process.execPath, ['--import', nothing, ...flags, file], { ...opts, env }),
        run(process.execPath, ['--import', register, '--import', count, ...flags, file],
          { ...opts, env: { ...env, JSFTRACE_TEST_COUNTS: countsFile, JSFTRACE_TEST_FILE: name } }),
        ...(variant === 'as written' ? [run(process.execPath, ['--import', register, ...flags, file], { ...opts, env })] : []),
      ]);
      assertSameOutcomes(`${name} ${variant}`, masked(outcomeOf(plain!)), {
        ...(idle === undefined ? {} : { 'idle (nothing attached)': masked(outcomeOf(idle)) }),
        'traced (a counting ops on every function)': masked(outcomeOf(traced!)),
      });
      if (variant === 'as written') {
        // As `jsftrace record` starts a program: by --require, which leaves
        // Node's own start of the main module as it is (an --import runs a
        // CommonJS main through the ES module loader, and turns an uncaught
        // exception into a rejection), idle and with the function tracer on
        // from the first line.
        const served = { ...env, JSFTRACE_SOCKET_DIR: join(dir, 'sockets') };
        const [plainR, idleR, tracingR] = await Promise.all([
          run(process.execPath, ['--require', nothingCjs, ...flags, file], { ...opts, env }),
          run(process.execPath, ['--require', registerCjs, ...flags, file], { ...opts, env: served }),
          run(process.execPath, ['--require', registerCjs, ...flags, file], { ...opts, env: { ...served, ...TRACING } }),
        ]);
        assertSameOutcomes(`${name} by --require`, masked(outcomeOf(plainR!)), {
          'idle (nothing attached)': masked(outcomeOf(idleR!)),
          'the function tracer on from the start': masked(outcomeOf(tracingR!)),
        });
      }
      const counts = JSON.parse(readFileSync(countsFile, 'utf8')) as Record<string, [number, number, string[], number]>;
      assert.ok(Object.keys(counts).length > 0, 'no function of the file was entered');
      const body = code.replace(/^\/\/@.*$/gm, '');
      const got: Record<string, unknown> = {};
      const want: Record<string, unknown> = {};
      for (const [, fn, entries, exits] of code.matchAll(/^\/\/@count (\S+) (\d+) (\d+)$/gm)) {
        const c = counts[fn!];
        if (variant !== 'minified') {
          got[`${fn} [entries, exits]`] = c?.slice(0, 2) ?? null;
          want[`${fn} [entries, exits]`] = [Number(entries), Number(exits)];
        } else if (entries === exits && survives(fn!, body) && c !== undefined) {
          got[`${fn} exits`] = c[1];
          want[`${fn} exits`] = c[0];
        }
      }
      for (const [, fn, list] of code.matchAll(/^\/\/@parents (\S+) (\S+)$/gm)) {
        if (variant === 'minified') continue;
        got[`${fn} parents`] = counts[fn!]?.[2] ?? null;
        want[`${fn} parents`] = list!.split(',').sort();
      }
      for (const [, fn, n] of code.matchAll(/^\/\/@unwound (\S+) (\d+)$/gm)) {
        if (variant === 'minified') continue;
        got[`${fn} unwound`] = counts[fn!]?.[3] ?? null;
        want[`${fn} unwound`] = Number(n);
      }
      assert.deepEqual(got, want, 'declared counts and parents');
      // Every entry is matched by an exit, except calls still suspended at exit.
      for (const [fn, [en, ex]] of Object.entries(counts)) assert.ok(ex <= en, `${fn}: ${ex} exits for ${en} entries`);
    });
  }
}
});
