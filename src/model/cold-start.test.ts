import { describe, expect, it } from 'vitest';
import { coldStartInterval, rangeSource } from './cold-start.js';
import { conformityScore } from './cqr.js';

describe('cold start', () => {
  it('widens the simulation range while there are too few observations to calibrate', () => {
    expect(rangeSource(0)).toBe('simulation-widened');
    expect(rangeSource(8)).toBe('simulation-widened');
    expect(rangeSource(9)).toBe('simulation-conformal');
    expect(rangeSource(499)).toBe('simulation-conformal');
    expect(rangeSource(500)).toBe('learned');
    expect(rangeSource(999, { learnedFrom: 1_000 })).toBe('simulation-conformal');
    expect(rangeSource(19, { alpha: 0.05 })).toBe('simulation-conformal');
    expect(coldStartInterval({ low: 10, high: 20 }, [1, 2])).toEqual({
      interval: { low: 5, high: 25 },
      source: 'simulation-widened',
    });
    // A point prediction stays a point when stretched: the floor gives it a width.
    expect(coldStartInterval({ low: 0, high: 0 }, [], { minHalfWidth: Math.LN2 }).interval).toEqual({
      low: -Math.LN2,
      high: Math.LN2,
    });
  });

  it('then conformalises the simulation range, never narrowing it', () => {
    const sim = { low: 10, high: 20 };
    const observed = [21, 19, 25, 12, 18, 22, 9, 15, 16, 30];
    const scores = observed.map((y) => conformityScore(sim, y)); // 1 −1 5 −2 −2 2 1 −5 −4 10
    // n = 10: rank ⌈11·0.9⌉ = 10 → the largest score, 10.
    expect(coldStartInterval(sim, scores).interval).toEqual({ low: 0, high: 30 });
    // at α = 0.2: rank ⌈11·0.8⌉ = 9 → 5.
    expect(coldStartInterval(sim, scores, { alpha: 0.2 }).interval).toEqual({ low: 5, high: 25 });
    const inside = Array.from({ length: 20 }, () => -3);
    expect(coldStartInterval(sim, inside)).toEqual({ interval: sim, source: 'simulation-conformal' });
  });
});
