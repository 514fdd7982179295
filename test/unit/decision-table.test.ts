// The per-site decision (checkRecord) against a reference written from the
// kernel's description, over every combination of count and flag bits; then
// the whole engine over every set of ops a site can have.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  flags as F, checkRecord, instance, UPDATE_IGNORE, UPDATE_MAKE_CALL, UPDATE_MAKE_NOP, UPDATE_MODIFY_CALL, VERB_NAMES,
} from '../../src/core/index.js';
import {
  createOps, defineSite, ftraceSetFilter, registerFtraceDirect, registerFtraceFunction, unregisterFtraceDirect,
  unregisterFtraceFunction, siteAbi, OPS_FL, ftraceSetEnabled, type FtraceOps,
} from '../../src/public/index.js';

const BITS = [
  F.REC_FL_ENABLED, F.REC_FL_ARGS, F.REC_FL_ARGS_EN, F.REC_FL_TRAMP, F.REC_FL_TRAMP_EN, F.REC_FL_DIRECT,
  F.REC_FL_DIRECT_EN, F.REC_FL_DISABLED, F.REC_FL_IPMODIFY, F.REC_FL_TOUCHED, F.REC_FL_MODIFIED,
];

/** ftrace_check_record, restated step by step from the reference notes. */
function reference(flags: number, enable: boolean): { verb: number; next: number } {
  const has = (b: number): boolean => (flags & b) !== 0;
  if (has(F.REC_FL_DISABLED) && !has(F.REC_FL_ENABLED)) return { verb: UPDATE_IGNORE, next: flags };
  const count = flags & F.REC_FL_REF_MASK;
  const want = enable && count > 0;
  if (want) {
    const mismatch = has(F.REC_FL_ARGS) !== has(F.REC_FL_ARGS_EN)
      || has(F.REC_FL_TRAMP) !== has(F.REC_FL_TRAMP_EN)
      || (count === 1 ? has(F.REC_FL_DIRECT) !== has(F.REC_FL_DIRECT_EN) : has(F.REC_FL_DIRECT_EN));
    if (has(F.REC_FL_ENABLED) && !mismatch) return { verb: UPDATE_IGNORE, next: flags };
    let next = flags | F.REC_FL_ENABLED | F.REC_FL_TOUCHED;
    const copy = (x: number, xEn: number): void => { next = has(x) ? next | xEn : next & ~xEn; };
    copy(F.REC_FL_ARGS, F.REC_FL_ARGS_EN);
    copy(F.REC_FL_TRAMP, F.REC_FL_TRAMP_EN);
    next = has(F.REC_FL_DIRECT) && count === 1 ? next | F.REC_FL_DIRECT_EN : next & ~F.REC_FL_DIRECT_EN;
    if (has(F.REC_FL_DIRECT) || has(F.REC_FL_IPMODIFY)) next |= F.REC_FL_MODIFIED;
    return { verb: has(F.REC_FL_ENABLED) ? UPDATE_MODIFY_CALL : UPDATE_MAKE_CALL, next };
  }
  if (!has(F.REC_FL_ENABLED)) return { verb: UPDATE_IGNORE, next: flags };
  if (count === 0) return { verb: UPDATE_MAKE_NOP, next: flags & (F.REC_FL_DISABLED | F.REC_FL_TOUCHED | F.REC_FL_MODIFIED) };
  return {
    verb: UPDATE_MAKE_NOP,
    next: flags & ~(F.REC_FL_ENABLED | F.REC_FL_ARGS_EN | F.REC_FL_TRAMP_EN | F.REC_FL_DIRECT_EN),
  };
}

test('checkRecord equals the reference for every count and flag combination', () => {
  let cases = 0;
  const verbs = [0, 0, 0, 0];
  for (const count of [0, 1, 2, 3, F.REC_FL_REF_MASK]) {
    for (let mask = 0; mask < 1 << BITS.length; mask++) {
      let flags = count;
      for (let b = 0; b < BITS.length; b++) if ((mask & (1 << b)) !== 0) flags |= BITS[b]!;
      for (const enable of [true, false]) {
        const got = checkRecord(flags, enable);
        const want = reference(flags, enable);
        if (got.verb !== want.verb || got.next !== want.next) {
          assert.fail(`flags 0x${(flags >>> 0).toString(16)} enable=${enable}: got ${VERB_NAMES[got.verb]} 0x${(got.next >>> 0).toString(16)}, `
            + `want ${VERB_NAMES[want.verb]} 0x${(want.next >>> 0).toString(16)}`);
        }
        // A committed update is a fixed point: asking again changes nothing.
        const again = checkRecord(got.next, enable);
        assert.equal(again.verb, UPDATE_IGNORE, `not idempotent for 0x${(flags >>> 0).toString(16)}`);
        verbs[got.verb]!++;
        cases++;
      }
    }
  }
  assert.equal(cases, 5 * 2048 * 2);
  // Every verb is reached, so the table is not trivially one-sided.
  for (let v = 0; v < 4; v++) assert.ok(verbs[v]! > 0, `verb ${VERB_NAMES[v]} never produced`);
});

