/**
 * The control client: a traced process's control surface, by pid, over its
 * control socket (protocol.ts).
 *
 * Owns: one connection, its request ids and the matching of answers to
 * requests. Invariants:
 * - G8 on this side too: a socket is opened only in a directory that passes
 *   checkSocketDir (ours, 0700), so a client never talks to a socket someone
 *   else planted;
 * - every failure is a JsftraceError with a stable code: the server's code
 *   for a refused request, ESRCH when there is no such traced process (or
 *   it ended), EACCES when its socket may not be opened, EPROTO when the
 *   other side does not speak this protocol;
 * - a request is settled exactly once: by its answer, or by the connection
 *   closing.
 */

import { connect as netConnect, type Socket } from 'node:net';
import { JsftraceError, fail, type ErrnoCode } from '../shared/errors.js';
import { isAlive, removeStale } from './discovery.js';
import {
  encodeFrame, knownCode, LineSplitter, MAX_ANSWER_BYTES, PROTOCOL_MAJOR, type Hello,
} from './protocol.js';
import { checkSocketDir, defaultSocketDir, socketPath } from './socket-dir.js';

export interface ConnectOptions {
  /** The socket directory (default: socket-dir.ts's defaultSocketDir()). */
  dir?: string;
  /** How long to wait for the connection and the hello answer, ms (default 5000). A busy main thread does not answer. */
  timeoutMs?: number;
}

/** How a pipe ended: cancelled by its signal, or because the process ended. */
export type PipeEnd = 'cancelled' | 'ended';

export interface ControlClient {
  readonly pid: number;
  readonly hello: Hello;
  list(): Promise<string[]>;
  read(path: string): Promise<string>;
  write(path: string, text: string): Promise<void>;
  append(path: string, text: string): Promise<void>;
  /**
   * Streams `path` (`trace_pipe`, `per_thread/N/trace_pipe`) to onChunk
   * until `signal` aborts or the process ends. An onChunk that returns a
   * promise (its output is full) stops reading until it resolves, and so
   * the process stops reading its file for us.
   */
  pipe(path: string, onChunk: (text: string) => void | Promise<void>, signal?: AbortSignal): Promise<PipeEnd>;
  /**
   * Reads `path` in pieces (a read with `stream: true`): onChunk gets them
   * in order, and a promise it returns holds the next back (the process
   * then makes no more). Resolves when the file is done or `signal` aborts.
   */
  stream(path: string, onChunk: (text: string) => void | Promise<void>, signal?: AbortSignal): Promise<void>;
  /** The process's trace as a trace file (tracefile.ts); onProgress gets bytes received of the total. */
  extract(onProgress?: (received: number, total: number) => void): Promise<Uint8Array>;
  /** Says bye and closes. */
  close(): Promise<void>;
}

const noProcess = (pid: number): string => `no jsftrace process with pid ${pid} (jsftrace ps lists them)`;

/**
 * Connects to the traced process `pid` and says hello. Rejects with ESRCH
 * when there is no such traced process, EACCES when its socket or the
 * socket directory is not ours, ETIMEDOUT when it does not answer.
 */
