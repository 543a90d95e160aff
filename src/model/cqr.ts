import { SeededRandom } from '../core/random.js';
import { type GbdtJson, type GbdtOptions, QuantileGbdt, fitMatrix, resolveGbdtOptions } from './gbdt.js';
import { LinearBase, type LinearJson, fitLinearBase } from './linear.js';
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
  /** Options of the three quantile models (their quantiles are α/2, ½ and 1 − α/2). */
  readonly gbdt?: Omit<GbdtOptions, 'quantile' | 'seed'>;
  /** Seed of the split and of the models' subsampling; default 1. */
  readonly seed?: number;
  /**
   * Fit a linear base (linear.ts: ridge least squares on the training rows) and let the three
   * quantile models fit what it leaves; default false.
   */
  readonly linearBase?: boolean;
}

export interface CqrCalibration {
  /** Calibration rows. */
  readonly n: number;
  /** The widening below the centre, in scales: the ⌈(n+1)(1−α/2)⌉-th smallest score below. */
  readonly below: number;
  /** The same above the centre. */
  readonly above: number;
  /** Share of calibration rows the final intervals hold (≥ 1 − α by construction). */
  readonly coverageOnCalibration: number;
}

/** Both sides' conformity scores of a set of rows, in row order. */
export interface SidedScoreLists {
  readonly below: readonly number[];
  readonly above: readonly number[];
}

export interface CqrJson {
  readonly kind: 'cqr';
  readonly alpha: number;
  readonly lower: GbdtJson;
  readonly upper: GbdtJson;
  /** The median model: the centre of every range. */
  readonly centre: GbdtJson;
  /** β, added to every row's spread to make its scale (chosen on the calibration rows: fitCqr). */
  readonly spreadFloor: number;
  readonly calibration: CqrCalibration;
  /** Conformity scores of the calibration rows (they seed adaptive conformal). */
  readonly scores: SidedScoreLists;
  /** The linear base the three quantile models are added to (absent: none, they stand alone). */
  readonly linear?: LinearJson;
}

/**
 * Where a row's range is drawn: the centre (the median model's prediction) and the scale its
 * scores are measured in (the quantile models' spread q_hi − q_lo plus the floor β).
 */
export interface Frame {
  readonly centre: number;
  readonly scale: number;
}

/** How far y lies below and above a frame's centre, in its scale (at most one is positive). */
export interface SidedScores {
  readonly below: number;
  readonly above: number;
}

/**
 * Conformalised quantile regression (Romano, Patterson & Candès 2019) with a centre and
 * normalised two-sided scores. Three quantile models — α/2, ½ and 1 − α/2 — give each row a
 * frame: the median model's prediction c(x) as the centre and s(x) = q_hi(x) − q_lo(x) + β as the
 * scale, β a multiple of the calibration rows' median spread (the normalised nonconformity of
 * Papadopoulos et al. 2008: the spread says how hard a row is, β keeps an over-confident spread
 * from shrinking its range to nothing). On rows they never saw, the scores
 * (c(x) − y)/s(x) below and (y − c(x))/s(x) above are each calibrated at α/2: the ⌈(n+1)(1−α/2)⌉-th
 * smallest of n is that side's widening, and the range c − Q_below·s … c + Q_above·s misses a new
 * row exchangeable with the calibration rows with probability ≤ α/2 on each side, so ≤ α in all,
 * whatever the models' quality. Sides apart, a skewed metric (a log error rate, a p99) gets a
 * skewed range; the median centre is steadier than the midpoint of two tail models. With a linear
 * base (linear.ts) every quantile model is the line plus its trees: the line moves the whole frame,
 * the spread stays the trees'.
 */
export class CqrModel {
  readonly alpha: number;
  readonly lower: QuantileGbdt;
  readonly upper: QuantileGbdt;
  readonly centre: QuantileGbdt;
  readonly spreadFloor: number;
  readonly calibration: CqrCalibration;
  readonly scores: SidedScoreLists;
  readonly linear: LinearBase | null;

