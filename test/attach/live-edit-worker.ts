// The V8 side of live-edit-match.test.ts, run in a worker thread: an
// isolate of its own, where nothing but the scenario holds the corpus's
// objects (the test runner's thread keeps completed async calls reachable,
// and V8 counts those as calls in flight). Runs one scenario (workerData)
// with an in-thread inspector session, whose answers are synchronous, and
// posts back what it found, or the first failed check.

import assert from 'node:assert/strict';
import { Session } from 'node:inspector';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { prepareScript, type Prepared } from '../../src/attach/prepare.js';
import { nextStep, type ScriptText } from '../../src/attach/steps.js';
import { unmatched } from '../../src/attach/matching.js';
import { KEY_GLOBAL, SITE_KEYS } from '../../src/shared/site-abi.js';

export type Scenario = 'commonjs' | 'module' | 'old-composition' | 'random-edits';

export interface Found {
  error?: string;
  /** Functions no step could patch: name -> why. */
  never?: Record<string, string>;
  /** Functions patched once every step ran, by name. */
  patched?: string[];
  /** Steps the patch took (both halves for CommonJS). */
  steps?: number;
  /** What V8 answered, by check. */
  said?: Record<string, string>;
  /** Model of V8's diff against V8 itself, on random edits. */
  agree?: number;
  matched?: number;
  unmatched?: number;
}

