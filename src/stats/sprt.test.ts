import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  klBernoulli,
  klLogNormalRatio,
  klNormalShift,
  klRelativeRate,
  sprtExpectedSamples,
  sprtThresholds,
} from './sprt.js';

const cases = (
  JSON.parse(readFileSync(new URL('../../test/fixtures/stats/reference.json', import.meta.url), 'utf8')) as {
    sprt: { name: string; alpha: number; beta: number; kl: number; expected: number }[];
  }
).sprt;

describe('Wald SPRT oracle', () => {
  it('reproduces reference.md §2 at α = 0.01, β = 0.05', () => {
    const n = (kl: number): number => sprtExpectedSamples({ alpha: 0.01, beta: 0.05, kl });
    // The reference's rounded figures.
    expect(n(klBernoulli(0.001, 0.002)) / 10_800).toBeCloseTo(1, 2);
    expect(n(klBernoulli(0.01, 0.02)) / 1_070).toBeCloseTo(1, 2);
    expect(Math.round(n(klRelativeRate(0.5, 2)))).toBe(74);
    expect(Math.round(n(klLogNormalRatio(1.1, 0.5)) / 10) * 10).toBe(460);
    expect(n(klLogNormalRatio(1.05, 1.0)) / 7_000).toBeCloseTo(1, 2);
  });

  it('matches the fixture (KL from scipy.stats.entropy)', () => {
    const kls = [
      klBernoulli(0.001, 0.002),
      klBernoulli(0.01, 0.02),
      klRelativeRate(0.5, 2),
      klLogNormalRatio(1.1, 0.5, 'pair'),
      klLogNormalRatio(1.05, 1.0, 'pair'),
    ];
    cases.forEach((c, i) => {
      expect(kls[i]).toBeCloseTo(c.kl, 14);
      expect(sprtExpectedSamples(c)).toBeCloseTo(c.expected, 8);
    });
  });

  it('thresholds and helpers', () => {
    const { upper, lower } = sprtThresholds(0.01, 0.05);
    expect(upper).toBeCloseTo(Math.log(95), 12);
    expect(lower).toBeCloseTo(Math.log(0.05 / 0.99), 12);
    expect(klNormalShift(1, 2)).toBeCloseTo(1 / 8, 15);
    expect(klNormalShift(1, 2, 'pair')).toBeCloseTo(1 / 16, 15);
    expect(klBernoulli(0.3, 0)).toBeCloseTo(-Math.log(0.7), 15);
    expect(() => sprtExpectedSamples({ alpha: 0.01, beta: 0.05, kl: 0 })).toThrow(RangeError);
  });
});
