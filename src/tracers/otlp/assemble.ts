/**
 * Calls rebuilt from one thread's function_graph events, as the export
 * worker reads them live and the offline converter reads them from a trace
 * file: each call once, with its whole duration, its traced caller, the
 * time it spent suspended, how it ended, and the OpenTelemetry span it was
 * called under; each handed to the decision (decision.ts) when it ends.
 *
 * Owns: one thread's reconstruction state (the part running at each depth,
 * the calls suspended at an await or a yield, the side events waiting for
 * the graph event they belong to). Invariants:
 * - a call is the events from its first entry to its final return: its
 *   parts (an async function's or generator's, between suspensions) are
 *   joined by the serial number of the first entry that the
 *   funcgraph_resume_of event before each resumed entry names;
 * - a call's traced caller is the part running one depth below its first
 *   entry, in the same thread; a call with none is a root, whose parent is
 *   the OpenTelemetry span of the otel_parent event just before it (or none:
 *   a trace of its own);
 * - every call that began is decided exactly once: at its return, or, when
 *   its events were lost (READ_LOST) or the export stops, then, as a call
 *   whose end is unknown (kept, so its callees keep their parent);
 * - a side event applies only to the graph event right after it; anything
 *   else in between voids it.
 */

import { END_RETURN, END_THREW, END_UNKNOWN, END_UNWOUND, KEEP, spanFate, type EndKind, type Fate, type TreeDecision } from './decision.js';

/** The OpenTelemetry span a root call was made under, as otel_parent carries it. */
export interface RemoteParent {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

/** A call tree: the trace its spans go into and what was decided for it. */
export interface Tree {
  traceId: string;
  /** The program's span the root was called under, or null (the trace begins here). */
  remote: RemoteParent | null;
  decision: TreeDecision;
}

/** A call that ended and was kept: what a span is made of. Times in the ring's clock. */
export interface CallSpan {
  site: number;
  traceId: string;
  spanId: string;
  /** The span it hangs from: a kept traced caller, else the program's span; null for a trace's first span. */
  parentSpanId: string | null;
  /** Whether that parent is the program's span (from another tracer, "remote" in OpenTelemetry's sense). */
  parentIsRemote: boolean;
  start: number;
  end: number;
  /** Time between its first entry and its return spent suspended; null when it never suspended. */
  suspendedNs: number | null;
  how: EndKind;
  thrown: { type: string; message: string } | null;
}

/** What the reconstruction needs from its user. */
export interface AssemblyContext {
  threshNs: number;
  newSpanId(): string;
  /**
   * Decides a tree whose root `site` begins at ring time `ts` under
   * `remote`; `api`: whether the program had the OpenTelemetry API then
   * (null when the events do not say: recorded without options/otlp).
   */
  beginTree(site: number, ts: number, remote: RemoteParent | null, api: boolean | null): Tree;
  /** A kept call. */
  keep(span: CallSpan): void;
  /** A call left out, and why. */
  drop(fate: Fate): void;
  /** Events of this thread that went by unread (overwritten before the reader came). */
  lost(events: number): void;
  /** A return whose entry was never seen (before the export began, or lost). */
  unmatched(): void;
}

interface Open {
  site: number;
  /** Serial number of its first entry. */
  serial: number;
  start: number;
  partStart: number;
  /** Time of the parts that ended at a suspension. */
  runNs: number;
  parts: number;
  tree: Tree;
  spanId: string;
  caller: Open | null;
  /** -1 while running; its Fate once decided. */
  fate: number;
  thrown: { type: string; message: string } | null;
}

const RUNNING = -1;

export class ThreadCalls {
  /** The part running at each depth (null: a part whose call is not known). */
  private readonly stack: (Open | null)[] = [];
  /** Calls suspended at an await or a yield, by the serial of their first entry. */
  private readonly suspended = new Map<number, Open>();
  private pendingParent: RemoteParent | null | undefined = undefined;
  private pendingApi = false;
  private pendingResume = -1;
  private pendingThrow: { depth: number; type: string; message: string } | null = null;
  private lastTs = 0;

  private readonly ctx: AssemblyContext;

  constructor(ctx: AssemblyContext) {
    this.ctx = ctx;
  }

  /** otel_parent: `remote` is the span that was active, or null when none was; `api`: the program has the API. */
  parent(remote: RemoteParent | null, api: boolean): void {
    this.pendingParent = remote;
    this.pendingApi = api;
  }

  /** funcgraph_resume_of. */
  resumeOf(serial: number): void {
    this.pendingResume = serial;
  }

  /** funcgraph_throw. */
  threw(depth: number, type: string, message: string): void {
    this.pendingThrow = { depth, type, message };
  }

