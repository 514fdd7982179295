/**
 * What `report` selects from a trace file before any format renders it:
 * processes (`--pid`), threads (`--thread`), a time window (`--from`,
 * `--to`), functions (`--func`, ftrace's globs), a least duration
 * (`--min-duration`) and trace-cmd's event filters (`-F`). Every format
 * reads the same selected events, so they all show the same selection.
 *
 * Owns: the selection's meaning and its order (threads, then window, then
 * functions, then duration, then -F). Invariants: each step is a filter
 * over one thread's items, one item at a time (at most one item held, to
 * join funcgraph-args to its entry), so a selection keeps the report's
 * bounded memory; a notice of lost events always passes (what was lost is
 * never hidden); the events left may lack an entry or a return, which
 * every output already handles (a selection reads like a trace whose
 * buffer lost them).
 *
 * - `--func`: the function tracer's events of matching functions; for
 *   function_graph, the calls of matching functions and everything they
 *   call (set_graph_function, applied when reading), their depths counted
 *   from the matching call; the runtime's events (gc, loop_delay,
 *   async_hook) are no function's and stay;
 * - `--min-duration`: function_graph's tracing_thresh applied when reading:
 *   the returns of calls at least that long (their entries are not shown,
 *   the text closes them with `} /* func *\/`);
 * - a time is the trace clock's, in seconds as the TIMESTAMP column shows
 *   it; `+s` counts from the trace's first event.
 */

import { fail } from '../shared/errors.js';
import { FilterPair, TokenList } from '../core/filter.js';
import { EV_FUNCTION, EV_GRAPH_ARGS, EV_GRAPH_ENT, EV_GRAPH_RET, EV_GRAPH_RETVAL, eventRegistry } from '../tracers/session.js';
import type { Item, ItemSource } from '../tracers/output/common.js';
import { isRuntimeEvent } from '../tracers/output/runtime.js';
import { parseEventFilter, passes, type EventFilter } from './event-filter.js';
import type { FileThread } from './threads.js';

export interface ReportFilter {
  pids?: readonly number[];
  threads?: readonly number[];
  /** Trace clock values (ns), or `+` offsets from the first event when `relative`. */
  from?: number;
  to?: number;
  relative?: boolean;
  /** ftrace globs on `<file>:<name>` (`!` removes, `:mod:` packages). */
  funcs?: readonly string[];
  minDurationNs?: number;
  /** trace-cmd's `-F` texts. */
  events?: readonly string[];
}

/** Whether the filter selects anything less than the whole file. */
export function selects(f: ReportFilter | undefined): boolean {
  if (f === undefined) return false;
  return (f.pids?.length ?? 0) > 0 || (f.threads?.length ?? 0) > 0 || f.from !== undefined || f.to !== undefined
    || (f.funcs?.length ?? 0) > 0 || (f.minDurationNs ?? 0) > 0 || (f.events?.length ?? 0) > 0;
}

/** Whether the filter looks inside threads (not only which threads). */
export function selectsEvents(f: ReportFilter | undefined): boolean {
  return f !== undefined && selects({ ...f, pids: [], threads: [] });
}

/**
 * A time as `report` takes it: seconds (`12.5`, as the TIMESTAMP column),
 * or `+0.5` seconds after the first event. Returns ns and whether relative.
 */
export function parseTime(text: string, what: string): { ns: number; relative: boolean } {
  const m = /^(\+)?([0-9]+(\.[0-9]{1,9})?)$/.exec(text.trim());
  if (m === null) fail('EINVAL', `${what} ${JSON.stringify(text)}: seconds as the trace shows them (12.345678), or +seconds from the first event`);
  const [whole, frac = ''] = m[2]!.split('.');
  return { ns: Number(whole) * 1e9 + Number(frac.padEnd(9, '0')), relative: m[1] === '+' };
}

/** A duration: a number with a unit (ns, us, ms, s); a bare number is µs (tracing_thresh's unit). */
export function parseDuration(text: string, what: string): number {
  const m = /^([0-9]+(\.[0-9]+)?)(ns|us|µs|ms|s)?$/.exec(text.trim());
  if (m === null) fail('EINVAL', `${what} ${JSON.stringify(text)}: a duration (500us, 2ms, 1.5s; a bare number is µs)`);
  const scale = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }[m[3] ?? 'us'] ?? 1e3;
  return Math.round(Number(m[1]) * scale);
}

/** A name `name [package]` split as the filters see it. */
function splitName(display: string): { name: string; pkg: string } {
  const m = /^(.*) \[([^\]]*)\]$/.exec(display);
  return m === null ? { name: display, pkg: '' } : { name: m[1]!, pkg: m[2]! };
}

/** The items of `src` for which `keep` is true (lost notices always). */
function where(src: ItemSource, keep: (it: Item) => boolean): ItemSource {
  return {
    next() {
      for (let it = src.next(); it !== null; it = src.next()) if (it.lost > 0 || keep(it)) return it;
      return null;
    },
  };
}

