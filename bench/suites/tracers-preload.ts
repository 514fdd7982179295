// Preloaded after jsftrace/register by the tracers benchmark: turns on the
// tracer named by JSFTRACE_BENCH_TRACER ('function', 'function_graph' or
// 'profile') on every function, with the clock JSFTRACE_BENCH_CLOCK.

import * as T from '../../src/tracers/index.js';

const tracer = process.env['JSFTRACE_BENCH_TRACER'] ?? '';
const clock = process.env['JSFTRACE_BENCH_CLOCK'] ?? 'local';
T.setTraceClock(clock);
// A flight recorder: the benchmark measures writing, not the buffer's size.
T.setOverwrite(true);
if (tracer === 'profile') await T.setFunctionProfileEnabled(true);
else if (tracer !== '') await T.setCurrentTracer(tracer);
