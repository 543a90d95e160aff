import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { binomialLogPmf, logBeta, logBetaUpperTail, logGamma, logSumExp, normalCdf } from './special.js';

interface SpecialReference {
  logGamma: [number, number][];
  logBeta: [number, number, number][];
  binomialLogPmf: [number, number, number, number][];
  logBetaUpperTail: [number, number, number, number][];
  normalCdf: [number, number][];
}

const reference = (
  JSON.parse(readFileSync(new URL('../../test/fixtures/stats/reference.json', import.meta.url), 'utf8')) as {
    special: SpecialReference;
  }
).special;

/** |actual − expected| within `rel` of the expected value's size (absolute near zero). */
function close(actual: number, expected: number, rel: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));
}

describe('special functions against SciPy', () => {
  it('logGamma', () => {
    for (const [x, expected] of reference.logGamma) close(logGamma(x), expected, 1e-13);
  });

  it('logBeta, including one argument far larger than the other', () => {
    for (const [a, b, expected] of reference.logBeta) close(logBeta(a, b), expected, 1e-12);
  });

  it('binomialLogPmf', () => {
    for (const [k, n, p, expected] of reference.binomialLogPmf)
      close(binomialLogPmf(k, n, p), expected, 1e-11);
  });

  it('logBetaUpperTail keeps relative precision in both tails', () => {
    for (const [x, a, b, expected] of reference.logBetaUpperTail)
      close(logBetaUpperTail(x, a, b), expected, 1e-10);
  });

  it('normalCdf to its stated 1.2e-7 relative precision', () => {
    for (const [x, expected] of reference.normalCdf) {
      expect(Math.abs(normalCdf(x) - expected)).toBeLessThanOrEqual(2e-7 * expected);
    }
  });

  it('logSumExp neither overflows nor underflows', () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logSumExp([-1000, -1000])).toBeCloseTo(-1000 + Math.LN2, 12);
    expect(logSumExp([])).toBe(Number.NEGATIVE_INFINITY);
  });
});