  /** funcgraph_entry; `serial` is the event's own. */
  entry(ts: number, site: number, depth: number, resumed: boolean, serial: number): void {
    this.lastTs = ts;
    const remote = this.pendingParent;
    const resume = this.pendingResume;
    this.pendingParent = undefined;
    this.pendingResume = -1;
    this.pendingThrow = null;
    if (depth < 0) return;
    const stack = this.stack;
    this.truncate(depth);
    while (stack.length < depth) stack.push(null);
    if (resumed) {
      const call = this.suspended.get(resume);
      if (call !== undefined && call.site === site) {
        this.suspended.delete(resume);
        call.partStart = ts;
        call.parts++;
        stack.push(call);
      } else {
        stack.push(null); // its first entry was not seen, or its resume was not named
      }
      return;
    }
    const caller = depth > 0 ? stack[depth - 1] ?? null : null;
    const tree = caller !== null ? caller.tree : this.ctx.beginTree(site, ts, remote ?? null, remote === undefined ? null : this.pendingApi);
    stack.push({
      site, serial, start: ts, partStart: ts, runNs: 0, parts: 1, tree, spanId: this.ctx.newSpanId(), caller, fate: RUNNING,
      thrown: null,
    });
  }

  /** funcgraph_exit; `flags` its common_flags (threw 1, unwound 2, suspended 4). */
  exit(ts: number, site: number, depth: number, durationNs: number, flags: number): void {
    this.lastTs = ts;
    const thrown = this.pendingThrow;
    this.pendingParent = undefined;
    this.pendingResume = -1;
    this.pendingThrow = null;
    const stack = this.stack;
    if (depth < 0) return;
    this.truncate(depth + 1);
    const call = stack[depth];
    if (call === undefined || call === null || call.site !== site) {
      this.truncate(depth);
      this.ctx.unmatched();
      return;
    }
    stack.length = depth;
    if ((flags & 4) !== 0) {
      call.runNs += durationNs;
      this.suspended.set(call.serial, call);
      return;
    }
    if (thrown !== null && thrown.depth === depth) call.thrown = { type: thrown.type, message: thrown.message };
    const how: EndKind = (flags & 2) !== 0 ? END_UNWOUND : (flags & 1) !== 0 ? END_THREW : END_RETURN;
    const ran = call.runNs + (ts - call.partStart);
    this.finish(call, ts, durationNs, how, call.parts > 1 ? Math.max(0, durationNs - ran) : null);
  }

  /** READ_LOST: `n` events went by unread; every call running or suspended may have ended among them. */
  lostEvents(n: number): void {
    this.ctx.lost(n);
    this.closeAll();
  }

  /** The export stops (or the ring is gone): calls still open end now, their end unknown. */
  closeAll(): void {
    const open = new Set<Open>();
    for (const c of this.stack) if (c !== null) open.add(c);
    for (const c of this.suspended.values()) open.add(c);
    this.stack.length = 0;
    this.suspended.clear();
    this.pendingParent = undefined;
    this.pendingResume = -1;
    this.pendingThrow = null;
    // Callers first, so that a callee's parent is decided when it is.
    const byStart = [...open].sort((a, b) => a.start - b.start);
    for (const c of byStart) this.finish(c, Math.max(this.lastTs, c.start), Math.max(0, this.lastTs - c.start), END_UNKNOWN, null);
  }

  /**
   * Leaves only the parts below `depth` on the stack. A call still there
   * above it lost its return (the graph returns every part before anything
   * runs at or below its depth): it ends now, its end unknown.
   */
  private truncate(depth: number): void {
    const stack = this.stack;
    for (let i = stack.length - 1; i >= depth; i--) {
      const c = stack[i];
      if (c !== null && c !== undefined && c.fate === RUNNING) {
        this.finish(c, Math.max(this.lastTs, c.start), Math.max(0, this.lastTs - c.start), END_UNKNOWN, null);
      }
    }
    if (stack.length > depth) stack.length = depth;
  }

  /** Calls begun and not yet decided. */
  openCalls(): number {
    let n = this.suspended.size;
    for (const c of this.stack) if (c !== null) n++;
    return n;
  }

  private finish(call: Open, end: number, durationNs: number, how: EndKind, suspendedNs: number | null): void {
    const fate = spanFate(call.tree.decision, durationNs, this.ctx.threshNs, how);
    call.fate = fate;
    if (fate !== KEEP) {
      this.ctx.drop(fate);
      return;
    }
    // The nearest traced caller that was kept or is still running (it will be kept: it lasts longer).
    let p = call.caller;
    while (p !== null && p.fate !== RUNNING && p.fate !== KEEP) p = p.caller;
    const remote = call.tree.remote;
    this.ctx.keep({
      site: call.site, traceId: call.tree.traceId, spanId: call.spanId,
      parentSpanId: p !== null ? p.spanId : remote !== null ? remote.spanId : null, parentIsRemote: p === null && remote !== null,
      start: end - durationNs, end, suspendedNs, how, thrown: call.thrown,
    });
  }
}
