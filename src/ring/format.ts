/**
 * The ring's self-description: how an event is encoded, what a page header
 * holds, and what each registered event type's payload means, printed as
 * text in ftrace's style (header_page, header_event, events/<name>/format)
 * and parsed back.
 *
 * Owns: the event header encoding (the TYPE_* constants) and the field
 * layout rules of event types. Invariant: a reader that has only the three
 * texts and raw pages decodes every event the writer wrote; the decoder
 * (cursor.ts) takes its offsets and codes from the parsed texts, and the
 * writer's constants are the ones these printers describe.
 *
 * Event = one header word, then the payload:
 *
 *   bit 31                      5 4       0
 *   +--------------------------+---------+
 *   | time_delta (27 bits)     | type_len|   then array[]: payload words
 *   +--------------------------+---------+
 *
 *   type_len 1..28  payload of type_len words follows
 *   type_len 0      array[0] = payload words, payload follows it
 *   type_len 29     padding: time_delta = words it covers, header included
 *   type_len 30     time extend: delta = time_delta + array[0] << 27;
 *                   the event after it has a delta of 0
 *   type_len 31     time stamp: absolute time = time_delta + array[0] << 27
 *
 * Deltas are in clock units (ns, or counts for the counter clock), relative
 * to the previous event of the page, or to the page's timestamp for the
 * first. Time extends and stamps are not events: they are not counted in
 * P_COMMIT's entries and carry no payload.
 *
 * Payload word 0 holds common_type (u16, the registered id) and common_flags
 * (u16, free for the event's owner); fields follow from byte offset 4.
 */

import { fail } from '../shared/errors.js';
import {
  LITTLE_ENDIAN, MAX_PAGE_BYTES, MIN_PAGE_BYTES, P_COMMIT, P_SEQ, P_SERIAL_LO, P_TS_LO, P_WBASE_LO,
  PAGE_HEADER_WORDS, RING_FORMAT_MAJOR, RING_FORMAT_MINOR,
} from './layout.js';
import { MathCeil, MathFloor, MathMax, MathMin } from '../shared/builtins.js';

export const TYPE_LEN_BITS = 5;
export const TYPE_LEN_MASK = (1 << TYPE_LEN_BITS) - 1;
export const DELTA_BITS = 32 - TYPE_LEN_BITS;
export const MAX_DELTA = 2 ** DELTA_BITS - 1;
export const TYPE_DATA = 0;
export const MAX_TYPE_LEN = 28;
export const TYPE_PADDING = 29;
export const TYPE_TIME_EXTEND = 30;
export const TYPE_TIME_STAMP = 31;

/** Payload words every event starts with (common_type, common_flags). */
export const COMMON_WORDS = 1;
export const MAX_EVENT_ID = 0xffff;

// ---------------------------------------------------------------- fields

export type FieldKind = 'u8' | 's8' | 'u16' | 's16' | 'u32' | 's32' | 'u64' | 's64' | 'f64' | 'string';

export interface FieldSpec {
  name: string;
  kind: FieldKind;
}

export interface FieldFormat {
  name: string;
  kind: FieldKind;
  /** The C type printed in the format text. */
  ctype: string;
  /** Byte offset from the start of the payload (common_type is at 0). */
  offset: number;
  size: number;
  signed: boolean;
}

export interface EventFormat {
  name: string;
  id: number;
  /** common_type, common_flags, then the event's own fields. */
  fields: FieldFormat[];
  /** Payload words of the fixed part, common word included. */
  words: number;
  print: string;
}

const CTYPES: Record<FieldKind, string> = {
  u8: 'unsigned char', s8: 'signed char', u16: 'unsigned short', s16: 'short',
  u32: 'unsigned int', s32: 'int', u64: 'u64', s64: 's64', f64: 'double', string: '__data_loc char[]',
};
const SIZES: Record<FieldKind, number> = {
  u8: 1, s8: 1, u16: 2, s16: 2, u32: 4, s32: 4, u64: 8, s64: 8, f64: 8, string: 4,
};
const SIGNED: Record<FieldKind, boolean> = {
  u8: false, s8: true, u16: false, s16: true, u32: false, s32: true, u64: false, s64: true, f64: true, string: false,
};
const CONVERSIONS: Record<FieldKind, string> = {
  u8: '%u', s8: '%d', u16: '%u', s16: '%d', u32: '%u', s32: '%d', u64: '%llu', s64: '%lld', f64: '%g', string: '%s',
};
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function field(name: string, kind: FieldKind, offset: number): FieldFormat {
  return { name, kind, ctype: CTYPES[kind], offset, size: SIZES[kind], signed: SIGNED[kind] };
}

