/**
 * The control protocol: newline-delimited JSON frames over the control
 * socket, spoken by server.ts and client.ts.
 *
 * Owns: the frame shapes, the protocol version, the size bounds and the
 * parsing of a request line. Invariant: a line that is not a well-formed
 * request of this major version never reaches a handler; it is turned into
 * an error answer here, with a stable code, so the server can answer it and
 * go on (or close, for EPROTO and EMSGSIZE, after which the stream of frames
 * cannot be trusted).
 *
 * Frames (one JSON object per line, UTF-8):
 *
 *   request  {"v":1,"id":n,"op":"read","path":"trace"}
 *   answer   {"v":1,"id":n,"ok":true,...}  |  {"v":1,"id":n,"ok":false,"code":"EINVAL","message":"..."}
 *   stream   {"v":1,"id":n,"chunk":"..."}    text of a pipe, or of a read with "stream":true
 *            {"v":1,"id":n,"data":"..."}     base64 bytes of an extract
 *            {"v":1,"id":n,"end":true[,"code":..,"message":..]}  the stream's last frame
 *
 * `v` is the major version; a server answers a frame of another major with
 * EPROTO and closes. Minor versions only add optional fields and ops, and
 * `hello` reports both.
 */

import { ERRNO, type ErrnoCode } from '../shared/errors.js';

export const PROTOCOL_MAJOR = 1;
/** 1.1: `read` takes `stream: true` (the file in `chunk` frames); answers may carry EMFILE. */
export const PROTOCOL_MINOR = 1;

/** Bound on one request line. A control write is a filter list at most; anything bigger is a broken or hostile client. */
export const MAX_REQUEST_BYTES = 1 << 20;
/** Bound on one answer line, client side: a `read` of `trace` is one frame, and a string cannot be much longer anyway. */
export const MAX_ANSWER_BYTES = 256 << 20;
/** Raw bytes per `data` frame of an extract (base64 makes it 4/3 of that, well under a request's bound). */
export const DATA_CHUNK_BYTES = 512 << 10;
/** Characters per `chunk` frame of a pipe. */
export const PIPE_CHUNK_CHARS = 256 << 10;
/** Characters a `read` answer may carry; a longer file is read with `stream: true`. */
export const MAX_READ_CHARS = 64 << 20;
/** Connections one process serves at a time; pipes and streams one connection runs at a time. */
export const MAX_CONNECTIONS = 64;
export const MAX_STREAMS = 16;

export type Op = 'hello' | 'list' | 'read' | 'write' | 'append' | 'pipe' | 'cancel' | 'extract' | 'bye';

export type Request =
  | { v: number; id: number; op: 'hello' | 'list' | 'extract' | 'bye' | 'cancel' }
  | { v: number; id: number; op: 'read'; path: string; stream: boolean }
  | { v: number; id: number; op: 'write' | 'append'; path: string; text: string }
  | { v: number; id: number; op: 'pipe'; path: string };

/** What `hello` answers: who the process is. */
export interface Hello {
  pid: number;
  ppid: number;
  argv: string[];
  execArgv: string[];
  /** `process.version` of the traced program. */
  node: string;
  /** The traced program's jsftrace version. */
  jsftrace: string;
  protocol: { major: number; minor: number };
  /** The control socket's path. */
  socket: string;
  /** When the process started, ms since the epoch. */
  startTime: number;
}

export interface ErrorAnswer {
  v: number;
  id: number | null;
  ok: false;
  code: ErrnoCode;
  message: string;
}

/** A request line that could not be accepted, and whether the connection must close after the answer. */
export interface Rejected {
  error: ErrorAnswer;
  close: boolean;
}

const OPS: ReadonlySet<string> = new Set<Op>(['hello', 'list', 'read', 'write', 'append', 'pipe', 'cancel', 'extract', 'bye']);

/** `trace_pipe` and `per_thread/<N>/trace_pipe`: the only files a pipe may poll, since reading them consumes and never blocks. */
const PIPE_PATH = /^(?:per_thread\/\d+\/)?trace_pipe$/;

