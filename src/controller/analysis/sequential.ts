import type { ApplicationConfig, ReleaseConfig } from '../../config/types.js';
import { splitAlpha } from '../../stats/alpha.js';
import type { LimitTestState } from '../../stats/bernoulli.js';
import {
  decideLimitTest,
  initialLimitTest,
  limitEvidence,
  shownBelow,
  updateLimitTest,
} from '../../stats/bernoulli.js';
import type { LogShiftState } from '../../stats/log-shift.js';
import {
  decideLogShiftTest,
  initialLogShiftTest,
  logShiftEstimate,
  seedLogShiftTest,
  updateLogShiftTest,
} from '../../stats/log-shift.js';
import type { ProportionTestState } from '../../stats/proportions.js';
import {
  decideProportionTest,
  initialProportionTest,
  updateProportionTest,
} from '../../stats/proportions.js';
import type { RateRatioState, RegressionVerdict } from '../../stats/rate-ratio.js';
import {
  ERROR_REGRESSION_MIXTURE,
  decideRateRatio,
  initialRateRatio,
  rateRatioBatch,
  updateRateRatio,
} from '../../stats/rate-ratio.js';
import type { Analysis, AnalysisResult, Finding, Observation } from '../core/observation.js';

/** Tests that can roll a canary back; each a service runs gets an equal share of its α. */
export const RED_TESTS = [
  'error-limit',
  'latency-limit',
  'cpu-limit',
  'error-regression',
  'latency-regression',
] as const;
/**
 * The canary's error rate may be up to this multiple of the stable's before it counts as worse.
 * 1: any significant increase is a regression. α bounds the false rollbacks of an equal canary,
 * and the mixture (ERROR_REGRESSION_MIXTURE, 1.5×–5×) only says which increases are caught fastest;
 * a tolerance above 1 would leave a 1.5× regression undetectable however long the rollout runs.
 */
const ERROR_REGRESSION_TOLERANCE = 1;
/**
 * Before the canary takes all the traffic, and again before it is promoted, its errors must be shown
 * not meaningfully worse than the stable's: under this multiple of the stable's rate (the error
 * comparison's "not worse" side), or under ERROR_CLEAR_SHARE_OF_LIMIT of the error limit. Halfway
 * between the smallest increase the comparison bets on (1.5×) and the one it bets on most (2×): an
 * equal canary is shown under it after ≈ 180 errors between the two revisions, a 1.5× one gains
 * 0.003 nats per error against 0.04 (in practice never), so a small regression that its limit
 * does not catch waits at the tier until the comparison does, instead of being promoted.
 * bench:detect (docs/benchmarks.md) measures what it costs a healthy release and saves.
 */
export const ERROR_NOT_WORSE_MARGIN = 1.75;
/**
 * The other way to clear the errors: the canary's rate shown under this share of its limit. A
 * canary that has served a thousand requests with hardly an error has nothing to compare, and is
 * far enough from its limit that a relative increase matters little. With no error at all it is
 * shown after ≈ 840 requests at α 0.01 (≈ 1,260 at half the limit). On bench:detect three
 * quarters instead of half caught as many 1.5× regressions (95%) and promoted healthy releases
 * sooner (600 s against 650 s; docs/benchmarks.md).
 */
export const ERROR_CLEAR_SHARE_OF_LIMIT = 0.75;
/**
 * The latency comparison on the log scale tolerates a canary this much slower than the stable,
 * relatively (the release's `tolerance.latencyIncrease`, default 0) or absolutely (at the stable's
 * geometric-mean latency), whichever is larger: the null is "canary ≤ stable × (1 + max(δ, a / g))".
 * The absolute part is for sub-millisecond services, whose canary at a tenth of the load answers
 * ~0.2 ms later (a process less busy wakes up more slowly): no regression, but a large relative one.
 * At 50 ms it tolerates 0.5%.
 */
export const LATENCY_ABSOLUTE_TOLERANCE_MS = 0.25;
/** The "not worse" side's margin over the tolerated ratio: 10% slower than that is "worse". */
const LATENCY_NOT_WORSE_MARGIN = 1.1;
/** "p99 ≤ L" is "P(latency > L) ≤ 1%". */
const LATENCY_TAIL = 0.01;
/**
 * A fresh process answers its first requests more slowly (JIT compilation, lazy set-up, cold caches
 * and connection pools): a new shop cart process here answered its first 10 requests 27% slower
 * (geometric mean) than its 50th to 60th, the next 10 17% slower, the next 4%; in the demo a canary
 * of v1's code was once rolled back for a "latency regression" of 55% over its first 25 requests.
 * The latency comparison with the warm stable, and the one with the predicted range (YELLOW), start
 * after the canary has served this many requests per replica, counted in whole windows. Errors and
 * limits count from the first request.
 */