const COMMON_FIELDS: readonly FieldFormat[] = [field('common_type', 'u16', 0), field('common_flags', 'u16', 2)];

/**
 * Lays out an event type: fields in the order given, each aligned to its size
 * (8-byte fields to 4, since payloads are arrays of 32-bit words).
 */
export function defineEventFormat(name: string, id: number, specs: readonly FieldSpec[], print?: string): EventFormat {
  if (!NAME_RE.test(name)) fail('EINVAL', `event name "${name}": letters, digits and _ only`);
  if (!Number.isInteger(id) || id < 1 || id > MAX_EVENT_ID) fail('EINVAL', `event id ${id}: must be 1 to ${MAX_EVENT_ID}`);
  const fields = [...COMMON_FIELDS];
  const seen = new Set<string>();
  let at = COMMON_WORDS * 4;
  for (const s of specs) {
    if (!NAME_RE.test(s.name) || s.name.startsWith('common_')) fail('EINVAL', `event ${name}: bad field name "${s.name}"`);
    if (seen.has(s.name)) fail('EINVAL', `event ${name}: field "${s.name}" given twice`);
    if (!Object.hasOwn(SIZES, s.kind)) fail('EINVAL', `event ${name}: field ${s.name} has unknown kind "${String(s.kind)}"`);
    seen.add(s.name);
    const align = MathMin(SIZES[s.kind], 4);
    at = MathCeil(at / align) * align;
    fields.push(field(s.name, s.kind, at));
    at += SIZES[s.kind];
  }
  const words = MathCeil(at / 4);
  if (words + 2 > (MAX_PAGE_BYTES >> 2) - PAGE_HEADER_WORDS) fail('EINVAL', `event ${name}: ${words} payload words do not fit a page`);
  return { name, id, fields, words, print: print ?? defaultPrint(fields) };
}

function defaultPrint(fields: readonly FieldFormat[]): string {
  const own = fields.slice(COMMON_FIELDS.length);
  const conv = own.map((f) => `${f.name}=${CONVERSIONS[f.kind]}`).join(' ');
  const args = own.map((f) => (f.kind === 'string' ? `__get_str(${f.name})` : `REC->${f.name}`));
  return args.length === 0 ? '""' : `"${conv}", ${args.join(', ')}`;
}

// ---------------------------------------------------------------- texts

function fieldLine(f: { ctype: string; name: string; offset: number; size: number; signed: boolean }): string {
  return `\tfield:${f.ctype} ${f.name};\toffset:${f.offset};\tsize:${f.size};\tsigned:${f.signed ? 1 : 0};\n`;
}

/** events/<name>/format. */
export function eventFormatText(e: EventFormat): string {
  let s = `name: ${e.name}\nID: ${e.id}\nformat:\n`;
  for (let i = 0; i < e.fields.length; i++) {
    if (i === COMMON_FIELDS.length) s += '\n';
    s += fieldLine(e.fields[i]!);
  }
  return `${s}\nprint fmt: ${e.print}\n`;
}

interface ParsedField {
  ctype: string;
  name: string;
  offset: number;
  size: number;
  signed: boolean;
}

const FIELD_RE = /^\s*field:\s*(.*\S)\s+([A-Za-z_][A-Za-z0-9_]*)\s*;\s*offset:\s*(\d+)\s*;\s*size:\s*(\d+)\s*;\s*signed:\s*([01])\s*;\s*$/;

function parseFieldLine(line: string, where: string): ParsedField {
  const m = FIELD_RE.exec(line);
  if (m === null) fail('EINVAL', `${where}: cannot parse field line "${line.trim()}"`);
  return { ctype: m[1]!, name: m[2]!, offset: Number(m[3]), size: Number(m[4]), signed: m[5] === '1' };
}