/** `--func`: function events of matching functions; graph calls of matching functions and their callees. */
function byFunction(src: ItemSource, match: (site: number) => boolean): ItemSource {
  const FN = EV_FUNCTION.id;
  const ENT = EV_GRAPH_ENT.id;
  const RET = EV_GRAPH_RET.id;
  // The depth of the matching call we are inside, or -1.
  let base = -1;
  let baseSite = -1;
  const rebased = (it: Item): Item => ({ ...it, b: it.b - base });
  const step = (it: Item): Item | null => {
    if (it.type === FN) return match(it.a) ? it : null;
    if (it.type === ENT) {
      if (base < 0 && match(it.a)) {
        base = it.b;
        baseSite = it.a;
      }
      return base >= 0 && it.b >= base ? rebased(it) : null;
    }
    if (it.type === RET) {
      if (base < 0) return match(it.a) ? { ...it, b: 0 } : null; // a return whose entry was not read
      if (it.b < base) {
        base = -1;
        return null;
      }
      const out = rebased(it);
      // The matching call's part ends (a return, or a suspension: it resumes with an entry of its own).
      if (it.b === base && it.a === baseSite) base = -1;
      return out;
    }
    // The runtime's events are no function's: they stay. Other events (markers, stack traces) stay inside a selected call.
    if (isRuntimeEvent(it.type)) return it;
    return base >= 0 ? it : null;
  };
  // funcgraph-args precede their entry and funcgraph-retval follow their return: they go with them.
  const queue: Item[] = [];
  let args: Item | null = null;
  let retKept = false;
  return {
    next() {
      for (;;) {
        if (queue.length > 0) return queue.shift()!;
        const it = src.next();
        if (it === null) return null;
        if (it.lost > 0) return it;
        if (it.type === EV_GRAPH_ARGS.id) {
          args = it;
          continue;
        }
        if (it.type === EV_GRAPH_RETVAL.id) {
          if (retKept) return it;
          continue;
        }
        const a = args;
        args = null;
        const out = step(it);
        retKept = out !== null && it.type === RET;
        if (out === null) continue;
        if (a !== null && it.type === ENT && a.a === it.a) queue.push(a);
        queue.push(out);
      }
    },
  };
}

/** `--min-duration`: tracing_thresh when reading: returns of calls at least that long, no entries. */
function byDuration(src: ItemSource, ns: number): ItemSource {
  const ENT = EV_GRAPH_ENT.id;
  const RET = EV_GRAPH_RET.id;
  let keptRet = false;
  return where(src, (it) => {
    if (it.type === ENT || it.type === EV_GRAPH_ARGS.id) return false;
    if (it.type === RET) {
      keptRet = it.c >= ns;
      return keptRet;
    }
    if (it.type === EV_GRAPH_RETVAL.id) return keptRet;
    return true;
  });
}

/** The first timestamp of the selected threads (for `+s` times). */
function firstTimestamp(threads: readonly FileThread[]): number {
  let first = Number.POSITIVE_INFINITY;
  for (const t of threads) {
    const src = t.open();
    for (let it = src.next(); it !== null; it = src.next()) {
      if (it.lost > 0) continue;
      first = Math.min(first, it.ts);
      break;
    }
  }
  return Number.isFinite(first) ? first : 0;
}

/** The threads `f` selects, each reading only the events `f` selects. */
export function applyFilter(threads: readonly FileThread[], f: ReportFilter | undefined): FileThread[] {
  if (f === undefined || !selects(f)) return [...threads];
  let out = threads.filter((t) => (f.pids === undefined || f.pids.length === 0 || f.pids.includes(t.view.pid))
    && (f.threads === undefined || f.threads.length === 0 || f.threads.includes(t.view.threadId)));
  if (!selectsEvents(f)) return out;
  const offset = f.relative === true ? firstTimestamp(out) : 0;
  const from = f.from === undefined ? Number.NEGATIVE_INFINITY : f.from + offset;
  const to = f.to === undefined ? Number.POSITIVE_INFINITY : f.to + offset;
  const funcs = f.funcs !== undefined && f.funcs.length > 0 ? new FilterPair(TokenList.parse(f.funcs), new TokenList([])) : null;
  const events: EventFilter[] = (f.events ?? []).map((e) => parseEventFilter(e, eventRegistry().all()));
  out = out.map((t) => {
    const site = t.view.site;
    // Per thread: its process's names.
    const memo = new Map<number, boolean>();
    const match = (id: number): boolean => {
      let v = memo.get(id);
      if (v === undefined) {
        const { name, pkg } = splitName(site(id));
        v = funcs!.covers(id, name, pkg);
        memo.set(id, v);
      }
      return v;
    };
    const open = (): ItemSource => {
      let src = t.open();
      if (from > Number.NEGATIVE_INFINITY || to < Number.POSITIVE_INFINITY) src = where(src, (it) => it.ts >= from && it.ts <= to);
      if (funcs !== null) src = byFunction(src, match);
      if ((f.minDurationNs ?? 0) > 0) src = byDuration(src, f.minDurationNs!);
      if (events.length > 0) src = where(src, (it) => passes(events, it, site));
      return src;
    };
    return { ...t, open };
  });
  return out;
}
