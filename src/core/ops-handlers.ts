/**
 * The exit, suspend and resume parts of an ops in this thread, built for
 * its flags when the ops is loaded (no flag is tested per call).
 *
 * Owns: LocalOps objects (makeLocalOps). Invariants: a part runs its
 * callback only while the ops is registered in this thread (a call that
 * entered before unregisterFtraceFunction resolved, a suspended async call
 * say, does not call its callbacks after that, as the kernel promises);
 * whatever a callback throws is handed to callback-faults.ts and the call
 * goes on with its value (an IPMODIFY exit alone may replace it). The
 * entry part, which pushes the frame these parts end, is dispatch.ts's.
 */

import { OPS_STRIDE } from './layout.js';
import { OPS_FL_IPMODIFY } from './flags.js';
import { opsError } from './callback-faults.js';
import { threadView, type ExitHandler, type LocalOps, type ThreadView } from './thread.js';

const tv: ThreadView = threadView();
const L = tv.inst.L;

/**
 * Whether the ops is still registered in this thread: a call that entered
 * before unregisterFtraceFunction resolved (a suspended async call, say)
 * does not call its callbacks after that, as the kernel promises.
 */
function live(o: LocalOps): boolean {
  return tv.ops[o.slot] === o;
}

function keepValue(_site: number, value: unknown): unknown {
  return value;
}

/** Runs a suspend or resume callback of an ops, isolated; returns the data to keep. */
function opsPauseCall(o: LocalOps, fn: ((site: number, ops: never, data: unknown) => unknown) | undefined, site: number, data: unknown): unknown {
  if (fn === undefined || !live(o)) return data;
  try {
    const r = fn(site, o.ops as never, data);
    return r === undefined ? data : r;
  } catch (e) {
    opsError(o, e);
    return data;
  }
}

/**
 * The exit part of an ops, built for its flags when the ops is loaded (no
 * flag is tested per call). It runs only while the ops is registered in
 * this thread: a call that entered before unregisterFtraceFunction resolved
 * (a suspended async call, say) does not call its callbacks after that, as
 * the kernel promises. Exits run with the recursion guard raised
 * (runExits, leaveOne), so what the callback calls reaches no ops.
 */
function makeOpsLeave(o: LocalOps): ExitHandler['leave'] {
  const rf = o.retfunc;
  if (rf === undefined) return keepValue;
  const ops = o.ops;
  const slot = o.slot;
  const ipmodify = (o.flags & OPS_FL_IPMODIFY) !== 0;
  return function opsLeave(site, value, threw, data) {
    if (tv.ops[slot] !== o) return value;
    try {
      const r = rf(site, ops, value, threw, data);
      return ipmodify ? r : value;
    } catch (e) {
      opsError(o, e);
      return value;
    }
  };
}

export function makeLocalOps(slot: number, gen: number, ops: LocalOps['ops'], flags: number,
  func: LocalOps['func'], retfunc: LocalOps['retfunc']): LocalOps {
  const o: LocalOps = {
    slot, gen, ops, func, retfunc, flags,
    cov: L.cov + slot * L.covWords,
    row: L.ops + slot * OPS_STRIDE,
    warned: false,
    framed: retfunc !== undefined || ops.suspendfunc !== undefined || ops.resumefunc !== undefined,
    leave: keepValue,
    pause: (site, data) => opsPauseCall(o, ops.suspendfunc, site, data),
    unpause: (site, data) => opsPauseCall(o, ops.resumefunc, site, data),
  };
  o.leave = makeOpsLeave(o);
  return o;
}
