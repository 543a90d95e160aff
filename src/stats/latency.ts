import { checkProbability } from './checks.js';
import type { ProportionBatch } from './proportions.js';
import { normalCdf } from './special.js';

/**
 * Latency as counts, so both latency tests are tests on proportions:
 * - a limit "the q-quantile of latency ≤ L" is "P(latency > L) ≤ 1 − q": each request slower than L
 *   is an event for the limit test (bernoulli.ts) with limit 1 − q;
 * - the comparison with the stable counts, per revision, the requests slower than a threshold both
 *   revisions share (proportions.ts).
 */

/** The event-probability limit equivalent to "the `quantile` of latency ≤ L". */
export function exceedanceLimit(quantile: number): number {
  if (!(quantile > 0 && quantile < 1)) throw new RangeError(`quantile must be in (0, 1) (got ${quantile})`);
  return 1 - quantile;
}

/**
 * The nearest-rank `quantile` of both revisions' latencies pooled. Pooling keeps the threshold
 * symmetric in the revision labels, which the comparison's validity rests on.
 */
export function pooledThreshold(
  canary: readonly number[],
  stable: readonly number[],
  quantile: number,
): number {
  checkProbability(quantile, 'quantile');
  const all = Float64Array.from([...canary, ...stable]).sort();
  if (all.length === 0) return Number.NaN;
  const rank = Math.min(all.length, Math.max(1, Math.ceil(quantile * all.length)));
  return all[rank - 1] ?? Number.NaN;
}

/** One batch of the comparison: requests per revision and those slower than `threshold`. */
export function exceedanceBatch(
  canary: readonly number[],
  stable: readonly number[],
  threshold: number,
): ProportionBatch {
  const above = (values: readonly number[]): number => values.filter((v) => v > threshold).length;
  return {
    canaryRequests: canary.length,
    canaryEvents: above(canary),
    stableRequests: stable.length,
    stableEvents: above(stable),
  };
}

/**
 * The odds ratio of "slower than the pooled `quantile`" that a canary `ratio` × slower than the
 * stable produces when log-latency is normal with spread `sigmaLog`: the design that tunes the
 * comparison to a given slowdown (1.1 at σ 0.5 and the median gives ≈ 1.36).
 */
export function shiftOddsRatio(options: {
  readonly ratio: number;
  readonly sigmaLog: number;
  readonly quantile?: number;
  readonly canaryShare?: number;
}): number {
  const { ratio, sigmaLog } = options;
  const quantile = options.quantile ?? 0.5;
  const share = options.canaryShare ?? 0.5;
  if (!(ratio > 0 && sigmaLog > 0)) throw new RangeError('ratio and sigmaLog must be > 0');
  const delta = Math.log(ratio) / sigmaLog;
  const above = (t: number): { canary: number; stable: number } => ({
    canary: 1 - normalCdf(t - delta),
    stable: 1 - normalCdf(t),
  });
  // The pooled exceedance falls as the threshold t (in σ units) rises: bisect for 1 − quantile.
  let lo = Math.min(0, delta) - 40;
  let hi = Math.max(0, delta) + 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    const p = above(mid);
    if (share * p.canary + (1 - share) * p.stable > 1 - quantile) lo = mid;
    else hi = mid;
  }
  const { canary, stable } = above((lo + hi) / 2);
  return (canary / (1 - canary)) * ((1 - stable) / stable);
}