function kindOf(f: ParsedField, where: string): FieldKind {
  if (f.ctype.startsWith('__data_loc')) return 'string';
  if (f.ctype === 'double' && f.size === 8) return 'f64';
  const k = `${f.signed ? 's' : 'u'}${f.size * 8}`;
  if (k === 'u8' || k === 's8' || k === 'u16' || k === 's16' || k === 'u32' || k === 's32' || k === 'u64' || k === 's64') return k;
  fail('EINVAL', `${where}: field ${f.name} has unsupported size ${f.size}`);
}

export function parseEventFormat(text: string): EventFormat {
  const lines = text.split('\n');
  let name = '';
  let id = 0;
  let print = '';
  const fields: FieldFormat[] = [];
  for (const line of lines) {
    if (line.startsWith('name: ')) name = line.slice(6).trim();
    else if (line.startsWith('ID: ')) id = Number(line.slice(4).trim());
    else if (line.startsWith('print fmt: ')) print = line.slice(11);
    else if (/^\s*field:/.test(line)) {
      const f = parseFieldLine(line, `format of ${name || 'event'}`);
      const kind = kindOf(f, `format of ${name}`);
      if ((f.offset % MathMin(f.size, 4)) !== 0) fail('EINVAL', `format of ${name}: field ${f.name} is misaligned`);
      fields.push({ name: f.name, kind, ctype: f.ctype, offset: f.offset, size: f.size, signed: f.signed });
    }
  }
  if (!NAME_RE.test(name)) fail('EINVAL', 'event format: missing or bad "name:" line');
  if (!Number.isInteger(id) || id < 1 || id > MAX_EVENT_ID) fail('EINVAL', `format of ${name}: missing or bad "ID:" line`);
  const ct = fields[0];
  if (ct === undefined || ct.name !== 'common_type' || ct.offset !== 0 || ct.size !== 2) {
    fail('EINVAL', `format of ${name}: common_type must be the first field, at offset 0, size 2`);
  }
  let end = 0;
  for (const f of fields) end = MathMax(end, f.offset + f.size);
  return { name, id, fields, words: MathCeil(end / 4), print };
}

/** The page header as a reader must know it: i32 indexes relative to a page. */
export interface PageFormat {
  pageBytes: number;
  headerWords: number;
  seqAt: number;
  commitAt: number;
  tsAt: number;
  serialAt: number;
  wbaseAt: number;
}

export function pageFormatFor(pageBytes: number): PageFormat {
  return {
    pageBytes, headerWords: PAGE_HEADER_WORDS, seqAt: P_SEQ, commitAt: P_COMMIT, tsAt: P_TS_LO,
    serialAt: P_SERIAL_LO, wbaseAt: P_WBASE_LO,
  };
}

/** header_page: the page header, one line per field, then the data area. */
export function headerPageText(pageBytes: number): string {
  const hdr = PAGE_HEADER_WORDS * 4;
  const line = (ctype: string, name: string, offset: number, size: number): string =>
    fieldLine({ ctype, name, offset, size, signed: false });
  return line('u32', 'seq', P_SEQ * 4, 4)
    + line('u16', 'commit_words', P_COMMIT * 4, 2)
    + line('u16', 'commit_entries', P_COMMIT * 4 + 2, 2)
    + line('u64', 'timestamp', P_TS_LO * 4, 8)
    + line('u64', 'serial', P_SERIAL_LO * 4, 8)
    + line('u64', 'words_before', P_WBASE_LO * 4, 8)
    + line('char', 'data', hdr, pageBytes - hdr);
}

export function parseHeaderPage(text: string): PageFormat {
  const at = new Map<string, ParsedField>();
  for (const line of text.split('\n')) {
    if (/^\s*field:/.test(line)) {
      const f = parseFieldLine(line, 'header_page');
      at.set(f.name, f);
    }
  }
  const need = (name: string, size: number): number => {
    const f = at.get(name);
    if (f === undefined || (size !== 0 && f.size !== size)) fail('EINVAL', `header_page: no ${name} field of ${size} bytes`);
    if (f.offset % 4 !== 0) fail('EINVAL', `header_page: ${name} is not word aligned`);
    return f.offset / 4;
  };
  const commitAt = need('commit_words', 2);
  const entries = at.get('commit_entries');
  // Readers load the commit as one word: the two halves must share it.
  if (entries === undefined || entries.size !== 2 || entries.offset !== commitAt * 4 + (LITTLE_ENDIAN ? 2 : 0)) {
    fail('EINVAL', 'header_page: commit_entries must be the high half of the commit word');
  }
  const data = at.get('data');
  if (data === undefined || data.offset % 4 !== 0) fail('EINVAL', 'header_page: no word-aligned data field');
  const pageBytes = data.offset + data.size;
  if (pageBytes < MIN_PAGE_BYTES || pageBytes > MAX_PAGE_BYTES) fail('EINVAL', `header_page: page of ${pageBytes} bytes`);
  return {
    pageBytes, headerWords: data.offset / 4, seqAt: need('seq', 4), commitAt,
    tsAt: need('timestamp', 8), serialAt: need('serial', 8), wbaseAt: need('words_before', 8),
  };
}

