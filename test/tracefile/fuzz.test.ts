// Hostile and wrong trace files (seeded, bounded): a synthetic recording
// (two processes, two threads each, function_graph and function, stored
// plain and compressed) is mutated case by case (bytes flipped, sizes,
// counts, ids and types rewritten, chunks cut, dropped, duplicated and
// swapped, JSON replaced by deep nesting, long strings, wrong types and
// invalid UTF-8, compressed payloads that inflate beyond what they
// declare, names by the megabyte, page images that do not fit) and then
// opened and rendered. Every case renders or is refused with EINVAL and a
// reason; nothing else is thrown; output and memory stay bounded. Plus the
// files that are not files: a device, a FIFO, a directory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { JsftraceError } from '../../src/shared/errors.js';
import { chunk } from '../../src/tracefile/encode.js';
import {
  CHUNK_HEAD_BYTES, CHUNK_NAMES, CHUNK_PAGES, CHUNK_PROCESS, CHUNK_THREAD, FLAG_COMPRESSED, MAX_CHUNK_BYTES, MAX_NAME_CHARS,
} from '../../src/tracefile/layout.js';
import { TraceFile } from '../../src/tracefile/read.js';
import { renderFile, REPORT_FORMATS } from '../../src/tracefile/report.js';
import { rng, scratch } from './support.js';
import { syntheticTrace } from './synthetic.js';

const SEED = 0x5eed1213;
const CASES = 1200;
/** No case may render more than this (the bases render to a few hundred KiB). */
const MAX_OUTPUT = 64 << 20;

type Rand = () => number;
/** 32 MiB of zeros, deflated (about 32 KiB): made once. */
const BOMB = deflateRawSync(Buffer.alloc(32 << 20));
const DEEP = Buffer.from('['.repeat(200_000) + ']'.repeat(200_000));
const LONG = Buffer.from(JSON.stringify({ pid: 'x'.repeat(1 << 20) }));
const LONG_NAME = Buffer.from('n'.repeat(1 << 20));
const int = (r: Rand, n: number): number => Math.floor(r() * n);

/** Opens and renders `path` in `formats`; 'ok', or the EINVAL it was refused with. Anything else is thrown. */
function attempt(path: string, formats: readonly (typeof REPORT_FORMATS)[number][]): { ok: boolean; bytes: number; why?: string } {
  let bytes = 0;
  try {
    const t = TraceFile.open(path);
    try {
      for (const f of formats) {
        renderFile(t, f, { write: (d) => { bytes += d.length; if (bytes > MAX_OUTPUT) throw new Error(`output beyond ${MAX_OUTPUT} bytes`); } });
      }
    } finally {
      t.close();
    }
    return { ok: true, bytes };
  } catch (e) {
    if (e instanceof JsftraceError && e.code === 'EINVAL') return { ok: false, bytes, why: e.message };
    throw e;
  }
}

function jsonPayload(r: Rand): Buffer {
  switch (int(r, 6)) {
    case 0: return DEEP;
    case 1: return LONG;
    case 2: return Buffer.from('{"pid":1e309,"ppid":-1,"argv":[1,2],"events":{}}');
    case 3: return Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]);
    case 4: return Buffer.from(JSON.stringify({ process: 1, threadId: 0, name: 'n', gen: 1, pageBytes: 3000, clock: 'x', tracer: 'function', options: 0, threshUs: 0 }));
    default: return Buffer.from('null');
  }
}

