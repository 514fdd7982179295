/**
 * trace_options and options/<name>: ftrace's option switches, those that
 * mean something here.
 *
 * Owns: the option table (name, owner tracer, bit, effect). Invariants:
 * - trace_options lists the general options, then those of the current
 *   tracer (as ftrace, a tracer's options show there only while it is
 *   current), each as `name` or `noname`; writing a word sets (`name`) or
 *   clears (`noname`) it, and an option of a tracer that is not current is
 *   EINVAL there;
 * - options/<name> exists for every option of every tracer and takes 0/1;
 * - a word that names no option refuses the write, and changes nothing; the
 *   words of one write change the option word at once (the last word about
 *   an option wins), and are put back if the core refuses a helper.
 */

import { overwrite, readCurrentTracer, setOverwrite } from '../../tracers/index.js';
import {
  options, OPT_CONTEXT_INFO, OPT_FUNC_STACK_TRACE, OPT_GRAPH_ABSTIME, OPT_GRAPH_ARGS, OPT_GRAPH_CPU, OPT_GRAPH_DURATION,
  OPT_GRAPH_OVERHEAD, OPT_GRAPH_PROC, OPT_GRAPH_RETVAL, OPT_GRAPH_RETVAL_HEX, OPT_GRAPH_TAIL, OPT_IRQ_INFO, OPT_MARKERS,
  OPT_FUNC_CALLER, OPT_OTLP, OPT_PRINT_PARENT,
} from '../../tracers/session.js';
import { setOptions } from '../../tracers/tracers.js';
import { failAt, wordsAt, type ControlFile } from '../file.js';

interface OptionDef {
  name: string;
  /** The tracer that owns it, or null for a general option. */
  tracer: string | null;
  /** Its bit in the session's option word; 0 for overwrite, which is a ring mode. */
  bit: number;
  get(): boolean;
  set(on: boolean): void | Promise<void>;
}

function bit(name: string, tracer: string | null, b: number): OptionDef {
  return { name, tracer, bit: b, get: () => (options() & b) !== 0, set: (on) => (on ? setOptions(b) : setOptions(0, b)) };
}

/** In ftrace's order of trace_options (general, then tracer options). */
export const OPTIONS: readonly OptionDef[] = [
  bit('print-parent', null, OPT_PRINT_PARENT),
  bit('context-info', null, OPT_CONTEXT_INFO),
  { name: 'overwrite', tracer: null, bit: 0, get: overwrite, set: setOverwrite },
  bit('irq-info', null, OPT_IRQ_INFO),
  bit('markers', null, OPT_MARKERS),
  bit('func_stack_trace', 'function', OPT_FUNC_STACK_TRACE),
  bit('func-caller', 'function', OPT_FUNC_CALLER),
  bit('funcgraph-cpu', 'function_graph', OPT_GRAPH_CPU),
  bit('funcgraph-overhead', 'function_graph', OPT_GRAPH_OVERHEAD),
  bit('funcgraph-proc', 'function_graph', OPT_GRAPH_PROC),
  bit('funcgraph-duration', 'function_graph', OPT_GRAPH_DURATION),
  bit('funcgraph-abstime', 'function_graph', OPT_GRAPH_ABSTIME),
  bit('funcgraph-tail', 'function_graph', OPT_GRAPH_TAIL),
  bit('funcgraph-retval', 'function_graph', OPT_GRAPH_RETVAL),
  bit('funcgraph-retval-hex', 'function_graph', OPT_GRAPH_RETVAL_HEX),
  bit('funcgraph-args', 'function_graph', OPT_GRAPH_ARGS),
  bit('otlp', 'function_graph', OPT_OTLP),
];

function visible(): OptionDef[] {
  const cur = readCurrentTracer().trim();
  return OPTIONS.filter((o) => o.tracer === null || o.tracer === cur);
}

async function writeOptions(text: string): Promise<void> {
  const plan: { o: OptionDef; on: boolean }[] = [];
  const shown = visible();
  for (const { word, pos } of wordsAt(text)) {
    // `name` sets, `noname` clears; a word that is neither names no option.
    const on = OPTIONS.some((o) => o.name === word) || !(word.startsWith('no') && OPTIONS.some((o) => o.name === word.slice(2)));
    const name = on ? word : word.slice(2);
    const o = OPTIONS.find((x) => x.name === name);
    if (o === undefined) failAt('EINVAL', `trace_options: no option "${word}"`, pos);
    if (!shown.includes(o)) failAt('EINVAL', `trace_options: "${name}" belongs to the ${o.tracer} tracer, which is not current`, pos);
    plan.push({ o, on });
  }
  // One change of the option word (all or nothing), then the ring mode.
  let set = 0;
  let clear = 0;
  for (const { o, on } of plan) {
    if (on) set |= o.bit;
    else clear |= o.bit;
    if (on) clear &= ~o.bit;
    else set &= ~o.bit;
  }
  await setOptions(set, clear);
  for (const { o, on } of plan) if (o.bit === 0) await o.set(on);
}

export const optionFiles: Record<string, ControlFile> = {
  trace_options: {
    read: () => visible().map((o) => `${o.get() ? '' : 'no'}${o.name}\n`).join(''),
    write: writeOptions,
  },
};

for (const o of OPTIONS) {
  optionFiles[`options/${o.name}`] = {
    read: () => (o.get() ? '1\n' : '0\n'),
    write: (text) => {
      const t = text.trim();
      if (t !== '0' && t !== '1') failAt('EINVAL', `options/${o.name}: 0 or 1, not "${t}"`, text.length - text.trimStart().length);
      return o.set(t === '1');
    },
  };
}
