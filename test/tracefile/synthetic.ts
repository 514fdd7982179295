// A trace file made in memory, without a program: rings written with a
// clock the caller drives, read back by the ring's own reader into chunks
// (the encoder the drain uses), with names, profiler tables and ends.
// The fuzz suite mutates such files; the bench makes large ones.

import { attachReader, attachWriter, createRing, customClock, ringStats } from '../../src/ring/index.js';
import { eventRegistry, EV_GRAPH_ENT, EV_GRAPH_RET, EV_FUNCTION, OPT_DEFAULTS } from '../../src/tracers/session.js';
import { compressed, fileHeader, jsonChunk, namesChunks, PagesBuilder, profileChunk } from '../../src/tracefile/encode.js';
import { CHUNK_PROCESS, CHUNK_PROCESS_END, CHUNK_STREAM_END, CHUNK_THREAD } from '../../src/tracefile/layout.js';

export interface SyntheticOptions {
  processes: number;
  threads: number;
  /** Calls per thread (function_graph: two events each). */
  calls: number;
  sites: number;
  maxDepth: number;
  tracer: 'function' | 'function_graph';
  compress?: boolean;
  random: () => number;
}

/** Chunks of a synthetic recording, header first. */
export function syntheticTrace(o: SyntheticOptions): Buffer[] {
  const out: Buffer[] = [fileHeader()];
  const events = eventRegistry().all().map((e) => ({ name: e.name, id: e.id, fields: e.fields.map((f) => `${f.kind} ${f.name}`) }));
  let stream = 0;
  for (let p = 1; p <= o.processes; p++) {
    out.push(jsonChunk(CHUNK_PROCESS, p, { pid: 1000 + p, ppid: 1000, argv: ['node', `app${p}.js`], cwd: '/', started: '2026-01-01T00:00:00.000Z', node: 'v20', events }));
    const names = Array.from({ length: o.sites }, (_, i) => `app${p}.js:f${i}`);
    out.push(...namesChunks(p, 0, names));
    for (let t = 0; t < o.threads; t++) {
      const id = ++stream;
      out.push(jsonChunk(CHUNK_THREAD, id, {
        process: p, threadId: t, name: t === 0 ? 'node' : 'worker', gen: 1, pageBytes: 4096, clock: 'mono', tracer: o.tracer,
        options: OPT_DEFAULTS, threshUs: 0,
      }));
      let now = 1e9;
      const ring = createRing({ sizeKb: 64, mode: 'producer', clock: 'local' });
      const w = attachWriter(ring, { clock: customClock('synthetic', () => now) });
      const reader = attachReader(ring);
      const b = new PagesBuilder(id, ring.geometry.pageWords);
      const flush = (): void => {
        w.flush();
        for (;;) {
          const more = b.fill(reader);
          const c = b.take();
          if (c !== null) out.push(o.compress === true ? compressed(c) : c);
          if (!more) break;
        }
      };
      const stack: number[] = [];
      for (let c = 0; c < o.calls; c++) {
        now += 1 + Math.floor(o.random() * 1000);
        const site = Math.floor(o.random() * o.sites);
        if (o.tracer === 'function') {
          w.write2(EV_FUNCTION.id, site, stack.length > 0 ? stack[stack.length - 1]! : -1);
        } else {
          // Enter; return when the depth is reached or by chance.
          const startAt = now;
          w.write2(EV_GRAPH_ENT.id, site, stack.length / 2);
          stack.push(startAt, site);
          while (stack.length > 0 && (stack.length / 2 >= o.maxDepth || o.random() < 0.5)) {
            now += 1 + Math.floor(o.random() * 100);
            const s = stack.pop()!;
            const began = stack.pop()!;
            const dur = now - began;
            const hi = Math.floor(dur / 2 ** 32);
            w.write4(EV_GRAPH_RET.id, s, stack.length / 2, dur - hi * 2 ** 32, hi);
          }
        }
        if (c % 512 === 511) flush();
      }
      flush();
      const st = ringStats(ring);
      out.push(jsonChunk(CHUNK_STREAM_END, id, { overrun: st.overrun, dropped: st.dropped, written: st.written + st.dropped }));
      if (t === 0) out.push(profileChunk(p, t, 'node', new Float64Array(8 * 4).buffer));
    }
    out.push(jsonChunk(CHUNK_PROCESS_END, p, { how: 'exit', code: 0, signal: null }));
  }
  return out;
}
