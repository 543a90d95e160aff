import type { ConfigIssueCode } from './issues.js';

export interface TierProblem {
  /** Index of the offending tier; absent when the list as a whole is wrong. */
  readonly index?: number;
  readonly code: ConfigIssueCode;
  readonly message: string;
}

/**
 * Weights are applied in basis points (0.01%), so a tier must land on one. `0.1 * 100` is
 * 10.000000000000002 in binary floating point, hence the tolerance rather than an exact test.
 */
export function isWholeBasisPoint(percent: number): boolean {
  const scaled = percent * 100;
  return Math.abs(scaled - Math.round(scaled)) < 1e-6;
}

/** Tiers must be non-empty, each in (0, 100] on a 0.01 step, strictly increasing, ending at 100. */
export function tierProblems(tiers: readonly number[]): TierProblem[] {
  if (tiers.length === 0) {
    return [{ code: 'tiers_empty', message: 'at least one tier is needed, and the last must be 100' }];
  }
  const problems: TierProblem[] = [];
  let previous: number | undefined;
  tiers.forEach((tier, index) => {
    if (!(tier > 0 && tier <= 100)) {
      problems.push({ index, code: 'tier_out_of_range', message: `tier ${tier} is not in (0, 100]` });
    } else if (!isWholeBasisPoint(tier)) {
      problems.push({ index, code: 'tier_precision', message: `tier ${tier} is not a multiple of 0.01` });
    }
    if (previous !== undefined && !(tier > previous)) {
      problems.push({
        index,
        code: 'tiers_not_increasing',
        message: `tier ${tier} does not exceed the tier before it (${previous})`,
      });
    }
    previous = tier;
  });
  const lastIndex = tiers.length - 1;
  if (tiers[lastIndex] !== 100) {
    problems.push({
      index: lastIndex,
      code: 'tiers_not_ending_at_100',
      message: 'the last tier must be 100, so that a successful release ends with all traffic',
    });
  }
  return problems;
}
