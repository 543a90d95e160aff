import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../core/random.js';
import type { LoadProfile } from './profile.js';
import { nextArrivalMs, peakRate, rateAt } from './profile.js';

const diurnal: LoadProfile = { kind: 'diurnal', rate: 100, periodMs: 60_000, troughFraction: 0.3 };
const spike: LoadProfile = { kind: 'spike', rate: 50, spikeFactor: 2, spikeAtMs: 10_000, spikeMs: 5_000 };

function countArrivals(profile: LoadProfile, untilMs: number, seed: number): number {
  const random = new SeededRandom(seed);
  let n = 0;
  for (
    let t = nextArrivalMs(profile, random, 0, untilMs);
    t < untilMs;
    t = nextArrivalMs(profile, random, t, untilMs)
  ) {
    n++;
  }
  return n;
}

describe('rateAt', () => {
  it('is flat for a constant profile', () => {
    expect(rateAt({ kind: 'constant', rate: 42 }, 0)).toBe(42);
    expect(rateAt({ kind: 'constant', rate: 42 }, 123_456)).toBe(42);
  });

  it('runs a compressed day: trough at the start of each period, peak half-way', () => {
    expect(rateAt(diurnal, 0)).toBeCloseTo(30, 9);
    expect(rateAt(diurnal, 15_000)).toBeCloseTo(65, 9);
    expect(rateAt(diurnal, 30_000)).toBeCloseTo(100, 9);
    expect(rateAt(diurnal, 45_000)).toBeCloseTo(65, 9);
    expect(rateAt(diurnal, 60_000)).toBeCloseTo(30, 9);
    expect(rateAt(diurnal, 90_000)).toBeCloseTo(100, 9);
  });

  it('multiplies the base rate during the spike window only, start included and end excluded', () => {
    expect(rateAt(spike, 9_999)).toBe(50);
    expect(rateAt(spike, 10_000)).toBe(100);
    expect(rateAt(spike, 14_999)).toBe(100);
    expect(rateAt(spike, 15_000)).toBe(50);
  });

  it('stays between the trough and the peak', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 1e4, noNaN: true }),
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1e7, noNaN: true }),
        (rate, periodMs, troughFraction, t) => {
          const profile: LoadProfile = { kind: 'diurnal', rate, periodMs, troughFraction };
          const r = rateAt(profile, t);
          expect(r).toBeGreaterThanOrEqual(rate * troughFraction - 1e-9 * rate);
          expect(r).toBeLessThanOrEqual(peakRate(profile) + 1e-9 * rate);
        },
      ),
    );
  });

  it('never exceeds peakRate for a spike', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.1, max: 10, noNaN: true }), fc.nat(40_000), (spikeFactor, t) => {
        const profile: LoadProfile = { ...spike, spikeFactor };
        expect(rateAt(profile, t)).toBeLessThanOrEqual(peakRate(profile));
      }),
    );
  });
});

describe('nextArrivalMs', () => {
  it('gives the mean count of a Poisson process (within 4 standard deviations)', () => {
    const n = countArrivals({ kind: 'constant', rate: 100 }, 60_000, 7);
    expect(Math.abs(n - 6000)).toBeLessThan(4 * Math.sqrt(6000));
  });

  it('follows a varying rate: one diurnal period carries 65% of the peak on average', () => {
    const n = countArrivals({ ...diurnal, rate: 200 }, 60_000, 11);
    const expected = 0.65 * 200 * 60;
    expect(Math.abs(n - expected)).toBeLessThan(4 * Math.sqrt(expected));
  });

  it('puts the extra arrivals of a spike inside its window', () => {
    const profile: LoadProfile = {
      kind: 'spike',
      rate: 100,
      spikeFactor: 3,
      spikeAtMs: 20_000,
      spikeMs: 20_000,
    };
    const random = new SeededRandom(3);
    const buckets = [0, 0, 0];
    for (
      let t = nextArrivalMs(profile, random, 0, 60_000);
      t < 60_000;
      t = nextArrivalMs(profile, random, t, 60_000)
    ) {
      buckets[Math.floor(t / 20_000)]! += 1;
    }
    const [before, during, after] = buckets as [number, number, number];
    expect(Math.abs(before - 2000)).toBeLessThan(4 * Math.sqrt(2000));
    expect(Math.abs(during - 6000)).toBeLessThan(4 * Math.sqrt(6000));
    expect(Math.abs(after - 2000)).toBeLessThan(4 * Math.sqrt(2000));
  });

  it('is strictly increasing, bounded and replayable from the seed', () => {
    fc.assert(
      fc.property(fc.integer(), fc.double({ min: 1, max: 500, noNaN: true }), (seed, rate) => {
        const profile: LoadProfile = { kind: 'constant', rate };
        const a = new SeededRandom(seed);
        const b = new SeededRandom(seed);
        let t = 0;
        for (let i = 0; i < 50; i++) {
          const next = nextArrivalMs(profile, a, t, 10_000);
          expect(nextArrivalMs(profile, b, t, 10_000)).toBe(next);
          if (next === Infinity) return;
          expect(next).toBeGreaterThan(t);
          expect(next).toBeLessThan(10_000);
          t = next;
        }
      }),
    );
  });

  it('returns Infinity when the rate is zero', () => {
    expect(nextArrivalMs({ kind: 'constant', rate: 0 }, new SeededRandom(1), 0, 1000)).toBe(Infinity);
  });
});
