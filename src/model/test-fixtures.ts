import { SeededRandom } from '../core/random.js';

/** Standard normal quantiles used by the tests (z_0.05, z_0.95). */
export const Z95 = 1.6448536269514722;

export interface SyntheticData {
  /** Row-major features, `rows` × `cols`. */
  readonly X: Float64Array;
  readonly y: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

export interface SyntheticOptions {
  /** Features, of which only the first three matter; default 20. */
  readonly cols?: number;
  /** Multiplies the noise (a shift in production behaviour); default 1. */
  readonly noiseScale?: number;
  /** Added to every target; default 0. */
  readonly offset?: number;
}

/** Mean of the synthetic target: 3·sin(x₀) + x₁. */
export function syntheticMean(x: ArrayLike<number>): number {
  return 3 * Math.sin(x[0] ?? 0) + (x[1] ?? 0);
}

/** Noise level of the synthetic target: heteroscedastic in x₂. */
export function syntheticSigma(x: ArrayLike<number>): number {
  return 0.2 + 0.5 * Math.abs(x[2] ?? 0);
}

/**
 * y = 3·sin(x₀) + x₁ + σ(x)·ε with σ(x) = 0.2 + 0.5·|x₂|, ε standard normal, every xⱼ uniform
 * on [−3, 3]: a known function with a known, feature-dependent noise level, so the true
 * τ-quantile is mean + σ·z_τ.
 */
export function synthetic(rows: number, seed: number, options: SyntheticOptions = {}): SyntheticData {
  const cols = options.cols ?? 20;
  const scale = options.noiseScale ?? 1;
  const offset = options.offset ?? 0;
  const random = new SeededRandom(seed);
  const X = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const x = X.subarray(r * cols, (r + 1) * cols);
    for (let j = 0; j < cols; j++) x[j] = -3 + 6 * random.next();
    y[r] = syntheticMean(x) + offset + scale * syntheticSigma(x) * normal(random);
  }
  return { X, y, rows, cols };
}

export function rowOf(data: SyntheticData, r: number): Float64Array {
  return data.X.subarray(r * data.cols, (r + 1) * data.cols);
}

function normal(random: SeededRandom): number {
  const u = 1 - random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}
