import { SeededRandom } from '../core/random.js';
import { type GbdtJson, type GbdtOptions, QuantileGbdt, fitMatrix, resolveGbdtOptions } from './gbdt.js';
import {
  type FeatureMatrix,
  type MatrixInput,
  type VectorInput,
  ceilTolerant,
  selectEntries,
  selectRows,
  toMatrix,
  toVector,
} from './matrix.js';

/** A prediction range; `low` ≤ `high` (both infinite when nothing can be promised). */
export interface Interval {
  readonly low: number;
  readonly high: number;
}

export interface CqrData {
  readonly X: MatrixInput;
  readonly y: VectorInput;
}

export interface CqrOptions {
  /** Miscoverage α: intervals aim to hold y with probability 1 − α; default 0.1. */
  readonly alpha?: number;
  /** Share of rows held out to calibrate (never used to fit the trees); default 0.3. */
  readonly calibrationFraction?: number;
  /** Options of both quantile models (their quantiles are α/2 and 1 − α/2). */
  readonly gbdt?: Omit<GbdtOptions, 'quantile' | 'seed'>;
  /** Seed of the split and of both models' subsampling; default 1. */
  readonly seed?: number;
}

export interface CqrCalibration {
  /** Calibration rows. */
  readonly n: number;
  /** The widening Q: the ⌈(n+1)(1−α)⌉-th smallest conformity score (negative narrows). */
  readonly scoreQuantile: number;
  /** Share of calibration rows the final intervals hold (≥ 1 − α by construction). */
  readonly coverageOnCalibration: number;
}

export interface CqrJson {
  readonly kind: 'cqr';
  readonly alpha: number;
  readonly lower: GbdtJson;
  readonly upper: GbdtJson;
  readonly calibration: CqrCalibration;
  /** Conformity scores of the calibration rows, in row order (they seed adaptive conformal). */
  readonly scores: readonly number[];
}

/**
 * Conformalised quantile regression (Romano, Patterson & Candès 2019). Two quantile models give
 * a base interval [q_lo(x), q_hi(x)]; on rows they never saw, the conformity score
 * E = max(q_lo(x) − y, y − q_hi(x)) says how far outside the base interval y fell (negative when
 * inside). Widening every base interval by the ⌈(n+1)(1−α)⌉-th smallest of n scores makes
 * P(y ∈ interval) ≥ 1 − α for a new row exchangeable with the calibration rows, whatever the
 * models' quality; good models make the intervals narrow and adaptive.
 */
export class CqrModel {
  readonly alpha: number;
  readonly lower: QuantileGbdt;
  readonly upper: QuantileGbdt;
  readonly calibration: CqrCalibration;
  readonly scores: readonly number[];

  constructor(json: CqrJson) {
    if (json.kind !== 'cqr') throw new RangeError(`invalid cqr model: kind ${String(json.kind)}`);
    if (!(json.alpha > 0 && json.alpha < 1)) throw new RangeError(`invalid cqr model: alpha ${json.alpha}`);
    this.alpha = json.alpha;
    this.lower = new QuantileGbdt(json.lower);
    this.upper = new QuantileGbdt(json.upper);
    if (this.lower.featureCount !== this.upper.featureCount)
      throw new RangeError('invalid cqr model: the quantile models take different features');
    if (!Number.isFinite(json.calibration.scoreQuantile))
      throw new RangeError('invalid cqr model: scoreQuantile is not finite');
    this.calibration = { ...json.calibration };
    this.scores = [...json.scores];
  }

  get featureCount(): number {
    return this.lower.featureCount;
  }

  /** The uncalibrated interval of the two quantile models, ordered if they cross. */
  base(x: ArrayLike<number>): Interval {
    return ordered(this.lower.predict(x), this.upper.predict(x));
  }

  /** The calibrated interval: the base interval widened by the score quantile on both sides. */
  interval(x: ArrayLike<number>): Interval {
    return widen(this.base(x), this.calibration.scoreQuantile);
  }

  /** Calibrated intervals for every row of a matrix. */
  intervals(input: MatrixInput): Interval[] {
    const lo = this.lower.predictMany(input);
    const hi = this.upper.predictMany(input);
    return Array.from(lo, (l, i) => widen(ordered(l, hi[i] as number), this.calibration.scoreQuantile));
  }

  toJSON(): CqrJson {
    return {
      kind: 'cqr',
      alpha: this.alpha,
      lower: this.lower.toJSON(),
      upper: this.upper.toJSON(),
      calibration: { ...this.calibration },
      scores: [...this.scores],
    };
  }
}