const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/attach/live-edit/${name}`, import.meta.url));

const session = new Session();
session.connect();
function post(method: string, params: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  let err: Error | null = null;
  session.post(method, params, (e, r) => { err = e; out = r as Record<string, unknown>; });
  if (err !== null) throw err;
  return out!;
}
const scripts = new Map<string, string>();
session.on('Debugger.scriptParsed', (m: { params: { url: string; scriptId: string } }) => scripts.set(m.params.url, m.params.scriptId));
post('Debugger.enable', {});
post('Debugger.setSkipAllPauses', { skip: true });

function setSource(scriptId: string, text: string, dryRun: boolean): string {
  const r = post('Debugger.setScriptSource', { scriptId, scriptSource: text, dryRun });
  return r['exceptionDetails'] !== undefined ? 'CompileError' : (r['status'] as string | undefined) ?? 'Ok';
}

/** Matched and changed: V8 refuses to change it while it runs or is suspended. */
const MATCHED = /^BlockedByActive(Function|Generator)$/;

type Case = [string, (...a: unknown[]) => unknown, unknown, unknown[]];

/** One corpus file, loaded in this thread, with the globals its patched text reads. */
class Corpus {
  readonly file: string;
  readonly format: 'module' | 'commonjs';
  readonly source: string;
  readonly p: Prepared;
  readonly st: ScriptText;
  scriptId = '';
  cases: Case[] = [];
  waiter: ((gate: Promise<void>) => Promise<unknown>) | null = null;
  /** Function index by the name its __at call gives; site number by function. */
  readonly byName = new Map<string, number>();
  readonly site: number[];
  now = new Set<number>();
  steps = 0;
  /** Sites whose entry ran since their __at last looked. */
  private readonly entered = new Set<number>();
  /** Per name: whether its last call ran instrumented. */
  readonly ran = new Map<string, boolean>();
  /** While a step is checked: its text and functions, the case being called, and what V8 said. */
  check: { text: string; fns: Set<number>; target: string; said: Map<string, string> } | null = null;

  constructor(file: string, format: 'module' | 'commonjs') {
    this.file = file;
    this.format = format;
    this.source = readFileSync(file, 'utf8');
    this.p = prepareScript({ source: this.source, path: file, format, file: 'f', package: '' })!;
    this.st = { source: this.source, output: this.p.output, sf: this.p.sf, rename: (name) => `${name}$1` };
    const fns = this.p.sf.fns;
    for (const m of this.source.matchAll(/__at\('([^']+)'\)/g)) {
      let best = -1;
      fns.forEach((f, i) => { if (f.start <= m.index && m.index < f.end && (best < 0 || f.start >= fns[best]!.start)) best = i; });
      this.byName.set(m[1]!, best);
    }
    // The site number is in the function's entry: `$Jt|=$JB...+k,`.
    this.site = fns.map((f) => Number(/\$JB\w+\+(\d+),/.exec(this.p.output.slice(f.outStart, f.outEnd))![1]));
    const g = globalThis as Record<string, unknown>;
    for (const name of this.p.sf.prologueNames) {
      const kind = name.slice(2);
      g[this.st.rename(name)] = kind === 'W' ? new Array(fns.length).fill(1)
        : kind === 'E' ? (k: number) => { this.entered.add(k); return 0; }
          : kind.startsWith('B') ? 0
            // An untraced call passes values through these (an await's, a long return's).
            : kind === 'V' || kind === 'I' ? (v: unknown) => v
              : () => { throw new Error(`${name} called with a nop site`); };
    }
    // Every site key on (each site reads its own field of the key object).
    const keys: Record<string, boolean> = { on: true };
    for (let i = 0; i < SITE_KEYS; i++) keys[`k${i}`] = true;
    g[KEY_GLOBAL] = keys;
    g['__at'] = (name: string): void => this.at(name);
  }

  async load(): Promise<void> {
    const url = pathToFileURL(this.file).href;
    const m = (this.format === 'module' ? await import(url) : createRequire(import.meta.url)(this.file)) as { cases: Case[]; waiter: Corpus['waiter'] };
    this.cases = m.cases;
    this.waiter = m.waiter;
    this.scriptId = scripts.get(url) ?? scripts.get(this.file)!;
    assert.ok(this.scriptId, `script id of ${this.file}`);
  }

  at(name: string): void {
    const i = this.byName.get(name)!;
    this.ran.set(name, this.entered.delete(this.site[i]!));
    const c = this.check;
    if (c !== null && c.target === name && c.fns.has(i)) c.said.set(name, setSource(this.scriptId, c.text, true));
  }

  /** Calls every case (the check's dry run happens in the case's own function). */
  async callAll(): Promise<void> {
    this.ran.clear();
    for (const [name, fn, self, args] of this.cases) {
      if (this.check !== null) this.check.target = name;
      const r: unknown = self === 'new' ? Reflect.construct(fn, args) : fn.apply(self, args);
      if (r instanceof Promise) await r;
      else if (r !== null && typeof r === 'object' && Symbol.asyncIterator in r) { for await (const x of r as AsyncIterable<unknown>) void x; }
      else if (r !== null && typeof r === 'object' && 'next' in r && Symbol.iterator in r) [...(r as Iterable<unknown>)];
    }
    if (this.check !== null) this.check.target = '';
  }

  name(i: number): string {
    for (const [n, j] of this.byName) if (j === i) return n;
    return `#${i}`;
  }

  /** Every named function ran instrumented exactly when it is patched. */
  async expectPatched(when: string): Promise<void> {
    await this.callAll();
    for (const [name, ran] of this.ran) assert.equal(ran, this.now.has(this.byName.get(name)!), `${when}: ${name} ${ran ? 'ran instrumented' : 'ran its own code'}`);
  }

  /** Patches `fns` in the steps the attach takes, checking each; returns the functions no step could carry. */
  async patch(fns: Iterable<number>, label: string): Promise<Map<string, string>> {
    const never = new Map<string, string>();
    const pending = new Set(fns);
    for (let round = 1; pending.size > 0; round++) {
      assert.ok(round <= 8, `${label}: at most 8 steps`);
      const step = nextStep(this.st, this.now, pending, true);
      for (const [fn, why] of step.never) { never.set(this.name(fn), why); pending.delete(fn); }
      if (step.fns.size === 0) break;
      this.check = { text: step.text.text, fns: step.fns, target: '', said: new Map() };
      await this.callAll();
      const said = this.check.said;
      this.check = null;
      for (const fn of step.fns) {
        const name = this.name(fn);
        if (said.has(name)) assert.match(said.get(name)!, MATCHED, `${label} step ${round}: ${name} is matched while on the stack`);
      }
      assert.equal(setSource(this.scriptId, step.text.text, false), 'Ok', `${label} step ${round}`);
      this.steps++;
      for (const fn of step.fns) { this.now.add(fn); pending.delete(fn); }
      await this.expectPatched(`${label} after step ${round}`);
    }
    return never;
  }

  /** Restores in steps; at the end V8 runs the source again. */
  async restore(): Promise<void> {
    for (let round = 1; this.now.size > 0; round++) {
      assert.ok(round <= 8, 'restore: at most 8 steps');
      const step = nextStep(this.st, this.now, this.now, false);
      assert.deepEqual([...step.never.keys()].map((f) => this.name(f)), [], 'restore: every function can be restored');
      assert.equal(setSource(this.scriptId, step.text.text, false), 'Ok', `restore step ${round}`);
      for (const fn of step.fns) this.now.delete(fn);
      await this.expectPatched(`after restore step ${round}`);
    }
    assert.equal(post('Debugger.getScriptSource', { scriptId: this.scriptId })['scriptSource'], this.source, 'the source is back');
  }

  /** A suspended call of `waiter`: a dry run that patches it is refused as in flight. */
  async suspended(): Promise<string> {
    const w = this.byName.get('waiter')!;
    let open = (): void => undefined;
    const gate = new Promise<void>((r) => { open = r; });
    const call = this.waiter!(gate);
    const step = nextStep(this.st, this.now, new Set([w]), true);
    assert.deepEqual([...step.fns], [w]);
    const said = setSource(this.scriptId, step.text.text, true);
    open();
    await call;
    return said;
  }

  patchable(): number[] {
    return this.p.sf.fns.map((_, i) => i).filter((i) => this.p.sf.fns[i]!.unpatchable === '');
  }
}

