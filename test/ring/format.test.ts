/**
 * The self-description: event layouts, the header_page, header_event and
 * events/<name>/format texts, their parsers, and a reader that decodes raw
 * pages knowing nothing but those texts (as a reader in another process
 * would). docs/ring-format.md must quote the texts this build prints.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  attachReader, attachWriter, createEventRegistry, createRing, defineEventFormat, EVENT_HEADER, EventCursor,
  eventFormatText, type FieldKind, formatFields, headerEventText, headerPageText, pageFormatFor, parseEventFormat,
  parseHeaderEvent, parseHeaderPage, READ_EMPTY, READ_EVENT, writeField, writeStringField,
} from '../../src/ring/index.js';
import { between, prng, code } from './support.js';

test('events/<name>/format: layout and text', () => {
  const e = defineEventFormat('sample', 7, [
    { name: 'depth', kind: 'u8' },
    { name: 'code', kind: 's16' },
    { name: 'ip', kind: 'u32' },
    { name: 'when', kind: 'u64' },
    { name: 'ratio', kind: 'f64' },
    { name: 'tag', kind: 's8' },
    { name: 'msg', kind: 'string' },
  ]);
  assert.deepEqual(e.fields.map((f) => [f.name, f.offset, f.size]), [
    ['common_type', 0, 2], ['common_flags', 2, 2], ['depth', 4, 1], ['code', 6, 2], ['ip', 8, 4], ['when', 12, 8],
    ['ratio', 20, 8], ['tag', 28, 1], ['msg', 32, 4],
  ]);
  assert.equal(e.words, 9);
  assert.equal(eventFormatText(e), [
    'name: sample',
    'ID: 7',
    'format:',
    '\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;',
    '\tfield:unsigned short common_flags;\toffset:2;\tsize:2;\tsigned:0;',
    '',
    '\tfield:unsigned char depth;\toffset:4;\tsize:1;\tsigned:0;',
    '\tfield:short code;\toffset:6;\tsize:2;\tsigned:1;',
    '\tfield:unsigned int ip;\toffset:8;\tsize:4;\tsigned:0;',
    '\tfield:u64 when;\toffset:12;\tsize:8;\tsigned:0;',
    '\tfield:double ratio;\toffset:20;\tsize:8;\tsigned:1;',
    '\tfield:signed char tag;\toffset:28;\tsize:1;\tsigned:1;',
    '\tfield:__data_loc char[] msg;\toffset:32;\tsize:4;\tsigned:0;',
    '',
    'print fmt: "depth=%u code=%d ip=%u when=%llu ratio=%g tag=%d msg=%s", REC->depth, REC->code, REC->ip, '
      + 'REC->when, REC->ratio, REC->tag, __get_str(msg)',
    '',
  ].join('\n'));
  assert.deepEqual(parseEventFormat(eventFormatText(e)), e);
});

test('format texts round-trip for random field lists', () => {
  const kinds: FieldKind[] = ['u8', 's8', 'u16', 's16', 'u32', 's32', 'u64', 's64', 'f64', 'string'];
  const rand = prng(7);
  for (let n = 0; n < 300; n++) {
    const specs = [];
    const count = between(rand, 0, 12);
    for (let i = 0; i < count; i++) specs.push({ name: `f${i}`, kind: kinds[between(rand, 0, kinds.length)]! });
    const e = defineEventFormat(`ev${n}`, between(rand, 1, 0x10000), specs);
    assert.deepEqual(parseEventFormat(eventFormatText(e)), e);
  }
});

test('header_page and header_event parse back to what the decoder uses', () => {
  for (const bytes of [64, 4096, 32768]) assert.deepEqual(parseHeaderPage(headerPageText(bytes)), pageFormatFor(bytes));
  assert.deepEqual(parseHeaderEvent(headerEventText()), EVENT_HEADER);
  assert.equal(code(() => parseHeaderEvent(headerEventText().replace('format 1.', 'format 2.'))), 'EINVAL');
  // A newer minor is readable: additions are ignorable by rule.
  assert.equal(parseHeaderEvent(headerEventText().replace(/format 1\.\d+/, 'format 1.7')).minor, 7);
  assert.equal(code(() => parseHeaderEvent(headerEventText().replace('little', 'big'))), 'EINVAL');
  assert.equal(code(() => parseHeaderPage(headerPageText(4096).replace('commit_entries;\toffset:6', 'commit_entries;\toffset:8'))), 'EINVAL');
  assert.equal(code(() => parseHeaderPage('nothing here')), 'EINVAL');
});

test('bad descriptors are refused', () => {
  assert.equal(code(() => defineEventFormat('has space', 1, [])), 'EINVAL');
  assert.equal(code(() => defineEventFormat('ok', 0, [])), 'EINVAL');
  assert.equal(code(() => defineEventFormat('ok', 70000, [])), 'EINVAL');
  assert.equal(code(() => defineEventFormat('ok', 1, [{ name: 'a', kind: 'u8' }, { name: 'a', kind: 'u8' }])), 'EINVAL');
  assert.equal(code(() => defineEventFormat('ok', 1, [{ name: 'common_x', kind: 'u8' }])), 'EINVAL');
  assert.equal(code(() => defineEventFormat('ok', 1, [{ name: 'a', kind: 'u128' as FieldKind }])), 'EINVAL');
  assert.equal(code(() => parseEventFormat('ID: 3\nformat:\n')), 'EINVAL');
  assert.equal(code(() => parseEventFormat('name: x\nID: 3\nformat:\n\tfield:int a;\toffset:0;\tsize:4;\tsigned:1;\n')), 'EINVAL');
  assert.equal(code(() => parseEventFormat('name: x\nID: 3\nformat:\n\tfield:what\n')), 'EINVAL');
});

test('a reader with only the texts decodes raw pages (trace_pipe_raw)', () => {
  const registry = createEventRegistry();
  const call = registry.register('call', [{ name: 'fn', kind: 'u32' }, { name: 'depth', kind: 'u8' }, { name: 'arg', kind: 's64' }]);
  const note = registry.register('note', [{ name: 'level', kind: 's16' }, { name: 'text', kind: 'string' }, { name: 'x', kind: 'f64' }]);
  const ring = createRing({ pageBytes: 512, sizeKb: 64, mode: 'producer', clock: 'counter' });
  const w = attachWriter(ring);
  const written: string[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < 300; i++) {
    if (i % 3 !== 2) {
      const p = w.reserve(call.id, call.words - 1) - 1; // payload start (the common word)
      writeField(w.words, p, call.fields[2]!, 1000 + i);
      writeField(w.words, p, call.fields[3]!, i % 256);
      writeField(w.words, p, call.fields[4]!, -(2 ** 40) - i);
      written.push(`call ${i + 1}: fn=${1000 + i} depth=${i % 256} arg=${-(2 ** 40) - i}`);
    } else {
      const text = enc.encode(`héllo ${i}`);
      const p = w.reserve(note.id, note.words - 1 + Math.ceil(text.length / 4)) - 1;
      writeField(w.words, p, note.fields[2]!, -i);
      writeStringField(w.words, p, note.fields[3]!, note.words * 4, text);
      writeField(w.words, p, note.fields[4]!, i / 8);
      written.push(`note ${i + 1}: level=${-i} text=héllo ${i} x=${i / 8}`);
    }
  }
  w.flush();

  // What crosses to the other side: texts and raw bytes, no shared code or objects.
  const texts = {
    page: ring.headerPageText(),
    event: ring.headerEventText(),
    formats: registry.all().map((e) => registry.formatText(e.id)),
  };
  const pages: Uint8Array[] = [];
  const r = attachReader(ring);
  const img = new Int32Array(ring.geometry.pageWords);
  while (r.readPage(img) === READ_EVENT) pages.push(new Uint8Array(img.buffer.slice(0)));
  assert.equal(r.readPage(img), READ_EMPTY);

  const pf = parseHeaderPage(texts.page);
  const cur = new EventCursor(pf, parseHeaderEvent(texts.event));
  const formats = new Map(texts.formats.map((t) => [parseEventFormat(t).id, parseEventFormat(t)]));
  const decoded: string[] = [];
  for (const bytes of pages) {
    cur.load(new Int32Array(bytes.buffer, 0, pf.pageBytes / 4));
    while (cur.step()) {
      const e = formats.get(cur.type)!;
      decoded.push(`${e.name} ${cur.ts}: ${formatFields(cur.data, cur.at, e)}`);
    }
  }
  assert.equal(decoded.length, 300);
  assert.deepEqual(decoded, written);
});

test('docs/ring-format.md quotes the texts this build prints', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../../docs/ring-format.md', import.meta.url)), 'utf8');
  assert.ok(doc.includes(headerPageText(4096)), 'header_page for 4096-byte pages');
  assert.ok(doc.includes(headerEventText()), 'header_event');
});