export async function connect(pid: number, opts: ConnectOptions = {}): Promise<ControlClient> {
  if (!Number.isSafeInteger(pid) || pid <= 0) fail('EINVAL', `bad pid ${JSON.stringify(pid)}: a positive integer`);
  const dir = opts.dir ?? defaultSocketDir();
  const alive = isAlive(pid);
  const noSocket = (): never => fail('ESRCH', alive
    ? `process ${pid} is not traced by jsftrace: no control socket in ${dir} (it was started without jsftrace/register, with JSFTRACE_CONTROL=0, or with another JSFTRACE_SOCKET_DIR)`
    : noProcess(pid));
  try {
    checkSocketDir(dir);
  } catch (e) {
    if (e instanceof JsftraceError && e.code === 'ENOENT') noSocket();
    throw e;
  }
  const path = socketPath(dir, pid);
  let socket: Socket;
  try {
    socket = await open(path, opts.timeoutMs ?? 5000);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') noSocket();
    if (code === 'ECONNREFUSED') {
      // Nothing listens: a socket left by a process that died without its exit handler (a signal), its pid maybe reused since.
      removeStale(path);
      noSocket();
    }
    if (code === 'EACCES' || code === 'EPERM') fail('EACCES', `may not open the control socket of pid ${pid} (${path}): it belongs to another user`);
    if (e instanceof JsftraceError) throw e;
    fail('EIO', `cannot connect to ${path}: ${(e as Error).message}`);
  }
  const conn = new Connection(socket, pid);
  let hello: Hello;
  try {
    hello = (await conn.request({ op: 'hello' }, opts.timeoutMs ?? 5000)).hello as Hello;
  } catch (e) {
    conn.destroy();
    throw e;
  }
  if (hello?.pid !== pid) {
    conn.destroy();
    fail('EPROTO', `the socket ${path} answered as pid ${String(hello?.pid)}, not ${pid}`);
  }
  return {
    pid,
    hello,
    list: async () => (await conn.request({ op: 'list' })).files as string[],
    read: async (p) => (await conn.request({ op: 'read', path: p })).text as string,
    write: async (p, text) => { await conn.request({ op: 'write', path: p, text }); },
    append: async (p, text) => { await conn.request({ op: 'append', path: p, text }); },
    pipe: (p, onChunk, signal) => conn.streamed({ op: 'pipe', path: p }, onChunk, signal),
    stream: async (p, onChunk, signal) => { await conn.streamed({ op: 'read', path: p, stream: true }, onChunk, signal); },
    extract: (onProgress) => conn.extract(onProgress),
    close: () => conn.close(),
  };
}

