/**
 * The sites of an attached process: the loaded scripts, and for each of
 * their functions which mechanism carries its site now.
 *
 * Owns: the scripts' table, the per-site state, and applying decide()'s
 * steps: live-patching scripts (splice.ts, through V8's LiveEdit) and
 * setting and removing probes (entry and return breakpoints whose
 * conditions call probe-runtime.ts). Invariants:
 * - `reconcile()` makes every site's state what decide() says for its
 *   current call-target word, so after any control write the sites that
 *   some ops covers are armed and no probe is left on a site nothing wants;
 * - a script is re-patched only with the union of what it had and what is
 *   added, so a function once patched never goes back to its source while
 *   attached; where V8 refuses a function, that function alone falls back
 *   to a probe, with the reason kept for enabled_functions;
 * - `restoreAll()` puts back every script's source it can, and says which
 *   it could not (their sites stay, idle);
 * - a file loaded again while attached keeps its first and its newest
 *   scripts in the table, each site armed in both; one in between stays
 *   only until it can be given its own text back (`addLoad`).
 */

import { instance } from '../core/index.js';
import { ACT_PATCH, ACT_PROBE, ACT_UNPROBE, decide, SITE_NONE, SITE_PATCHED, SITE_PROBED, stateText, type Mechanism, type SiteState } from './arming.js';
import type { Debugger, Location } from './debugger.js';
import { entryCondition, exitCondition } from './probe-runtime.js';
import { lineIndexAt, v8LineStarts } from '../instrument/original/v8-lines.js';
import { defineGlobals, globalName, removeGlobals, type LoadedScript } from './scripts.js';
import type { Spliced } from './splice.js';
import { nextStep, type ScriptText } from './steps.js';

/** Probed functions at most: each probe costs tens of microseconds per call. */
export const MAX_PROBED = 2000;

/**
 * Functions in a script above which it is probed rather than live-patched:
 * V8's LiveEdit holds the main thread for a time that grows faster than the
 * script (measured on the loaded 2-core machine: 600 functions 0.15 s, 3,000
 * 0.34 s, 12,000 4 s, the TypeScript compiler's 21,688 about 40 s).
 */
export const MAX_PATCH_FUNCTIONS = 3000;

interface SiteEntry {
  script: LoadedScript;
  fn: number;
  state: SiteState;
  breakpoints: string[];
  /** Why the site is not patched (a refusal), or why it has no probe. */
  why: string;
}

function lineColumn(starts: ArrayLike<number>, offset: number): [number, number] {
  const line = lineIndexAt(starts, offset);
  return [line, offset - starts[line]!];
}

export class Sites {
  readonly scripts: LoadedScript[] = [];
  /**
   * The functions of each site, one per script that has it: a file loaded
   * again (a require cache clear) is a new script whose functions have the
   * first load's sites, and the functions of both may run.
   */
  private readonly sites = new Map<number, SiteEntry[]>();
  mechanism: Mechanism;
  /** Whether this Node's V8 still has LiveEdit (Debugger.setScriptSource). */
  readonly liveEdit: boolean;
  private readonly dbg: Debugger;
  private probed = 0;

  constructor(dbg: Debugger, liveEdit: boolean) {
    this.dbg = dbg;
    this.liveEdit = liveEdit;
    this.mechanism = liveEdit ? 'patch' : 'probe';
  }

  add(s: LoadedScript): void {
    this.scripts.push(s);
    s.ids.forEach((id, fn) => {
      if (id < 0) return;
      let list = this.sites.get(id);
      if (list === undefined) this.sites.set(id, (list = []));
      // A function an earlier attach could not restore is still patched.
      list.push({ script: s, fn, state: s.patched.has(fn) ? SITE_PATCHED : SITE_NONE, breakpoints: [], why: '' });
    });
  }

  /** Arms what is wanted and disarms probes nothing wants. */
  reconcile(): void {
    const inst = instance();
    const words = inst.i32;
    const target = inst.L.target;
    const patch = new Map<LoadedScript, Set<number>>();
    const probe: SiteEntry[] = [];
    for (const [id, e] of this.entries()) {
      const f = e.script.sf.fns[e.fn]!;
      const big = e.script.sf.fns.length > MAX_PATCH_FUNCTIONS;
      const patchable = this.liveEdit && f.unpatchable === '' && e.why === '' && !big;
      const act = decide(words[target + id] !== 0, e.state, this.mechanism, patchable);
      if (act === ACT_PATCH) {
        let set = patch.get(e.script);
        if (set === undefined) patch.set(e.script, (set = new Set()));
        set.add(e.fn);
      } else if (act === ACT_PROBE) {
        if (e.why === '' && this.mechanism === 'patch' && this.liveEdit) {
          e.why = f.unpatchable !== '' ? f.unpatchable : big ? `its script has ${e.script.sf.fns.length} functions: a live patch would hold the program for seconds` : '';
        }
        probe.push(e);
      } else if (act === ACT_UNPROBE) this.unprobe(e);
    }
    for (const [s, fns] of patch) {
      for (const [fn, why] of this.patch(s, fns)) {
        const e = this.entry(s, fn);
        e.why = why;
        probe.push(e);
      }
    }
    for (const e of probe) this.probe(e);
  }

