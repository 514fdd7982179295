// A program run under `jsftrace record` for the OTLP tests: it prints
// "port N" and "pid P" when it listens; its trace_stat/otlp can be read
// while it runs and polled (bounded) until it says what a test waits for.
// It always ends: stop() sends SIGTERM to record (which hands it to the
// program and then ends), then SIGKILLs the program itself if it is still
// there, so a failed test leaves no process behind.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { jsftrace, mainJs, Running } from '../cli/support.js';
import { PAGE_DROPPED, PAGE_END, TraceFile } from '../../src/tracefile/read.js';
import { fileThreads, fileTotals } from '../../src/tracefile/threads.js';
import { EventCursor, pageFormatFor } from '../../src/ring/index.js';
import { EV_GRAPH_RET, RET_SUSPENDED } from '../../src/tracers/session.js';

export type Counters = Record<string, number>;

/** The counters of a trace_stat/otlp text. */
export function counters(text: string): Counters {
  const out: Counters = {};
  for (const m of text.matchAll(/^([a-z_]+) +(\d+) {2}/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

export function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve(body));
    });
    req.on('error', reject).end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class RecordedApp {
  readonly run: Running;
  port = 0;
  pid = 0;
  private readonly env: Record<string, string>;

  /**
   * `jsftrace record --wait 60000 <args> -- node <app> <appArgs>`: a writer
   * whose ring is full waits up to a minute for the drain (the default is a
   * second) before it refuses an event, as the drain, which also runs the
   * export, can be starved that long on a shared machine; what is tested is
   * that nothing is lost while the drain keeps up.
   */
  constructor(args: string[], app: string, appArgs: string[], env: Record<string, string>) {
    this.env = env;
    this.run = new Running(process.execPath, [mainJs, 'record', '--wait', '60000', ...args, '--', process.execPath, app, ...appArgs], { env, timeoutMs: 170_000 });
  }

  async started(): Promise<void> {
    const m = await this.run.waitFor(/^port (\d+)\npid (\d+)$/m);
    this.port = Number(m[1]);
    this.pid = Number(m[2]);
  }

  async stat(): Promise<Counters> {
    const r = await jsftrace(['-P', String(this.pid), 'fs', 'cat', 'trace_stat/otlp'], { env: this.env });
    assert.equal(r.code, 0, r.stderr);
    return counters(r.stdout);
  }

  /** Polls (at most `tries` times, 250 ms apart) until `done` holds of the counters; returns the last ones. */
  async until(done: (c: Counters) => boolean, tries = 240): Promise<Counters> {
    let c = await this.stat();
    for (let i = 0; i < tries && !done(c); i++) {
      await sleep(250);
      c = await this.stat();
    }
    return c;
  }

  /** Ends record and the program, whatever state they are in. */
  async stop(): Promise<void> {
    const ended = this.run.stop('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ended, new Promise((r) => { timer = setTimeout(r, 20_000); })]);
    clearTimeout(timer);
    if (this.pid !== 0 && alive(this.pid)) process.kill(this.pid, 'SIGKILL');
    await this.run.stop('SIGKILL');
  }
}

/** Completed calls per function in a trace file (its function_graph returns), and the events it says were lost. */
export function fileCalls(file: string): { calls: Map<string, number>; lost: number } {
  const t = TraceFile.open(file);
  const calls = new Map<string, number>();
  try {
    for (const st of t.streams) {
      const pages = t.pages(st);
      const e = new EventCursor(pageFormatFor(st.info.pageBytes));
      for (let r = pages.next(); r !== PAGE_END; r = pages.next()) {
        if (r === PAGE_DROPPED) continue;
        e.load(pages.data, pages.base);
        while (e.step()) {
          if (!e.is(EV_GRAPH_RET) || (e.flags & RET_SUSPENDED) !== 0) continue;
          const name = st.process.names[e.u32(1)] ?? '';
          calls.set(name, (calls.get(name) ?? 0) + 1);
        }
      }
    }
    return { calls, lost: fileTotals(fileThreads(t)).lost };
  } finally {
    t.close();
  }
}