  constructor(json: CqrJson) {
    if (json.kind !== 'cqr') throw new RangeError(`invalid cqr model: kind ${String(json.kind)}`);
    if (!(json.alpha > 0 && json.alpha < 1)) throw new RangeError(`invalid cqr model: alpha ${json.alpha}`);
    this.alpha = json.alpha;
    this.lower = new QuantileGbdt(json.lower);
    this.upper = new QuantileGbdt(json.upper);
    this.centre = new QuantileGbdt(json.centre);
    if (
      this.lower.featureCount !== this.upper.featureCount ||
      this.centre.featureCount !== this.lower.featureCount
    )
      throw new RangeError('invalid cqr model: the quantile models take different features');
    if (!(json.spreadFloor > 0 && Number.isFinite(json.spreadFloor)))
      throw new RangeError(`invalid cqr model: spreadFloor ${json.spreadFloor}`);
    this.spreadFloor = json.spreadFloor;
    if (!Number.isFinite(json.calibration.below) || !Number.isFinite(json.calibration.above))
      throw new RangeError('invalid cqr model: a calibration quantile is not finite');
    if (json.scores.below.length !== json.scores.above.length)
      throw new RangeError('invalid cqr model: the two sides have different numbers of scores');
    this.calibration = { ...json.calibration };
    this.scores = { below: [...json.scores.below], above: [...json.scores.above] };
    this.linear = json.linear === undefined ? null : new LinearBase(json.linear);
    if (this.linear !== null && this.linear.featureCount !== this.lower.featureCount)
      throw new RangeError('invalid cqr model: the linear base takes other features than the trees');
  }

  get featureCount(): number {
    return this.lower.featureCount;
  }

  /** The uncalibrated interval of the two tail models, ordered if they cross. */
  base(x: ArrayLike<number>): Interval {
    const line = this.linear?.predict(x) ?? 0;
    return ordered(line + this.lower.predict(x), line + this.upper.predict(x));
  }

  /** The row's centre and scale. */
  frame(x: ArrayLike<number>): Frame {
    const line = this.linear?.predict(x) ?? 0;
    return frameOf(
      line + this.centre.predict(x),
      line + this.lower.predict(x),
      line + this.upper.predict(x),
      this.spreadFloor,
    );
  }

  /** The calibrated interval: the frame widened by the calibration quantiles of each side. */
  interval(x: ArrayLike<number>): Interval {
    return frameRange(this.frame(x), this.calibration.below, this.calibration.above);
  }

  /** Calibrated intervals for every row of a matrix. */
  intervals(input: MatrixInput): Interval[] {
    const { lo, hi, mid } = predictFrames(this, input);
    return Array.from(mid, (c, i) =>
      frameRange(
        frameOf(c, lo[i] as number, hi[i] as number, this.spreadFloor),
        this.calibration.below,
        this.calibration.above,
      ),
    );
  }

  toJSON(): CqrJson {
    return {
      kind: 'cqr',
      alpha: this.alpha,
      lower: this.lower.toJSON(),
      upper: this.upper.toJSON(),
      centre: this.centre.toJSON(),
      spreadFloor: this.spreadFloor,
      calibration: { ...this.calibration },
      scores: { below: [...this.scores.below], above: [...this.scores.above] },
      ...(this.linear === null ? {} : { linear: this.linear.toJSON() }),
    };
  }
}

/** The three quantile models' predictions for every row of a matrix, the linear base included. */
function predictFrames(
  models: {
    readonly lower: QuantileGbdt;
    readonly upper: QuantileGbdt;
    readonly centre: QuantileGbdt;
    readonly linear: LinearBase | null;
  },
  input: MatrixInput,
): { lo: Float64Array; hi: Float64Array; mid: Float64Array } {
  const lo = models.lower.predictMany(input);
  const hi = models.upper.predictMany(input);
  const mid = models.centre.predictMany(input);
  if (models.linear !== null) {
    const line = models.linear.predictMany(input);
    for (let i = 0; i < line.length; i++) {
      lo[i] = (lo[i] as number) + (line[i] as number);
      hi[i] = (hi[i] as number) + (line[i] as number);
      mid[i] = (mid[i] as number) + (line[i] as number);
    }
  }
  return { lo, hi, mid };
}

function frameOf(centre: number, low: number, high: number, floor: number): Frame {
  return { centre, scale: Math.abs(high - low) + floor };
}

/** How far y lies below and above the frame's centre, in its scale. */
export function sidedScores(frame: Frame, y: number): SidedScores {
  return { below: (frame.centre - y) / frame.scale, above: (y - frame.centre) / frame.scale };
}

/**
 * The range from `below` scales under the centre to `above` scales over it (±∞ for an infinite
 * widening). A negative widening would cut the centre itself out of its range, so a side is never
 * drawn closer than the centre: that only adds points, and a metric whose median window sits at
 * its floor (no errors) keeps the floor in range.
 */