async function corpus(format: 'commonjs' | 'module'): Promise<Found> {
  const c = new Corpus(fixture(format === 'commonjs' ? 'shapes.cjs' : 'shapes.mjs'), format);
  await c.load();
  await c.expectPatched('before');
  // waiter is kept for the suspended call (it must not be patched before).
  const all = c.patchable().filter((i) => c.name(i) !== 'waiter');
  // CommonJS: half first, then the rest, which must have come through the
  // first half's edits matched. The Dense class's methods all go in the
  // second half: six adjacent changed lines, too long together for one
  // character diff, so that half takes more than one edit.
  const dense = (i: number): boolean => c.name(i).startsWith('dense');
  const rest = all.filter((i) => !dense(i));
  const halves = format === 'commonjs' ? [rest.filter((_, k) => k % 2 === 0), [...rest.filter((_, k) => k % 2 === 1), ...all.filter(dense)]] : [all];
  const never = new Map<string, string>();
  for (const [k, half] of halves.entries()) for (const [n, why] of await c.patch(half, `part ${k + 1}`)) never.set(n, why);
  const patched = [...c.now].map((f) => c.name(f)).sort();
  const steps = c.steps;
  const suspended = await c.suspended();
  await c.restore();
  return { never: Object.fromEntries(never), patched, steps, said: { suspended } };
}

/** busy, composed the old way (its catch text right before its closing brace), then as now. */
async function oldComposition(): Promise<Found> {
  const c = new Corpus(fixture('shapes.cjs'), 'commonjs');
  await c.load();
  const i = c.byName.get('busy')!;
  const f = c.p.sf.fns[i]!;
  const out = c.p.output;
  // The source with busy's pieces where the transform put them, names as the globals have them.
  let old = '';
  let from = 0;
  const inserted: number[] = [];
  for (const p of c.p.sf.pieces) {
    if (p.fn !== i) continue;
    let piece = '';
    let at = p.from;
    for (const u of c.p.sf.uses) {
      if (u.start < p.from || u.end > p.to) continue;
      piece += out.slice(at, u.start) + c.st.rename(u.name);
      at = u.end;
    }
    piece += out.slice(at, p.to);
    old += c.source.slice(from, p.at);
    from = p.at;
    inserted.push(old.length, old.length + piece.length);
    old += piece;
  }
  old += c.source.slice(from);
  const endAt = f.end + old.length - c.source.length;
  assert.match(old.slice(0, endAt), /throw\(\$Je\)\}\}$/, 'the catch text ends right before the closing brace');
  const model = unmatched(old, inserted, [f.v8Start, endAt], true).length === 0 ? 'matched' : 'unmatched';
  c.check = { text: old, fns: new Set([i]), target: '', said: new Map() };
  await c.callAll();
  const v8Old = c.check.said.get('busy')!;
  const step = nextStep(c.st, new Set(), new Set([i]), true);
  assert.deepEqual([...step.fns], [i]);
  c.check = { text: step.text.text, fns: new Set([i]), target: '', said: new Map() };
  await c.callAll();
  const v8Now = c.check.said.get('busy')!;
  c.check = null;
  return { said: { model, v8Old, v8Now } };
}