/** The event header encoding as a reader must know it. */
export interface EventHeaderFormat {
  major: number;
  minor: number;
  littleEndian: boolean;
  typeLenBits: number;
  deltaBits: number;
  maxTypeLen: number;
  padding: number;
  timeExtend: number;
  timeStamp: number;
}

export const EVENT_HEADER: EventHeaderFormat = {
  major: RING_FORMAT_MAJOR, minor: RING_FORMAT_MINOR, littleEndian: LITTLE_ENDIAN, typeLenBits: TYPE_LEN_BITS,
  deltaBits: DELTA_BITS, maxTypeLen: MAX_TYPE_LEN, padding: TYPE_PADDING, timeExtend: TYPE_TIME_EXTEND,
  timeStamp: TYPE_TIME_STAMP,
};

/** header_event. */
export function headerEventText(): string {
  const pad = (s: string, n: number): string => s + ' '.repeat(MathMax(0, n - s.length));
  return `# jsftrace ring event header, format ${RING_FORMAT_MAJOR}.${RING_FORMAT_MINOR}\n`
    + `# byte order: ${LITTLE_ENDIAN ? 'little' : 'big'}\n`
    + `\t${pad('type_len', 12)}: ${String(TYPE_LEN_BITS).padStart(4)} bits\n`
    + `\t${pad('time_delta', 12)}: ${String(DELTA_BITS).padStart(4)} bits\n`
    + `\t${pad('array', 12)}: ${String(32).padStart(4)} bits\n`
    + '\n'
    + `\t${pad('data', 12)}: type_len 1..${MAX_TYPE_LEN} = payload words, ${TYPE_DATA} = payload words in array[0]\n`
    + `\t${pad('padding', 12)}: type_len == ${TYPE_PADDING}\n`
    + `\t${pad('time_extend', 12)}: type_len == ${TYPE_TIME_EXTEND}\n`
    + `\t${pad('time_stamp', 12)}: type_len == ${TYPE_TIME_STAMP}\n`
    + `\tdata max type_len  == ${MAX_TYPE_LEN}\n`;
}

export function parseHeaderEvent(text: string): EventHeaderFormat {
  const num = (re: RegExp, what: string): number => {
    const m = re.exec(text);
    if (m === null) fail('EINVAL', `header_event: no ${what}`);
    return Number(m[1]);
  };
  const v = /format (\d+)\.(\d+)/.exec(text);
  if (v === null) fail('EINVAL', 'header_event: no format version');
  const major = Number(v[1]);
  if (major !== RING_FORMAT_MAJOR) fail('EINVAL', `header_event: format ${major}.x, this reader knows ${RING_FORMAT_MAJOR}.x`);
  const order = /byte order: (little|big)/.exec(text);
  if (order === null || (order[1] === 'little') !== LITTLE_ENDIAN) fail('EINVAL', 'header_event: byte order missing or not this host\'s');
  const h: EventHeaderFormat = {
    major, minor: Number(v[2]), littleEndian: LITTLE_ENDIAN,
    typeLenBits: num(/type_len\s*:\s*(\d+) bits/, 'type_len width'),
    deltaBits: num(/time_delta\s*:\s*(\d+) bits/, 'time_delta width'),
    maxTypeLen: num(/max type_len\s*==\s*(\d+)/, 'max type_len'),
    padding: num(/padding\s*:\s*type_len == (\d+)/, 'padding code'),
    timeExtend: num(/time_extend\s*:\s*type_len == (\d+)/, 'time_extend code'),
    timeStamp: num(/time_stamp\s*:\s*type_len == (\d+)/, 'time_stamp code'),
  };
  if (h.typeLenBits + h.deltaBits !== 32 || h.maxTypeLen >= 1 << h.typeLenBits) fail('EINVAL', 'header_event: inconsistent widths');
  return h;
}

