/**
 * The oracle of bench:predict: the narrowest honest range any predictor could give for a held-out
 * window if it knew everything the generator fixed before the window's own noise (load, replicas,
 * utilisation, drift, the revision's exact statistics and warm-up age, neighbour and error-burst
 * episodes; generate.ts's WindowState) but not that noise (the service-time samples, the queueing
 * simulation's arrivals, resampling and error draws, GC/tail noise, jitter, CPU noise). Monte
 * Carlo: each window is drawn again `draws` times from fresh streams (redrawWindow); the 5% and 95%
 * quantiles of each metric's values are the oracle's 90% range. Widths are set against the naive
 * band on the same (row, metric) pairs, like widthVsNaive.
 */
import { MODEL_METRICS } from '../../calibration/features.js';
import type { ModelMetric } from '../../calibration/features.js';
import type { ScoredPair } from './evaluate.js';
import { redrawWindow } from './generate.js';
import type { History } from './generate.js';
import { sortedQuantile } from './sample.js';

/** The window's redrawn values per metric, ascending (non-finite values left out). */
export function redrawnValues(
  history: History,
  index: number,
  draws: number,
): Record<ModelMetric, Float64Array> {
  const window = history.windows[index];
  if (window === undefined) throw new RangeError(`no window ${index}`);
  const values = Object.fromEntries(MODEL_METRICS.map((m) => [m, [] as number[]])) as Record<
    ModelMetric,
    number[]
  >;
  for (let r = 0; r < draws; r++) {
    const observed = redrawWindow(window, history.options, r);
    for (const metric of MODEL_METRICS) {
      const value = observed[metric];
      if (value !== null && Number.isFinite(value)) values[metric].push(value);
    }
  }
  return Object.fromEntries(MODEL_METRICS.map((m) => [m, Float64Array.from(values[m]).sort()])) as Record<
    ModelMetric,
    Float64Array
  >;
}

/** The central range holding `level` of the sorted values. */
export function centralRange(sorted: Float64Array, level: number): { low: number; high: number } {
  return { low: sortedQuantile(sorted, (1 - level) / 2), high: sortedQuantile(sorted, (1 + level) / 2) };
}

/**
 * The shortest range holding as many of the sorted values as centralRange(sorted, level) does (for
 * skewed values, narrower than the central one).
 */
export function shortestRange(sorted: Float64Array, level: number): { low: number; high: number } {
  const n = sorted.length;
  if (n === 0) return { low: Number.NaN, high: Number.NaN };
  const rank = (tau: number): number => Math.min(n, Math.max(1, Math.ceil(tau * n - 1e-9)));
  const count = rank((1 + level) / 2) - rank((1 - level) / 2) + 1;
  let best = 0;
  for (let k = 1; k + count - 1 < n; k++)
    if (
      (sorted[k + count - 1] as number) - (sorted[k] as number) <
      (sorted[best + count - 1] as number) - (sorted[best] as number)
    )
      best = k;
  return { low: sorted[best] as number, high: sorted[best + count - 1] as number };
}

interface Sums {
  n: number;
  covered: number;
  widthSum: number;
}

/** Per service × metric: the oracle at 90%, at the naive band's coverage, and the naive / ACI ranges. */
export interface OracleSlice {
  readonly service: string;
  readonly metric: ModelMetric;
  readonly oracle: Sums;
  /** The oracle's shortest range with as many redraws as its 90% central range. */
  readonly shortest: Sums;
  /** The oracle at the naive band's coverage of this slice (over the whole held-out walk). */
  readonly matched: Sums;
  /** The oracle at the naive band's pooled coverage (all slices). */
  readonly pooled: Sums;
  readonly naive: Sums;
  readonly aci: Sums;
}

export interface OracleInput {
  readonly history: History;
  /** Scored pairs of the sampled held-out rows (walkForward's onPair). */
  readonly pairs: readonly ScoredPair[];
  readonly draws: number;
  /** The naive band's coverage per `${service}|${metric}` over the whole held-out walk. */
  readonly naiveCoverageBySlice: ReadonlyMap<string, number>;
  /** The naive band's coverage over all held-out pairs. */
  readonly naiveCoverage: number;
  readonly onProgress?: (done: number) => void;
}

/** The oracle's tallies per service × metric over the given pairs; `skipped` pairs had no redrawn value. */
export function oracleSlices(input: OracleInput): {
  slices: OracleSlice[];
  windows: number;
  skipped: number;
} {
  const byIndex = new Map<number, ScoredPair[]>();
  for (const pair of input.pairs) byIndex.set(pair.index, [...(byIndex.get(pair.index) ?? []), pair]);
  const slices = new Map<string, OracleSlice>();
  const empty = (): Sums => ({ n: 0, covered: 0, widthSum: 0 });
  const add = (t: Sums, range: { low: number; high: number }, y: number): void => {
    t.n += 1;
    if (y >= range.low && y <= range.high) t.covered += 1;
    t.widthSum += range.high - range.low;
  };
  let skipped = 0;
  let done = 0;
  for (const [index, pairs] of byIndex) {
    const values = redrawnValues(input.history, index, input.draws);
    const service = input.history.rows[index]?.service ?? '';
    for (const pair of pairs) {
      const sorted = values[pair.metric];
      if (sorted.length === 0) {
        skipped += 1;
        continue;
      }
      const key = `${service}|${pair.metric}`;
      let slice = slices.get(key);
      if (slice === undefined) {
        slice = {
          service,
          metric: pair.metric,
          oracle: empty(),
          shortest: empty(),
          matched: empty(),
          pooled: empty(),
          naive: empty(),
          aci: empty(),
        };
        slices.set(key, slice);
      }
      const y = pair.observed;
      add(slice.oracle, centralRange(sorted, 0.9), y);
      add(slice.shortest, shortestRange(sorted, 0.9), y);
      add(slice.matched, centralRange(sorted, input.naiveCoverageBySlice.get(key) ?? Number.NaN), y);
      add(slice.pooled, centralRange(sorted, input.naiveCoverage), y);
      add(slice.naive, pair.ranges.naive, y);
      add(slice.aci, pair.ranges.aci, y);
    }
    done += 1;
    if (input.onProgress !== undefined && done % 30 === 0) input.onProgress(done / byIndex.size);
  }
  return { slices: [...slices.values()], windows: byIndex.size, skipped };
}

export type OracleColumn = 'oracle' | 'shortest' | 'matched' | 'pooled' | 'naive' | 'aci';

/** Pooled coverage of one column over slices. */
export function oracleCoverage(slices: readonly OracleSlice[], column: OracleColumn): number {
  const n = slices.reduce((a, s) => a + s[column].n, 0);
  return n === 0 ? Number.NaN : slices.reduce((a, s) => a + s[column].covered, 0) / n;
}

/**
 * Per slice, mean width of `column` / mean naive width (same pairs); plain mean over the slices
 * (slices whose naive width is 0 left out), as widthVsNaive.
 */
export function oracleWidthRatio(slices: readonly OracleSlice[], column: OracleColumn): number {
  const ratios = slices
    .filter((s) => s.naive.n > 0 && s.naive.widthSum > 0)
    .map((s) => s[column].widthSum / s.naive.widthSum);
  return ratios.length === 0 ? Number.NaN : ratios.reduce((a, b) => a + b, 0) / ratios.length;
}