/**
 * Random comments (the characters the transform inserts most) inserted
 * around the edges of a function f that then calls __edge: V8's dry run of
 * the edited text, from inside f, says whether it matches f; the model must
 * say the same.
 */
function randomEdits(count: number): Found {
  const dir = mkdtempSync(join(tmpdir(), 'jsftrace-live-edit-'));
  try {
    let seed = 20240611;
    const random = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
    const pick = <T>(a: readonly T[]): T => a[Math.floor(random() * a.length)]!;
    const comment = (): string => `/*${Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(['}', ')', '(', '{', ' ', ';', 'r', 't', ',', '=', '$'])).join('')}*/`;
    const bases = [
      'function f(a) { __edge(); return (a) }\n',
      'function f(a) {\n  __edge();\n  return (a);\n}\n',
      'const g = (x) => x; function f(a) { __edge(); g(() => 1); return a }\n',
      'function f(a) { __edge(); if (a) { return (a) } }\n',
      'var f = (a) => { __edge(); return (a) };\n',
    ];
    let said = '';
    let scriptId = '';
    let edited = '';
    (globalThis as Record<string, unknown>)['__edge'] = (): void => { said = setSource(scriptId, edited, true); };
    const found = { agree: 0, matched: 0, unmatched: 0 };
    for (let t = 0; t < count; t++) {
      const src = `${pick(bases)}module.exports = f;\n`;
      const start = src.startsWith('var f') ? src.indexOf('(a) =>') : src.indexOf('(a)', src.indexOf('function f'));
      const open = src.indexOf('{', start) + 1;
      let end = open;
      for (let depth = 1; depth > 0; end++) {
        if (src[end] === '{') depth++;
        else if (src[end] === '}') depth--;
      }
      // Places between tokens (next to punctuation or a space), not inside `=>`.
      const places: number[] = [];
      for (let i = open; i <= end + 2; i++) {
        if (src[i - 1] === '\n' || (src[i - 1] === '=' && src[i] === '>')) continue;
        if (/[(){};,= ]/.test(src[i]!) || /[(){};,= ]/.test(src[i - 1]!)) places.push(i);
      }
      const near = places.filter((i) => Math.abs(i - (end - 1)) <= 3 || Math.abs(i - start) <= 2);
      const at = new Set([open, pick(places)]);
      for (let k = 0; k < 2; k++) if (random() < 0.8) at.add(pick(near));
      const sorted = [...at].sort((a, b) => a - b);
      edited = '';
      const inserted: number[] = [];
      let from = 0;
      for (const p of sorted) {
        edited += src.slice(from, p);
        const c = comment();
        inserted.push(edited.length, edited.length + c.length);
        edited += c;
        from = p;
      }
      edited += src.slice(from);
      const moved = (o: number): number => o + sorted.reduce((n, p, k) => n + (p <= o ? inserted[2 * k + 1]! - inserted[2 * k]! : 0), 0);
      const model = unmatched(edited, inserted, [moved(start), moved(end - 1) + 1], true).length === 0;
      const file = join(dir, `edge${t}.cjs`);
      writeFileSync(file, src);
      const f = createRequire(import.meta.url)(file) as () => void;
      scriptId = scripts.get(pathToFileURL(file).href) ?? scripts.get(file)!;
      said = '';
      f();
      assert.ok(said === 'BlockedByActiveFunction' || said === 'Ok', `case ${t}: ${said}`);
      const v8 = said === 'BlockedByActiveFunction';
      assert.equal(model, v8, `case ${t}: the model ${model ? 'matches' : 'does not match'} f, V8 ${v8 ? 'does' : 'does not'}:\n${edited}`);
      found.agree++;
      found[v8 ? 'matched' : 'unmatched']++;
    }
    return found;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(s: Scenario): Promise<Found> {
  switch (s) {
    case 'commonjs': case 'module': return corpus(s);
    case 'old-composition': return oldComposition();
    case 'random-edits': return randomEdits(40);
  }
}

run((workerData as { scenario: Scenario }).scenario).then(
  (found) => parentPort!.postMessage(found),
  (e: Error) => parentPort!.postMessage({ error: e.stack ?? e.message } satisfies Found),
);
