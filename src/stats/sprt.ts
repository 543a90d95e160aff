import { checkAlpha } from './checks.js';
import { canaryEventProbability } from './rate-ratio.js';

/**
 * Wald's SPRT as the yardstick. By Wald–Wolfowitz no test with the same error rates needs fewer
 * samples on average than the SPRT that knows both hypotheses, so a test's samples-to-detect divided
 * by this oracle's is its price for not knowing the alternative (and for being anytime-valid).
 */

/** Wald's log thresholds: reject H₀ at ln LR ≥ upper, accept it at ln LR ≤ lower. */
export function sprtThresholds(alpha: number, beta: number): { upper: number; lower: number } {
  checkAlpha(alpha);
  checkAlpha(beta);
  return { upper: Math.log((1 - beta) / alpha), lower: Math.log(beta / (1 - alpha)) };
}

/**
 * Expected samples under H₁, E₁[N] ≈ ((1 − β)·a + β·b) / KL(f₁‖f₀), ignoring overshoot.
 * `kl` is per sample; what a sample is (a request, an event, a pair) is the caller's unit.
 */
export function sprtExpectedSamples(options: {
  readonly alpha: number;
  readonly beta: number;
  readonly kl: number;
}): number {
  const { alpha, beta, kl } = options;
  if (!(kl > 0)) throw new RangeError(`kl must be > 0 (got ${kl})`);
  const { upper, lower } = sprtThresholds(alpha, beta);
  return ((1 - beta) * upper + beta * lower) / kl;
}

/** KL(Bernoulli(p₁) ‖ Bernoulli(p₀)) per trial. */
export function klBernoulli(p0: number, p1: number): number {
  const term = (p: number, q: number): number => (p === 0 ? 0 : p * Math.log(p / q));
  return term(p1, p0) + term(1 - p1, 1 - p0);
}

/**
 * KL per observation of a normal mean shift δ with known σ; per canary/baseline pair the
 * difference has variance 2σ², which halves it.
 */
export function klNormalShift(
  delta: number,
  sigma: number,
  per: 'observation' | 'pair' = 'observation',
): number {
  const kl = (delta * delta) / (2 * sigma * sigma);
  return per === 'pair' ? kl / 2 : kl;
}

/** Log-normal latency made `ratio` × slower: a normal shift of ln(ratio) in log-latency. */
export function klLogNormalRatio(
  ratio: number,
  sigmaLog: number,
  per: 'observation' | 'pair' = 'pair',
): number {
  return klNormalShift(Math.log(ratio), sigmaLog, per);
}

/**
 * KL per event of the event's origin when the canary's rate is `ratio` × the stable's at traffic
 * share `share`: the unit the count comparisons work in (2× at equal shares ≈ 74 events).
 */
export function klRelativeRate(share: number, ratio: number): number {
  return klBernoulli(canaryEventProbability(share, 1), canaryEventProbability(share, ratio));
}
