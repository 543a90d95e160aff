/**
 * Feature matrices for the model: one row-major Float64Array, so a model is fitted and applied
 * without a nested array per row. Callers may still pass `number[][]`; it is packed once here.
 */
export interface FeatureMatrix {
  readonly values: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/** Row-major values (`rows` × cols) or one array per row. */
export type MatrixInput = Float64Array | readonly (readonly number[])[];

/** Targets, one per row. */
export type VectorInput = Float64Array | readonly number[];

/**
 * Packs and checks a matrix. A flat Float64Array needs the row count (its length must be a
 * multiple of it); an array of rows must be rectangular. Every value must be finite: the model
 * has no notion of a missing feature.
 */
export function toMatrix(input: MatrixInput, rows: number): FeatureMatrix {
  if (!(Number.isInteger(rows) && rows >= 1))
    throw new RangeError(`rows must be a whole number ≥ 1 (got ${rows})`);
  let values: Float64Array;
  let cols: number;
  if (input instanceof Float64Array) {
    if (input.length % rows !== 0 || input.length === 0)
      throw new RangeError(`a flat matrix of ${input.length} values does not split into ${rows} rows`);
    values = input;
    cols = input.length / rows;
  } else {
    if (input.length !== rows) throw new RangeError(`matrix has ${input.length} rows, expected ${rows}`);
    cols = input[0]?.length ?? 0;
    if (cols === 0) throw new RangeError('matrix rows must have at least one feature');
    values = new Float64Array(rows * cols);
    input.forEach((row, i) => {
      if (row.length !== cols)
        throw new RangeError(`matrix row ${i} has ${row.length} features, expected ${cols}`);
      values.set(row, i * cols);
    });
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]))
      throw new RangeError(`matrix value at row ${Math.floor(i / cols)}, feature ${i % cols} is not finite`);
  }
  return { values, rows, cols };
}

/** Packs and checks a target vector: every value finite. */
export function toVector(input: VectorInput): Float64Array {
  const values = input instanceof Float64Array ? input : Float64Array.from(input);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new RangeError(`target ${i} is not finite`);
  }
  return values;
}

/** The rows at `indices` of a matrix, as a new matrix (indices in the order given). */
export function selectRows(m: FeatureMatrix, indices: ArrayLike<number>): FeatureMatrix {
  const values = new Float64Array(indices.length * m.cols);
  for (let k = 0; k < indices.length; k++) {
    const r = indices[k] ?? 0;
    values.set(m.values.subarray(r * m.cols, (r + 1) * m.cols), k * m.cols);
  }
  return { values, rows: indices.length, cols: m.cols };
}

/** The entries at `indices` of a vector. */
export function selectEntries(v: Float64Array, indices: ArrayLike<number>): Float64Array {
  const out = new Float64Array(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = v[indices[k] ?? 0] ?? 0;
  return out;
}

/**
 * The τ-quantile of a sample by the inverted empirical CDF: the ⌈τn⌉-th smallest value. That
 * order statistic minimises the pinball loss over the sample, which is why boosting uses it.
 * Sorts `values` in place.
 */
export function sampleQuantileInPlace(values: Float64Array, tau: number): number {
  if (values.length === 0) throw new RangeError('quantile of an empty sample');
  values.sort();
  return values[orderIndex(values.length, tau)] ?? 0;
}

/** 0-based index of the ⌈τn⌉-th smallest of n values, clamped to the sample. */
export function orderIndex(n: number, tau: number): number {
  return Math.min(n - 1, Math.max(0, ceilTolerant(tau * n) - 1));
}

/**
 * ⌈x⌉ that ignores the last bits of floating-point noise, so (n + 1)·0.9 for n = 999 is 900, not
 * 901 because 0.9 is not exact in binary.
 */
export function ceilTolerant(x: number): number {
  return Math.ceil(x - 1e-9 * Math.max(1, Math.abs(x)));
}
