import { describe, expect, it } from 'vitest';
import { exponential, NormalSource, ServiceTimeSampler, standardExponential } from './distributions.js';
import { SimRandom } from './random.js';

const meanOf = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('distributions', () => {
  const n = 200_000;

  it('exponential has the requested mean (±1%, ~4.5 standard errors)', () => {
    const random = new SimRandom(1);
    const xs = Array.from({ length: n }, () => exponential(random, 2.5));
    expect(Math.abs(meanOf(xs) / 2.5 - 1)).toBeLessThan(0.01);
  });

  it('the ziggurat exponential has the exponential distribution (Kolmogorov–Smirnov, moments, tail)', () => {
    const random = new SimRandom(12);
    const m = 400_000;
    const xs = Float64Array.from({ length: m }, () => standardExponential(random)).sort();
    let d = 0;
    for (let i = 0; i < m; i++) {
      const cdf = 1 - Math.exp(-(xs[i] ?? 0));
      d = Math.max(d, Math.abs(cdf - i / m), Math.abs(cdf - (i + 1) / m));
    }
    // KS critical value at α = 0.001: 1.95 / √m ≈ 0.0031.
    expect(d).toBeLessThan(1.95 / Math.sqrt(m));
    const moment = (k: number): number => xs.reduce((s, x) => s + x ** k, 0) / m;
    expect(Math.abs(moment(1) - 1)).toBeLessThan(0.008); // sd of the mean: 1/√m = 0.0016
    expect(Math.abs(moment(2) / 2 - 1)).toBeLessThan(0.02); // E[X²] = 2
    expect(Math.abs(moment(3) / 6 - 1)).toBeLessThan(0.05); // E[X³] = 6
    // The tail beyond the ziggurat's R ≈ 7.7: P(X > 8) = e⁻⁸ ≈ 3.4e-4, i.e. ~134 of 400k.
    const beyond = xs.filter((x) => x > 8).length;
    expect(Math.abs(beyond - m * Math.exp(-8))).toBeLessThan(4 * Math.sqrt(m * Math.exp(-8)));
  });

  it('Box–Muller normals have mean 0 and variance 1 (±0.01)', () => {
    const normal = new NormalSource(new SimRandom(2));
    const xs = Array.from({ length: n }, () => normal.next());
    const mean = meanOf(xs);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(meanOf(xs.map((x) => (x - mean) ** 2)) - 1)).toBeLessThan(0.01);
  });

  it('lognormal has the requested median (±1%) and log-sigma (±1%)', () => {
    const sampler = new ServiceTimeSampler({ kind: 'lognormal', medianMs: 3, sigma: 0.6 }, new SimRandom(3));
    const xs = Array.from({ length: n }, () => sampler.sample()).sort((a, b) => a - b);
    expect(Math.abs((xs[n / 2] ?? 0) / 3 - 1)).toBeLessThan(0.01);
    const logs = xs.map(Math.log);
    const mu = meanOf(logs);
    expect(Math.abs(Math.sqrt(meanOf(logs.map((x) => (x - mu) ** 2))) / 0.6 - 1)).toBeLessThan(0.01);
  });

  it('empirical resamples the given values uniformly; deterministic is constant', () => {
    const sampler = new ServiceTimeSampler({ kind: 'empirical', samplesMs: [1, 2, 7] }, new SimRandom(4));
    const counts = new Map<number, number>();
    for (let i = 0; i < 30_000; i++) {
      const x = sampler.sample();
      counts.set(x, (counts.get(x) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([1, 2, 7]);
    for (const c of counts.values()) expect(Math.abs(c / 10_000 - 1)).toBeLessThan(0.04);
    const fixed = new ServiceTimeSampler({ kind: 'deterministic', ms: 4.5 }, new SimRandom(5));
    expect([fixed.sample(), fixed.sample()]).toEqual([4.5, 4.5]);
  });

  it('is deterministic: the same seed gives the same draws', () => {
    const draw = (seed: number): number[] => {
      const s = new ServiceTimeSampler({ kind: 'lognormal', medianMs: 1, sigma: 1 }, new SimRandom(seed));
      return Array.from({ length: 100 }, () => s.sample());
    };
    expect(draw(9)).toEqual(draw(9));
    expect(draw(9)).not.toEqual(draw(10));
  });
});
