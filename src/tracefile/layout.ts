/**
 * The trace file, version 2.2, drawn in one place: what `jsftrace record`
 * streams to disk while a program runs, what `extract` writes, and what
 * `report` reads in bounded memory.
 *
 * Owns: every offset, chunk type and limit of the file. Invariants:
 * - the file is a header and then chunks, appended in order and never
 *   rewritten, so a recording cut short (disk full, a killed recorder) is
 *   a readable file up to its last whole chunk;
 * - every size a chunk declares is checked against the limits below and
 *   against the bytes the file really has before anything is allocated;
 *   a compressed chunk inflates to at most the size it declares, which is
 *   itself under MAX_CHUNK_BYTES;
 * - a ring's events are stored as the ring's own page images (header and
 *   committed words, docs/ring-format.md), so the reader of a live ring
 *   decodes them, and losses show as gaps in their serial numbers.
 *
 *   offset  size  header (HEADER_BYTES)
 *   0       8     magic "JSFTRACE" (latin1)
 *   8       4     u32 major (2): a reader refuses any other
 *   12      4     u32 minor (2): additions a 2.x reader may ignore (2.1:
 *                 PROFILE_ROWS; 2.2: a PROCESS_END's `execve`)
 *   16      4     u32 header bytes (32)
 *   20      12    reserved (0)
 *
 *   then chunks, each padded to a multiple of 8 bytes:
 *   0       2     u16 type (CHUNK_*)
 *   2       2     u16 flags (FLAG_*)
 *   4       4     u32 payload bytes as stored (<= MAX_CHUNK_BYTES)
 *   8       4     u32 id: a process number (PROCESS, NAMES, PROFILE(_ROWS),
 *                 PROCESS_END) or a stream number (THREAD, PAGES, DROPPED,
 *                 STREAM_END); numbers start at 1, each declared once by
 *                 its PROCESS or THREAD chunk before it is used
 *   12      4     u32 count: PAGES: events in the chunk; DROPPED: events
 *                 refused; NAMES: names; PROFILE(_ROWS): the thread id
 *   16      n     payload (COMPRESSED: u32 inflated bytes, u32 0, then
 *                 raw deflate data)
 *
 * A stream is one ring of one thread (a thread whose buffers are cleared
 * gets a new ring and a new stream); its PAGES chunks hold page images
 * back to back, each the 8 header words and `commit_words` data words.
 */

export const TRACEFILE_MAGIC = 'JSFTRACE';
export const TRACEFILE_MAJOR = 2;
export const TRACEFILE_MINOR = 2;
export const HEADER_BYTES = 32;
export const CHUNK_HEAD_BYTES = 16;

/** JSON ProcessInfo: a traced process (pid, command line, configuration at start). */
export const CHUNK_PROCESS = 1;
/** JSON StreamInfo: a ring of one of its threads (thread id, name, tracer, page size). */
export const CHUNK_THREAD = 2;
/** Page images of a stream, in the order the ring's reader took them. */
export const CHUNK_PAGES = 3;
/** Events the ring refused (producer or wait mode) since the last such chunk: counted here, where the reader noticed. */
export const CHUNK_DROPPED = 4;
/** Site names of a process: u32 first site id, then UTF-8 names separated by '\n'. */
export const CHUNK_NAMES = 5;
/** A thread's profiler table of 2.0 (rows of 4 words): u32 name bytes, the name, padding to 8, the table's float64 rows. Still read; no longer written. */
export const CHUNK_PROFILE = 6;
/** JSON StreamEnd: the ring's own counters when its reader finished (overrun, dropped, written). */
export const CHUNK_STREAM_END = 7;
/** JSON ProcessEnd: how the process ended. */
export const CHUNK_PROCESS_END = 8;
/** JSON Note: something the recorder says about the whole recording (why it stopped early). */
export const CHUNK_NOTE = 9;
/**
 * A thread's profiler table (2.1, written with FLAG_OPTIONAL, so that a 2.0
 * reader skips it): u32 name bytes, u32 words per row, the name, padding to
 * 8, the table's row 0 and its rows in use (tracers/profile-layout.ts).
 */
export const CHUNK_PROFILE_ROWS = 10;
export const CHUNK_NAMES_TEXT = ['', 'process', 'thread', 'pages', 'dropped', 'names', 'profile', 'stream end', 'process end', 'note', 'profile'] as const;

/** The payload is raw deflate data after a u32 of its inflated size and a u32 0. */
export const FLAG_COMPRESSED = 1;
/** A reader that does not know the chunk's type may skip it (added in a minor version). */
export const FLAG_OPTIONAL = 0x8000;

// Limits: what a reader accepts before it allocates.
/** Largest payload of one chunk, stored or inflated. */
export const MAX_CHUNK_BYTES = 16 << 20;
/** Largest JSON payload (process, thread, end, note). */
export const MAX_JSON_BYTES = 1 << 20;
export const MAX_PROCESSES = 1 << 16;
export const MAX_STREAMS = 1 << 18;
/** Site ids of one process (the core's largest table). */
export const MAX_SITES = 1 << 24;
/** Site names kept for rendering, in all: beyond, the file is refused. */
export const MAX_NAME_BYTES = 256 << 20;
/** A longer site name is cut (it would be printed on every line of its calls). */
export const MAX_NAME_CHARS = 4096;
/** Profiler tables: at most this many rows. */
export const MAX_PROFILE_ROWS = 1 << 20;

/** A drained stream's PAGES chunks are sent when they reach about this size. */
export const CHUNK_TARGET_BYTES = 256 << 10;

export function padded(n: number): number {
  return (n + 7) & ~7;
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  argv: string[];
  cwd: string;
  /** Wall time of the process's start (ISO 8601). */
  started: string;
  node: string;
  /** Event formats by name: id and field names, checked against the reader's own. */
  events: { name: string; id: number; fields: string[] }[];
}

export interface StreamInfo {
  process: number;
  threadId: number;
  name: string;
  gen: number;
  pageBytes: number;
  clock: string;
  tracer: string;
  options: number;
  threshUs: number;
  /**
   * The ring's clock reading and wall time (ms since the epoch) taken
   * together: what turns the stream's timestamps into wall times (the OTLP
   * spans of `report --format otlp`). Absent in files written before it.
   */
  anchor?: { clock: number; wallMs: number };
  /**
   * The serial number the stream starts at: events before it are not part
   * of the file by design (a snapshot shows what the ring holds, not what
   * readers consumed). Absent: 0, the ring's first event, so a first image
   * that starts later follows a loss.
   */
  from?: number;
}

export interface StreamEnd {
  overrun: number;
  dropped: number;
  written: number;
  /**
   * Events the thread wrote but never published: it was stopped in the
   * middle of one, or was still running, not answering, when its process
   * ended (ring/seal.ts). Absent in files written before it: 0.
   */
  unsaved?: number;
}

export interface ProcessEnd {
  /** 'exit' (code), 'signal' (signal), 'lost' (the recorder lost its connection before the end). */
  how: 'exit' | 'signal' | 'lost';
  code: number | null;
  signal: string | null;
  /**
   * Set (2.2) on an 'exit' with no code: process.execve replaced the
   * program, which goes on as another program under the same pid. A 2.1
   * reader sees an exit without a code.
   */
  execve?: true;
  /** The filter patterns that matched no function in this process (`set_ftrace_filter "*:x"`). */
  unmatched?: string[];
}

export interface Note {
  text: string;
}
