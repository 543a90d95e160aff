import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binFeatures, binOf } from './bins.js';
import { fitQuantileGbdt, QuantileGbdt } from './gbdt.js';
import { Z95, rowOf, synthetic, syntheticMean, syntheticSigma } from './test-fixtures.js';

describe('binning', () => {
  it('puts a value in bin ≤ b exactly when it is ≤ the bin edge b (so splits carry over to raw values)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 2, max: 255 }),
        fc.double({ min: -2e6, max: 2e6, noNaN: true }),
        (column, bins, probe) => {
          const binned = binFeatures(
            { values: Float64Array.from(column), rows: column.length, cols: 1 },
            bins,
          );
          const edges = binned.edges[0] ?? new Float64Array(0);
          expect(edges.length).toBeLessThan(bins);
          for (let j = 1; j < edges.length; j++) expect(edges[j]).toBeGreaterThan(edges[j - 1] ?? 0);
          const code = binOf(edges, probe);
          for (let b = 0; b < edges.length; b++) expect(code <= b).toBe(probe <= (edges[b] ?? 0));
          column.forEach((v, r) => expect(binned.codes[r]).toBe(binOf(edges, v)));
        },
      ),
    );
  });

  it('gives each distinct value its own bin when there are few, and balanced bins otherwise', () => {
    const few = binFeatures({ values: Float64Array.from([3, 1, 2, 2, 1, 3]), rows: 6, cols: 1 }, 64);
    expect(Array.from(few.edges[0] ?? [])).toEqual([1.5, 2.5]);
    const many = binFeatures(
      { values: Float64Array.from({ length: 1000 }, (_, i) => i), rows: 1000, cols: 1 },
      10,
    );
    const counts = new Array<number>(10).fill(0);
    for (const c of many.codes) counts[c] = (counts[c] ?? 0) + 1;
    expect(counts).toEqual(new Array<number>(10).fill(100));
  });
});

