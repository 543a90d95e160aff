import { describe, expect, it } from 'vitest';
import { bucketOf, bucketValue, LatencyHistogram } from './histogram.js';
import { SimRandom } from './random.js';

describe('LatencyHistogram', () => {
  it('places every value within 1% of its bucket value', () => {
    const random = new SimRandom(3);
    let worst = 0;
    for (let i = 0; i < 100_000; i++) {
      const value = Math.exp((random.next() - 0.5) * 30); // ~3e-7 … 3e6 ms
      if (value < 2 ** -20) continue;
      worst = Math.max(worst, Math.abs(bucketValue(bucketOf(value)) / value - 1));
    }
    expect(worst).toBeLessThanOrEqual(1 / 128 + 1e-12);
    expect(bucketOf(0)).toBe(0);
    expect(bucketValue(0)).toBe(0);
  });

  it('gives nearest-rank quantiles within 1% and the exact mean', () => {
    const histogram = new LatencyHistogram();
    for (let v = 1; v <= 1000; v++) histogram.record(v);
    const s = histogram.summary();
    expect(Math.abs(s.p50 / 500 - 1)).toBeLessThan(0.01);
    expect(Math.abs(s.p95 / 950 - 1)).toBeLessThan(0.01);
    expect(Math.abs(s.p99 / 990 - 1)).toBeLessThan(0.01);
    expect(s.mean).toBe(500.5);
    expect(new LatencyHistogram().summary()).toEqual({ p50: 0, p95: 0, p99: 0, mean: 0 });
  });
});