/** How far y falls outside a base interval: positive outside, negative inside. */
export function conformityScore(base: Interval, y: number): number {
  return Math.max(base.low - y, y - base.high);
}

/**
 * Widens by q on each side. When a negative q would make low exceed high, the set
 * {y : score ≤ q} is empty; the bounds are swapped, which only adds points, so coverage holds.
 */
export function widen(base: Interval, q: number): Interval {
  return ordered(base.low - q, base.high + q);
}

function ordered(a: number, b: number): Interval {
  return a <= b ? { low: a, high: b } : { low: b, high: a };
}

/**
 * The split-conformal quantile of n scores at miscoverage α: the ⌈(n+1)(1−α)⌉-th smallest, or
 * +∞ when that rank exceeds n (too few scores to promise 1 − α). `sorted` ascending.
 */
export function conformalQuantile(sorted: ArrayLike<number>, alpha: number): number {
  const n = sorted.length;
  const rank = ceilTolerant((n + 1) * (1 - alpha));
  if (rank > n) return Infinity;
  return sorted[Math.max(1, rank) - 1] as number;
}

/** Smallest calibration set for which the conformal quantile at α is finite. */
export function minimumCalibrationRows(alpha: number): number {
  return Math.max(1, ceilTolerant(1 / alpha - 1));
}

/**
 * Splits the rows at random (seeded) into training and calibration, fits the α/2 and 1 − α/2
 * quantile models on the training rows and calibrates them on the rest.
 */
export function fitCqr(data: CqrData, options: CqrOptions = {}): CqrModel {
  const y = toVector(data.y);
  if (y.length === 0) throw new RangeError('cannot fit a model to no rows');
  return fitCqrMatrix(toMatrix(data.X, y.length), y, options);
}

/** fitCqr on an already checked matrix. */
export function fitCqrMatrix(m: FeatureMatrix, y: Float64Array, options: CqrOptions): CqrModel {
  const alpha = options.alpha ?? 0.1;
  const fraction = options.calibrationFraction ?? 0.3;
  const seed = options.seed ?? 1;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1) (got ${alpha})`);
  if (!(fraction > 0 && fraction < 1))
    throw new RangeError(`calibrationFraction must be in (0, 1) (got ${fraction})`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be a whole number (got ${seed})`);
  const nCal = Math.round(m.rows * fraction);
  const needed = minimumCalibrationRows(alpha);
  if (nCal < needed || m.rows - nCal < 1)
    throw new RangeError(
      `${m.rows} rows give ${nCal} calibration rows; α = ${alpha} needs at least ${needed} and some training rows`,
    );
  const { training, calibration } = splitRows(m.rows, nCal, seed);
  const trainX = selectRows(m, training);
  const trainY = selectEntries(y, training);
  const gbdt = options.gbdt ?? {};
  const lower = fitMatrix(
    trainX,
    trainY,
    resolveGbdtOptions({ ...gbdt, quantile: alpha / 2, seed: seed + 1 }),
  );
  const upper = fitMatrix(
    trainX,
    trainY,
    resolveGbdtOptions({ ...gbdt, quantile: 1 - alpha / 2, seed: seed + 2 }),
  );
  const calX = selectRows(m, calibration);
  const lo = lower.predictMany(calX.values);
  const hi = upper.predictMany(calX.values);
  const scores = Array.from(lo, (l, i) =>
    conformityScore(ordered(l, hi[i] as number), y[calibration[i] as number] as number),
  );
  const q = conformalQuantile(Float64Array.from(scores).sort(), alpha);
  const covered = scores.filter((s) => s <= q).length;
  return new CqrModel({
    kind: 'cqr',
    alpha,
    lower: lower.toJSON(),
    upper: upper.toJSON(),
    calibration: { n: nCal, scoreQuantile: q, coverageOnCalibration: covered / nCal },
    scores,
  });
}

/** A seeded random choice of `nCal` calibration rows; both parts keep the rows' order. */
export function splitRows(
  rows: number,
  nCal: number,
  seed: number,
): { training: Uint32Array; calibration: Uint32Array } {
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  const random = new SeededRandom(seed);
  for (let i = 0; i < nCal; i++) {
    const j = i + Math.floor(random.next() * (rows - i));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return { calibration: order.slice(0, nCal).sort(), training: order.slice(nCal).sort() };
}
