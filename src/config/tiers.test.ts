import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWholeBasisPoint, tierProblems } from './tiers.js';

const codes = (tiers: number[]): string[] => tierProblems(tiers).map((p) => p.code);

/** Valid tiers: distinct basis points in (0, 10,000), sorted, then 100%. */
const validTiers = fc
  .uniqueArray(fc.integer({ min: 1, max: 9_999 }), { maxLength: 12 })
  .map((points) => [...points.sort((a, b) => a - b).map((p) => p / 100), 100]);

describe('tierProblems', () => {
  it('accepts the default tiers and float-unfriendly steps', () => {
    expect(tierProblems([0.1, 1, 5, 25, 50, 100])).toEqual([]);
    expect(tierProblems([0.01, 0.07, 0.29, 100])).toEqual([]);
    expect(tierProblems([100])).toEqual([]);
  });

  it('names each rule broken', () => {
    expect(codes([])).toEqual(['tiers_empty']);
    expect(codes([0.015, 100])).toEqual(['tier_precision']);
    expect(codes([0, 100])).toEqual(['tier_out_of_range']);
    expect(codes([5, 1, 100])).toEqual(['tiers_not_increasing']);
    expect(codes([1, 50])).toEqual(['tiers_not_ending_at_100']);
    expect(tierProblems([1, 1, 100])[0]).toMatchObject({ index: 1, code: 'tiers_not_increasing' });
  });

  it('accepts every strictly increasing list of whole basis points ending at 100', () => {
    fc.assert(
      fc.property(validTiers, (tiers) => {
        expect(tierProblems(tiers)).toEqual([]);
      }),
    );
  });

  it('rejects a tier off the 0.01 grid, wherever it is inserted', () => {
    fc.assert(
      fc.property(
        validTiers,
        fc.integer({ min: 1, max: 9_999 }),
        fc.integer({ min: 1, max: 9 }),
        (tiers, at, tenth) => {
          const odd = (at + tenth / 10) / 100; // between two basis points
          const withOdd = [...tiers.filter((t) => t < odd), odd, ...tiers.filter((t) => t > odd)];
          expect(codes(withOdd)).toContain('tier_precision');
        },
      ),
    );
  });

  it('rejects lists that do not increase or do not end at 100', () => {
    fc.assert(
      fc.property(validTiers, (tiers) => {
        fc.pre(tiers.length >= 2);
        expect(codes([...tiers].reverse())).toContain('tiers_not_increasing');
        expect(codes(tiers.slice(0, -1))).toContain('tiers_not_ending_at_100');
        expect(codes([...tiers, 100])).toContain('tiers_not_increasing');
      }),
    );
  });

  it('rejects tiers outside (0, 100]', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ max: 0, noNaN: true }), fc.double({ min: 100.01, noNaN: true })),
        (tier) => {
          expect(codes([tier, 100])).toContain('tier_out_of_range');
        },
      ),
    );
  });
});

describe('isWholeBasisPoint', () => {
  it('tolerates binary rounding but not a real third decimal', () => {
    expect(isWholeBasisPoint(0.1)).toBe(true);
    expect(isWholeBasisPoint(0.07)).toBe(true);
    expect(isWholeBasisPoint(33.33)).toBe(true);
    expect(isWholeBasisPoint(0.015)).toBe(false);
    expect(isWholeBasisPoint(0.001)).toBe(false);
  });
});
