import { logSumExp } from './special.js';

/**
 * A discrete mixture of one-sided alternatives for a Bernoulli null p₀. Each alternative is an odds
 * ratio θ against the null: odds(p₁) = θ·odds(p₀). Odds ratios, not rate ratios, so every
 * alternative stays a probability whatever p₀ is (2·p₀ is no probability when p₀ = 0.6), and because
 * for two samples the odds ratio of "this event came from the canary" is exactly the canary's rate
 * relative to the stable's, whatever the traffic share.
 *
 * For one alternative, one batch of k successes in n trials has likelihood ratio
 *   LR = (p₁/p₀)^k ((1−p₁)/(1−p₀))^(n−k) = θ^k / (1 + (θ−1)·p₀)^n,
 * and under any p on the null side (p ≤ p₀ when θ > 1, p ≥ p₀ when θ < 1) its expectation is
 * (1 + (θ−1)p) / (1 + (θ−1)p₀) ≤ 1 per trial. So the product over batches, and any fixed mixture of
 * such products, is a nonnegative supermartingale starting at 1 — an e-process — even if p₀ and the
 * true p change from batch to batch, as long as p₀ is fixed before the batch is seen.
 */
export interface OddsRatioMixture {
  /** Odds ratios, all > 1 (evidence of "more") or all < 1 (evidence of "less"). */
  readonly ratios: readonly number[];
  /** Prior weights, positive, summing to 1. */
  readonly weights: readonly number[];
}

/**
 * (exponent s, weight) of the grid θ = design^s. Half of the weight sits on the design alternative
 * itself, so there the test pays only ln 2 nats over Wald's threshold (measured ≈ 1.1× the oracle's
 * median samples, against ≈ 1.9× for a flat continuous mixture). Smaller exponents keep power for
 * effects below the design; larger ones make gross breaches conclusive within a few batches. The
 * weights were tuned by simulation at 1.5×–10× the null rate (docs/statistics.md has the figures);
 * test/fixtures/stats/generate.py repeats this table.
 */
const GRID: readonly (readonly [exponent: number, weight: number])[] = [
  [0.5, 0.08],
  [0.75, 0.08],
  [1, 0.5],
  [1.5, 0.09],
  [2, 0.07],
  [3, 0.06],
  [4.5, 0.05],
  [7, 0.04],
  [10, 0.03],
];

/**
 * The default mixture around a design odds ratio: the smallest effect worth detecting quickly
 * (e.g. 2 for "twice the limit"; 0.5 for "half the limit" when proving the rate is below it).
 */
export function designMixture(design: number): OddsRatioMixture {
  if (!(design > 0) || design === 1 || !Number.isFinite(design)) {
    throw new RangeError(`design odds ratio must be positive, finite and not 1 (got ${design})`);
  }
  const ratios: number[] = [];
  const weights: number[] = [];
  for (const [exponent, weight] of GRID) {
    const ratio = design ** exponent;
    // Beyond these the alternative is numerically a certainty; such points add nothing.
    if (ratio > 1e12 || ratio < 1e-12) continue;
    ratios.push(ratio);
    weights.push(weight);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  return { ratios, weights: weights.map((w) => w / total) };
}

/** ln LR of one batch (k successes of n) for odds ratio θ against null p₀. */
export function batchLogLikelihoodRatio(
  ratio: number,
  successes: number,
  trials: number,
  p0: number,
): number {
  if (trials === 0) return 0;
  return successes * Math.log(ratio) - trials * Math.log1p((ratio - 1) * p0);
}

/** ln of the mixture e-value, given each alternative's accumulated ln LR. */
export function mixtureLogE(mixture: OddsRatioMixture, logLR: readonly number[]): number {
  return logSumExp(mixture.weights.map((w, j) => Math.log(w) + (logLR[j] ?? 0)));
}

/**
 * One one-sided e-process in plain data: its mixture and each alternative's accumulated ln LR.
 * Keeping every alternative's sum (not only the totals) lets the null move between batches, as the
 * traffic share does between tiers.
 */
export interface MixtureSide {
  readonly mixture: OddsRatioMixture;
  readonly logLR: readonly number[];
}

export function emptySide(mixture: OddsRatioMixture): MixtureSide {
  return { mixture, logLR: mixture.ratios.map(() => 0) };
}

/** Adds one batch, given each alternative's ln LR for it. */
export function advanceSide(side: MixtureSide, batchLogLR: (ratio: number) => number): MixtureSide {
  return {
    mixture: side.mixture,
    logLR: side.mixture.ratios.map((r, j) => (side.logLR[j] ?? 0) + batchLogLR(r)),
  };
}

export function sideLogE(side: MixtureSide): number {
  return mixtureLogE(side.mixture, side.logLR);
}

/** Throws unless the mixture is one-sided, positive and normalised. */
export function checkMixture(mixture: OddsRatioMixture, side: 'above' | 'below'): void {
  const { ratios, weights } = mixture;
  if (ratios.length === 0 || ratios.length !== weights.length) {
    throw new RangeError('mixture needs as many weights as ratios, at least one');
  }
  for (const r of ratios) {
    const ok = Number.isFinite(r) && (side === 'above' ? r > 1 : r > 0 && r < 1);
    if (!ok) throw new RangeError(`mixture ratio ${r} is not on the ${side} side of 1`);
  }
  if (weights.some((w) => !(w > 0))) throw new RangeError('mixture weights must be positive');
  const total = weights.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-9) throw new RangeError(`mixture weights sum to ${total}, not 1`);
}