export const LATENCY_WARMUP_REQUESTS_PER_REPLICA = 20;
/** CPU windows: the canary breaches when more than this share of its windows run above the limit. */
const CPU_WINDOW_SHARE = 0.25;

type LatencyRegression = ProportionTestState | LogShiftState;

interface TrackTests {
  readonly errors: LimitTestState | null;
  readonly latency: LimitTestState | null;
  readonly cpu: LimitTestState | null;
  readonly deviation: LimitTestState | null;
  readonly regression: RateRatioState;
  /**
   * The latency comparison: on the log scale when the metrics give log-latency moments, else on
   * the share of requests slower than a shared threshold. Null until the first window that can
   * feed either (the choice depends on what the metrics source provides, never on the values);
   * absent in states stored before the comparison existed.
   */
  readonly latencyRegression?: LatencyRegression | null;
  /**
   * Canary requests analysed so far, for the latency comparison's warm-up; absent in states stored
   * before it existed (their canaries are long warm).
   */
  readonly canaryRequests?: number;
}

/**
 * The sequential analysis of one release: anytime-valid one-sided tests of each changed service's
 * canary against its limits (error rate, latency quantile as a Bernoulli exceedance, CPU windows),
 * against the stable revision (errors as a relative rate, latency as the shift of mean log-latency,
 * or the share of requests slower than a shared threshold when the metrics have no log-latency
 * moments), and against its predicted latency range. The release's α is split
 * evenly over its services, then over the rollback tests each service actually runs (a limit it does
 * not set spends no budget); each test is one e-process across all tiers (docs/statistics.md).
 */
