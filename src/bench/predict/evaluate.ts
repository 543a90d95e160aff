/**
 * Walk-forward scoring of ranges on rows in time order: for each row, every variant's range is
 * taken first, then scored against the observed value, then the row is fed back (observe) to the
 * variants that learn online. Tallies per service × metric.
 */
import { MODEL_METRICS } from '../../calibration/features.js';
import type { ModelMetric, ModelRow } from '../../calibration/features.js';
import type { CalibratedRanges } from '../../calibration/model-set.js';
import { sortedQuantile } from './sample.js';

/**
 * learned + ACI (observe each row; one ACI state per service × metric, as in the product), learned
 * static (never observes), simulation-only and the naive band.
 */
export const VARIANTS = ['aci', 'static', 'simOnly', 'naive'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface Tally {
  n: number;
  covered: number;
  widthSum: number;
}

export interface SliceTally {
  readonly service: string;
  readonly metric: ModelMetric;
  readonly by: Record<Variant, Tally>;
}

/** The naive band: 5%–95% of the same service × metric's observed values over the past `spanMs`. */
export class PastSpread {
  readonly spanMs: number;
  /** Fewest past values a band needs (fewer: no band for that row). */
  readonly minValues: number;
  private readonly values = new Map<string, { at: number[]; value: number[]; from: number }>();

  constructor(spanMs: number, minValues = 20) {
    this.spanMs = spanMs;
    this.minValues = minValues;
  }

  band(service: string, metric: ModelMetric, at: number): { low: number; high: number } | null {
    const past = this.values.get(`${service}|${metric}`);
    if (past === undefined) return null;
    // Rows arrive in time order: drop what fell out of the span for good.
    while (past.from < past.at.length && (past.at[past.from] as number) < at - this.spanMs) past.from++;
    const window = Float64Array.from(past.value.slice(past.from)).sort();
    if (window.length < this.minValues) return null;
    return { low: sortedQuantile(window, 0.05), high: sortedQuantile(window, 0.95) };
  }

  add(row: ModelRow): void {
    for (const metric of MODEL_METRICS) {
      const value = row.observed[metric];
      if (value === null || !Number.isFinite(value)) continue;
      const key = `${row.service}|${metric}`;
      const past = this.values.get(key) ?? { at: [], value: [], from: 0 };
      past.at.push(row.at);
      past.value.push(value);
      this.values.set(key, past);
    }
  }
}

export interface Variants {
  /** Learned ranges that observe every row (ACI per service × metric). */
  readonly aci: CalibratedRanges;
  /** Learned ranges that never observe (the model as trained). */
  readonly static: CalibratedRanges;
  /** No learned model: the simulated value widened by past simulation errors; observes every row. */
  readonly simOnly: CalibratedRanges;
  readonly naive: PastSpread;
}

/** A learned latency or CPU range whose high is more than this many times its low is implausibly wide. */
export const WIDE_FACTOR = 100;
/** A learned error-rate range wider than this (absolute) is implausibly wide. */
export const WIDE_ERROR_RATE = 0.5;

export class Scoreboard {
  private readonly slices = new Map<string, SliceTally>();
  /** Learned ranges that are implausibly wide (isImplausiblyWide), by learned variant. */
  readonly wide = { aci: 0, static: 0 };

  tally(service: string, metric: ModelMetric): SliceTally {
    const key = `${service}|${metric}`;
    let slice = this.slices.get(key);
    if (slice === undefined) {
      const empty = (): Tally => ({ n: 0, covered: 0, widthSum: 0 });
      slice = {
        service,
        metric,
        by: { aci: empty(), static: empty(), simOnly: empty(), naive: empty() },
      };
      this.slices.set(key, slice);
    }
    return slice;
  }

  all(): SliceTally[] {
    return [...this.slices.values()];
  }

  /** One board summing several (e.g. the parts of one walk). */
  static merged(boards: readonly Scoreboard[]): Scoreboard {
    const out = new Scoreboard();
    for (const board of boards) {
      out.wide.aci += board.wide.aci;
      out.wide.static += board.wide.static;
      for (const slice of board.all()) {
        const into = out.tally(slice.service, slice.metric);
        for (const v of VARIANTS) {
          into.by[v].n += slice.by[v].n;
          into.by[v].covered += slice.by[v].covered;
          into.by[v].widthSum += slice.by[v].widthSum;
        }
      }
    }
    return out;
  }
}

/** One scored (row, metric) pair of a walk: the observed value and the ranges given for it. */
export interface ScoredPair {
  /** The row's index in the walked rows. */
  readonly index: number;
  readonly metric: ModelMetric;
  readonly observed: number;
  readonly ranges: Readonly<Record<Variant, { readonly low: number; readonly high: number }>>;
}

function score(t: Tally, range: { low: number; high: number }, y: number): void {
  t.n += 1;
  if (y >= range.low && y <= range.high) t.covered += 1;
  t.widthSum += range.high - range.low;
}

/**
 * Scores rows[from, to) in order. Every variant is scored on the same (row, metric) pairs: those
 * with a simulated and an observed value and a naive band (24 h of past values). `onPair` sees each
 * scored pair (before the row is observed).
 */
export function walkForward(
  rows: readonly ModelRow[],
  from: number,
  to: number,
  variants: Variants,
  board: Scoreboard,
  onProgress?: (done: number) => void,
  onPair?: (pair: ScoredPair) => void,
): void {
  for (let i = from; i < to; i++) {
    const row = rows[i];
    if (row === undefined) break;
    for (const metric of MODEL_METRICS) {
      const simulated = row.simulated[metric];
      const observed = row.observed[metric];
      if (
        simulated === null ||
        observed === null ||
        !Number.isFinite(simulated) ||
        !Number.isFinite(observed)
      )
        continue;
      const naive = variants.naive.band(row.service, metric, row.at);
      if (naive === null) continue;
      const slice = board.tally(row.service, metric);
      const aci = variants.aci.range(metric, simulated, row.features, row.service);
      if (isImplausiblyWide(metric, aci)) board.wide.aci += 1;
      score(slice.by.aci, aci, observed);
      const fixed = variants.static.range(metric, simulated, row.features, row.service);
      if (isImplausiblyWide(metric, fixed)) board.wide.static += 1;
      score(slice.by.static, fixed, observed);
      const simOnly = variants.simOnly.range(metric, simulated, row.features, row.service);
      score(slice.by.simOnly, simOnly, observed);
      score(slice.by.naive, naive, observed);
      onPair?.({ index: i, metric, observed, ranges: { aci, static: fixed, simOnly, naive } });
    }
    variants.aci.observe(row);
    variants.simOnly.observe(row);
    variants.naive.add(row);
    if (onProgress !== undefined && (i - from) % 500 === 499) onProgress((i - from + 1) / (to - from));
  }
}

/**
 * Whether a learned range is implausibly wide: not finite, an error-rate range wider than
 * WIDE_ERROR_RATE, or a latency / CPU range whose high exceeds WIDE_FACTOR × its low.
 */
export function isImplausiblyWide(metric: ModelMetric, range: { low: number; high: number }): boolean {
  if (!Number.isFinite(range.low) || !Number.isFinite(range.high)) return true;
  if (metric === 'errorRate') return range.high - range.low > WIDE_ERROR_RATE;
  return range.high > WIDE_FACTOR * range.low;
}

/** Covered share of a set of tallies (pooled). */
export function coverageOf(tallies: readonly Tally[]): number {
  const n = tallies.reduce((s, t) => s + t.n, 0);
  return n === 0 ? Number.NaN : tallies.reduce((s, t) => s + t.covered, 0) / n;
}

export const meanWidth = (t: Tally): number => (t.n === 0 ? Number.NaN : t.widthSum / t.n);

/**
 * Mean width of `a` over mean width of `b`, per slice (so each slice's own unit cancels), then the
 * plain mean over the slices; slices where `b`'s mean width is 0 are left out (counted).
 */
export function widthRatio(
  slices: readonly SliceTally[],
  a: Variant,
  b: Variant,
): { ratio: number; slices: number; skipped: number } {
  const ratios: number[] = [];
  let skipped = 0;
  for (const s of slices) {
    const wb = meanWidth(s.by[b]);
    if (!(wb > 0)) {
      skipped += 1;
      continue;
    }
    ratios.push(meanWidth(s.by[a]) / wb);
  }
  const ratio = ratios.length === 0 ? Number.NaN : ratios.reduce((x, y) => x + y, 0) / ratios.length;
  return { ratio, slices: ratios.length, skipped };
}
