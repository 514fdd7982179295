/**
 * Preloaded after jsftrace/register by tools/suites (NODE_OPTIONS, so in
 * every process a test runner starts): the function_graph tracer on every
 * function of the process, as `jsftrace record -p function_graph` sets it
 * in the one process it starts.
 *
 * Owns: nothing but that write. Invariant: it changes the process only as
 * tracing does (no output, no listener).
 */

import { writeFile } from '../../src/public/control.js';

await writeFile('current_tracer', 'function_graph');
