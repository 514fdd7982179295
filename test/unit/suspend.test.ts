// Suspension: a traced async function or generator that awaits or yields
// takes its frames off the thread's stack (so code running meanwhile sees
// its real parent) and tells its handlers; when it resumes they hear of it
// and the frames come back; the exit runs once, with the data kept.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createOps, defineSites, ftraceSetFilter, leave, registerFtraceFunction, registerFtraceDirect, siteAbi,
  unregisterFtraceDirect, unregisterFtraceFunction, currentSite,
} from '../../src/public/index.js';
import { resume, suspend } from '../../src/core/index.js';

const base = defineSites('susp', [{ name: 'susp:job' }, { name: 'susp:other' }]);
const JOB = base;
const OTHER = base + 1;
const { words, handlers: H, targetBase } = siteAbi();

/** What a transformed async function does around an await, by hand. */
async function job(log: string[], wait: Promise<void>): Promise<string> {
  const t = words[targetBase + JOB]!;
  let tok = t !== 0 ? H[t]!(JOB, undefined, null) : 0;
  log.push(`job entered, current ${currentSite()}`);
  const saved = suspend(tok);
  tok = 0;
  await wait;
  tok = resume(saved);
  log.push(`job resumed, current ${currentSite()}`);
  return leave(tok, 'done') as string;
}

function other(log: string[]): void {
  const t = words[targetBase + OTHER]!;
  const tok = t !== 0 ? H[t]!(OTHER, undefined, null) : 0;
  log.push(`other ran, current is other: ${currentSite() === OTHER}`);
  leave(tok, undefined);
}

test('ops hear suspend and resume; data carries across; one exit', async () => {
  const log: string[] = [];
  const ops = createOps({
    name: 'susp',
    func: (site, parent) => { log.push(`entry ${site === JOB ? 'job' : 'other'} parent ${parent}`); return 1; },
    suspend: (site, _o, data) => { log.push(`suspend ${site === JOB ? 'job' : 'other'} data ${String(data)}`); return (data as number) + 10; },
    resume: (site, _o, data) => { log.push(`resume ${site === JOB ? 'job' : 'other'} data ${String(data)}`); return (data as number) + 100; },
    retfunc: (site, _o, result, threw, data) => { log.push(`exit ${site === JOB ? 'job' : 'other'} ${String(result)} ${threw} data ${String(data)}`); },
  });
  await ftraceSetFilter(ops, 'susp:*');
  await registerFtraceFunction(ops);
  let release!: () => void;
  const wait = new Promise<void>((r) => { release = r; });
  const p = job(log, wait);
  other(log); // runs while job is suspended: its parent is not job
  release();
  assert.equal(await p, 'done');
  await unregisterFtraceFunction(ops);
  assert.deepEqual(log, [
    'entry job parent -1',
    `job entered, current ${JOB}`,
    'suspend job data 1',
    'entry other parent -1',
    'other ran, current is other: true',
    'exit other undefined false data 1',
    'resume job data 11',
    `job resumed, current ${JOB}`,
    'exit job done false data 111',
  ]);
});

test('a direct trampoline hears suspend and resume too', async () => {
  const log: string[] = [];
  const ops = createOps({ name: 'susp-direct' });
  await ftraceSetFilter(ops, 'susp:job');
  const tramp = {
    name: 'T',
    entry: () => { log.push('entry'); return 'd'; },
    exit: (_s: number, r: unknown, _t: boolean, d: unknown) => { log.push(`exit ${String(r)} ${String(d)}`); },
    suspend: (_s: number, d: unknown) => { log.push(`suspend ${String(d)}`); return `${String(d)}s`; },
    resume: (_s: number, d: unknown) => { log.push(`resume ${String(d)}`); return `${String(d)}r`; },
  };
  await registerFtraceDirect(ops, tramp);
  const p = job([], Promise.resolve());
  assert.equal(await p, 'done');
  await unregisterFtraceDirect(ops, tramp);
  assert.deepEqual(log, ['entry', 'suspend d', 'resume ds', 'exit done dsr']);
});