function open(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolveOpen, reject) => {
    const s = netConnect({ path });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new JsftraceError('ETIMEDOUT', `no connection to ${path} in ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', reject);
      resolveOpen(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

type Frame = Record<string, unknown>;

/** What waits on an id: a plain request, or a stream (pipe, extract) that takes frames until its end. */
interface Pending {
  frame(f: Frame): void;
  /** The connection is gone. */
  lost(e: JsftraceError): void;
}

class Connection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly splitter = new LineSplitter(MAX_ANSWER_BYTES);
  private closed: JsftraceError | null = null;
  private holds = 0;
  private readonly socket: Socket;
  private readonly pid: number;

  constructor(socket: Socket, pid: number) {
    this.socket = socket;
    this.pid = pid;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => { /* 'close' follows and settles what waits */ });
    socket.on('close', () => this.lose(new JsftraceError('ESRCH', `process ${pid} ended (its control connection closed)`)));
  }

  private receive(chunk: Buffer): void {
    const lines = this.splitter.push(chunk);
    if (lines === 'oversize') {
      this.lose(new JsftraceError('EMSGSIZE', `process ${this.pid} sent a frame longer than ${MAX_ANSWER_BYTES} bytes`));
      this.socket.destroy();
      return;
    }
    for (const line of lines) {
      let f: Frame;
      try {
        f = JSON.parse(line) as Frame;
      } catch {
        this.lose(new JsftraceError('EPROTO', `process ${this.pid} sent a frame that is not JSON`));
        this.socket.destroy();
        return;
      }
      if (f['v'] !== PROTOCOL_MAJOR) {
        this.lose(new JsftraceError('EPROTO', `process ${this.pid} speaks protocol ${JSON.stringify(f['v'])}, this client ${PROTOCOL_MAJOR}`));
        this.socket.destroy();
        return;
      }
      const id = f['id'];
      if (typeof id === 'number') this.pending.get(id)?.frame(f);
      else if (f['ok'] === false) {
        // An answer to no request: the server could not read one of ours.
        this.lose(errorOf(f));
        this.socket.destroy();
        return;
      }
    }
  }

  private lose(e: JsftraceError): void {
    this.closed ??= e;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.lost(this.closed);
  }

  private send(id: number, req: Frame): void {
    this.socket.write(encodeFrame({ v: PROTOCOL_MAJOR, id, ...req }));
  }

  private start(p: Pending): number {
    if (this.closed !== null) throw this.closed;
    const id = this.nextId++;
    this.pending.set(id, p);
    return id;
  }

  request(req: Frame, timeoutMs?: number): Promise<Frame> {
    return new Promise((resolveReq, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (): void => {
        clearTimeout(timer);
        this.pending.delete(id);
      };
      const id = this.start({
        frame: (f) => {
          settle();
          if (f['ok'] === true) resolveReq(f);
          else reject(errorOf(f));
        },
        lost: (e) => { settle(); reject(e); },
      });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          settle();
          reject(new JsftraceError('ETIMEDOUT', `process ${this.pid} did not answer ${String(req['op'])} in ${timeoutMs} ms (is its main thread busy?)`));
        }, timeoutMs);
      }
      this.send(id, req);
    });
  }

  /** A request answered by `chunk` frames until `end`: a pipe, or a read with `stream: true`. */
  streamed(req: Frame, onChunk: (text: string) => void | Promise<void>, signal?: AbortSignal): Promise<PipeEnd> {
    return new Promise((resolvePipe, reject) => {
      const take = (text: string): void => {
        const busy = onChunk(text);
        if (busy === undefined) return;
        this.hold(busy);
      };
      let started = false;
      const onAbort = (): void => {
        // Before the answer, the server has no pipe to cancel yet: cancel once it answers.
        if (started) this.send(id, { op: 'cancel' });
      };
      const finish = (): void => {
        this.pending.delete(id);
        signal?.removeEventListener('abort', onAbort);
      };
      const id = this.start({
        frame: (f) => {
          if (typeof f['chunk'] === 'string') take(f['chunk']);
          else if (f['end'] === true) {
            finish();
            if (typeof f['code'] === 'string') reject(errorOf(f));
            else resolvePipe(signal?.aborted === true ? 'cancelled' : 'ended');
          } else if (f['ok'] === true) {
            started = true;
            if (signal?.aborted === true) onAbort();
          } else if (f['ok'] === false) {
            finish();
            reject(errorOf(f));
          }
        },
        lost: (e) => {
          finish();
          // The process ending is how a pipe normally ends; a protocol failure is not.
          if (e.code === 'ESRCH' && req['op'] === 'pipe') resolvePipe('ended');
          else reject(e);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.send(id, req);
    });
  }

  /** Stops reading the socket until `until` settles (nested holds count). */
  private hold(until: Promise<void>): void {
    if (this.holds++ === 0) this.socket.pause();
    const release = (): void => {
      if (--this.holds === 0 && !this.socket.destroyed) this.socket.resume();
    };
    until.then(release, release);
  }

  extract(onProgress?: (received: number, total: number) => void): Promise<Uint8Array> {
    return new Promise((resolveExtract, reject) => {
      const parts: Buffer[] = [];
      let total = -1;
      let received = 0;
      const id = this.start({
        frame: (f) => {
          if (f['ok'] === true) total = f['bytes'] as number;
          else if (f['ok'] === false) {
            this.pending.delete(id);
            reject(errorOf(f));
          } else if (typeof f['data'] === 'string') {
            const b = Buffer.from(f['data'], 'base64');
            parts.push(b);
            received += b.length;
            onProgress?.(received, total);
          } else if (f['end'] === true) {
            this.pending.delete(id);
            const all = Buffer.concat(parts);
            if (all.length !== total) reject(new JsftraceError('EPROTO', `extract: got ${all.length} bytes of ${total}`));
            else resolveExtract(new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
          }
        },
        lost: (e) => reject(e),
      });
      this.send(id, { op: 'extract' });
    });
  }

  async close(): Promise<void> {
    if (this.closed === null) {
      try {
        await this.request({ op: 'bye' }, 1000);
      } catch { /* closing anyway */ }
    }
    this.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function errorOf(f: Frame): JsftraceError {
  const code: ErrnoCode = knownCode(f['code']) ?? 'EIO';
  const message = typeof f['message'] === 'string' ? f['message'] : 'the process refused the request';
  return new JsftraceError(code, knownCode(f['code']) === null ? `${message} (${String(f['code'])})` : message);
}
