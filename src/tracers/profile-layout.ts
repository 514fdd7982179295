/**
 * The function profiler's table, drawn in one place: the SharedArrayBuffer
 * each profiling thread writes (profile.ts), that trace_stat renders
 * (output/stat.ts), `jsftrace profile` reads (output/profile.ts), and a
 * trace file's PROFILE chunk carries (tracefile/encode.ts, read.ts).
 *
 * Owns: the row's words. Invariant: a table is float64 rows of ROW_F64
 * words; row 0 is the table's own: word 0 the count of calls refused
 * (table or slots full), word 1 what its times count (the clock's unit:
 * 0 ns, 1 events of the counter clock); each other row is a site's, keyed by site id + 1 (0: free), with
 * open addressing on the site id in a thread's live table; a file's table
 * keeps only the rows in use. Version 2 (trace file 2.1) added the words
 * from P_SELF on; a version 1 table (files 2.0) has rows of 4 words.
 *
 *   word  what
 *   0     site id + 1
 *   1     hits: calls entered (counted at entry)
 *   2     time: first entry to final return, summed over returned calls
 *   3     time²: the sum of their squares (trace_stat's s^2)
 *   4     self: each part's time less its callees' parts (a part: entry or
 *         resumption to return or suspension)
 *   5     waiting: time − the parts' time, over returned calls (0 for a
 *         call that never suspended)
 *   6     returned: calls whose final return was seen
 *   7     open running: the parts' time of calls that have suspended and
 *         not returned yet
 *
 * So the parts' time of all calls, running, is time − waiting + open
 * running; a call that never suspends adds to words 1 to 4 and 6 only.
 */

export const TABLE_ROWS = 16384;
export const ROW_F64 = 8;
/** Row width of a version 1 table. */
export const ROW_F64_V1 = 4;
/** Row 0: calls refused. */
export const P_REFUSED = 0;
/** Row 0: the clock's unit (ring/clock.ts UNIT_NS, UNIT_COUNT). */
export const P_UNIT = 1;
export const P_KEY = 0;
export const P_HITS = 1;
export const P_TIME = 2;
export const P_TIME2 = 3;
export const P_SELF = 4;
export const P_WAITING = 5;
export const P_RETURNED = 6;
export const P_OPEN_RUNNING = 7;
