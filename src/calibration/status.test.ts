import { describe, expect, it } from 'vitest';
import { coverageVerdict } from './status.js';

describe('coverageVerdict', () => {
  it('flags a coverage off the 90% target by more than chance explains over its windows', () => {
    // 78.6% of 500 windows: 8.6 std. deviations low.
    expect(coverageVerdict(0.786, 500)).toBe('low');
    expect(coverageVerdict(0.99, 500)).toBe('high');
    // Within 3 points, or within 3 std. deviations of few windows: chance.
    expect(coverageVerdict(0.875, 5000)).toBeNull();
    expect(coverageVerdict(0.8, 60)).toBeNull();
    expect(coverageVerdict(0.7, 60)).toBe('low');
    expect(coverageVerdict(null, 100)).toBeNull();
    expect(coverageVerdict(Number.NaN, 0)).toBeNull();
  });
});
