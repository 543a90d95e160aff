/**
 * Figures that track how well the model is calibrated: what `augur model status` will show.
 * Every function takes plain arrays and returns plain data; none reads anything else.
 */
import type { Interval } from './cqr.js';

/** Share of observations inside their interval (bounds included). */
export function coverage(intervals: readonly Interval[], ys: ArrayLike<number>): number {
  sameLength(intervals.length, ys.length);
  let inside = 0;
  intervals.forEach((iv, i) => {
    const y = ys[i] as number;
    if (y >= iv.low && y <= iv.high) inside++;
  });
  return inside / intervals.length;
}

/** Mean of high − low (∞ when any interval is unbounded). */
export function meanWidth(intervals: readonly Interval[]): number {
  nonEmpty(intervals.length);
  let sum = 0;
  for (const iv of intervals) sum += iv.high - iv.low;
  return sum / intervals.length;
}

/** Mean pinball loss of τ-quantile predictions q: ρ_τ(y − q), ρ_τ(u) = max(τu, (τ − 1)u). */
export function pinballLoss(predictions: ArrayLike<number>, ys: ArrayLike<number>, tau: number): number {
  if (!(tau > 0 && tau < 1)) throw new RangeError(`tau must be in (0, 1) (got ${tau})`);
  sameLength(predictions.length, ys.length);
  let sum = 0;
  for (let i = 0; i < ys.length; i++) {
    const u = (ys[i] as number) - (predictions[i] as number);
    sum += Math.max(tau * u, (tau - 1) * u);
  }
  return sum / ys.length;
}

export interface ReliabilityBin {
  /** The bin's predicted-probability range [from, to) (the last bin includes 1). */
  readonly from: number;
  readonly to: number;
  readonly count: number;
  /** Mean predicted probability in the bin (NaN when empty). */
  readonly meanPredicted: number;
  /** Share of the bin's cases that happened (NaN when empty). */
  readonly observedFrequency: number;
}

export interface ReliabilityTable {
  readonly bins: readonly ReliabilityBin[];
  /** Expected calibration error: Σ (count/n)·|observed − predicted| over non-empty bins. */
  readonly expectedCalibrationError: number;
  /** Brier score: mean (p − outcome)². */
  readonly brier: number;
}

/**
 * Predicted probabilities against what happened, in `binCount` equal-width bins of [0, 1]: a
 * calibrated forecaster's bins lie on the diagonal (events forecast at 30% happen 30% of the time).
 */
export function reliabilityTable(
  probabilities: ArrayLike<number>,
  outcomes: ArrayLike<boolean>,
  binCount = 10,
): ReliabilityTable {
  if (!(Number.isInteger(binCount) && binCount >= 1))
    throw new RangeError(`binCount must be a whole number ≥ 1 (got ${binCount})`);
  sameLength(probabilities.length, outcomes.length);
  const count = new Array<number>(binCount).fill(0);
  const predicted = new Array<number>(binCount).fill(0);
  const happened = new Array<number>(binCount).fill(0);
  let brier = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i] as number;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${i} must be in [0, 1] (got ${p})`);
    const o = outcomes[i] === true ? 1 : 0;
    const b = Math.min(binCount - 1, Math.floor(p * binCount));
    count[b] = (count[b] as number) + 1;
    predicted[b] = (predicted[b] as number) + p;
    happened[b] = (happened[b] as number) + o;
    brier += (p - o) ** 2;
  }
  const n = probabilities.length;
  let ece = 0;
  const bins = count.map((c, b): ReliabilityBin => {
    const meanPredicted = (predicted[b] as number) / c;
    const observedFrequency = (happened[b] as number) / c;
    if (c > 0) ece += (c / n) * Math.abs(observedFrequency - meanPredicted);
    return { from: b / binCount, to: (b + 1) / binCount, count: c, meanPredicted, observedFrequency };
  });
  return { bins, expectedCalibrationError: ece, brier: brier / n };
}

export interface CapturePoint {
  /** The share of cases gated, as asked. */
  readonly share: number;
  /** Cases gated: the round(share·n) highest scores. */
  readonly gated: number;
  /** Bad cases among them. */
  readonly caught: number;
  /** caught / all bad cases (NaN when there are none). */
  readonly captureRate: number;
}

/** Gating shares reported by default: 1%, 5%, 10%, 20%, 50%, 100%. */
export const DEFAULT_GATING_SHARES: readonly number[] = [0.01, 0.05, 0.1, 0.2, 0.5, 1];

/**
 * Capture against gating (as Meta's Diff Risk Score reports it): gate the top X% of cases by
 * risk score and count the share of all bad cases that were among them. Equal scores keep their
 * input order, so a tie at the cut is broken by position, not by outcome.
 */
export function captureCurve(
  scores: ArrayLike<number>,
  bad: ArrayLike<boolean>,
  shares: readonly number[] = DEFAULT_GATING_SHARES,
): CapturePoint[] {
  sameLength(scores.length, bad.length);
  const n = scores.length;
  for (let i = 0; i < n; i++)
    if (Number.isNaN(scores[i])) throw new RangeError(`score ${i} is NaN: every case needs a score to rank`);
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (scores[b] as number) - (scores[a] as number) || a - b,
  );
  const caughtWithin = new Array<number>(n + 1).fill(0);
  order.forEach((row, k) => {
    caughtWithin[k + 1] = (caughtWithin[k] as number) + (bad[row] === true ? 1 : 0);
  });
  const totalBad = caughtWithin[n] as number;
  return shares.map((share) => {
    if (!(share >= 0 && share <= 1)) throw new RangeError(`gating share must be in [0, 1] (got ${share})`);
    const gated = Math.round(share * n);
    const caught = caughtWithin[gated] as number;
    return { share, gated, caught, captureRate: caught / totalBad };
  });
}

function sameLength(a: number, b: number): void {
  nonEmpty(a);
  if (a !== b) throw new RangeError(`lengths differ: ${a} predictions, ${b} observations`);
}

function nonEmpty(n: number): void {
  if (n === 0) throw new RangeError('no observations');
}
