import { checkAlpha, checkCount, checkProbability } from './checks.js';
import {
  type MixtureSide,
  type OddsRatioMixture,
  advanceSide,
  batchLogLikelihoodRatio,
  checkMixture,
  designMixture,
  emptySide,
  sideLogE,
} from './mixture.js';

/**
 * Canary vs stable on event counts (errors), after Lindon, Sanden & Shirikian (KDD 2022): if both
 * revisions' events are Poisson with rates proportional to their traffic, then given the total each
 * event came from the canary with probability ρ (the canary's share of the traffic) when the canary
 * is no worse — and with probability ρR / (ρR + 1 − ρ) when its rate per request is R × the
 * stable's. The odds of "from the canary" are R × the null odds, so a mixture over odds ratios is a
 * mixture over relative rates R, and the same R means the same thing whatever the share.
 *
 * Two changes to their Dirichlet-mixture test (see multinomial.ts for it):
 * - one-sided: the mixture sits on R > tolerance only, so a canary that is better, or equal, builds
 *   no evidence (and a two-sided test would spend half its power on "better");
 * - the share may change every batch (tiers): each alternative's likelihood ratio is a product of
 *   per-batch binomial ratios taken at the share in force for that batch. A Beta mixture on the
 *   cell probability is only conjugate for one fixed share; a mixture on R works for any sequence.
 *
 * If the counts per revision are Binomial (fixed request counts) instead of Poisson, the split of
 * the total is hypergeometric, which is less spread than the binomial (Hoeffding 1963), and the
 * e-process stays valid, slightly conservative.
 */
export interface RateRatioConfig {
  /** Level of each side. */
  readonly alpha: number;
  /** The canary may have up to this × the stable's rate before it counts as worse; default 1. */
  readonly tolerance?: number;
  /** Relative rate detected fastest; default 2 × tolerance. */
  readonly design?: number;
  /** The "not worse" side rejects "R ≥ margin"; default the design. */
  readonly margin?: number;
  /**
   * The "worse" side's alternatives as relative rates over the tolerance (all > 1) and weights;
   * default the grid around the design (`designMixture`).
   */
  readonly mixture?: OddsRatioMixture;
}

/**
 * The controller's mixture for error regressions (relative rates over the tolerance, and weights):
 * spread over 1.5×–5×, the regressions a rollout can catch within its bake, the most on 2×, with a
 * light tail. The design grid (`designMixture(2)`) puts half its weight on 2× but 12% beyond 20×,
 * where no test needs help; measured on bench:detect, this one is 0.02–0.16 × the oracle faster at
 * 1.5× and 5× and 0.01–0.13 slower at 2× (docs/statistics.md). test/fixtures/stats/generate.py
 * repeats this table.
 */
export const ERROR_REGRESSION_MIXTURE: OddsRatioMixture = (() => {
  const points: [number, number][] = [
    [1.5, 0.2],
    [2, 0.4],
    [3, 0.12],
    [5, 0.18],
    [10, 0.06],
    [30, 0.04],
  ];
  return { ratios: points.map(([r]) => r), weights: points.map(([, w]) => w) };
})();

export interface RateRatioState {
  readonly kind: 'rate-ratio';
  readonly alpha: number;
  readonly tolerance: number;
  readonly margin: number;
  /** Against H₀ "R ≤ tolerance": rejecting means the canary is worse. */
  readonly worse: MixtureSide;
  /** Against H₀ "R ≥ margin": rejecting means the canary is not meaningfully worse. */
  readonly notWorse: MixtureSide;
  readonly canaryEvents: number;
  readonly stableEvents: number;
  /** Total events seen when the "worse" side first reached 1/α: the verdict stays. */
  readonly worseAfter: number | null;
}

/** One tick: events per revision and the canary's share of the traffic that produced them. */
export interface RateRatioBatch {
  readonly canary: number;
  readonly stable: number;
  /** The canary's share of requests (or of exposure) in this batch, in [0, 1]. */
  readonly canaryShare: number;
}

export type RegressionStatus = 'worse' | 'not-worse' | 'undecided';

export interface RegressionVerdict {
  readonly status: RegressionStatus;
  readonly logEWorse: number;
  readonly logENotWorse: number;
  readonly logThreshold: number;
  readonly canaryEvents: number;
  readonly stableEvents: number;
  readonly worseAfter: number | null;
}

