/**
 * warnOn: the one door from any layer to fail-stop (guarantee G7).
 *
 * Owns: the installed fail-stop handler. Invariant: a detected internal
 * inconsistency never throws into the traced program; it calls the handler,
 * which core/kill.ts installs at start-up, and returns true so the caller can
 * back out. Lower layers (ring, shared) call this without importing core.
 */

type KillHandler = (reason: string) => void;

let handler: KillHandler = (reason) => {
  // Before core installs its handler there is nothing to stop; keep the
  // reason visible rather than lose it.
  process.emitWarning(reason, { code: 'JSFTRACE_BUG' });
};

export function installKillHandler(h: KillHandler): void {
  handler = h;
}

/** Returns `cond`; when it is true the tracer has been stopped for `reason`. */
export function warnOn(cond: boolean, reason: string): boolean {
  if (cond) handler(reason);
  return cond;
}
