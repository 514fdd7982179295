/**
 * The control surface as one value: the tracefs-like tree of a process.
 * Everything that drives jsftrace (the in-process API, the control server,
 * the selftests) goes through this interface, so a file behaves the same
 * whether it is written in the program or through the socket.
 *
 * Invariant (G8): a write or append that fails changes nothing, throws a
 * JsftraceError with an errno code, and leaves an entry in `error_log`.
 */

export interface ControlSurface {
  /** Every file's path, sorted, as under tracefs (`options/overwrite`, `per_thread/1/trace`, ...). */
  list(): Promise<string[]>;
  /** The file's text (`cat`). `trace_pipe` consumes what it returns and never blocks. */
  read(path: string): Promise<string>;
  /**
   * The file's text in pieces, in order, to `onChunk` (a promise it returns
   * holds the next piece back): a large `trace` costs the program bounded
   * time between two turns of its event loop and bounded memory. Ends when
   * the file is done or `signal` aborts; `trace_pipe` gives what its
   * buffers held when the read started.
   */
  stream(path: string, onChunk: (text: string) => void | Promise<void>, signal?: AbortSignal): Promise<void>;
  /** `echo text > path`: truncate, then write. */
  write(path: string, text: string): Promise<void>;
  /** `echo text >> path`. */
  append(path: string, text: string): Promise<void>;
}
