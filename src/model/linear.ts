import type { FeatureMatrix, MatrixInput } from './matrix.js';

/**
 * A linear base the quantile forests of a CQR model start from: w·clip(x) + b, fitted by
 * ridge-regularised least squares, each feature clipped to the range it had in training.
 *
 * Why: the trees split on one feature at a time, so a target that moves with a *difference* of two
 * strongly correlated features is learnt as a staircase of many small steps. The ratio targets of
 * Augur's model are like that: ln(observed / simulated) carries the window simulation's own
 * sampling noise, which only logSimP50 − logProfileP50 (and the like for p95 and p99) reveals, and
 * the recent record's level and newest window enter almost one for one. A line takes those out at
 * once; the trees then fit the quantiles of what is left. (Boosting from a linear fit, as
 * LightGBM's init scores or linear trees allow.) Clipping keeps the line from extrapolating past
 * what it was fitted on — there the forests are flat too.
 */
export interface LinearJson {
  readonly kind: 'linear';
  readonly intercept: number;
  /** Per feature, in the raw feature's unit (0 for a feature left out: constant in training). */
  readonly weights: readonly number[];
  /** Per feature, the training range a value is clipped to before it is weighted. */
  readonly min: readonly number[];
  readonly max: readonly number[];
}

/**
 * The ridge penalty on the standardised features, as a share of the rows: small, for numerical
 * stability only. Features that are exact linear combinations of others (the simulated quantiles and
 * the profile's, sin/cos of the hour) would make plain least squares singular, while a larger penalty
 * would shrink the very differences the line is for (on bench:predict's training days 10⁻³ already
 * gave wider ranges than 10⁻⁴ or none).
 */
export const LINEAR_RIDGE = 1e-4;

export class LinearBase {
  readonly intercept: number;
  private readonly weights: Float64Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;

  /** Takes the JSON form; checks it. */
  constructor(json: LinearJson) {
    const fail = (what: string): never => {
      throw new RangeError(`invalid linear base: ${what}`);
    };
    if (json.kind !== 'linear') fail(`kind ${String(json.kind)}`);
    if (!Number.isFinite(json.intercept)) fail('intercept is not finite');
    const n = json.weights.length;
    if (n === 0) fail('no weights');
    if (json.min.length !== n || json.max.length !== n) fail('weights, min and max differ in length');
    for (let j = 0; j < n; j++) {
      const [w, lo, hi] = [json.weights[j], json.min[j], json.max[j]] as [number, number, number];
      if (!Number.isFinite(w) || !Number.isFinite(lo) || !Number.isFinite(hi))
        fail(`feature ${j} not finite`);
      if (lo > hi) fail(`feature ${j} min > max`);
    }
    // `+ 0`: −0 becomes 0, as JSON would make it (a model and its reloaded copy agree exactly).
    this.intercept = json.intercept + 0;
    this.weights = Float64Array.from(json.weights, (v) => v + 0);
    this.min = Float64Array.from(json.min, (v) => v + 0);
    this.max = Float64Array.from(json.max, (v) => v + 0);
  }

  get featureCount(): number {
    return this.weights.length;
  }

  /** The line at x (x[offset …] when x holds several rows). */
  predict(x: ArrayLike<number>, offset = 0): number {
    let sum = this.intercept;
    for (let j = 0; j < this.weights.length; j++) {
      const w = this.weights[j] as number;
      if (w === 0) continue;
      const v = x[offset + j] as number;
      sum += w * Math.min(this.max[j] as number, Math.max(this.min[j] as number, v));
    }
    return sum;
  }

  /** The line at every row of a matrix (row-major Float64Array or one array per row). */
  predictMany(input: MatrixInput): Float64Array {
    const cols = this.weights.length;
    if (input instanceof Float64Array) {
      if (input.length % cols !== 0)
        throw new RangeError(`a flat matrix of ${input.length} values is not rows of ${cols} features`);
      return Float64Array.from({ length: input.length / cols }, (_, r) => this.predict(input, r * cols));
    }
    return Float64Array.from(input, (row) => {
      if (row.length !== cols) throw new RangeError(`expected ${cols} features, got ${row.length}`);
      return this.predict(row);
    });
  }

  toJSON(): LinearJson {
    return {
      kind: 'linear',
      intercept: this.intercept,
      weights: Array.from(this.weights),
      min: Array.from(this.min),
      max: Array.from(this.max),
    };
  }
}

/**
 * Least squares with a ridge penalty on the standardised features: minimises
 * Σ(y − b − Σ w_j z_j)²/n + ridge·Σ w_j² over the features z_j = (x_j − mean_j)/sd_j (a feature
 * constant in training gets weight 0), solved by Cholesky; the weights are then given in the raw
 * features' units. Deterministic.
 */