export function initialRateRatio(config: RateRatioConfig): RateRatioState {
  checkAlpha(config.alpha);
  const tolerance = config.tolerance ?? 1;
  const design = config.design ?? 2 * tolerance;
  const margin = config.margin ?? design;
  if (!(tolerance > 0 && Number.isFinite(tolerance))) throw new RangeError(`tolerance must be > 0`);
  if (!(design > tolerance)) throw new RangeError(`design ${design} must exceed tolerance ${tolerance}`);
  if (!(margin > 0 && Number.isFinite(margin))) throw new RangeError(`margin must be > 0`);
  const worse = config.mixture ?? designMixture(design / tolerance);
  // Tuned to a canary equal to the stable when the margin allows it.
  const notWorse = designMixture(margin > 1 ? 1 / margin : 0.5);
  checkMixture(worse, 'above');
  checkMixture(notWorse, 'below');
  return {
    kind: 'rate-ratio',
    alpha: config.alpha,
    tolerance,
    margin,
    worse: emptySide(worse),
    notWorse: emptySide(notWorse),
    canaryEvents: 0,
    stableEvents: 0,
    worseAfter: null,
  };
}

/** Probability that an event came from the canary when its rate is `ratio` × the stable's. */
export function canaryEventProbability(share: number, ratio: number): number {
  if (share <= 0) return 0;
  if (share >= 1) return 1;
  return (share * ratio) / (share * ratio + 1 - share);
}

export function updateRateRatio(state: RateRatioState, batch: RateRatioBatch): RateRatioState {
  checkCount(batch.canary, 'canary events');
  checkCount(batch.stable, 'stable events');
  checkProbability(batch.canaryShare, 'canaryShare');
  if ((batch.canaryShare === 0 && batch.canary > 0) || (batch.canaryShare === 1 && batch.stable > 0)) {
    throw new RangeError('events from a revision that had no traffic');
  }
  const total = batch.canary + batch.stable;
  const sideFor = (side: MixtureSide, nullRatio: number): MixtureSide => {
    const p0 = canaryEventProbability(batch.canaryShare, nullRatio);
    return advanceSide(side, (r) => batchLogLikelihoodRatio(r, batch.canary, total, p0));
  };
  const next: RateRatioState = {
    ...state,
    worse: sideFor(state.worse, state.tolerance),
    notWorse: sideFor(state.notWorse, state.margin),
    canaryEvents: state.canaryEvents + batch.canary,
    stableEvents: state.stableEvents + batch.stable,
  };
  if (next.worseAfter === null && sideLogE(next.worse) >= Math.log(1 / next.alpha)) {
    return { ...next, worseAfter: next.canaryEvents + next.stableEvents };
  }
  return next;
}

export function decideRateRatio(state: RateRatioState): RegressionVerdict {
  return regressionVerdict(state, state.canaryEvents, state.stableEvents, state.worseAfter);
}

/** Shared by the count and latency comparisons, whose states have the same two sides. */
export function regressionVerdict(
  state: { readonly alpha: number; readonly worse: MixtureSide; readonly notWorse: MixtureSide },
  canaryEvents: number,
  stableEvents: number,
  worseAfter: number | null,
): RegressionVerdict {
  const logThreshold = Math.log(1 / state.alpha);
  const logEWorse = sideLogE(state.worse);
  const logENotWorse = sideLogE(state.notWorse);
  const status: RegressionStatus =
    worseAfter !== null ? 'worse' : logENotWorse >= logThreshold ? 'not-worse' : 'undecided';
  return { status, logEWorse, logENotWorse, logThreshold, canaryEvents, stableEvents, worseAfter };
}

/** A batch from per-revision request and error counts; the share is the canary's share of requests. */
export function rateRatioBatch(counts: {
  readonly canaryRequests: number;
  readonly canaryErrors: number;
  readonly stableRequests: number;
  readonly stableErrors: number;
}): RateRatioBatch {
  const requests = counts.canaryRequests + counts.stableRequests;
  return {
    canary: counts.canaryErrors,
    stable: counts.stableErrors,
    canaryShare: requests > 0 ? counts.canaryRequests / requests : 0,
  };
}
