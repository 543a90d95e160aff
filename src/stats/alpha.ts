import { checkAlpha } from './checks.js';

/**
 * A release's α is its false-rollback budget: the probability that any test, of any changed
 * service, at any tier, rolls back a change that was in fact fine. Each test is an e-process run
 * once across all tiers and checked every tick, so by Ville's inequality it false-alarms with
 * probability at most its own level over the whole rollout; by the union bound the release's
 * probability is at most the sum of the levels. So the split is over services × tests only:
 *   α(service, test) = α / #services × w(test) / Σ w
 * with equal weights unless given. Nothing is split over tiers or ticks. A caller that restarts a
 * test's e-process (per tier, say) must pass `segments`, and each run gets α(service, test)/segments.
 * The "within"/"not worse" sides and the predicted-range test cannot cause a rollback and are not
 * part of this budget.
 */

/** The tests that can roll a service back, one e-process each for the whole rollout. */
export const ROLLBACK_TESTS: readonly string[] = [
  'error-limit',
  'latency-limit',
  'cpu-limit',
  'error-regression',
  'latency-regression',
];

export interface AlphaPlan {
  /** The release's false-rollback budget. */
  readonly alpha: number;
  /** The services the release changes (each has its own canary and tests). */
  readonly services: readonly string[];
  /** Test names (equal weights) or weights by name; default ROLLBACK_TESTS. */
  readonly tests?: readonly string[] | Readonly<Record<string, number>>;
  /** Runs of each test's e-process over the rollout; default 1 (one run spans every tier). */
  readonly segments?: number;
}

/** α per service, then per test: the level each e-process runs at. Sums to the release's α. */
export type AlphaSplit = Readonly<Record<string, Readonly<Record<string, number>>>>;

export function splitAlpha(plan: AlphaPlan): AlphaSplit {
  checkAlpha(plan.alpha);
  const services = [...new Set(plan.services)];
  if (services.length === 0) throw new RangeError('a release changes at least one service');
  const tests = plan.tests ?? ROLLBACK_TESTS;
  const weights: [string, number][] = isNameList(tests)
    ? tests.map((name): [string, number] => [name, 1])
    : Object.entries(tests);
  if (weights.length === 0) throw new RangeError('at least one test');
  if (weights.some(([, w]) => !(w > 0 && Number.isFinite(w))))
    throw new RangeError('test weights must be > 0');
  const segments = plan.segments ?? 1;
  if (!(Number.isInteger(segments) && segments >= 1))
    throw new RangeError('segments must be a whole number ≥ 1');
  const total = weights.reduce((sum, [, w]) => sum + w, 0);
  const perService = plan.alpha / services.length / segments;
  const split: Record<string, Record<string, number>> = {};
  for (const service of services) {
    split[service] = Object.fromEntries(weights.map(([name, w]) => [name, (perService * w) / total]));
  }
  return split;
}

function isNameList(tests: readonly string[] | Readonly<Record<string, number>>): tests is readonly string[] {
  return Array.isArray(tests);
}

/** ln(1/α): the e-value threshold of a test run at level α. */
export function logThreshold(alpha: number): number {
  checkAlpha(alpha);
  return Math.log(1 / alpha);
}
