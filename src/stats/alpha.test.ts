import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ROLLBACK_TESTS, logThreshold, splitAlpha } from './alpha.js';

const sum = (split: ReturnType<typeof splitAlpha>): number =>
  Object.values(split).reduce((s, tests) => s + Object.values(tests).reduce((a, b) => a + b, 0), 0);

describe('splitAlpha', () => {
  it('splits over services × tests, not over tiers', () => {
    const split = splitAlpha({ alpha: 0.01, services: ['payments', 'catalog'] });
    expect(Object.keys(split)).toEqual(['payments', 'catalog']);
    expect(Object.keys(split['payments'] ?? {})).toEqual([...ROLLBACK_TESTS]);
    expect(split['payments']?.['error-limit']).toBeCloseTo(0.01 / 2 / 5, 15);
    expect(sum(split)).toBeCloseTo(0.01, 15);
  });

  it('honours weights and restarts', () => {
    const split = splitAlpha({
      alpha: 0.02,
      services: ['cart'],
      tests: { 'error-limit': 3, 'latency-limit': 1 },
      segments: 4,
    });
    expect(split['cart']?.['error-limit']).toBeCloseTo((0.02 * 0.75) / 4, 15);
    expect(split['cart']?.['latency-limit']).toBeCloseTo((0.02 * 0.25) / 4, 15);
  });

  it('never spends more than the release’s α', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 0.5, noNaN: true }),
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }),
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }),
          fc.double({ min: 0.01, max: 10, noNaN: true }),
          {
            minKeys: 1,
            maxKeys: 8,
          },
        ),
        fc.integer({ min: 1, max: 6 }),
        (alpha, services, tests, segments) => {
          const split = splitAlpha({ alpha, services, tests, segments });
          expect(sum(split) * segments).toBeLessThanOrEqual(alpha * (1 + 1e-12));
          expect(sum(split) * segments).toBeGreaterThanOrEqual(alpha * (1 - 1e-12));
        },
      ),
    );
  });

  it('rejects an empty or invalid plan', () => {
    expect(() => splitAlpha({ alpha: 0.01, services: [] })).toThrow(RangeError);
    expect(() => splitAlpha({ alpha: 0, services: ['a'] })).toThrow(RangeError);
    expect(() => splitAlpha({ alpha: 0.01, services: ['a'], tests: { x: 0 } })).toThrow(RangeError);
    expect(() => splitAlpha({ alpha: 0.01, services: ['a'], segments: 0 })).toThrow(RangeError);
    expect(logThreshold(0.01)).toBeCloseTo(Math.log(100), 15);
  });
});
