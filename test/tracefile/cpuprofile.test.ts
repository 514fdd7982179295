// report --format cpuprofile, opened by a real consumer: Chrome DevTools'
// own CPU profile model (CPUProfileDataModel of DevTools' trace engine,
// the code the Performance panel loads a .cpuprofile with). Its frames'
// total and self times, per function, are the trace's (profile format) to
// the float precision of µs written as decimals; the nodes form a tree
// whose stacks are the folded output's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtures, recordProgram, render, scratch } from './support.js';

const cliFixtures = fileURLToPath(new URL('../../../test/fixtures/cli/', import.meta.url));

interface Frame { functionName: string; url: string }
interface ProfileNode { callFrame: Frame; functionName: string; children: ProfileNode[] }
interface DataModel {
  profileHead: ProfileNode;
  forEachFrame(open: (d: number, n: ProfileNode) => void, close: (d: number, n: ProfileNode, i: number, ts: number, dur: number, self: number) => void): void;
}

async function devtoolsModel(profile: unknown): Promise<DataModel> {
  const mod = await import('@paulirish/trace_engine/models/cpu_profile/cpu_profile.js') as {
    CPUProfileDataModel: { CPUProfileDataModel: new (p: unknown) => DataModel };
  };
  return new mod.CPUProfileDataModel.CPUProfileDataModel(profile);
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

for (const [file, cwd, what] of [
  ['select.mjs', fixtures, 'nested synchronous calls'],
  ['async-calls.mjs', cliFixtures, 'async functions, their parts where they ran'],
] as const) {
  test(`cpuprofile of ${what}: DevTools' model loads it; its totals are the trace's`, async () => {
    const s = scratch();
    try {
      const out = join(s.dir, 't.jsft');
      const r = await recordProgram({ args: [file], cwd, out, init: [['write', 'trace_clock', 'counter'], ['write', 'current_tracer', 'function_graph']] });
      assert.equal(r.code, 0, r.stderr);
      const profile = JSON.parse(render(out, 'cpuprofile', { filter: { threads: [0] } })) as { samples: number[]; timeDeltas: number[] };
      assert.equal(profile.samples.length, profile.timeDeltas.length);
      const model = await devtoolsModel(profile);
      const total = new Map<string, number>();
      const self = new Map<string, number>();
      const open = new Map<string, number>();
      model.forEachFrame((_d, n) => {
        const k = n.callFrame.url === '' ? n.functionName : `${n.callFrame.url}:${n.functionName}`;
        open.set(k, (open.get(k) ?? 0) + 1);
      }, (_d, n, _i, _ts, dur, selfTime) => {
        const k = n.callFrame.url === '' ? n.functionName : `${n.callFrame.url}:${n.functionName}`;
        total.set(k, (total.get(k) ?? 0) + dur);
        self.set(k, (self.get(k) ?? 0) + selfTime);
      });
      // The trace's own profile of the same thread: running time (on the stack) and self time, in counts.
      const rows = render(out, 'profile', { filter: { threads: [0] } }).split('\n').filter((l) => /^ +\d/.test(l)).map((l) => l.trim().split(/\s+/));
      assert.ok(rows.length >= 3, 'the trace has calls');
      for (const [calls, , selfT, running, , , name] of rows) {
        assert.ok(Number(calls) > 0);
        // DevTools' times are ms; the profile's µs decimals of counts (a count is 1 ns).
        assert.ok(close(total.get(name!)! * 1e6, Number(running)), `${name}: DevTools total ${total.get(name!)} ms, trace running ${running}`);
        assert.ok(close(self.get(name!)! * 1e6, Number(selfT)), `${name}: DevTools self ${self.get(name!)} ms, trace self ${selfT}`);
      }
      // Every function DevTools shows is one of the trace's, and the stacks are the folded output's.
      for (const k of total.keys()) assert.ok(k === '(idle)' || rows.some((x) => x[6] === k), `${k} is a traced function`);
      const stacks: string[] = [];
      const walk = (n: ProfileNode, path: string[]): void => {
        for (const c of n.children) {
          const p = [...path, `${c.callFrame.url}:${c.functionName}`];
          if (c.functionName !== '(idle)') stacks.push(p.join(';'));
          walk(c, p);
        }
      };
      walk(model.profileHead, []);
      const folded = render(out, 'folded', { filter: { threads: [0] } }).split('\n').filter((l) => l !== '').map((l) => l.replace(/ \d+$/, ''));
      assert.deepEqual(stacks.filter((x) => folded.includes(x)).sort(), [...new Set(folded)].sort());
    } finally {
      s.done();
    }
  });
}