  private entry(s: LoadedScript, fn: number): SiteEntry {
    return this.sites.get(s.ids[fn]!)!.find((e) => e.script === s)!;
  }

  /** Every function with a site, with its site. */
  private *entries(): Generator<[number, SiteEntry]> {
    for (const [id, list] of this.sites) for (const e of list) yield [id, e];
  }

  /**
   * Live-patches `add` into `s`, in as many edits as V8's matching needs
   * (steps.ts); returns the functions not patched, with why.
   */
  private patch(s: LoadedScript, add: Set<number>): Map<number, string> {
    const refused = new Map<number, string>();
    defineGlobals(s);
    const st = scriptText(s);
    const moved = this.liftProbes(s);
    try {
      const pending = new Set(add);
      while (pending.size > 0) {
        let step = nextStep(st, s.patched, pending, true);
        for (const [fn, why] of step.never) {
          refused.set(fn, `V8's LiveEdit would not match the patched text: ${why}`);
          pending.delete(fn);
        }
        if (step.fns.size === 0) break;
        for (const fn of step.fns) pending.delete(fn);
        let status = this.setSource(s, step.text.text, false);
        if (status !== 'Ok') {
          // One at a time, to find which functions V8 refuses (on the stack, a running generator).
          const left = new Set<number>();
          for (const fn of step.fns) {
            const one = nextStep(st, s.patched, new Set([fn]), true);
            const why = one.fns.has(fn) ? this.setSource(s, one.text.text, true) : 'Ok';
            if (why === 'Ok') left.add(fn);
            else refused.set(fn, refusal(why));
          }
          if (left.size === 0) continue;
          step = nextStep(st, s.patched, left, true);
          for (const fn of left) if (!step.fns.has(fn) && !step.never.has(fn)) pending.add(fn);
          for (const [fn, why] of step.never) refused.set(fn, `V8's LiveEdit would not match the patched text: ${why}`);
          if (step.fns.size === 0) continue;
          status = this.setSource(s, step.text.text, false);
          if (status !== 'Ok') {
            for (const fn of step.fns) refused.set(fn, refusal(status));
            continue;
          }
        }
        for (const fn of step.fns) {
          s.patched.add(fn);
          this.entry(s, fn).state = SITE_PATCHED;
        }
        s.current = step.text;
      }
      for (const fn of pending) if (!refused.has(fn)) refused.set(fn, 'V8\'s LiveEdit would not match the patched text');
      return refused;
    } finally {
      for (const e of moved) this.probe(e);
    }
  }

  private setSource(s: LoadedScript, text: string, dryRun: boolean): string {
    try {
      return this.dbg.setSource(s.scriptId, text, dryRun);
    } catch (e) {
      return `Error: ${(e as Error).message}`;
    }
  }

  /** Removes the probes of `s` (LiveEdit moves its functions); returns them, to be set again. */
  private liftProbes(s: LoadedScript): SiteEntry[] {
    const out: SiteEntry[] = [];
    for (const [, e] of this.entries()) {
      if (e.script === s && e.state === SITE_PROBED) {
        this.unprobe(e);
        out.push(e);
      }
    }
    return out;
  }

  private probe(e: SiteEntry): void {
    if (e.state !== SITE_NONE) return;
    if (this.probed >= MAX_PROBED) {
      e.why = `more than ${MAX_PROBED} probed functions`;
      return;
    }
    const s = e.script;
    const f = s.sf.fns[e.fn]!;
    const text = s.current?.text ?? s.source;
    const start = s.current === null ? f.start : s.current.starts[e.fn]!;
    const end = s.current === null ? f.end : s.current.ends[e.fn]!;
    const ls = v8LineStarts(text);
    let locs: Location[];
    try {
      // The search end is exclusive, and an arrow with an expression body returns at its very end.
      locs = this.dbg.locations(s.scriptId, lineColumn(ls, start + (f.bodyStart - f.start)), lineColumn(ls, end + 1));
    } catch (err) {
      e.why = `no break locations: ${(err as Error).message}`;
      return;
    }
    if (locs.length === 0) {
      e.why = 'no break locations';
      return;
    }
    const id = s.ids[e.fn]!;
    const first = locs[0]!;
    const same = (a: Location, b: Location): boolean => a.lineNumber === b.lineNumber && a.columnNumber === b.columnNumber;
    const exits = locs.filter((l) => l.type === 'return');
    try {
      const entryOnly = !exits.some((l) => same(l, first));
      if (entryOnly) e.breakpoints.push(this.dbg.setBreakpoint(first, `${entryCondition(id, f.params)}`));
      for (const l of exits) {
        e.breakpoints.push(this.dbg.setBreakpoint(l, same(l, first) ? `${entryCondition(id, f.params)}||${exitCondition(id)}` : exitCondition(id)));
      }
    } catch (err) {
      this.unprobe(e);
      e.why = `breakpoint refused: ${(err as Error).message}`;
      return;
    }
    e.state = SITE_PROBED;
    this.probed++;
  }

