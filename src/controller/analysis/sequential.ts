import type { ApplicationConfig, ReleaseConfig } from '../../config/types.js';
import { splitAlpha } from '../../stats/alpha.js';
import type { LimitTestState } from '../../stats/bernoulli.js';
import { decideLimitTest, initialLimitTest, updateLimitTest } from '../../stats/bernoulli.js';
import type { RateRatioState } from '../../stats/rate-ratio.js';
import {
  decideRateRatio,
  initialRateRatio,
  rateRatioBatch,
  updateRateRatio,
} from '../../stats/rate-ratio.js';
import type { Analysis, AnalysisResult, Finding, Observation } from '../core/observation.js';

/** Tests that can roll a canary back, per changed service: each gets an equal share of α. */
export const RED_TESTS = ['error-limit', 'latency-limit', 'cpu-limit', 'error-regression'] as const;
/** The canary's error rate may be up to this multiple of the stable's before it counts as worse. */
const ERROR_REGRESSION_TOLERANCE = 1.5;
/** "p99 ≤ L" is "P(latency > L) ≤ 1%". */
const LATENCY_TAIL = 0.01;
/** CPU windows: the canary breaches when more than this share of its windows run above the limit. */
const CPU_WINDOW_SHARE = 0.25;

interface TrackTests {
  readonly errors: LimitTestState | null;
  readonly latency: LimitTestState | null;
  readonly cpu: LimitTestState | null;
  readonly deviation: LimitTestState | null;
  readonly regression: RateRatioState;
}

/**
 * The sequential analysis of one release: anytime-valid one-sided tests of each changed service's
 * canary against its limits (error rate, latency quantile as a Bernoulli exceedance, CPU windows)
 * against the stable revision's error rate (relative regression), and against its predicted latency
 * range. The release's α is split evenly over its services and their rollback tests
 * (docs/statistics.md); each test is one e-process across all tiers.
 */
export function sequentialAnalysis(app: ApplicationConfig, release: ReleaseConfig): Analysis {
  const split = splitAlpha({
    alpha: release.alpha,
    services: release.changes.map((c) => c.service),
    tests: RED_TESTS,
  });
  const alphaOf = (service: string, test: (typeof RED_TESTS)[number]): number =>
    split[service]?.[test] ?? release.alpha / (release.changes.length * RED_TESTS.length);
  return {
    initial(service: string): TrackTests {
      const limits = app.services[service]?.limits ?? {};
      return {
        errors:
          limits.errorRate !== undefined && limits.errorRate < 1
            ? initialLimitTest({ limit: limits.errorRate, alpha: alphaOf(service, 'error-limit') })
            : null,
        latency:
          limits.latencyP99Ms !== undefined
            ? initialLimitTest({ limit: LATENCY_TAIL, alpha: alphaOf(service, 'latency-limit') })
            : null,
        cpu:
          limits.cpu !== undefined
            ? initialLimitTest({ limit: CPU_WINDOW_SHARE, alpha: alphaOf(service, 'cpu-limit') })
            : null,
        deviation: null,
        regression: initialRateRatio({
          alpha: alphaOf(service, 'error-regression'),
          tolerance: ERROR_REGRESSION_TOLERANCE,
        }),
      };
    },
    update(raw: unknown, o: Observation): AnalysisResult {
      const state = raw as TrackTests;
      const limits = app.services[o.service]?.limits ?? {};
      const canary = o.canary;
      if (canary === null) return { state, breaches: [], deviations: [], withinLimits: false };
      const errors =
        state.errors === null
          ? null
          : updateLimitTest(state.errors, { trials: canary.requests, events: canary.errors });
      const latency =
        state.latency === null || canary.slow === null
          ? state.latency
          : updateLimitTest(state.latency, {
              trials: canary.requests,
              events: Math.min(canary.slow, canary.requests),
            });
      const hot =
        canary.cpuCores !== null && canary.cpuCapacity !== null && limits.cpu !== undefined
          ? canary.cpuCores / canary.cpuCapacity > limits.cpu
          : null;
      const cpu =
        state.cpu === null || hot === null || canary.requests === 0
          ? state.cpu
          : updateLimitTest(state.cpu, { trials: 1, events: hot ? 1 : 0 });
      const deviation = updateDeviation(state.deviation, o, alphaOf(o.service, 'latency-limit'));
      const stable = o.stable;
      const regression =
        stable === null
          ? state.regression
          : updateRateRatio(
              state.regression,
              rateRatioBatch({
                canaryRequests: canary.requests,
                canaryErrors: canary.errors,
                stableRequests: stable.requests,
                stableErrors: stable.errors,
              }),
            );

      const breaches: Finding[] = [];
      const verdicts = [
        {
          test: 'error-rate-limit',
          s: errors,
          what: (r: number, u: number) =>
            `error rate ${pct(r)} breaches the ${pct(limits.errorRate ?? 0)} limit (≥ ${pct(u)} with confidence)`,
        },
        {
          test: 'latency-limit',
          s: latency,
          what: (r: number) =>
            `${pct(r)} of requests slower than ${limits.latencyP99Ms ?? 0} ms: p99 limit breached`,
        },
        {
          test: 'cpu-limit',
          s: cpu,
          what: (r: number) => `CPU above ${pct(limits.cpu ?? 0)} of its allocation in ${pct(r)} of windows`,
        },
      ];
      let within = true;
      for (const v of verdicts) {
        if (v.s === null) continue;
        const d = decideLimitTest(v.s);
        if (d.status === 'breach')
          breaches.push({ test: v.test, message: v.what(d.rate, d.lower), evidence: Math.exp(d.logEBreach) });
        if (d.status !== 'within') within = false;
      }
      const versus = decideRateRatio(regression);
      if (versus.status === 'worse') {
        breaches.push({
          test: 'error-regression',
          message: `errors regress against the stable revision (${versus.canaryEvents} on the canary, ${versus.stableEvents} on the stable, beyond ${ERROR_REGRESSION_TOLERANCE}× its rate)`,
          evidence: Math.exp(versus.logEWorse),
        });
      }
      const deviations: Finding[] = [];
      if (deviation !== null && decideLimitTest(deviation).status === 'breach' && o.predicted !== null) {
        const d = decideLimitTest(deviation);
        deviations.push({
          test: 'predicted-range',
          message: `${pct(d.rate)} of canary requests slower than the predicted ${o.predicted.latencyHighMs.toFixed(1)} ms (expected ≤ ${pct(o.predicted.nominalTail)})`,
          evidence: Math.exp(d.logEBreach),
        });
      }
      return {
        state: { errors, latency, cpu, deviation, regression },
        breaches,
        deviations,
        withinLimits: within,
      };
    },
  };
}

/**
 * YELLOW test: the share of canary requests above the predicted latency edge, against the share the
 * prediction allows. Once it fires it stays until a window looks normal again; then it restarts
 * fresh, so a later deviation is judged on new evidence.
 */
function updateDeviation(state: LimitTestState | null, o: Observation, alpha: number): LimitTestState | null {
  const p = o.predicted;
  const canary = o.canary;
  if (p === null || canary === null || canary.requests === 0) return state;
  const current = state ?? initialLimitTest({ limit: p.nominalTail, alpha });
  if (current.breachedAfter !== null && p.above / canary.requests <= 2 * p.nominalTail) return null;
  return updateLimitTest(current, { trials: canary.requests, events: Math.min(p.above, canary.requests) });
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;
}