describe('fitQuantileGbdt', () => {
  it('learns a known function and its heteroscedastic noise level (0.05 and 0.95 quantiles)', () => {
    // y = 3·sin(x₀) + x₁ + (0.2 + 0.5·|x₂|)·ε over 20 features, 17 of them pure noise. The true
    // quantiles are mean ± 1.645·σ(x); their mean size is ≈ 1.6, the noise σ(x) runs 0.2–1.7.
    const train = synthetic(10_000, 1);
    const test = synthetic(2_000, 2);
    const lo = fitQuantileGbdt(train.X, train.y, { quantile: 0.05, seed: 3 });
    const hi = fitQuantileGbdt(train.X, train.y, { quantile: 0.95, seed: 4 });
    const med = fitQuantileGbdt(train.X, train.y, { quantile: 0.5, seed: 5 });
    let errLo = 0;
    let errHi = 0;
    let errMed = 0;
    const width: number[] = [];
    const trueWidth: number[] = [];
    for (let r = 0; r < test.rows; r++) {
      const x = rowOf(test, r);
      const mean = syntheticMean(x);
      const sigma = syntheticSigma(x);
      errLo += Math.abs(lo.predict(x) - (mean - Z95 * sigma));
      errHi += Math.abs(hi.predict(x) - (mean + Z95 * sigma));
      errMed += Math.abs(med.predict(x) - mean);
      width.push(hi.predict(x) - lo.predict(x));
      trueWidth.push(2 * Z95 * sigma);
    }
    // Measured with these seeds: 0.32, 0.34, 0.15; mean width 2.88 vs 3.13 (0.92); correlation 0.92.
    expect(errLo / test.rows).toBeLessThan(0.4);
    expect(errHi / test.rows).toBeLessThan(0.4);
    expect(errMed / test.rows).toBeLessThan(0.2);
    expect(mean(width) / mean(trueWidth)).toBeGreaterThan(0.85);
    expect(mean(width) / mean(trueWidth)).toBeLessThan(1.1);
    expect(correlation(width, trueWidth)).toBeGreaterThan(0.88);
  });

  it('starts from the τ-quantile of y and predicts training rows exactly as boosting fitted them', () => {
    const y = Float64Array.from([5, 1, 4, 2, 3, 9, 7, 8, 6, 10]);
    const X = Array.from(y, (_, i) => [i]);
    expect(fitQuantileGbdt(X, y, { quantile: 0.3, trees: 0 }).predict([0])).toBe(3);
    expect(fitQuantileGbdt(X, y, { quantile: 0.5, trees: 0 }).predict([0])).toBe(5);
    const data = synthetic(500, 7, { cols: 3 });
    const model = fitQuantileGbdt(data.X, data.y, { quantile: 0.5, trees: 50, minLeaf: 5 });
    const many = model.predictMany(data.X);
    for (let r = 0; r < data.rows; r++) expect(many[r]).toBe(model.predict(rowOf(data, r)));
    const rows = Array.from({ length: data.rows }, (_, r) => Array.from(rowOf(data, r)));
    expect(Array.from(model.predictMany(rows))).toEqual(Array.from(many));
  });

  it('fits a noiseless step with one split per tree', () => {
    const X = Array.from({ length: 200 }, (_, i) => [i / 10, (i * 7) % 13]);
    const y = Float64Array.from(X, ([a]) => ((a ?? 0) > 10 ? 4 : 1));
    const model = fitQuantileGbdt(X, y, {
      quantile: 0.5,
      trees: 60,
      depth: 1,
      learningRate: 0.3,
      l2: 0,
      minLeaf: 5,
    });
    expect(model.predict([2, 0])).toBeCloseTo(1, 6);
    expect(model.predict([15, 0])).toBeCloseTo(4, 6);
    expect(
      model
        .toJSON()
        .feature.filter((f) => f >= 0)
        .every((f) => f === 0),
    ).toBe(true);
  });

  it('is deterministic per seed, and the seed matters when rows are subsampled', () => {
    const data = synthetic(2_000, 11, { cols: 5 });
    const fit = (seed: number) =>
      fitQuantileGbdt(data.X, data.y, { quantile: 0.9, trees: 40, seed }).toJSON();
    expect(fit(1)).toEqual(fit(1));
    expect(fit(1)).not.toEqual(fit(2));
    const whole = (seed: number) =>
      fitQuantileGbdt(data.X, data.y, { quantile: 0.9, trees: 40, seed, subsample: 1 }).toJSON();
    expect(whole(1)).toEqual(whole(2));
  });

  it('refuses bad options, data and models, naming the field', () => {
    const X = [[1], [2], [3]];
    const y = [1, 2, 3];
    expect(() => fitQuantileGbdt(X, y, { quantile: 1 })).toThrow(/quantile must be in \(0, 1\)/);
    expect(() => fitQuantileGbdt(X, y, { quantile: 0.5, bins: 256 })).toThrow(/bins must be/);
    expect(() => fitQuantileGbdt(X, y, { quantile: 0.5, subsample: 0 })).toThrow(/subsample/);
    expect(() => fitQuantileGbdt([[1], [Number.NaN], [3]], y, { quantile: 0.5 })).toThrow(/row 1, feature 0/);
    expect(() => fitQuantileGbdt(X, [1, 2], { quantile: 0.5 })).toThrow(/3 rows, expected 2/);
    expect(() => fitQuantileGbdt(new Float64Array(5), y, { quantile: 0.5 })).toThrow(/does not split/);
    const model = fitQuantileGbdt(X, y, { quantile: 0.5, trees: 2, minLeaf: 1 });
    expect(() => model.predict([1, 2])).toThrow(/expected 1 features/);
    const json = model.toJSON();
    expect(() => new QuantileGbdt({ ...json, left: json.left.map(() => 0) })).toThrow(/child/);
    expect(() => new QuantileGbdt({ ...json, value: [] })).toThrow(/value has 0 entries/);
  });
});

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function correlation(a: readonly number[], b: readonly number[]): number {
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  a.forEach((x, i) => {
    const u = x - ma;
    const v = (b[i] ?? 0) - mb;
    sab += u * v;
    saa += u * u;
    sbb += v * v;
  });
  return sab / Math.sqrt(saa * sbb);
}
