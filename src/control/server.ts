/**
 * The control server: a process's control surface on a Unix-domain socket,
 * `<socket dir>/<pid>.sock`, speaking protocol.ts.
 *
 * Owns: the listening socket, its file and its connections. Invariants:
 * - G8: the socket is made only in a private directory (socket-dir.ts) and
 *   is chmod 0600 right after listen; nothing ever listens on TCP;
 * - the program is never disturbed by its control server: every error is
 *   answered or swallowed, never thrown into the program; the server,
 *   its connections and its timers are unref'd, so they never keep the
 *   program alive; the socket file is removed when the process exits;
 * - requests on one connection are answered in order, one at a time; a pipe
 *   streams after its answer until cancelled, and reads its file only when
 *   the connection can take more (a slow reader loses nothing to us, the
 *   ring keeps or overwrites as it is configured to);
 * - what a request costs the program is bounded per turn of its event loop
 *   and in memory: files are read in pieces (surface.stream) that wait for
 *   the connection to take them, a `read` answer is at most MAX_READ_CHARS
 *   (longer files are read with `stream: true`), extracts take one snapshot
 *   at a time; a request whose client has gone stops being computed (its
 *   stream is aborted, a queued extract is never taken); connections and the
 *   pipes and streams of one connection are capped (EMFILE).
 */

import { chmodSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { JsftraceError, fail, type ErrnoCode } from '../shared/errors.js';
import type { ControlSurface } from './surface.js';
import {
  DATA_CHUNK_BYTES, encodeFrame, errorAnswer, isRejected, LineSplitter, MAX_CONNECTIONS, MAX_READ_CHARS, MAX_REQUEST_BYTES,
  MAX_STREAMS, parseRequest, PIPE_CHUNK_CHARS, PROTOCOL_MAJOR, PROTOCOL_MINOR, type Hello, type Request,
} from './protocol.js';
import { checkSocketPathLength, defaultSocketDir, ensureSocketDir, socketPath } from './socket-dir.js';
import { atExit } from '../shared/exit-hooks.js';

export interface ControlServer {
  /** The socket's path. */
  readonly path: string;
  /** Connections open now. */
  readonly connections: number;
  /** Stops listening, ends every connection and removes the socket file. */
  close(): Promise<void>;
}

export interface ControlServerOptions {
  /** The socket directory (default: socket-dir.ts's defaultSocketDir()). */
  dir?: string;
  /** The bytes `extract` sends (default: this process's buffers as a trace file, tracefile/snapshot.ts). */
  snapshot?: () => Promise<Uint8Array>;
  /** How often a pipe polls its file, ms (default 40). */
  pollMs?: number;
  /** Characters a `read` answer may carry (default MAX_READ_CHARS). */
  maxReadChars?: number;
  /** Connections served at a time (default MAX_CONNECTIONS), pipes and streams per connection (default MAX_STREAMS). */
  maxConnections?: number;
  maxStreams?: number;
}

/** Pending request lines on one connection before it stops reading from the socket. */
const MAX_QUEUED = 64;

async function defaultSnapshot(): Promise<Uint8Array> {
  // Loaded on first use: a process that is never extracted from never loads the trace-file writer.
  const { snapshotTrace } = await import('../tracefile/snapshot.js');
  return snapshotTrace();
}

let version: string | undefined;
function jsftraceVersion(): string {
  try {
    version ??= (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    version = 'unknown';
  }
  return version;
}

function asAnswer(e: unknown): { code: ErrnoCode; message: string } {
  if (e instanceof JsftraceError) return { code: e.code, message: e.message };
  return { code: 'EIO', message: `internal error: ${e instanceof Error ? e.message : String(e)}` };
}

/**
 * Starts the control server of this process. Rejects (and starts nothing)
 * when the socket directory is not safe or the socket cannot be made; see
 * serveControl for the form a program's startup uses.
 */
export async function startControlServer(surface: ControlSurface, opts: ControlServerOptions = {}): Promise<ControlServer> {
  const dir = opts.dir ?? defaultSocketDir();
  ensureSocketDir(dir);
  const path = socketPath(dir, process.pid);
  checkSocketPathLength(path);
  // Any file with our pid's name is a leftover of an earlier process with the same pid.
  // Every stat of the socket here is a bigint one: fs keeps the last number
  // stat in a shared array, and Node 20's realpathSync reads that array to
  // stop at a socket, so a number lstat of ours just before Node resolves the
  // main module left a symlinked main (node_modules/.bin/*) unresolved.
  try {
    if (lstatSync(path, { bigint: true }).isDirectory()) fail('EEXIST', `${path} is a directory`);
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }

  const startTime = Math.round(performance.timeOrigin);
  const hello = (): Hello => ({
    pid: process.pid, ppid: process.ppid, argv: process.argv, execArgv: process.execArgv, node: process.version,
    jsftrace: jsftraceVersion(), protocol: { major: PROTOCOL_MAJOR, minor: PROTOCOL_MINOR }, socket: path, startTime,
  });
  const connections = new Set<Connection>();
  const ctx: Context = {
    surface, hello, snapshot: opts.snapshot ?? defaultSnapshot, pollMs: opts.pollMs ?? 40,
    maxReadChars: opts.maxReadChars ?? MAX_READ_CHARS, maxStreams: opts.maxStreams ?? MAX_STREAMS, snapshots: Promise.resolve(),
  };
  const maxConnections = opts.maxConnections ?? MAX_CONNECTIONS;
  const server: Server = createServer({ allowHalfOpen: false }, (socket) => {
    if (connections.size >= maxConnections) {
      // Each connection holds buffers and may run a stream: past the cap, one clear error and close.
      socket.unref();
      socket.on('error', () => undefined);
      socket.end(encodeFrame(errorAnswer(null, 'EMFILE', `this process serves at most ${maxConnections} control connections at a time; close one first`)));
      return;
    }
    const c = new Connection(socket, ctx);
    connections.add(c);
    socket.once('close', () => connections.delete(c));
  });
  server.on('error', () => { /* after listen, an accept error concerns one client, not the program */ });
  // Before listen, so that not even the wait for it holds the program.
  server.unref();
  const listening = new Promise<void>((resolveListen, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => reject(new JsftraceError(e.code === 'EACCES' ? 'EACCES' : 'EIO', `cannot listen on ${path}: ${e.message}`));
    server.once('error', onError);
    server.listen({ path, exclusive: true }, () => {
      server.off('error', onError);
      resolveListen();
    });
  });
  // A Unix socket is bound when listen returns (a failure is emitted on the
  // next tick): restricted at once, so that it is 0600 when the program's
  // first line runs (startup.ts starts the server without holding it).
  let secured = false;
  const secure = (): void => {
    if (secured) return;
    secured = true;
    try {
      chmodSync(path, 0o600);
    } catch (e) {
      server.close();
      removeSocket(path);
      throw new JsftraceError('EIO', `cannot chmod 0600 ${path}: ${(e as Error).message}`);
    }
  };
  if (server.listening) secure();
  await listening;
  secure();
  // The inode we made: at exit we remove the file only if it is still ours.
  const ino = lstatSync(path, { bigint: true }).ino;
  const onExit = (): void => {
    try {
      if (lstatSync(path, { bigint: true }).ino === ino) unlinkSync(path);
    } catch { /* already gone */ }
  };
  const dropExit = atExit(onExit);

  let closed: Promise<void> | null = null;
  return {
    path,
    get connections() {
      return connections.size;
    },
    close(): Promise<void> {
      closed ??= new Promise<void>((done) => {
        dropExit();
        server.close(() => done());
        for (const c of connections) c.destroy();
        onExit();
      });
      return closed;
    },
  };
}

/**
 * startControlServer for a program's startup: never rejects. When the
 * server cannot start, one warning goes to stderr and the program runs on
 * without it.
 */
export async function serveControl(surface: ControlSurface, opts: ControlServerOptions = {}): Promise<ControlServer | null> {
  try {
    return await startControlServer(surface, opts);
  } catch (e) {
    const { code, message } = asAnswer(e);
    process.stderr.write(`jsftrace: control server not started: ${message} (${code}); the program runs on without it\n`);
    return null;
  }
}

function removeSocket(path: string): void {
  try {
    unlinkSync(path);
  } catch { /* already gone */ }
}

interface Context {
  surface: ControlSurface;
  hello: () => Hello;
  snapshot: () => Promise<Uint8Array>;
  pollMs: number;
  maxReadChars: number;
  maxStreams: number;
  /** The snapshot in progress (or done): the next extract waits for it, so one is taken at a time. */
  snapshots: Promise<unknown>;
}

/** One client: its request queue and its running pipes and streams. */
class Connection {
  private readonly splitter = new LineSplitter(MAX_REQUEST_BYTES);
  private readonly queue: string[] = [];
  private pumping = false;
  /** Set once the connection is closing: nothing more is read or sent. */
  private done = false;
  /** Pipes and streamed reads running, by request id: a cancel (or the connection's end) aborts them. */
  private readonly pipes = new Map<number, AbortController>();
  /** Aborted when the connection ends: what its requests compute stops. */
  private readonly gone = new AbortController();
  private readonly socket: Socket;
  private readonly ctx: Context;

  constructor(socket: Socket, ctx: Context) {
    this.socket = socket;
    this.ctx = ctx;
    socket.unref();
    socket.on('error', () => { /* a client that goes away is not the program's problem */ });
    socket.on('close', () => this.shut());
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
  }

  destroy(): void {
    this.shut();
    this.socket.destroy();
  }

  private shut(): void {
    this.done = true;
    this.queue.length = 0;
    this.gone.abort();
    for (const p of this.pipes.values()) p.abort();
  }

  private receive(chunk: Buffer): void {
    if (this.done) return;
    const lines = this.splitter.push(chunk);
    if (lines === 'oversize') {
      this.send(errorAnswer(null, 'EMSGSIZE', `frame longer than ${MAX_REQUEST_BYTES} bytes; closing the connection`));
      this.end();
      return;
    }
    for (const l of lines) {
      if (l.trim() === '') continue;
      // A cancel does not wait behind the request it cancels (a streamed read runs in the queue).
      if (l.includes('"cancel"')) {
        const req = parseRequest(l);
        if (!isRejected(req) && req.op === 'cancel') {
          this.pipes.get(req.id)?.abort();
          continue;
        }
      }
      this.queue.push(l);
    }
    if (this.queue.length >= MAX_QUEUED) this.socket.pause();
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.done && this.queue.length > 0) {
        const line = this.queue.shift()!;
        if (this.queue.length < MAX_QUEUED / 2 && this.socket.isPaused()) this.socket.resume();
        try {
          await this.handle(line);
        } catch (e) {
          // handle() answers its own errors; this is the last guard between a bug here and the program.
          if (!this.done) this.send(errorAnswer(null, 'EIO', `internal error: ${(e as Error).message}`));
        }
        await this.drained();
      }
    } finally {
      this.pumping = false;
    }
  }

  private async handle(line: string): Promise<void> {
    const req = parseRequest(line);
    if (isRejected(req)) {
      this.send(req.error);
      if (req.close) this.end();
      return;
    }
    if (req.op === 'cancel') {
      // No answer of its own: the pipe's end frame is the answer, and a pipe already over has sent it.
      this.pipes.get(req.id)?.abort();
      return;
    }
    if (req.op === 'pipe') {
      await this.startPipe(req.id, req.path);
      return;
    }
    if (req.op === 'read' && req.stream) {
      await this.streamRead(req.id, req.path);
      return;
    }
    try {
      await this.answer(req);
    } catch (e) {
      this.send(errorAnswer(req.id, asAnswer(e).code, asAnswer(e).message));
    }
  }

  private async answer(req: Exclude<Request, { op: 'pipe' | 'cancel' }>): Promise<void> {
    const { surface } = this.ctx;
    const ok = (fields: object = {}): void => this.send({ v: PROTOCOL_MAJOR, id: req.id, ok: true, ...fields });
    switch (req.op) {
      case 'hello':
        return ok({ hello: this.ctx.hello() });
      case 'list':
        return ok({ files: await surface.list() });
      case 'read': {
        // In pieces, as a stream would be: the program is not held for the whole file at once.
        let text = '';
        const limit = this.ctx.maxReadChars;
        const over = new AbortController();
        const stop = AbortSignal.any([over.signal, this.gone.signal]);
        await surface.stream(req.path, (piece) => {
          if (text.length + piece.length > limit) over.abort();
          else text += piece;
        }, stop);
        if (this.done) return;
        if (over.signal.aborted) {
          fail('EMSGSIZE', `${req.path} is more than ${limit} characters, more than one answer carries: read it as a stream `
            + '(jsftrace show, jsftrace fs cat), or take the trace out with extract');
        }
        return ok({ text });
      }
      case 'write':
        await surface.write(req.path, req.text);
        return ok();
      case 'append':
        await surface.append(req.path, req.text);
        return ok();
      case 'extract': {
        // One snapshot at a time in the process; one asked for by a client that has gone is never taken.
        const job = this.ctx.snapshots.then(() => (this.done ? null : this.ctx.snapshot()));
        this.ctx.snapshots = job.catch(() => undefined);
        const bytes = await job;
        if (bytes === null || this.done) return;
        ok({ bytes: bytes.byteLength });
        const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let at = 0; at < buf.length && !this.done; at += DATA_CHUNK_BYTES) {
          this.send({ v: PROTOCOL_MAJOR, id: req.id, data: buf.subarray(at, at + DATA_CHUNK_BYTES).toString('base64') });
          await this.drained();
        }
        this.send({ v: PROTOCOL_MAJOR, id: req.id, end: true });
        return;
      }
      case 'bye':
        ok();
        this.end();
        return;
    }
  }

  /**
   * Answers the pipe request after a first read (so a file that cannot be
   * read fails the request itself), then streams in the background until
   * cancelled, the connection closes, or a read fails.
   */
  private async startPipe(id: number, path: string): Promise<void> {
    if (this.refuseStream(id, 'pipe')) return;
    let first: string;
    try {
      first = await this.ctx.surface.read(path);
    } catch (e) {
      const { code, message } = asAnswer(e);
      this.send(errorAnswer(id, code, message));
      return;
    }
    const stop = new AbortController();
    this.pipes.set(id, stop);
    this.send({ v: PROTOCOL_MAJOR, id, ok: true });
    this.chunks(id, first);
    void this.streamPipe(id, path, stop.signal).finally(() => this.pipes.delete(id));
  }

  private async streamPipe(id: number, path: string, signal: AbortSignal): Promise<void> {
    let failure: { code: ErrnoCode; message: string } | null = null;
    try {
      while (!signal.aborted && !this.done) {
        await sleep(this.ctx.pollMs, undefined, { ref: false, signal }).catch(() => undefined);
        if (signal.aborted || this.done) break;
        // Back-pressure: a reader that does not keep up is not read for; what it has not taken stays in the ring.
        await this.drained(signal);
        if (signal.aborted || this.done) break;
        // What the buffers hold, in pieces that each wait for the connection.
        await this.ctx.surface.stream(path, async (text) => {
          this.chunks(id, text);
          await this.drained(signal);
        }, signal);
      }
    } catch (e) {
      failure = asAnswer(e);
    }
    if (!this.done) this.send({ v: PROTOCOL_MAJOR, id, end: true, ...(failure ?? {}) });
  }

  /** Answers EBUSY for an id in use and EMFILE past the cap on pipes and streams; true when it did. */
  private refuseStream(id: number, what: string): boolean {
    if (this.pipes.has(id)) {
      this.send(errorAnswer(id, 'EBUSY', `a ${what} with id ${id} is already running on this connection`));
      return true;
    }
    if (this.pipes.size >= this.ctx.maxStreams) {
      this.send(errorAnswer(id, 'EMFILE', `at most ${this.ctx.maxStreams} pipes and streams run on one connection; cancel one first`));
      return true;
    }
    return false;
  }

  /**
   * A read with `stream: true`: the answer once the first piece is there
   * (so a file that cannot be read fails the request itself), then `chunk`
   * frames, each taken by the connection before the next piece is made,
   * then `end` (with the error, if one came later). Runs in the request
   * queue; a cancel or the connection's end stops it.
   */
  private async streamRead(id: number, path: string): Promise<void> {
    if (this.refuseStream(id, 'stream')) return;
    const stop = new AbortController();
    this.pipes.set(id, stop);
    let started = false;
    const start = (): void => {
      if (started) return;
      started = true;
      this.send({ v: PROTOCOL_MAJOR, id, ok: true });
    };
    let failure: { code: ErrnoCode; message: string } | null = null;
    try {
      await this.ctx.surface.stream(path, async (text) => {
        start();
        this.chunks(id, text);
        await this.drained(stop.signal);
      }, stop.signal);
    } catch (e) {
      failure = asAnswer(e);
    } finally {
      this.pipes.delete(id);
    }
    if (this.done) return;
    if (!started && failure !== null) {
      this.send(errorAnswer(id, failure.code, failure.message));
      return;
    }
    start();
    this.send({ v: PROTOCOL_MAJOR, id, end: true, ...(failure ?? {}) });
  }

  private chunks(id: number, text: string): void {
    for (let at = 0; at < text.length; at += PIPE_CHUNK_CHARS) {
      this.send({ v: PROTOCOL_MAJOR, id, chunk: text.slice(at, at + PIPE_CHUNK_CHARS) });
    }
  }

  private send(frame: object): void {
    if (this.done || this.socket.destroyed || !this.socket.writable) return;
    this.socket.write(encodeFrame(frame));
  }

  /** Resolves when the socket's write buffer has room (or the connection is gone). */
  private drained(signal?: AbortSignal): Promise<void> {
    if (!this.socket.writableNeedDrain || this.done) return Promise.resolve();
    return new Promise((done) => {
      const finish = (): void => {
        this.socket.off('drain', finish);
        this.socket.off('close', finish);
        signal?.removeEventListener('abort', finish);
        done();
      };
      this.socket.once('drain', finish);
      this.socket.once('close', finish);
      signal?.addEventListener('abort', finish, { once: true });
    });
  }

  /** Ends the connection after what is queued to send has gone. */
  private end(): void {
    if (this.done) return;
    this.shut();
    this.socket.end();
  }
}
