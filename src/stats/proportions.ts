import { checkAlpha } from './checks.js';
import { conditionalLogLikelihoodRatio } from './hypergeometric.js';
import {
  type MixtureSide,
  advanceSide,
  checkMixture,
  designMixture,
  emptySide,
  sideLogE,
} from './mixture.js';
import { type RegressionVerdict, regressionVerdict } from './rate-ratio.js';

/**
 * Canary vs stable on the proportion of requests with an outcome (latency above a threshold), as a
 * sequence of 2×2 tables. Each batch is conditioned on its margins (requests per revision, outcomes
 * in total), which removes the unknown common proportion: under "the canary's odds of the outcome
 * are ψ₀ × the stable's" the canary's count is exactly Fisher-noncentral-hypergeometric. Per batch
 * the conditional likelihood ratio of ψ against ψ₀ has expectation ≤ 1 for any odds ratio ≤ ψ₀, so
 * the product over batches, mixed over ψ, is an e-process with no nuisance parameter.
 *
 * Why not the rate-ratio test (conditioning on the outcomes only)? For rare outcomes (errors) the
 * two agree; at a median threshold half the requests are outcomes and conditioning on them alone
 * throws away half the information. This test keeps it.
 *
 * The threshold may change every batch, but must not favour one revision: fix it before the batch
 * (from earlier data), or compute it from both revisions' requests pooled — the pooled quantile is
 * symmetric in the labels, so under "no difference" every assignment of the labels stays equally
 * likely. A threshold from the stable's requests of the same batch alone is not allowed.
 */
export interface ProportionTestConfig {
  readonly alpha: number;
  /** Odds ratio up to which the canary counts as no worse; default 1. */
  readonly tolerance?: number;
  /** Odds ratio detected fastest; default 1.4 (a 10% slowdown at σ_log 0.5, pooled median). */
  readonly design?: number;
  /** The "not worse" side rejects "odds ratio ≥ margin"; default the design. */
  readonly margin?: number;
}

export interface ProportionTestState {
  readonly kind: 'proportions';
  readonly alpha: number;
  readonly tolerance: number;
  readonly margin: number;
  readonly worse: MixtureSide;
  readonly notWorse: MixtureSide;
  readonly canaryRequests: number;
  readonly canaryEvents: number;
  readonly stableRequests: number;
  readonly stableEvents: number;
  /** Requests seen (both revisions) when the "worse" side first reached 1/α. */
  readonly worseAfter: number | null;
}

export interface ProportionBatch {
  readonly canaryRequests: number;
  /** Canary requests with the outcome (e.g. slower than the threshold). */
  readonly canaryEvents: number;
  readonly stableRequests: number;
  readonly stableEvents: number;
}

export const DEFAULT_PROPORTION_DESIGN = 1.4;

export function initialProportionTest(config: ProportionTestConfig): ProportionTestState {
  checkAlpha(config.alpha);
  const tolerance = config.tolerance ?? 1;
  const design = config.design ?? DEFAULT_PROPORTION_DESIGN * tolerance;
  const margin = config.margin ?? design;
  if (!(tolerance > 0 && Number.isFinite(tolerance))) throw new RangeError('tolerance must be > 0');
  if (!(design > tolerance)) throw new RangeError(`design ${design} must exceed tolerance ${tolerance}`);
  if (!(margin > 0 && Number.isFinite(margin))) throw new RangeError('margin must be > 0');
  const worse = designMixture(design / tolerance);
  // Tuned to a canary equal to the stable when the margin allows it.
  const notWorse = designMixture(margin > 1 ? 1 / margin : 0.5);
  checkMixture(worse, 'above');
  checkMixture(notWorse, 'below');
  return {
    kind: 'proportions',
    alpha: config.alpha,
    tolerance,
    margin,
    worse: emptySide(worse),
    notWorse: emptySide(notWorse),
    canaryRequests: 0,
    canaryEvents: 0,
    stableRequests: 0,
    stableEvents: 0,
    worseAfter: null,
  };
}

export function updateProportionTest(
  state: ProportionTestState,
  batch: ProportionBatch,
): ProportionTestState {
  const { canaryRequests: n1, canaryEvents: x, stableRequests: n2, stableEvents: y } = batch;
  for (const [name, value] of Object.entries(batch)) {
    if (!(Number.isInteger(value) && value >= 0)) throw new RangeError(`${name} must be a whole count ≥ 0`);
  }
  if (x > n1 || y > n2) throw new RangeError('more events than requests');
  const margins = { n1, n2, m: x + y };
  const sideFor = (side: MixtureSide, psi0: number): MixtureSide =>
    advanceSide(side, (r) => conditionalLogLikelihoodRatio(margins, x, psi0 * r, psi0));
  const next: ProportionTestState = {
    ...state,
    worse: sideFor(state.worse, state.tolerance),
    notWorse: sideFor(state.notWorse, state.margin),
    canaryRequests: state.canaryRequests + n1,
    canaryEvents: state.canaryEvents + x,
    stableRequests: state.stableRequests + n2,
    stableEvents: state.stableEvents + y,
  };
  if (next.worseAfter === null && sideLogE(next.worse) >= Math.log(1 / next.alpha)) {
    return { ...next, worseAfter: next.canaryRequests + next.stableRequests };
  }
  return next;
}

export function decideProportionTest(state: ProportionTestState): RegressionVerdict {
  return regressionVerdict(state, state.canaryEvents, state.stableEvents, state.worseAfter);
}