/** One mutated file from the chunks of a base. */
function mutate(base: readonly Buffer[], r: Rand): { bytes: Buffer; kind: string } {
  const chunks: Buffer[] = base.map((c) => Buffer.from(c));
  const pick = (pred: (c: Buffer) => boolean = () => true): number => {
    const idx = chunks.map((c, i) => (i > 0 && pred(c) ? i : -1)).filter((i) => i >= 0);
    return idx.length === 0 ? 1 : idx[int(r, idx.length)]!;
  };
  const typeOf = (c: Buffer): number => c.readUInt16LE(0);
  const kinds = ['flip', 'size', 'count', 'id', 'type', 'truncate', 'drop', 'dup', 'swap', 'json', 'bomb', 'names', 'page', 'header'];
  const kind = kinds[int(r, kinds.length)]!;
  switch (kind) {
    case 'flip': {
      const all = Buffer.concat(chunks);
      for (let k = 1 + int(r, 8); k > 0; k--) all[int(r, all.length)] ^= 1 << int(r, 8);
      return { bytes: all, kind };
    }
    case 'size': {
      const c = chunks[pick()]!;
      const v = [0, 1, 7, c.readUInt32LE(4) + 8, MAX_CHUNK_BYTES, MAX_CHUNK_BYTES + 1, 0xffffffff, int(r, 1 << 20)][int(r, 8)]!;
      c.writeUInt32LE(v >>> 0, 4);
      return { bytes: Buffer.concat(chunks), kind };
    }
    case 'count': chunks[pick()]!.writeUInt32LE([0, 1, 0xffffffff, int(r, 2 ** 32)][int(r, 4)]! >>> 0, 12); return { bytes: Buffer.concat(chunks), kind };
    case 'id': chunks[pick()]!.writeUInt32LE([0, 1, 2, 7, 0xffffffff, int(r, 2 ** 32)][int(r, 6)]! >>> 0, 8); return { bytes: Buffer.concat(chunks), kind };
    case 'type': {
      const c = chunks[pick()]!;
      c.writeUInt16LE(int(r, 24), 0);
      if (r() < 0.5) c.writeUInt16LE(c.readUInt16LE(2) | 0x8000, 2);
      return { bytes: Buffer.concat(chunks), kind };
    }
    case 'truncate': {
      const all = Buffer.concat(chunks);
      return { bytes: all.subarray(0, int(r, all.length)), kind };
    }
    case 'drop': chunks.splice(pick(), 1); return { bytes: Buffer.concat(chunks), kind };
    case 'dup': { const i = pick(); chunks.splice(int(r, chunks.length - 1) + 1, 0, chunks[i]!); return { bytes: Buffer.concat(chunks), kind }; }
    case 'swap': {
      const i = pick();
      const j = pick();
      [chunks[i], chunks[j]] = [chunks[j]!, chunks[i]!];
      return { bytes: Buffer.concat(chunks), kind };
    }
    case 'json': {
      const i = pick((c) => typeOf(c) === CHUNK_PROCESS || typeOf(c) === CHUNK_THREAD);
      const c = chunks[i]!;
      chunks[i] = chunk(typeOf(c), c.readUInt32LE(8), 0, jsonPayload(r));
      return { bytes: Buffer.concat(chunks), kind };
    }
    case 'bomb': {
      // Declares a small payload; its data inflates to 32 MiB (or declares more than any chunk may hold).
      const i = pick((c) => typeOf(c) === CHUNK_PAGES || typeOf(c) === CHUNK_NAMES);
      const c = chunks[i]!;
      const inner = Buffer.alloc(8 + BOMB.length);
      inner.writeUInt32LE(r() < 0.5 ? 4096 : MAX_CHUNK_BYTES + 1, 0);
      inner.set(BOMB, 8);
      chunks[i] = chunk(typeOf(c), c.readUInt32LE(8), c.readUInt32LE(12), inner, FLAG_COMPRESSED);
      return { bytes: Buffer.concat(chunks), kind };
    }
    case 'names': {
      const i = pick((c) => typeOf(c) === CHUNK_NAMES);
      const c = chunks[i]!;
      const text = [LONG_NAME, Buffer.from([0xff, 0xfe, 0x0a, 0xc0]), Buffer.from('a\nb\nc')][int(r, 3)]!;
      const payload = Buffer.alloc(4 + text.length);
      payload.writeUInt32LE([0, 3, 2 ** 24, 0xffffffff][int(r, 4)]! >>> 0, 0);
      payload.set(text, 4);
      chunks[i] = chunk(CHUNK_NAMES, c.readUInt32LE(8), [1, 2, 3, 0xffffffff][int(r, 4)]!, payload);
      return { bytes: Buffer.concat(chunks), kind };
    }
    case 'page': {
      const i = pick((c) => typeOf(c) === CHUNK_PAGES);
      const c = chunks[i]!;
      const at = CHUNK_HEAD_BYTES + 4 * int(r, Math.max(1, (c.length - CHUNK_HEAD_BYTES) >> 2));
      if (at + 4 <= c.length) c.writeUInt32LE([0xffff, 0xffffffff, 0x10000, int(r, 2 ** 32)][int(r, 4)]! >>> 0, at);
      return { bytes: Buffer.concat(chunks), kind };
    }
    default: {
      const h = chunks[0]!;
      [() => h.write('JSFTRACX', 0, 'latin1'), () => h.writeUInt32LE(99, 8), () => h.writeUInt32LE(0, 16), () => h.writeUInt32LE(0xffffffff, 16)][int(r, 4)]!();
      return { bytes: Buffer.concat(chunks), kind };
    }
  }
}

