import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketOf, isCanary } from './buckets.js';

describe('sticky buckets', () => {
  it('is deterministic and in range', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (salt, key) => {
        const b = bucketOf(salt, key);
        expect(b).toBe(bucketOf(salt, key));
        expect(Number.isInteger(b) && b >= 0 && b < BUCKETS).toBe(true);
      }),
    );
  });

  it('is monotone: a key on the canary at a weight stays on it at every larger weight', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.integer({ min: 0, max: BUCKETS }),
        fc.integer({ min: 0, max: BUCKETS }),
        (key, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const bucket = bucketOf('cart', key);
          if (isCanary(bucket, low)) expect(isCanary(bucket, high)).toBe(true);
        },
      ),
    );
  });

  it('spreads keys uniformly over the buckets (chi-square over 100 cells)', () => {
    const n = 200_000;
    const cells = new Array<number>(100).fill(0);
    for (let i = 0; i < n; i++) {
      const cell = Math.floor(bucketOf('frontend', `user-${i}`) / 100);
      cells[cell] = (cells[cell] ?? 0) + 1;
    }
    const expected = n / 100;
    const chi2 = cells.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 99 degrees of freedom: the 0.999 quantile is 148.2.
    expect(chi2).toBeLessThan(148.2);
  });

  it('splits keys at 0.01% resolution within binomial bounds', () => {
    const n = 100_000;
    for (const weight of [1, 10, 100, 5000]) {
      let canary = 0;
      for (let i = 0; i < n; i++) if (isCanary(bucketOf('cart', `k${i}`), weight)) canary++;
      const p = weight / BUCKETS;
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(canary - n * p)).toBeLessThan(4.5 * sd + 1);
    }
  });

  it('assigns a key independently per service (salted)', () => {
    let same = 0;
    for (let i = 0; i < 10_000; i++)
      if (bucketOf('cart', `k${i}`) < 5000 === bucketOf('catalog', `k${i}`) < 5000) same++;
    expect(same).toBeGreaterThan(4700);
    expect(same).toBeLessThan(5300);
  });
});