export function frameRange(frame: Frame, below: number, above: number): Interval {
  return {
    low: frame.centre - Math.max(0, below) * frame.scale,
    high: frame.centre + Math.max(0, above) * frame.scale,
  };
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

/** The least scale floor β: a spread of 0 everywhere (a constant target) still gives a scale. */
const MIN_SPREAD_FLOOR = 1e-9;
/** Floors tried, in medians of the calibration rows' spreads. */
const FLOOR_GRID = [0, 0.25, 0.5, 1, 2, 4] as const;

interface Calibrated {
  readonly spreadFloor: number;
  readonly below: number[];
  readonly above: number[];
  readonly qBelow: number;
  readonly qAbove: number;
  readonly covered: number;
  readonly meanWidth: number;
}

/** Scores and quantiles of the calibration rows with the floor β, and the mean range width. */
function calibrate(
  mid: Float64Array,
  lo: Float64Array,
  hi: Float64Array,
  ys: Float64Array,
  spreadFloor: number,
  alpha: number,
): Calibrated {
  const frames = Array.from(mid, (c, i) => frameOf(c, lo[i] as number, hi[i] as number, spreadFloor));
  const sided = frames.map((f, i) => sidedScores(f, ys[i] as number));
  const below = sided.map((s) => s.below);
  const above = sided.map((s) => s.above);
  const qBelow = conformalQuantile(Float64Array.from(below).sort(), alpha / 2);
  const qAbove = conformalQuantile(Float64Array.from(above).sort(), alpha / 2);
  const covered = sided.filter((s) => s.below <= qBelow && s.above <= qAbove).length;
  const meanWidth =
    frames.reduce((sum, f) => {
      const range = frameRange(f, qBelow, qAbove);
      return sum + range.high - range.low;
    }, 0) / frames.length;
  return { spreadFloor, below, above, qBelow, qAbove, covered, meanWidth };
}

/**
 * Splits the rows at random (seeded) into training and calibration, fits the α/2, ½ and 1 − α/2
 * quantile models on the training rows (with `linearBase`, a line first and the models on what it
 * leaves) and calibrates them on the rest.
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
  const needed = minimumCalibrationRows(alpha / 2);
  if (nCal < needed || m.rows - nCal < 1)
    throw new RangeError(
      `${m.rows} rows give ${nCal} calibration rows; α = ${alpha} needs at least ${needed} and some training rows`,
    );
  const { training, calibration } = splitRows(m.rows, nCal, seed);
  const trainX = selectRows(m, training);
  const trainY = selectEntries(y, training);
  // The quantile models fit what the linear base leaves (the base is fitted on the same rows).
  const linear = options.linearBase === true ? fitLinearBase(trainX, trainY) : null;
  const residualY =
    linear === null
      ? trainY
      : Float64Array.from(trainY, (v, r) => v - linear.predict(trainX.values, r * trainX.cols));
  const gbdt = options.gbdt ?? {};
  const fit = (quantile: number, offset: number) =>
    fitMatrix(trainX, residualY, resolveGbdtOptions({ ...gbdt, quantile, seed: seed + offset }));
  const lower = fit(alpha / 2, 1);
  const upper = fit(1 - alpha / 2, 2);
  const centre = fit(0.5, 3);
  const calX = selectRows(m, calibration);
  const { lo, hi, mid } = predictFrames({ lower, upper, centre, linear }, calX.values);
  const spreads = Float64Array.from(lo, (l, i) => Math.abs((hi[i] as number) - l)).sort();
  const median = spreads[Math.floor(spreads.length / 2)] ?? 0;
  const ys = Float64Array.from(calibration, (r) => y[r] as number);
  let best: Calibrated | null = null;
  for (const k of FLOOR_GRID) {
    const candidate = calibrate(mid, lo, hi, ys, Math.max(MIN_SPREAD_FLOOR, k * median), alpha);
    if (best === null || candidate.meanWidth < best.meanWidth) best = candidate;
  }
  const { spreadFloor, below, above, qBelow, qAbove, covered } = best as Calibrated;
  return new CqrModel({
    kind: 'cqr',
    alpha,
    lower: lower.toJSON(),
    upper: upper.toJSON(),
    centre: centre.toJSON(),
    spreadFloor,
    calibration: { n: nCal, below: qBelow, above: qAbove, coverageOnCalibration: covered / nCal },
    scores: { below, above },
    ...(linear === null ? {} : { linear: linear.toJSON() }),
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
