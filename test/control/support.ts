// Helpers for the control server tests: a fake control surface (a map of
// files), private socket directories, and a raw client that speaks frames
// by hand so the tests can send what a real client never would.

import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlSurface } from '../../src/control/surface.js';
import { JsftraceError } from '../../src/shared/errors.js';

/**
 * A surface of plain files. `trace_pipe` hands out (and consumes) what was
 * queued with `feed`; `ro` is read-only; writes to a missing file are
 * ENOENT; `slow` answers its read after `release()` is called.
 */
export class FakeSurface implements ControlSurface {
  readonly files = new Map<string, string>([
    ['current_tracer', 'nop\n'], ['tracing_on', '1\n'], ['ro', 'read only\n'], ['trace_pipe', ''], ['slow', 'slow\n'],
    ['per_thread/1/trace_pipe', ''],
  ]);
  /** Surface calls, in order: `read trace_pipe`, `write current_tracer function`, ... */
  readonly calls: string[] = [];
  private pipe: string[] = [];
  private slowWaiters: (() => void)[] = [];
  /** Set to make every read of trace_pipe return this much new text (an endless producer). */
  endless: string | null = null;
  /** Characters handed out by trace_pipe reads, in all. */
  piped = 0;
  /** `big` is `bigPieces` pieces of `bigPiece` (Infinity: no end), streamed one per turn of the event loop. */
  bigPiece = 'x'.repeat(1000) + '\n';
  bigPieces = 8;
  /** Pieces of `big` made so far, and whether a stream of it was ended by its reader. */
  produced = 0;
  stopped = false;

  feed(text: string): void {
    this.pipe.push(text);
  }

  /** What trace_pipe holds that no read has taken. */
  unread(): string {
    return this.pipe.join('');
  }

  release(): void {
    for (const w of this.slowWaiters.splice(0)) w();
  }

  async list(): Promise<string[]> {
    return [...this.files.keys()].sort();
  }

  async read(path: string): Promise<string> {
    this.calls.push(`read ${path}`);
    if (path === 'trace_pipe') {
      const text = this.endless ?? this.pipe.splice(0).join('');
      this.piped += text.length;
      return text;
    }
    if (path === 'slow') await new Promise<void>((r) => this.slowWaiters.push(r));
    const f = this.files.get(path);
    if (f === undefined) throw new JsftraceError('ENOENT', `no control file ${path}`);
    return f;
  }

  async stream(path: string, onChunk: (text: string) => void | Promise<void>, signal?: AbortSignal): Promise<void> {
    if (path !== 'big') {
      const text = await this.read(path);
      if (signal?.aborted !== true) await onChunk(text);
      return;
    }
    this.calls.push(`stream ${path}`);
    for (let i = 0; i < this.bigPieces; i++) {
      if (signal?.aborted === true) {
        this.stopped = true;
        return;
      }
      this.produced++;
      await onChunk(this.bigPiece);
      await new Promise((r) => setImmediate(r));
    }
  }

  async write(path: string, text: string): Promise<void> {
    this.calls.push(`write ${path} ${text}`);
    this.check(path, text);
    this.files.set(path, `${text}\n`);
  }

  async append(path: string, text: string): Promise<void> {
    this.calls.push(`append ${path} ${text}`);
    this.check(path, text);
    this.files.set(path, `${this.files.get(path)}${text}\n`);
  }

  private check(path: string, text: string): void {
    if (!this.files.has(path)) throw new JsftraceError('ENOENT', `no control file ${path}`);
    if (path === 'ro') throw new JsftraceError('EPERM', 'ro is read-only');
    if (path === 'current_tracer' && !['nop', 'function', 'function_graph'].includes(text.trim())) {
      throw new JsftraceError('EINVAL', `current_tracer: no tracer ${JSON.stringify(text.trim())}`);
    }
  }
}

/** A fresh directory whose `sock` subdirectory (not yet made) is a socket directory; removed by done(). */
export function tempSockets(prefix = 'jsftrace-ctl-'): { root: string; dir: string; done: () => void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { root, dir: join(root, 'sock'), done: () => rmSync(root, { recursive: true, force: true }) };
}

export type Frame = Record<string, unknown>;

/** A client speaking raw lines: send anything, take frames in order. */
export class RawClient {
  private buf = '';
  private frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        this.frames.push(JSON.parse(this.buf.slice(0, nl)) as Frame);
        this.buf = this.buf.slice(nl + 1);
      }
      this.wake();
    });
    socket.on('close', () => { this.closed = true; this.wake(); });
    socket.on('error', () => undefined);
  }

  static open(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ path });
      s.once('connect', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(line: string): void {
    this.socket.write(line);
  }

  request(frame: Frame): void {
    this.send(`${JSON.stringify({ v: 1, ...frame })}\n`);
  }

  /** The next frame; null when the connection closed first. */
  async next(): Promise<Frame | null> {
    for (;;) {
      const f = this.frames.shift();
      if (f !== undefined) return f;
      if (this.closed) return null;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Resolves once the server has closed the connection. */
  async closedByServer(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => this.waiters.push(r));
  }

  close(): void {
    this.socket.destroy();
  }
}