export function fitLinearBase(m: FeatureMatrix, y: Float64Array, ridge: number = LINEAR_RIDGE): LinearBase {
  if (!(ridge >= 0 && Number.isFinite(ridge))) throw new RangeError(`ridge must be ≥ 0 (got ${ridge})`);
  const { rows, cols, values } = m;
  if (rows === 0 || y.length !== rows) throw new RangeError('a linear base needs one target per row');
  const mean = new Float64Array(cols);
  const sd = new Float64Array(cols);
  const min = new Float64Array(cols).fill(Infinity);
  const max = new Float64Array(cols).fill(-Infinity);
  let yMean = 0;
  for (let r = 0; r < rows; r++) {
    yMean += (y[r] as number) / rows;
    for (let j = 0; j < cols; j++) {
      const v = values[r * cols + j] as number;
      mean[j] = (mean[j] as number) + v / rows;
      if (v < (min[j] as number)) min[j] = v;
      if (v > (max[j] as number)) max[j] = v;
    }
  }
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < cols; j++)
      sd[j] = (sd[j] as number) + ((values[r * cols + j] as number) - (mean[j] as number)) ** 2 / rows;
  const used: number[] = [];
  for (let j = 0; j < cols; j++) {
    sd[j] = Math.sqrt(sd[j] as number);
    if ((sd[j] as number) > 1e-12 * Math.max(1, Math.abs(mean[j] as number))) used.push(j);
  }
  const k = used.length;
  // Normal equations of the standardised problem: (Z'Z/n + ridge·I) w = Z'(y − ȳ)/n.
  const a = new Float64Array(k * k);
  const b = new Float64Array(k);
  const z = new Float64Array(k);
  for (let r = 0; r < rows; r++) {
    for (let p = 0; p < k; p++) {
      const j = used[p] as number;
      z[p] = ((values[r * cols + j] as number) - (mean[j] as number)) / (sd[j] as number);
    }
    const yr = ((y[r] as number) - yMean) / rows;
    for (let p = 0; p < k; p++) {
      const zp = z[p] as number;
      b[p] = (b[p] as number) + zp * yr;
      for (let q = 0; q <= p; q++) a[p * k + q] = (a[p * k + q] as number) + (zp * (z[q] as number)) / rows;
    }
  }
  for (let p = 0; p < k; p++) a[p * k + p] = (a[p * k + p] as number) + ridge;
  const w = solveSymmetric(a, b, k);
  const weights = new Array<number>(cols).fill(0);
  let intercept = yMean;
  used.forEach((j, p) => {
    const weight = (w[p] as number) / (sd[j] as number);
    weights[j] = weight;
    intercept -= weight * (mean[j] as number);
  });
  return new LinearBase({
    kind: 'linear',
    intercept,
    weights,
    min: Array.from(min, (v) => (Number.isFinite(v) ? v : 0)),
    max: Array.from(max, (v) => (Number.isFinite(v) ? v : 0)),
  });
}

/**
 * Solves A w = b for a symmetric positive (semi)definite A given by its lower triangle (row-major
 * k × k), by Cholesky. A pivot that rounding makes ≤ 0 (a direction the data do not determine,
 * with no ridge) contributes nothing: that weight stays 0 instead of blowing up.
 */
function solveSymmetric(a: Float64Array, b: Float64Array, k: number): Float64Array {
  const l = new Float64Array(k * k);
  const pivotFloor = 1e-12 * Math.max(1, ...Array.from({ length: k }, (_, i) => a[i * k + i] as number));
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * k + j] as number;
      for (let p = 0; p < j; p++) sum -= (l[i * k + p] as number) * (l[j * k + p] as number);
      if (i === j) l[i * k + i] = sum > pivotFloor ? Math.sqrt(sum) : 0;
      else l[i * k + j] = (l[j * k + j] as number) > 0 ? sum / (l[j * k + j] as number) : 0;
    }
  }
  const t = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let sum = b[i] as number;
    for (let p = 0; p < i; p++) sum -= (l[i * k + p] as number) * (t[p] as number);
    t[i] = (l[i * k + i] as number) > 0 ? sum / (l[i * k + i] as number) : 0;
  }
  const w = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let sum = t[i] as number;
    for (let p = i + 1; p < k; p++) sum -= (l[p * k + i] as number) * (w[p] as number);
    w[i] = (l[i * k + i] as number) > 0 ? sum / (l[i * k + i] as number) : 0;
  }
  return w;
}
