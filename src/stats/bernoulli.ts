import {
  type OddsRatioMixture,
  batchLogLikelihoodRatio,
  checkMixture,
  designMixture,
  mixtureLogE,
} from './mixture.js';
import { checkAlpha, checkCount } from './checks.js';

/**
 * One-sided sequential test of an event probability against a limit: error rate vs its limit,
 * "p99 latency ≤ L" as P(latency > L) ≤ 0.01, CPU windows above the CPU limit. Two e-processes run
 * on the same counts:
 *   breach: H₀ "rate ≤ limit"; rejecting it means the limit is breached (RED);
 *   within: H₀ "rate ≥ limit"; rejecting it means the rate is below the limit (may promote).
 * Each rejects when its e-value reaches 1/α. By Ville's inequality a nonnegative supermartingale
 * starting at 1 ever reaches 1/α with probability at most α, so the test may be checked after every
 * batch, for as long as the rollout runs, at level α.
 *
 * The null p₀ is fixed, so each alternative's likelihood ratio depends on the totals only; the
 * state is the totals, which also give the anytime-valid bounds by inversion.
 */
export interface LimitTestConfig {
  /** The limit on the event probability, in (0, 1). */
  readonly limit: number;
  /** Level of each of the two e-processes (its share of the release's budget). */
  readonly alpha: number;
  /**
   * Level of the "within" side when it is evidence for promotion; default `alpha`. Promotion needs
   * every within side at once (an intersection–union test), so each may run at the level the
   * whole promotion has (docs/statistics.md, "The α budget"). The bounds stay at `alpha`.
   */
  readonly promotionAlpha?: number;
  /** Rate at which a breach should be detected fastest; default min(2·limit, (1 + limit)/2). */
  readonly breachDesign?: number;
  /** Rate at which "within the limit" should be confirmed fastest; default limit/2. */
  readonly withinDesign?: number;
}

export interface LimitTestState {
  readonly kind: 'limit';
  readonly limit: number;
  readonly alpha: number;
  /** The within side's level (LimitTestConfig); absent: `alpha`. */
  readonly promotionAlpha?: number;
  /** Kept in the state, so a resumed test keeps the mixture it started with. */
  readonly breach: OddsRatioMixture;
  readonly within: OddsRatioMixture;
  readonly trials: number;
  readonly events: number;
  /** Trials seen when the breach e-process first reached 1/α: a breach, once shown, stays. */
  readonly breachedAfter: number | null;
}

/** One tick's counts: `events` of `trials` were bad (an error, a latency above L, a hot window). */
export interface LimitBatch {
  readonly trials: number;
  readonly events: number;
}

export type LimitStatus = 'breach' | 'within' | 'undecided';

export interface LimitVerdict {
  readonly status: LimitStatus;
  /** ln of the e-value against "rate ≤ limit" now. */
  readonly logEBreach: number;
  /** ln of the e-value against "rate ≥ limit" now. */
  readonly logEWithin: number;
  /** ln(1/α): either e-process rejects at or above it. */
  readonly logThreshold: number;
  readonly trials: number;
  readonly events: number;
  /** events / trials (0 before any trial). */
  readonly rate: number;
  /** Anytime-valid bounds: P(rate > upper at any tick) ≤ α, and likewise for lower. */
  readonly lower: number;
  readonly upper: number;
  readonly breachedAfter: number | null;
}

/** Odds ratio that takes probability p to q. */
export function oddsRatio(p: number, q: number): number {
  return (q / (1 - q)) * ((1 - p) / p);
}

export function initialLimitTest(config: LimitTestConfig): LimitTestState {
  const { limit, alpha } = config;
  if (!(limit > 0 && limit < 1)) throw new RangeError(`limit must be in (0, 1) (got ${limit})`);
  checkAlpha(alpha);
  if (config.promotionAlpha !== undefined) checkAlpha(config.promotionAlpha);
  const breachRate = config.breachDesign ?? Math.min(2 * limit, (1 + limit) / 2);
  const withinRate = config.withinDesign ?? limit / 2;
  if (!(breachRate > limit && breachRate < 1)) {
    throw new RangeError(`breachDesign must be in (limit, 1) (got ${breachRate})`);
  }
  if (!(withinRate > 0 && withinRate < limit)) {
    throw new RangeError(`withinDesign must be in (0, limit) (got ${withinRate})`);
  }
  const breach = designMixture(oddsRatio(limit, breachRate));
  const within = designMixture(oddsRatio(limit, withinRate));
  checkMixture(breach, 'above');
  checkMixture(within, 'below');
  return {
    kind: 'limit',
    limit,
    alpha,
    ...(config.promotionAlpha === undefined ? {} : { promotionAlpha: config.promotionAlpha }),
    breach,
    within,
    trials: 0,
    events: 0,
    breachedAfter: null,
  };
}

