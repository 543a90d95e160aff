import { describe, expect, it } from 'vitest';
import { captureCurve, coverage, meanWidth, pinballLoss, reliabilityTable } from './metrics.js';

describe('interval metrics', () => {
  const intervals = [
    { low: 0, high: 2 },
    { low: 1, high: 5 },
    { low: -1, high: 1 },
    { low: 3, high: 3 },
  ];

  it('counts coverage with bounds included and averages widths', () => {
    expect(coverage(intervals, [2, 0.5, 0, 3])).toBe(0.75); // 2 ∈ [0,2], 0.5 ∉ [1,5], 0 ∈, 3 ∈ [3,3]
    expect(meanWidth(intervals)).toBe((2 + 4 + 2 + 0) / 4);
    expect(meanWidth([{ low: -Infinity, high: Infinity }])).toBe(Infinity);
    expect(() => coverage(intervals, [1])).toThrow(/lengths differ/);
    expect(() => meanWidth([])).toThrow(/no observations/);
  });

  it('computes the pinball loss by hand', () => {
    // τ = 0.9: y above q costs 0.9·(y−q), below costs 0.1·(q−y).
    // (y, q) = (3, 1) → 1.8; (1, 3) → 0.2; (2, 2) → 0. Mean 2/3.
    expect(pinballLoss([1, 3, 2], [3, 1, 2], 0.9)).toBeCloseTo(2 / 3, 12);
    expect(pinballLoss([0, 0], [1, -1], 0.5)).toBe(0.5);
    expect(() => pinballLoss([0], [0], 1)).toThrow(/tau/);
  });
});

describe('reliabilityTable', () => {
  it('bins predictions and compares them with observed frequencies', () => {
    const p = [0.05, 0.1, 0.15, 0.55, 0.6, 0.95, 1];
    const o = [false, false, true, true, false, true, true];
    const table = reliabilityTable(p, o, 4);
    expect(table.bins.map((b) => [b.from, b.to, b.count])).toEqual([
      [0, 0.25, 3],
      [0.25, 0.5, 0],
      [0.5, 0.75, 2],
      [0.75, 1, 2],
    ]);
    const [low, empty, mid, high] = table.bins;
    expect(low?.meanPredicted).toBeCloseTo(0.1, 12);
    expect(low?.observedFrequency).toBeCloseTo(1 / 3, 12);
    expect(empty?.meanPredicted).toBeNaN();
    expect(mid?.meanPredicted).toBeCloseTo(0.575, 12);
    expect(mid?.observedFrequency).toBe(0.5);
    expect(high?.meanPredicted).toBeCloseTo(0.975, 12);
    expect(high?.observedFrequency).toBe(1);
    // ECE = 3/7·|1/3 − 0.1| + 2/7·|0.5 − 0.575| + 2/7·|1 − 0.975|
    expect(table.expectedCalibrationError).toBeCloseTo(
      (3 / 7) * (7 / 30) + (2 / 7) * 0.075 + (2 / 7) * 0.025,
      12,
    );
    // Brier = mean of 0.0025, 0.01, 0.7225, 0.2025, 0.36, 0.0025, 0
    expect(table.brier).toBeCloseTo((0.0025 + 0.01 + 0.7225 + 0.2025 + 0.36 + 0.0025) / 7, 12);
    expect(() => reliabilityTable([1.2], [true])).toThrow(/\[0, 1\]/);
  });
});

describe('captureCurve', () => {
  it('counts the bad cases among the top X% by score', () => {
    // Ten cases; scores descending order: 9 (bad), 8, 7 (bad), 6, 5, 4, 3 (bad), 2, 1, 0 (bad).
    const scores = [3, 9, 0, 5, 7, 1, 8, 2, 6, 4];
    const bad = [true, true, true, false, true, false, false, false, false, false];
    expect(captureCurve(scores, bad, [0, 0.1, 0.3, 0.5, 1])).toEqual([
      { share: 0, gated: 0, caught: 0, captureRate: 0 },
      { share: 0.1, gated: 1, caught: 1, captureRate: 0.25 },
      { share: 0.3, gated: 3, caught: 2, captureRate: 0.5 },
      { share: 0.5, gated: 5, caught: 2, captureRate: 0.5 },
      { share: 1, gated: 10, caught: 4, captureRate: 1 },
    ]);
  });

  it('breaks ties at the cut by input order, never by outcome', () => {
    expect(captureCurve([1, 1, 1, 1], [false, false, true, true], [0.5])[0]?.caught).toBe(0);
    expect(captureCurve([1, 1], [false, false], [1])[0]?.captureRate).toBeNaN();
    expect(() => captureCurve([Number.NaN], [true])).toThrow(/NaN/);
  });
});
