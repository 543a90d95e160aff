import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../core/random.js';
import { ROLLBACK_TESTS, splitAlpha } from './alpha.js';
import { initialLimitTest, updateLimitTest } from './bernoulli.js';
import { initialLogShiftTest, logMoments, updateLogShiftTest } from './log-shift.js';
import { ERROR_REGRESSION_MIXTURE, initialRateRatio, rateRatioBatch, updateRateRatio } from './rate-ratio.js';
import { sampleBinomial, sampleNormal } from './simulate.js';

/**
 * A whole release under A/A: two changed services, each with the five rollback tests at its share
 * of α, walked through the tiers and checked every tick. Every canary sits exactly on its limits
 * (the hardest healthy canary there is) and is identical to its stable, whose log-latency has a
 * heavy right tail (5% of requests slower by an exponential factor); the comparisons run as the
 * controller runs them (the error mixture of the controller, latency on the log scale with no
 * tolerance). A false rollback is any test of any service rejecting; its rate must stay within the
 * release's α.
 */
describe('A/A over a whole release', () => {
  it('two services × five tests, every tick of every tier: false rollbacks ≤ α', () => {
    const alpha = 0.05;
    const services = ['payments', 'catalog'];
    const split = splitAlpha({ alpha, services });
    const tiers = [0.01, 0.05, 0.25, 0.5];
    const random = new SeededRandom(2024);
    const releases = 500;
    let rolledBack = 0;
    for (let r = 0; r < releases; r++) {
      let anyRejected = false;
      for (const service of services) {
        const level = (test: string): number => split[service]?.[test] ?? Number.NaN;
        let errorLimit = initialLimitTest({ limit: 0.01, alpha: level('error-limit') });
        let latencyLimit = initialLimitTest({ limit: 0.01, alpha: level('latency-limit') });
        let cpuLimit = initialLimitTest({ limit: 0.05, alpha: level('cpu-limit') });
        let errors = initialRateRatio({
          alpha: level('error-regression'),
          mixture: ERROR_REGRESSION_MIXTURE,
        });
        let latency = initialLogShiftTest({ alpha: level('latency-regression') });
        for (const share of tiers) {
          for (let tick = 0; tick < 15; tick++) {
            const canaryRequests = Math.max(1, Math.round(200 * share));
            const stableRequests = 200 - canaryRequests;
            const canaryErrors = sampleBinomial(random, canaryRequests, 0.01);
            errorLimit = updateLimitTest(errorLimit, { trials: canaryRequests, events: canaryErrors });
            latencyLimit = updateLimitTest(latencyLimit, {
              trials: canaryRequests,
              events: sampleBinomial(random, canaryRequests, 0.01),
            });
            cpuLimit = updateLimitTest(cpuLimit, { trials: 10, events: sampleBinomial(random, 10, 0.05) });
            errors = updateRateRatio(
              errors,
              rateRatioBatch({
                canaryRequests,
                canaryErrors,
                stableRequests,
                stableErrors: sampleBinomial(random, stableRequests, 0.01),
              }),
            );
            const latencyMs = (): number =>
              Math.exp(0.6 * sampleNormal(random) - (random.next() < 0.05 ? Math.log(1 - random.next()) : 0));
            const canary = Array.from({ length: canaryRequests }, latencyMs);
            const stable = Array.from({ length: stableRequests }, latencyMs);
            latency = updateLogShiftTest(latency, {
              canary: logMoments(canary),
              stable: logMoments(stable),
              stratum: share,
            });
          }
        }
        const rejected = [
          errorLimit.breachedAfter,
          latencyLimit.breachedAfter,
          cpuLimit.breachedAfter,
          errors.worseAfter,
          latency.worseAfter,
        ].some((at) => at !== null);
        anyRejected ||= rejected;
      }
      if (anyRejected) rolledBack++;
    }
    const rate = rolledBack / releases;
    console.log(
      `A/A release (${services.length} services × ${ROLLBACK_TESTS.length} tests, α ${alpha}): ${rolledBack}/${releases} = ${rate.toFixed(4)}`,
    );
    expect(rate).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / releases));
  });
});
