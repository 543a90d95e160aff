import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../core/random.js';
import { quantile, Reservoir } from './reservoir.js';

describe('Reservoir', () => {
  it('is exact below its capacity (nearest rank)', () => {
    const r = new Reservoir(1000, new SeededRandom(1));
    for (let v = 100; v >= 1; v--) r.add(v);
    expect(r.summary()).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
  });

  it('keeps at most its capacity, with a max and mean over everything', () => {
    const r = new Reservoir(1000, new SeededRandom(2));
    for (let v = 1; v <= 100_000; v++) r.add(v);
    expect(r.size).toBe(1000);
    const s = r.summary();
    expect(s.count).toBe(100_000);
    expect(s.max).toBe(100_000);
    expect(s.mean).toBe(50_000.5);
    // A uniform sample of 1000: the median lands near the true one.
    expect(Math.abs(s.p50 - 50_000)).toBeLessThan(5_000);
  });

  it('is all zeros when empty', () => {
    expect(new Reservoir(10, new SeededRandom(1)).summary()).toEqual({
      count: 0,
      p50: 0,
      p95: 0,
      p99: 0,
      max: 0,
      mean: 0,
    });
  });

  it('quantile takes the nearest rank', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.51)).toBe(3);
    expect(quantile([1, 2, 3, 4], 1)).toBe(4);
    expect(quantile([1, 2, 3, 4], 0)).toBe(1);
    expect(quantile([], 0.5)).toBe(0);
  });
});