export function updateLimitTest(state: LimitTestState, batch: LimitBatch): LimitTestState {
  checkCount(batch.trials, 'trials');
  checkCount(batch.events, 'events');
  if (batch.events > batch.trials) throw new RangeError(`events ${batch.events} > trials ${batch.trials}`);
  const next = { ...state, trials: state.trials + batch.trials, events: state.events + batch.events };
  if (next.breachedAfter === null && logE(next.breach, next, next.limit) >= Math.log(1 / next.alpha)) {
    return { ...next, breachedAfter: next.trials };
  }
  return next;
}

/** The status and e-values without the bounds: what a tick needs, at a fraction of the cost. */
export function limitEvidence(
  state: LimitTestState,
): Pick<LimitVerdict, 'status' | 'logEBreach' | 'logEWithin' | 'logThreshold'> {
  const logThreshold = Math.log(1 / state.alpha);
  const logEBreach = logE(state.breach, state, state.limit);
  const logEWithin = logE(state.within, state, state.limit);
  const status: LimitStatus =
    state.breachedAfter !== null ? 'breach' : logEWithin >= withinThreshold(state) ? 'within' : 'undecided';
  return { status, logEBreach, logEWithin, logThreshold };
}

/**
 * Whether the data show the rate below `rate` (≤ the limit) at the within side's level: the
 * "within" e-process taken at that rate instead of the limit (valid at any rate, as limitBounds
 * uses it).
 */
export function shownBelow(state: LimitTestState, rate: number): boolean {
  return logE(state.within, state, rate) >= withinThreshold(state);
}

/** ln(1/level) of the within side. */
function withinThreshold(state: LimitTestState): number {
  return Math.log(1 / (state.promotionAlpha ?? state.alpha));
}

export function decideLimitTest(state: LimitTestState): LimitVerdict {
  return {
    ...limitEvidence(state),
    trials: state.trials,
    events: state.events,
    rate: state.trials === 0 ? 0 : state.events / state.trials,
    ...limitBounds(state),
    breachedAfter: state.breachedAfter,
  };
}

/** ln e-value of one side at null p₀, from the totals. */
function logE(mixture: OddsRatioMixture, counts: LimitBatch, p0: number): number {
  const logLR = mixture.ratios.map((r) => batchLogLikelihoodRatio(r, counts.events, counts.trials, p0));
  return mixtureLogE(mixture, logLR);
}

/**
 * Inverts the two e-processes over p₀. For an odds ratio θ < 1 the likelihood ratio grows with p₀,
 * so {p₀ : "rate ≥ p₀" is rejected} is an interval (p₀ above the upper bound); if the true rate
 * were above the bound, its own e-process would have crossed 1/α, which Ville bounds by α.
 * Mirrored for the lower bound.
 */
export function limitBounds(state: LimitTestState): { lower: number; upper: number } {
  const threshold = Math.log(1 / state.alpha);
  const upper = crossing((p0) => logE(state.within, state, p0) >= threshold, 'smallest');
  const lower = crossing((p0) => logE(state.breach, state, p0) >= threshold, 'largest');
  return { lower: lower ?? 0, upper: upper ?? 1 };
}

/**
 * Bisection in log-odds (relative precision at tiny rates) for the edge of a monotone predicate
 * over p ∈ (0, 1): the smallest p where it holds (it holds above), or the largest (it holds below).
 * Null when it holds nowhere.
 */
function crossing(holds: (p: number) => boolean, edge: 'smallest' | 'largest'): number | null {
  const p = (x: number): number => 1 / (1 + Math.exp(-x));
  let lo = -60;
  let hi = 60;
  const inside = edge === 'smallest' ? hi : lo;
  if (!holds(p(inside))) return null;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    const midHolds = holds(p(mid));
    if (edge === 'smallest' ? midHolds : !midHolds) hi = mid;
    else lo = mid;
  }
  return p(edge === 'smallest' ? hi : lo);
}

/**
 * A batch from raw values: each value is a trial, and one above `threshold` is an event — requests
 * slower than the latency limit, monitoring windows hotter than the CPU limit.
 */
export function countAbove(values: readonly number[], threshold: number): LimitBatch {
  let events = 0;
  for (const v of values) if (v > threshold) events++;
  return { trials: values.length, events };
}
