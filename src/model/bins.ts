import type { FeatureMatrix } from './matrix.js';

/** Most bins a feature may have: bin codes are bytes. */
export const MAX_BINS = 255;

/**
 * Features cut into at most `bins` quantile bins, once, before boosting. `codes` is column-major
 * (feature f's codes at [f·rows, (f+1)·rows)) so building a histogram walks one byte column.
 * `edges[f]` are the feature's upper bin bounds: a value's bin is the first j with value ≤
 * edges[f][j] (the last bin if none), so "bin ≤ b" holds exactly when "value ≤ edges[f][b]" — a
 * tree split learned on codes applies unchanged to raw values.
 */
export interface BinnedFeatures {
  readonly rows: number;
  readonly cols: number;
  readonly codes: Uint8Array;
  readonly edges: readonly Float64Array[];
}

export function binFeatures(m: FeatureMatrix, bins: number): BinnedFeatures {
  if (!(Number.isInteger(bins) && bins >= 2 && bins <= MAX_BINS))
    throw new RangeError(`bins must be a whole number in [2, ${MAX_BINS}] (got ${bins})`);
  const { rows, cols, values } = m;
  const codes = new Uint8Array(rows * cols);
  const edges: Float64Array[] = [];
  const column = new Float64Array(rows);
  for (let f = 0; f < cols; f++) {
    for (let r = 0; r < rows; r++) column[r] = values[r * cols + f] ?? 0;
    const e = featureEdges(column.slice().sort(), bins);
    edges.push(e);
    const out = codes.subarray(f * rows, (f + 1) * rows);
    for (let r = 0; r < rows; r++) out[r] = binOf(e, column[r] ?? 0);
  }
  return { rows, cols, codes, edges };
}

/** First j with value ≤ edges[j], else edges.length. */
export function binOf(edges: Float64Array, value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (value <= (edges[mid] ?? 0)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Upper bounds between consecutive distinct values: every distinct value gets its own bin when
 * there are few enough; otherwise bins close once they hold about rows/bins values, so each
 * holds a similar share of rows (a heavy single value still makes one bin of its own).
 */
function featureEdges(sorted: Float64Array, bins: number): Float64Array {
  const n = sorted.length;
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = sorted[i] ?? 0;
    const last = distinct.length - 1;
    if (last >= 0 && distinct[last] === v) counts[last] = (counts[last] ?? 0) + 1;
    else {
      distinct.push(v);
      counts.push(1);
    }
  }
  const edges: number[] = [];
  const perBin = n / bins;
  let seen = 0;
  for (let j = 0; j + 1 < distinct.length && edges.length < bins - 1; j++) {
    seen += counts[j] ?? 0;
    if (distinct.length <= bins || seen >= (edges.length + 1) * perBin)
      edges.push(between(distinct[j] ?? 0, distinct[j + 1] ?? 0));
  }
  return Float64Array.from(edges);
}

/** A bound b with a ≤ b < c, halfway when floating point allows. */
function between(a: number, c: number): number {
  const mid = a + (c - a) / 2;
  return mid < c && mid >= a ? mid : a;
}