// ---------------------------------------------------------------- payloads

const f64Scratch = new Float64Array(1);
const f64Words = new Int32Array(f64Scratch.buffer);
const textDecoder = new TextDecoder();

/** Value of a field of the payload starting at `data[at]` (word 0 = common word). */
export function readField(data: Int32Array, at: number, f: FieldFormat): number {
  const w = at + (f.offset >> 2);
  switch (f.kind) {
    case 'u32': case 'string': return data[w]! >>> 0;
    case 's32': return data[w]! | 0;
    case 'u64': return (data[w]! >>> 0) + (data[w + 1]! >>> 0) * 0x100000000;
    case 's64': return (data[w]! >>> 0) + (data[w + 1]! | 0) * 0x100000000;
    case 'f64':
      f64Words[0] = data[w]!;
      f64Words[1] = data[w + 1]!;
      return f64Scratch[0]!;
    default: {
      const bits = f.size * 8;
      const shift = LITTLE_ENDIAN ? (f.offset & 3) * 8 : 32 - bits - (f.offset & 3) * 8;
      return f.signed ? (data[w]! << (32 - bits - shift)) >> (32 - bits) : (data[w]! >>> shift) & ((1 << bits) - 1);
    }
  }
}

/** Stores a numeric field; for writers that fill a payload they reserved. */
export function writeField(data: Int32Array, at: number, f: FieldFormat, v: number): void {
  const w = at + (f.offset >> 2);
  switch (f.kind) {
    case 'u32': case 's32': case 'string': data[w] = v; return;
    case 'u64': case 's64': {
      const hi = MathFloor(v / 0x100000000);
      data[w] = v - hi * 0x100000000;
      data[w + 1] = hi;
      return;
    }
    case 'f64':
      f64Scratch[0] = v;
      data[w] = f64Words[0]!;
      data[w + 1] = f64Words[1]!;
      return;
    default: {
      const bits = f.size * 8;
      const shift = LITTLE_ENDIAN ? (f.offset & 3) * 8 : 32 - bits - (f.offset & 3) * 8;
      const mask = ((1 << bits) - 1) << shift;
      data[w] = (data[w]! & ~mask) | ((v << shift) & mask);
    }
  }
}

/** Payload words an event of format `e` needs to carry the given string bytes. */
export function payloadWords(e: EventFormat, stringBytes: number): number {
  return e.words + MathCeil(stringBytes / 4);
}

/**
 * Writes UTF-8 bytes after the fixed part of a payload at `data[at]` and the
 * field's data_loc word (length << 16 | byte offset from the payload start).
 * Returns the byte offset after the string, for the next one.
 */
export function writeStringField(data: Int32Array, at: number, f: FieldFormat, byteOffset: number, bytes: Uint8Array): number {
  const u8 = new Uint8Array(data.buffer, data.byteOffset + at * 4 + byteOffset, bytes.length);
  u8.set(bytes);
  data[at + (f.offset >> 2)] = (bytes.length << 16) | byteOffset;
  return byteOffset + bytes.length;
}

export function readStringField(data: Int32Array, at: number, f: FieldFormat, words = Infinity): string {
  const loc = data[at + (f.offset >> 2)]! >>> 0;
  const off = loc & 0xffff;
  // Never past the payload (`words` long) nor the image: a damaged location reads what is there, cut.
  const room = MathMin(words * 4, (data.length - at) * 4) - off;
  const len = MathMax(0, MathMin(loc >>> 16, room));
  if (len === 0) return '';
  const copy = new Uint8Array(len);
  copy.set(new Uint8Array(data.buffer, data.byteOffset + at * 4 + off, len));
  return textDecoder.decode(copy);
}

/** `name=value ...` of an event's own fields, for generic output. */
export function formatFields(data: Int32Array, at: number, e: EventFormat): string {
  let s = '';
  for (let i = COMMON_FIELDS.length; i < e.fields.length; i++) {
    const f = e.fields[i]!;
    const v = f.kind === 'string' ? readStringField(data, at, f) : String(readField(data, at, f));
    s += `${s === '' ? '' : ' '}${f.name}=${v}`;
  }
  return s;
}
