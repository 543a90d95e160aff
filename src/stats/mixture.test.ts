import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchLogLikelihoodRatio, checkMixture, designMixture, mixtureLogE } from './mixture.js';
import { binomialLogPmf } from './special.js';

describe('odds-ratio mixtures', () => {
  it('puts half the weight on the design and stays normalised and one-sided', () => {
    for (const design of [1.08, 2, 7.5, 0.5, 0.9]) {
      const m = designMixture(design);
      expect(m.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
      expect(m.weights[m.ratios.indexOf(design)]).toBeCloseTo(0.5, 14);
      expect(() => checkMixture(m, design > 1 ? 'above' : 'below')).not.toThrow();
      expect(() => checkMixture(m, design > 1 ? 'below' : 'above')).toThrow(RangeError);
    }
    expect(() => designMixture(1)).toThrow(RangeError);
    expect(() => designMixture(-2)).toThrow(RangeError);
  });

  it('one batch’s ratio is the ratio of binomial likelihoods', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 1e-4, max: 0.99, noNaN: true }),
        fc.double({ min: 0.05, max: 20, noNaN: true }),
        (n, fraction, p0, ratio) => {
          const k = Math.floor(n * fraction);
          const o = (ratio * p0) / (1 - p0);
          const p1 = o / (1 + o);
          const direct = binomialLogPmf(k, n, p1) - binomialLogPmf(k, n, p0);
          const actual = batchLogLikelihoodRatio(ratio, k, n, p0);
          expect(Math.abs(actual - direct)).toBeLessThanOrEqual(1e-8 * Math.max(1, Math.abs(direct)));
        },
      ),
    );
  });

  it('a fresh mixture has e-value 1', () => {
    const m = designMixture(2);
    expect(
      mixtureLogE(
        m,
        m.ratios.map(() => 0),
      ),
    ).toBeCloseTo(0, 14);
  });
});
