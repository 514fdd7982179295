/**
 * Which function calls become spans: the one decision of the OTLP export,
 * taken in the export worker and by the offline converter alike.
 *
 * Owns: the named outcomes (a span is kept, or dropped for one named
 * reason) and the rate limit's token bucket. Invariants:
 * - a call tree (a call with no traced caller and everything it calls) is
 *   sampled or not, and within the rate limit or not, as a whole, decided
 *   when its root begins: a span is never exported whose traced caller was
 *   dropped for sampling or rate, so no exported span names a parent that
 *   was left out for those reasons;
 * - the minimum duration (tracing_thresh) is decided per call when it
 *   ends; a call still running when its callee ends lasted longer than that
 *   callee, so a kept span's traced caller is kept too or has already ended
 *   (and was dropped): its spans then hang from the nearest kept ancestor;
 * - a call whose end was lost (overwritten in the ring) or had not come
 *   when the export stopped is kept whatever its duration, so that the spans
 *   of its callees keep their parent.
 */

/** A call's fate. */
export const KEEP = 0;
export const BELOW_THRESH = 1;
export const NOT_SAMPLED = 2;
export const RATE_LIMITED = 3;
export type Fate = typeof KEEP | typeof BELOW_THRESH | typeof NOT_SAMPLED | typeof RATE_LIMITED;

/** How a call ended, for the decision (the span says more). */
export const END_RETURN = 0;
export const END_THREW = 1;
export const END_UNWOUND = 2;
/** Its end is not in the events (lost to an overwrite, or the export stopped first). */
export const END_UNKNOWN = 3;
export type EndKind = typeof END_RETURN | typeof END_THREW | typeof END_UNWOUND | typeof END_UNKNOWN;

/** What was decided for a whole call tree at its root. */
export interface TreeDecision {
  sampled: boolean;
  withinRate: boolean;
}

/** The fate of one call, at its end. */
export function spanFate(tree: TreeDecision, durationNs: number, threshNs: number, end: EndKind): Fate {
  if (!tree.sampled) return NOT_SAMPLED;
  if (!tree.withinRate) return RATE_LIMITED;
  if (end !== END_UNKNOWN && durationNs < threshNs) return BELOW_THRESH;
  return KEEP;
}

/**
 * At most `perSecond` spans a second, over time as the events tell it (so
 * the same events always give the same spans): a tree may begin while the
 * bucket holds a token; every span kept takes one, so a large tree may take
 * it below zero and the next trees wait until it has refilled. Holds at most
 * one second's worth. 0 is no limit.
 */
export class RateLimit {
  private readonly perSecond: number;
  private tokens: number;
  private last = -1;

  constructor(perSecond: number) {
    this.perSecond = perSecond;
    this.tokens = perSecond;
  }

  /** Whether a tree beginning at `tNs` (ns since the epoch) is within the limit. */
  admit(tNs: number): boolean {
    if (this.perSecond === 0) return true;
    this.refill(tNs);
    return this.tokens >= 1;
  }

  /** A span was kept at `tNs`. */
  take(tNs: number): void {
    if (this.perSecond === 0) return;
    this.refill(tNs);
    this.tokens--;
  }

  private refill(tNs: number): void {
    if (this.last >= 0 && tNs > this.last) this.tokens = Math.min(this.perSecond, this.tokens + ((tNs - this.last) / 1e9) * this.perSecond);
    if (tNs > this.last) this.last = tNs;
  }
}