// ---- the engine over every set of ops on one site -------------------------

const abi = siteAbi();

type Kind = 'nop' | 'list' | 'ops' | 'tramp';
function kindOf(word: number): { kind: Kind; args: boolean } {
  const d = F.decodeTarget(instance().L.maxOps, word);
  return { kind: d.kind, args: d.args };
}

function word(site: number): number {
  return abi.words[abi.targetBase + site]!;
}

interface Member {
  label: string;
  flags: number;
  direct: boolean;
}

const MEMBERS: Member[] = [
  { label: 'plain', flags: 0, direct: false },
  { label: 'args', flags: OPS_FL.ARGS, direct: false },
  { label: 'recursion', flags: OPS_FL.RECURSION, direct: false },
  { label: 'stub', flags: OPS_FL.STUB, direct: false },
  { label: 'direct', flags: 0, direct: true },
];

/** What the decision table says a site with these ops must call. */
function expected(on: readonly Member[]): { kind: Kind; args: boolean } {
  const args = on.some((m) => m.direct || (m.flags & OPS_FL.ARGS) !== 0);
  if (on.length === 0) return { kind: 'nop', args: false };
  if (on.length === 1 && on[0]!.direct) return { kind: 'tramp', args: true };
  if (on.length === 1 && (on[0]!.flags & OPS_FL.STUB) === 0) return { kind: 'ops', args };
  return { kind: 'list', args };
}

const trampOf = new Map<FtraceOps, () => void>();

test('the engine gives each set of ops the target of the decision table, in every order', async () => {
  let site = 0;
  let checks = 0;
  // Every subset of the members, registered in every order, then removed in
  // registration order; the target is checked after each step.
  const subsets: Member[][] = [];
  for (let m = 1; m < 1 << MEMBERS.length; m++) subsets.push(MEMBERS.filter((_, i) => (m & (1 << i)) !== 0));
  const perms = <T>(xs: T[]): T[][] => xs.length <= 1 ? [xs] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
  for (const subset of subsets) {
    for (const order of perms(subset)) {
      const name = `dt:case${site}`;
      site = defineSite({ name });
      const live: { m: Member; ops: FtraceOps }[] = [];
      const check = (): void => {
        const got = kindOf(word(site));
        const want = expected(live.map((l) => l.m));
        assert.deepEqual(got, want, `${order.map((m) => m.label).join('+')} after [${live.map((l) => l.m.label).join(',')}]`);
        checks++;
      };
      check();
      for (const m of order) {
        const ops = createOps({ func: m.direct || (m.flags & OPS_FL.STUB) !== 0 ? undefined : () => undefined, flags: m.flags, name: m.label });
        await ftraceSetFilter(ops, name);
        if (m.direct) {
          const tramp = function tramp(): void { /* entry only */ };
          trampOf.set(ops, tramp);
          await registerFtraceDirect(ops, tramp);
        } else await registerFtraceFunction(ops);
        live.push({ m, ops });
        check();
      }
      while (live.length > 0) {
        const { m, ops } = live.shift()!;
        if (m.direct) await unregisterFtraceDirect(ops, trampOf.get(ops)!);
        else await unregisterFtraceFunction(ops);
        check();
      }
    }
  }
  assert.ok(checks > 1000, `only ${checks} checks`);
});


test('switching calls off makes every site nop and back on restores targets', async () => {
  const a = defineSite({ name: 'dt:global-a' });
  const ops = createOps({ func: () => undefined, name: 'global' });
  await ftraceSetFilter(ops, 'dt:global-a');
  await registerFtraceFunction(ops);
  assert.equal(kindOf(word(a)).kind, 'ops');
  await ftraceSetEnabled(false);
  assert.equal(word(a), 0);
  await ftraceSetEnabled(true);
  assert.equal(kindOf(word(a)).kind, 'ops');
  const perm = createOps({ func: () => undefined, name: 'perm', flags: OPS_FL.PERMANENT });
  await ftraceSetFilter(perm, 'dt:global-a');
  await registerFtraceFunction(perm);
  await assert.rejects(ftraceSetEnabled(false), { code: 'EBUSY' });
  assert.equal(kindOf(word(a)).kind, 'list');
  await unregisterFtraceFunction(perm);
  await unregisterFtraceFunction(ops);
  assert.equal(word(a), 0);
});
