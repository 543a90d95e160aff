import { type Interval, conformalQuantile, minimumCalibrationRows } from './cqr.js';

/**
 * The cold-start rule (docs/model.md): which range to show while production data is scarce. The simulator's own range is the base; the learned model takes over once it has
 * enough rows to be fitted and calibrated.
 */
export interface ColdStartOptions {
  /** Miscoverage α; default 0.1. */
  readonly alpha?: number;
  /** Observations from which the learned CQR model is used instead; default LEARNED_FROM (500). */
  readonly learnedFrom?: number;
  /** Each side of the simulation range is stretched by this factor with no data; default 2. */
  readonly widenFactor?: number;
  /**
   * With no data, each side is at least this far from the middle (a point prediction stretched by
   * a factor stays a point); default 0.
   */
  readonly minHalfWidth?: number;
}

/** Rows from which the learned model is trained and used (docs/model.md: why 500). */
export const LEARNED_FROM = 500;

export type RangeSource = 'simulation-widened' | 'simulation-conformal' | 'learned';

/** Which source applies with `observations` past (simulated range, observed value) pairs. */
export function rangeSource(observations: number, options: ColdStartOptions = {}): RangeSource {
  const alpha = options.alpha ?? 0.1;
  if (observations >= (options.learnedFrom ?? LEARNED_FROM)) return 'learned';
  return observations >= minimumCalibrationRows(alpha) ? 'simulation-conformal' : 'simulation-widened';
}

/**
 * The range before the learned model takes over. With fewer observations than split conformal
 * needs for α (9 at α = 0.1), the simulation range is stretched about its middle by
 * `widenFactor` (a heuristic: no coverage promise). From then on the simulation range itself is
 * conformalised: widened by the ⌈(n+1)(1−α)⌉-th smallest of its past conformity scores
 * (observed value against the range simulated for it) — coverage ≥ 1 − α under exchangeability
 * — but never narrowed, since a few lucky observations should not shrink an untested range.
 * `pastScores` are conformityScore(simulated range, observed value) of earlier observations.
 */
export function coldStartInterval(
  simulated: Interval,
  pastScores: readonly number[],
  options: ColdStartOptions = {},
): { readonly interval: Interval; readonly source: Exclude<RangeSource, 'learned'> } {
  const alpha = options.alpha ?? 0.1;
  const factor = options.widenFactor ?? 2;
  if (!(factor >= 1)) throw new RangeError(`widenFactor must be ≥ 1 (got ${factor})`);
  if (pastScores.length < minimumCalibrationRows(alpha)) {
    const middle = (simulated.low + simulated.high) / 2;
    const half = Math.max(((simulated.high - simulated.low) / 2) * factor, options.minHalfWidth ?? 0);
    return { interval: { low: middle - half, high: middle + half }, source: 'simulation-widened' };
  }
  const q = Math.max(0, conformalQuantile(Float64Array.from(pastScores).sort(), alpha));
  return { interval: { low: simulated.low - q, high: simulated.high + q }, source: 'simulation-conformal' };
}