test(`trace file fuzz: ${CASES} seeded cases render or are refused with EINVAL, nothing else; output and memory bounded`, (t) => {
  const s = scratch();
  try {
    const r = rng(SEED);
    const bases = [
      syntheticTrace({ processes: 2, threads: 2, calls: 300, sites: 12, maxDepth: 6, tracer: 'function_graph', random: r }),
      syntheticTrace({ processes: 2, threads: 2, calls: 300, sites: 12, maxDepth: 6, tracer: 'function_graph', compress: true, random: r }),
      syntheticTrace({ processes: 1, threads: 2, calls: 300, sites: 12, maxDepth: 1, tracer: 'function', random: r }),
    ];
    // The bases themselves render in every format.
    for (const [i, b] of bases.entries()) {
      writeFileSync(join(s.dir, `base${i}.jsft`), Buffer.concat(b));
      const a = attempt(join(s.dir, `base${i}.jsft`), REPORT_FORMATS);
      assert.ok(a.ok, a.why);
    }
    const path = join(s.dir, 'case.jsft');
    let rendered = 0;
    let refused = 0;
    let peakRss = process.memoryUsage.rss();
    const kinds = new Map<string, number>();
    for (let k = 0; k < CASES; k++) {
      const { bytes, kind } = mutate(bases[k % bases.length]!, r);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      writeFileSync(path, bytes);
      let a;
      try {
        a = attempt(path, [REPORT_FORMATS[k % REPORT_FORMATS.length]!, 'text']);
      } catch (e) {
        assert.fail(`case ${k} (${kind}) threw ${(e as Error).stack}`);
      }
      if (a.ok) rendered++;
      else refused++;
      if (k % 16 === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    t.diagnostic(`fuzz: ${CASES} cases (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}): ${rendered} rendered, ${refused} refused with EINVAL, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
    assert.equal(rendered + refused, CASES);
    assert.ok(refused > CASES / 10 && rendered > CASES / 10, `both outcomes occur: ${rendered} rendered, ${refused} refused`);
    // 32 MiB bombs, 1 MiB names and JSON: none may cost more than a few of themselves.
    assert.ok(peakRss < 400 * 2 ** 20, `peak RSS ${peakRss}`);
  } finally {
    s.done();
  }
});

test('what is not a regular file is refused before a byte is read: a device, a FIFO (without waiting for a writer), a directory', () => {
  const s = scratch();
  try {
    const fifo = join(s.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const p of ['/dev/zero', fifo, s.dir]) {
      assert.throws(() => TraceFile.open(p), (e: unknown) => e instanceof JsftraceError && e.code === 'EINVAL' && /is not a regular file/.test(e.message), p);
    }
  } finally {
    s.done();
  }
});

test('a compressed chunk that inflates beyond its declared size is refused; a megabyte site name is cut; a chunk beyond the file is where the file was cut', () => {
  const s = scratch();
  try {
    const r = rng(7);
    const base = syntheticTrace({ processes: 1, threads: 1, calls: 50, sites: 4, maxDepth: 3, tracer: 'function_graph', random: r });
    const path = join(s.dir, 'x.jsft');
    // A bomb: 64 MiB of zeros in 64 KiB, declared as 1 KiB.
    const z = deflateRawSync(Buffer.alloc(64 << 20));
    const inner = Buffer.alloc(8 + z.length);
    inner.writeUInt32LE(1024, 0);
    inner.set(z, 8);
    const bomb = base.map((c) => (c.readUInt16LE(0) === CHUNK_PAGES ? chunk(CHUNK_PAGES, c.readUInt32LE(8), 1, inner, FLAG_COMPRESSED) : c));
    writeFileSync(path, Buffer.concat(bomb));
    const before = process.memoryUsage.rss();
    assert.throws(() => {
      const t = TraceFile.open(path);
      try {
        renderFile(t, 'text', { write: () => undefined });
      } finally {
        t.close();
      }
    }, (e: unknown) => e instanceof JsftraceError && e.code === 'EINVAL' && /does not inflate to the 1024 bytes it declares/.test(e.message));
    assert.ok(process.memoryUsage.rss() - before < 32 << 20, 'the bomb was not inflated');

    // A site name of a megabyte: cut at MAX_NAME_CHARS, shown once per line cut.
    const names = base.map((c) => {
      if (c.readUInt16LE(0) !== CHUNK_NAMES) return c;
      const text = Buffer.from(['x'.repeat(1 << 20), 'b', 'c', 'd'].join('\n'));
      const payload = Buffer.alloc(4 + text.length);
      payload.set(text, 4);
      return chunk(CHUNK_NAMES, c.readUInt32LE(8), 4, payload);
    });
    writeFileSync(path, Buffer.concat(names));
    const t = TraceFile.open(path);
    try {
      assert.equal(t.processes[0]!.names[0]!.length, MAX_NAME_CHARS);
    } finally {
      t.close();
    }

    // A last chunk that claims more than the file has: read up to it, said as cut short.
    const all = Buffer.concat(base);
    writeFileSync(path, all.subarray(0, all.length - 5));
    const cut = TraceFile.open(path);
    try {
      assert.equal(cut.truncated, true);
      assert.ok(cut.end < all.length - 5);
    } finally {
      cut.close();
    }
  } finally {
    s.done();
  }
});