export function sequentialAnalysis(app: ApplicationConfig, release: ReleaseConfig): Analysis {
  const services = [...new Set(release.changes.map((c) => c.service))];
  const split = Object.fromEntries(
    services.map((service) => [
      service,
      splitAlpha({
        alpha: release.alpha / services.length,
        services: [service],
        tests: activeTests(app.services[service]?.limits ?? {}),
      })[service],
    ]),
  );
  const alphaOf = (service: string, test: (typeof RED_TESTS)[number]): number =>
    split[service]?.[test] ?? release.alpha / (services.length * RED_TESTS.length);
  // Promotion needs every within and not-worse side at once: an intersection–union test, so each
  // side runs at the service's whole share of α, not at one test's (docs/statistics.md).
  const promotionAlpha = release.alpha / services.length;
  const latencyIncrease = release.tolerance?.latencyIncrease ?? 0;
  return {
    initial(service: string): TrackTests {
      const limits = app.services[service]?.limits ?? {};
      return {
        errors:
          limits.errorRate !== undefined && limits.errorRate < 1
            ? initialLimitTest({
                limit: limits.errorRate,
                alpha: alphaOf(service, 'error-limit'),
                promotionAlpha,
              })
            : null,
        latency:
          limits.latencyP99Ms !== undefined
            ? initialLimitTest({
                limit: LATENCY_TAIL,
                alpha: alphaOf(service, 'latency-limit'),
                promotionAlpha,
              })
            : null,
        cpu:
          limits.cpu !== undefined
            ? initialLimitTest({
                limit: CPU_WINDOW_SHARE,
                alpha: alphaOf(service, 'cpu-limit'),
                promotionAlpha,
              })
            : null,
        deviation: null,
        regression: initialRateRatio({
          alpha: alphaOf(service, 'error-regression'),
          tolerance: ERROR_REGRESSION_TOLERANCE,
          mixture: ERROR_REGRESSION_MIXTURE,
          margin: ERROR_NOT_WORSE_MARGIN,
        }),
        latencyRegression: null,
        canaryRequests: 0,
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
      // A CPU figure that is not a number says nothing: the window is not counted either way.
      const hot =
        canary.cpuCores !== null &&
        Number.isFinite(canary.cpuCores) &&
        canary.cpuCapacity !== null &&
        limits.cpu !== undefined
          ? canary.cpuCores / canary.cpuCapacity > limits.cpu
          : null;
      const cpu =
        state.cpu === null || hot === null || canary.requests === 0
          ? state.cpu
          : updateLimitTest(state.cpu, { trials: 1, events: hot ? 1 : 0 });
      // Latency against the stable or against its prediction waits for the canary to warm up.
      const replicas = app.services[o.service]?.resources.replicas ?? 1;
      const warm =
        state.canaryRequests === undefined ||
        state.canaryRequests >= LATENCY_WARMUP_REQUESTS_PER_REPLICA * replicas;
      const deviation = warm
        ? updateDeviation(state.deviation, o, alphaOf(o.service, 'latency-limit'))
        : state.deviation;
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

      const latencyRegression = warm
        ? updateLatencyRegression(
            state.latencyRegression ?? null,
            o,
            alphaOf(o.service, 'latency-regression'),
            latencyIncrease,
          )
        : (state.latencyRegression ?? null);
      const canaryRequests =
        state.canaryRequests === undefined ? undefined : state.canaryRequests + canary.requests;

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
      let closest: { test: string; share: number } | null = null;
      const near = (test: string, logE: number, logThreshold: number): void => {
        const share = logE / logThreshold;
        if (closest === null || share > closest.share) closest = { test, share };
      };
      for (const v of verdicts) {
        if (v.s === null) continue;
        // The bounds (for the message) cost ~80× the status: computed only for a breach.
        const evidence = limitEvidence(v.s);
        near(v.test, evidence.logEBreach, evidence.logThreshold);
        const status = evidence.status;
        if (status === 'breach') {
          const d = decideLimitTest(v.s);
          breaches.push({ test: v.test, message: v.what(d.rate, d.lower), evidence: Math.exp(d.logEBreach) });
        }
        if (status !== 'within') within = false;
      }
      const versus = decideRateRatio(regression);
      near('error-regression', versus.logEWorse, versus.logThreshold);
      if (versus.status === 'worse') {
        breaches.push({
          test: 'error-regression',
          message: `errors regress against the stable revision (${versus.canaryEvents} on the canary, ${versus.stableEvents} on the stable, beyond ${ERROR_REGRESSION_TOLERANCE}× its rate)`,
          evidence: Math.exp(versus.logEWorse),
        });
      }
      if (latencyRegression !== null) {
        const verdict =
          latencyRegression.kind === 'log-shift'
            ? decideLogShiftTest(latencyRegression)
            : decideProportionTest(latencyRegression);
        near('latency-regression', verdict.logEWorse, verdict.logThreshold);
        if (verdict.status === 'worse') breaches.push(latencyFinding(latencyRegression, verdict, o));
      }
      const deviations: Finding[] = [];
      if (deviation !== null && o.predicted !== null && limitEvidence(deviation).status === 'breach') {
        const rate = deviation.trials === 0 ? 0 : deviation.events / deviation.trials;
        deviations.push({
          test: 'predicted-range',
          message:
            o.predicted.per === 'window'
              ? `${deviation.events} of ${deviation.trials} canary windows with a p99 above the predicted ${o.predicted.latencyHighMs.toFixed(1)} ms (expected ≤ ${pct(o.predicted.nominalTail)} of windows)`
              : `${pct(rate)} of canary requests slower than the predicted ${o.predicted.latencyHighMs.toFixed(1)} ms (expected ≤ ${pct(o.predicted.nominalTail)})`,
          evidence: Math.exp(limitEvidence(deviation).logEBreach),
        });
      }
      return {
        state: {
          errors,
          latency,
          cpu,
          deviation,
          regression,
          latencyRegression,
          ...(canaryRequests === undefined ? {} : { canaryRequests }),
        },
        breaches,
        deviations,
        // A service without limits has no limit test to be confident: it is within them only once
        // its canary has served a request (a canary that served none has shown nothing).
        withinLimits: within && (canaryRequests === undefined || canaryRequests > 0),
        // A service without an error limit sets no rate its errors must stay under: nothing to ask.
        errorsNotWorse:
          errors === null ||
          versus.status === 'not-worse' ||
          shownBelow(errors, (limits.errorRate ?? 1) * ERROR_CLEAR_SHARE_OF_LIMIT),
        closest,
      };
    },
  };
}

/** The rollback tests a service with these limits runs: each gets a share of the service's α. */
export function activeTests(limits: ApplicationConfig['services'][string]['limits']): string[] {
  return RED_TESTS.filter((test) => {
    if (test === 'error-limit') return limits.errorRate !== undefined && limits.errorRate < 1;
    if (test === 'latency-limit') return limits.latencyP99Ms !== undefined;
    if (test === 'cpu-limit') return limits.cpu !== undefined;
    return true;
  });
}

/**
 * Latency against the stable revision. With log-latency moments from the metrics (the builtin
 * provider has them): the canary's mean log-latency against the stable's, beyond the tolerance
 * (stats/log-shift.ts), windows pooled per canary weight. Without them: the share of requests slower
 * than a threshold fixed before the window (the canary's counted beyond a small margin, see
 * `Observation.latencySplit`), as a sequence of 2×2 tables (stats/proportions.ts). One e-process
 * either way, chosen at the first window that can feed one; a window that cannot feed the chosen
 * test is skipped (no evidence either way).
 */
function updateLatencyRegression(
  state: LatencyRegression | null,
  o: Observation,
  alpha: number,
  latencyIncrease: number,
): LatencyRegression | null {
  if (o.canary === null || o.stable === null) return state;
  const canary = o.canary.logLatency ?? null;
  const stable = o.stable.logLatency ?? null;
  let current = state;
  if (current === null) {
    if (canary !== null && stable !== null) {
      const fresh = initialLogShiftTest({
        alpha,
        relativeTolerance: latencyIncrease,
        absoluteTolerance: LATENCY_ABSOLUTE_TOLERANCE_MS,
        margin: (1 + latencyIncrease) * LATENCY_NOT_WORSE_MARGIN,
      });
      const before = o.stable.logLatencyBefore ?? null;
      current = before === null ? fresh : seedLogShiftTest(fresh, before);
    } else if (o.latencySplit !== null && o.latencySplit !== undefined) {
      current = initialProportionTest({ alpha });
    } else {
      return null;
    }
  }
  if (current.kind === 'log-shift') {
    if (canary === null || stable === null) return current;
    return updateLogShiftTest(current, { canary, stable, stratum: o.weight });
  }
  return updateSplit(current, o);
}

function updateSplit(state: ProportionTestState, o: Observation): ProportionTestState {
  const split = o.latencySplit;
  if (split === null || split === undefined || o.canary === null || o.stable === null) return state;
  const batch = {
    canaryRequests: o.canary.requests,
    canaryEvents: Math.min(split.canaryAbove, o.canary.requests),
    stableRequests: o.stable.requests,
    stableEvents: Math.min(split.stableAbove, o.stable.requests),
  };
  // Providers that round (sketches) may report fractional or inconsistent counts: the table needs
  // whole counts, and a window without both revisions carries no comparison.
  if (batch.canaryRequests === 0 || batch.stableRequests === 0) return state;
  if (!Object.values(batch).every((v) => Number.isInteger(v) && v >= 0)) return state;
  return updateProportionTest(state, batch);
}

function latencyFinding(state: LatencyRegression, verdict: RegressionVerdict, o: Observation): Finding {
  const evidence = Math.exp(verdict.logEWorse);
  if (state.kind === 'log-shift') {
    const shift = logShiftEstimate(state) ?? 0;
    return {
      test: 'latency-regression',
      message: `latency regresses against the stable revision (canary's geometric-mean latency ${pct(Math.expm1(shift))} above the stable's over ${state.canary.n} canary requests, beyond the tolerated max(${pct(state.relativeTolerance)}, ${state.absoluteTolerance} ms))`,
      evidence,
    };
  }
  return {
    test: 'latency-regression',
    message: `latency regresses against the stable revision (${pct(state.canaryEvents / Math.max(1, state.canaryRequests))} of canary requests slower than ${splitThreshold(o)}, against ${pct(state.stableEvents / Math.max(1, state.stableRequests))} of the stable's slower than its median)`,
    evidence,
  };
}

/** The canary's threshold in the split comparison, said the way it was computed. */
function splitThreshold(o: Observation): string {
  const split = o.latencySplit;
  if (split === null || split === undefined) return "the stable's median";
  const plain = split.thresholdMs + split.marginMs;
  const canary = split.canaryThresholdMs ?? plain;
  const scaled = canary > plain + 1e-9 ? ' times the tolerated increase' : '';
  return `${canary.toFixed(2)} ms (the stable's median${scaled} plus ${split.marginMs} ms)`;
}

/**
 * YELLOW test: the share of canary requests above the predicted latency edge — or, for a range of
 * the window's p99 (`per: 'window'`), the share of windows whose p99 is above it — against the
 * share the prediction allows. Once it fires it stays until a window looks normal again; then it
 * restarts fresh, so a later deviation is judged on new evidence.
 */
function updateDeviation(state: LimitTestState | null, o: Observation, alpha: number): LimitTestState | null {
  const p = o.predicted;
  const canary = o.canary;
  if (p === null || canary === null || canary.requests === 0) return state;
  const current = state ?? initialLimitTest({ limit: p.nominalTail, alpha });
  if (p.per === 'window') {
    if (canary.latencyP99Ms === null) return current;
    const beyond = canary.latencyP99Ms > p.latencyHighMs ? 1 : 0;
    if (current.breachedAfter !== null && beyond === 0) return null;
    return updateLimitTest(current, { trials: 1, events: beyond });
  }
  if (current.breachedAfter !== null && p.above / canary.requests <= 2 * p.nominalTail) return null;
  return updateLimitTest(current, { trials: canary.requests, events: Math.min(p.above, canary.requests) });
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;
}
