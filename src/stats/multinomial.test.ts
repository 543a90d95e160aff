import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dirichletMultinomialLogBF, oneSidedBetaLogBF } from './multinomial.js';

type LindonCase =
  | { kind: 'dirichlet'; counts: number[]; shares: number[]; concentration: number; logBF: number }
  | {
      kind: 'one-sided';
      canary: number;
      stable: number;
      canaryShare: number;
      concentration: number;
      tolerance: number;
      logBF: number;
    };

const cases = (
  JSON.parse(readFileSync(new URL('../../test/fixtures/stats/reference.json', import.meta.url), 'utf8')) as {
    lindon: LindonCase[];
  }
).lindon;

describe('Lindon et al. Bayes factors against 50-digit integration (mpmath)', () => {
  for (const c of cases) {
    const label =
      c.kind === 'dirichlet' ? `${c.counts.join('/')} at ${c.shares.join('/')}` : `${c.canary}/${c.stable}`;
    it(`${c.kind} ${label}`, () => {
      const actual =
        c.kind === 'dirichlet'
          ? dirichletMultinomialLogBF(c.counts, c.shares, c.concentration)
          : oneSidedBetaLogBF(c);
      expect(Math.abs(actual - c.logBF)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(c.logBF)));
    });
  }

  it('is 1 before any event, and refuses mismatched cells', () => {
    expect(dirichletMultinomialLogBF([0, 0], [0.3, 0.7], 2)).toBeCloseTo(0, 14);
    expect(oneSidedBetaLogBF({ canary: 0, stable: 0, canaryShare: 0.3, concentration: 2 })).toBeCloseTo(
      0,
      14,
    );
    expect(() => dirichletMultinomialLogBF([1], [1], 1)).toThrow(RangeError);
  });
});
