import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../core/random.js';
import { LinearBase, type LinearJson, fitLinearBase } from './linear.js';
import { toMatrix } from './matrix.js';

/** n rows of `cols` uniform features in [−1, 1] and y = f(x) + noise·U(−1, 1). */
function rows(n: number, cols: number, f: (x: number[]) => number, noise: number, seed: number) {
  const random = new SeededRandom(seed);
  const X: number[][] = [];
  const y: number[] = [];
  for (let r = 0; r < n; r++) {
    const x = Array.from({ length: cols }, () => -1 + 2 * random.next());
    X.push(x);
    y.push(f(x) + noise * (2 * random.next() - 1));
  }
  return { m: toMatrix(X, n), y: Float64Array.from(y), X };
}

describe('fitLinearBase', () => {
  it('recovers a linear function (ridge small enough not to shrink it visibly)', () => {
    const { m, y } = rows(2_000, 3, (x) => 2 + 3 * (x[0] ?? 0) - 0.5 * (x[2] ?? 0), 0.1, 1);
    const line = fitLinearBase(m, y);
    const w = line.toJSON().weights;
    expect(w[0]).toBeCloseTo(3, 1);
    expect(Math.abs(w[1] ?? 1)).toBeLessThan(0.02);
    expect(w[2]).toBeCloseTo(-0.5, 1);
    expect(line.intercept).toBeCloseTo(2, 1);
    expect(line.predict([0.5, 0, 0.2])).toBeCloseTo(2 + 1.5 - 0.1, 1);
  });

  it('learns a difference of two nearly equal features, which trees only approximate in steps', () => {
    // a and b share almost all their variation; y moves with their small difference.
    const random = new SeededRandom(2);
    const X: number[][] = [];
    const y: number[] = [];
    for (let r = 0; r < 3_000; r++) {
      const common = 5 * random.next();
      const a = common + 0.05 * (2 * random.next() - 1);
      const b = common + 0.05 * (2 * random.next() - 1);
      X.push([a, b]);
      y.push(4 * (a - b) + 0.01 * (2 * random.next() - 1));
    }
    const line = fitLinearBase(toMatrix(X, X.length), Float64Array.from(y));
    let squares = 0;
    X.forEach((x, r) => (squares += (line.predict(x) - (y[r] as number)) ** 2));
    // y's sd is 0.165; the line leaves 0.033 (measured; the noise is 0.006, the rest is the ridge's
    // shrinkage of a direction this thin: weights ±3.2 instead of ±4).
    expect(Math.sqrt(squares / X.length)).toBeLessThan(0.04);
    expect(line.toJSON().weights[0]).toBeGreaterThan(3);
    expect(line.toJSON().weights[1]).toBeLessThan(-3);
  });

  it('gives a constant feature no weight and stays finite when features are exact combinations', () => {
    const random = new SeededRandom(3);
    const X: number[][] = [];
    const y: number[] = [];
    for (let r = 0; r < 500; r++) {
      const u = random.next();
      const v = random.next();
      X.push([u, v, u + v, 7]);
      y.push(u - v);
    }
    const line = fitLinearBase(toMatrix(X, X.length), Float64Array.from(y));
    const json = line.toJSON();
    expect(json.weights[3]).toBe(0);
    expect(json.weights.every(Number.isFinite)).toBe(true);
    expect(line.predict([0.3, 0.1, 0.4, 7])).toBeCloseTo(0.2, 2);
  });

  it('clips each feature to its training range: no extrapolation beyond the rows it saw', () => {
    const { m, y } = rows(1_000, 1, (x) => 10 * (x[0] ?? 0), 0, 4);
    const line = fitLinearBase(m, y);
    const { min, max } = line.toJSON();
    expect(line.predict([50])).toBeCloseTo(line.predict([max[0] ?? 0]), 12);
    expect(line.predict([-50])).toBeCloseTo(line.predict([min[0] ?? 0]), 12);
    expect(line.predict([50])).toBeLessThanOrEqual(10.001);
  });

  it('predicts the same from JSON, one row or many, and refuses a damaged record', () => {
    const { m, y, X } = rows(800, 4, (x) => (x[0] ?? 0) * 2 + (x[3] ?? 0), 0.2, 5);
    const line = fitLinearBase(m, y);
    const copy = new LinearBase(JSON.parse(JSON.stringify(line.toJSON())) as LinearJson);
    const many = copy.predictMany(m.values);
    const ofRows = copy.predictMany(X);
    X.forEach((x, r) => {
      expect(copy.predict(x)).toBe(line.predict(x));
      expect(many[r]).toBe(line.predict(x));
      expect(ofRows[r]).toBe(line.predict(x));
    });
    const json = line.toJSON();
    expect(() => new LinearBase({ ...json, weights: json.weights.slice(1) })).toThrow(/differ in length/);
    expect(() => new LinearBase({ ...json, intercept: Number.NaN })).toThrow(/intercept/);
    expect(() => new LinearBase({ ...json, min: json.max, max: json.min })).toThrow(/min > max/);
    expect(() => fitLinearBase(m, y, -1)).toThrow(/ridge/);
  });
});