  private unprobe(e: SiteEntry): void {
    for (const b of e.breakpoints) {
      try {
        this.dbg.removeBreakpoint(b);
      } catch {
        // already gone with its script
      }
    }
    if (e.state === SITE_PROBED) this.probed--;
    e.breakpoints = [];
    if (e.state === SITE_PROBED) e.state = SITE_NONE;
  }

  /**
   * Removes every probe and restores every script it can, in as many edits
   * as V8's matching needs (steps.ts); returns the functions left patched,
   * by script path.
   */
  restoreAll(): string[] {
    for (const [, e] of this.entries()) this.unprobe(e);
    const left: string[] = [];
    for (const s of this.scripts) {
      if (!this.restore(s)) left.push(`${s.path} (${s.patched.size} functions)`);
    }
    return left;
  }

  /**
   * Puts back `s`'s own text in as many edits as V8's matching needs
   * (its probes already lifted); whether nothing of it is left patched.
   */
  private restore(s: LoadedScript): boolean {
    const st = scriptText(s);
    const restored = (fns: ReadonlySet<number>, text: Spliced): void => {
      for (const fn of fns) {
        s.patched.delete(fn);
        this.entry(s, fn).state = SITE_NONE;
      }
      s.current = s.patched.size === 0 ? null : text;
    };
    while (s.patched.size > 0) {
      const step = nextStep(st, s.patched, s.patched, false);
      if (step.fns.size === 0) break;
      if (this.setSource(s, step.text.text, false) === 'Ok') {
        restored(step.fns, step.text);
        continue;
      }
      // Function by function: what V8 refuses now (running) stays patched, idle.
      let progress = false;
      for (const fn of step.fns) {
        const one = nextStep(st, s.patched, new Set([fn]), false);
        if (!one.fns.has(fn) || this.setSource(s, one.text.text, false) !== 'Ok') continue;
        restored(one.fns, one.text);
        progress = true;
      }
      if (!progress) break;
    }
    if (s.patched.size > 0) return false;
    removeGlobals(s);
    return true;
  }

  /**
   * Adds a script of a file loaded again since the attach (a require cache
   * clear). The table keeps a file's first script and its newest: the
   * program may still call the first's functions (a server's handler
   * registered once), and it loads the newest now; a script in between,
   * which a program that reloads holds on to only by mistake, is given its
   * own text back and dropped, so that a program reloading a file all day
   * keeps two scripts' worth of tables, not one per load. One it cannot
   * restore yet (a function of it is running) stays until the next load.
   */
  addLoad(s: LoadedScript): void {
    const same = this.scripts.filter((o) => o.url === s.url);
    for (const old of same.slice(1)) {
      for (const [, e] of this.entries()) if (e.script === old) this.unprobe(e);
      if (!this.restore(old)) continue;
      this.scripts.splice(this.scripts.indexOf(old), 1);
      for (const [id, list] of this.sites) {
        const kept = list.filter((e) => e.script !== old);
        if (kept.length === 0) this.sites.delete(id);
        else if (kept.length !== list.length) this.sites.set(id, kept);
      }
    }
    this.add(s);
  }

  /**
   * The attach's line for the site `id` in enabled_functions: the state of
   * its function in the newest script that has it (a file loaded again
   * runs the newest load's functions, as a rule).
   */
  describe(id: number): string | null {
    const list = this.sites.get(id);
    const e = list?.[list.length - 1];
    return e === undefined ? null : stateText(e.state, e.why);
  }

  counts(): { scripts: number; functions: number; patched: number; probed: number; patchedScripts: number } {
    let patched = 0;
    let patchedScripts = 0;
    for (const s of this.scripts) {
      patched += s.patched.size;
      if (s.patched.size > 0) patchedScripts++;
    }
    return { scripts: this.scripts.length, functions: this.sites.size, patched, probed: this.probed, patchedScripts };
  }
}

function scriptText(s: LoadedScript): ScriptText {
  return { source: s.source, output: s.output, sf: s.sf, rename: (n) => globalName(s, n) };
}

function refusal(status: string): string {
  switch (status) {
    case 'BlockedByActiveFunction': return 'V8 refused the live patch: the function is running';
    case 'BlockedByActiveGenerator': return 'V8 refused the live patch: a suspended call of it is in flight';
    case 'BlockedByTopLevelEsModuleChange': return 'V8 refused the live patch: it would change the module\'s top level';
    case 'CompileError': return 'the instrumented text does not compile (a jsftrace bug)';
    default: return `the live patch failed: ${status}`;
  }
}