export function errorAnswer(id: number | null, code: ErrnoCode, message: string): ErrorAnswer {
  return { v: PROTOCOL_MAJOR, id, ok: false, code, message };
}

/** A code from the other side, kept when this side knows it (a newer peer may send one it does not). */
export function knownCode(code: unknown): ErrnoCode | null {
  return typeof code === 'string' && Object.hasOwn(ERRNO, code) ? code as ErrnoCode : null;
}

function isId(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** Parses one request line (without its newline). */
export function parseRequest(line: string): Request | Rejected {
  let frame: unknown;
  try {
    frame = JSON.parse(line);
  } catch (e) {
    return { error: errorAnswer(null, 'EINVAL', `bad frame: not JSON (${(e as Error).message})`), close: false };
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
    return { error: errorAnswer(null, 'EINVAL', 'bad frame: not a JSON object'), close: false };
  }
  const f = frame as Record<string, unknown>;
  const id = isId(f['id']) ? f['id'] : null;
  if (f['v'] !== PROTOCOL_MAJOR) {
    return {
      error: errorAnswer(id, 'EPROTO', `protocol version ${JSON.stringify(f['v'] ?? null)} not supported: this process speaks ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`),
      close: true,
    };
  }
  if (id === null) return { error: errorAnswer(null, 'EINVAL', 'bad frame: "id" must be a non-negative integer'), close: false };
  const op = f['op'];
  if (typeof op !== 'string' || !OPS.has(op)) {
    return { error: errorAnswer(id, 'EINVAL', `unknown op ${JSON.stringify(op ?? null)} (ops: ${[...OPS].join(', ')})`), close: false };
  }
  const str = (key: string): string | Rejected => typeof f[key] === 'string'
    ? f[key] as string
    : { error: errorAnswer(id, 'EINVAL', `op ${op}: "${key}" must be a string`), close: false };
  switch (op) {
    case 'read': {
      const path = str('path');
      if (typeof path !== 'string') return path;
      const stream = f['stream'] ?? false;
      if (typeof stream !== 'boolean') return { error: errorAnswer(id, 'EINVAL', 'op read: "stream" must be true or false'), close: false };
      return { v: PROTOCOL_MAJOR, id, op, path, stream };
    }
    case 'write':
    case 'append': {
      const path = str('path');
      if (typeof path !== 'string') return path;
      const text = str('text');
      return typeof text === 'string' ? { v: PROTOCOL_MAJOR, id, op, path, text } : text;
    }
    case 'pipe': {
      const path = f['path'] === undefined ? 'trace_pipe' : str('path');
      if (typeof path !== 'string') return path;
      if (!PIPE_PATH.test(path)) {
        return { error: errorAnswer(id, 'EINVAL', `op pipe: ${JSON.stringify(path)} is not trace_pipe or per_thread/<N>/trace_pipe`), close: false };
      }
      return { v: PROTOCOL_MAJOR, id, op, path };
    }
    default:
      return { v: PROTOCOL_MAJOR, id, op: op as 'hello' | 'list' | 'extract' | 'bye' | 'cancel' };
  }
}

export function isRejected(r: Request | Rejected): r is Rejected {
  return 'error' in r;
}

/** One frame as a line. */
export function encodeFrame(frame: object): string {
  return `${JSON.stringify(frame)}\n`;
}

/**
 * Splits a byte stream into lines, holding at most `max` bytes of an
 * unfinished line. Splitting on the byte 0x0a is safe for UTF-8: it never
 * occurs inside a multi-byte character.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private held = 0;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** The complete lines in `chunk`, or 'oversize' once an unfinished line passes the bound (the splitter is then spent). */
  push(chunk: Buffer): string[] | 'oversize' {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      if (this.held + piece.length > this.max) return 'oversize';
      this.parts.push(piece);
      lines.push(Buffer.concat(this.parts).toString('utf8'));
      this.parts = [];
      this.held = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.held + rest.length > this.max) return 'oversize';
      // Copy: the stream may reuse its buffer.
      this.parts.push(Buffer.from(rest));
      this.held += rest.length;
    }
    return lines;
  }
}
