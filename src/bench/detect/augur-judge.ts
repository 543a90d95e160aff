import { activeTests, sequentialAnalysis } from '../../controller/analysis/sequential.js';
import { promotionApplied, weightApplied } from '../../controller/core/commands.js';
import { LATENCY_MARGIN_MS } from '../../controller/core/observation.js';
import type {
  Analysis,
  LogLatencyMoments,
  Observation,
  RevisionWindow,
} from '../../controller/core/observation.js';
import type { Step } from '../../controller/core/release.js';
import { createRelease, nextIntervalMs, releasePhase } from '../../controller/core/release.js';
import { tick } from '../../controller/core/tick.js';
import type { ReleaseState } from '../../controller/core/types.js';
import type { ApplicationConfig, ReleaseConfig } from '../../config/types.js';
import { splitAlpha } from '../../stats/alpha.js';
import type { Judge, Verdict } from './judge.js';
import type { Plan, StreamSpec } from './scenario.js';
import { ALPHA, BAKE_S, ERROR_RATE_LIMIT } from './scenario.js';
import { nearestRanks, Samples } from './stream.js';
import type { Second } from './stream.js';

const SERVICE = 'svc';
/** What StableBaselineSource predicts: the stable's p99 over the window, 25% slower allowed. */
const PREDICTED_TOLERANCE = 0.25;
const PREDICTED_MIN_STABLE_REQUESTS = 100;

function application(latencyLimitMs: number): ApplicationConfig {
  const revision = (name: string) => ({ name, command: ['true'], env: {}, cwd: '/' });
  return {
    name: 'bench',
    entrypoint: SERVICE,
    services: {
      [SERVICE]: {
        name: SERVICE,
        port: 1,
        stable: 'v1',
        revisions: { v1: revision('v1'), v2: revision('v2') },
        resources: { replicas: 1, concurrency: 64, cpu: 1 },
        policies: { timeoutMs: 30_000, retries: 0 },
        calls: [],
        limits: { errorRate: ERROR_RATE_LIMIT, latencyP99Ms: latencyLimitMs },
        healthPath: '/',
      },
    },
    router: { kind: 'builtin' },
    metrics: { kind: 'builtin' },
    store: { url: 'sqlite::memory:' },
    stateDir: '/nonexistent',
    source: 'bench',
  };
}

/**
 * The level each of Augur's rollback tests runs at here: the release's α split over the tests the
 * bench's service runs (its limits set an error rate and a p99, so four: both limits, both
 * comparisons with the stable). An oracle at this level is what one of those tests could at best do.
 */
export function augurTestLevel(): number {
  const limits = application(1).services[SERVICE]?.limits ?? {};
  const split = splitAlpha({ alpha: ALPHA, services: [SERVICE], tests: activeTests(limits) });
  return Math.max(...Object.values(split[SERVICE] ?? {}));
}

/** A held plan never bakes (the tier outlasts the horizon); a rollout bakes each tier a minute. */
function releaseOf(plan: Plan): ReleaseConfig {
  const held = plan.kind === 'held';
  return {
    name: 'bench',
    application: 'bench',
    changes: [{ service: SERVICE, revision: 'v2' }],
    tiers: held ? [...plan.tiers, 100] : plan.tiers,
    bake: { minDurationMs: held ? (plan.horizonS + 1) * 1000 : BAKE_S * 1000, minRequests: 50 },
    monitoring: { intervalMs: plan.augurIntervalS * 1000, warningIntervalMs: 1000 },
    risk: { low: 0.1, high: 0.5 },
    alpha: ALPHA,
    mitigations: [],
    source: 'bench',
  };
}

/** Confirms every weight at once, as a perfect router would. */
function settle(step: Step, now: number): ReleaseState {
  let state = step.state;
  for (const a of step.actions) {
    if (a.type === 'set-weight') state = weightApplied(state, a.service, a.weight, now).state;
    if (a.type === 'make-stable') state = promotionApplied(state, a.service, now).state;
  }
  return state;
}

/** One revision's requests in the current window. */
class WindowCounts {
  readonly latencies = new Samples();
  errors = 0;
  slow = 0;
  above = 0;
  /** Log-latency moments of the successful requests, as the builtin metrics keep them. */
  logN = 0;
  logSum = 0;
  logSumSq = 0;

  add(latency: number, error: number, limitMs: number, thresholdMs: number): void {
    this.latencies.push(latency);
    this.errors += error;
    if (latency > limitMs) this.slow++;
    if (latency > thresholdMs) this.above++;
    if (error === 0) {
      const l = Math.log(latency);
      this.logN++;
      this.logSum += l;
      this.logSumSq += l * l;
    }
  }

  moments(): LogLatencyMoments {
    return { n: this.logN, sum: this.logSum, sumSq: this.logSumSq };
  }

  reset(): void {
    this.latencies.clear();
    this.errors = 0;
    this.slow = 0;
    this.above = 0;
    this.logN = 0;
    this.logSum = 0;
    this.logSumSq = 0;
  }
}

/**
 * Augur as the product runs it: the pure decision core (createRelease, tick, weightApplied) with
 * the controller's sequential analysis, fed one Observation per tick (the monitoring interval, the
 * warning interval while the core watches closely), built the way
 * observe.ts builds it from the metrics provider — window counts, requests above the latency limit,
 * log-latency moments of the successful requests (and the stable's of the previous window), the
 * predicted range of StableBaselineSource, and the latency split at the stable's median of the
 * previous window.
 */
export class AugurJudge implements Judge {
  readonly name = 'augur';
  private readonly analysis: Analysis;
  private readonly limitMs: number;
  private state: ReleaseState;
  private readonly canary = new WindowCounts();
  private readonly stable = new WindowCounts();
  /** The stable's median of the previous window: the shared latency threshold. */
  private thresholdMs: number | null = null;
  /** The stable's log-latency moments of the previous window (at first: the preroll second). */
  private stableBefore: LogLatencyMoments | null = null;
  private windowStart = 0;
  /** When the controller would tick next (s): the monitoring interval, shorter while it watches closely. */
  private nextTickS: number;
  verdict: Verdict = 'running';

  constructor(plan: Plan, spec: StreamSpec) {
    const app = application(spec.latencyLimitMs);
    const release = releaseOf(plan);
    this.limitMs = spec.latencyLimitMs;
    this.nextTickS = plan.augurIntervalS;
    this.analysis = sequentialAnalysis(app, release);
    this.state = settle(createRelease(release, app, this.analysis, 0), 0);
  }

  /** The stable's traffic before the release: it sets the first window's latency threshold. */
  preroll(second: Second): void {
    const [median] = nearestRanks(second.stableLatency.slice(0, second.n), [0.5]);
    this.thresholdMs = median ?? null;
    const before = new WindowCounts();
    for (let i = 0; i < second.n; i++)
      before.add(second.stableLatency[i] ?? 0, second.stableError[i] ?? 0, Number.POSITIVE_INFINITY, 0);
    this.stableBefore = before.moments();
  }

  share(): number {
    const track = this.state.tracks[0];
    return track === undefined || this.verdict !== 'running' ? 0 : track.appliedWeight / 10_000;
  }

  consume(second: Second, share: number): void {
    const threshold = this.thresholdMs ?? Number.POSITIVE_INFINITY;
    for (let i = 0; i < second.n; i++) {
      if ((second.u[i] ?? 1) < share) {
        const canaryThreshold = threshold + LATENCY_MARGIN_MS;
        this.canary.add(
          second.canaryLatency[i] ?? 0,
          second.canaryError[i] ?? 0,
          this.limitMs,
          canaryThreshold,
        );
      } else {
        this.stable.add(second.stableLatency[i] ?? 0, second.stableError[i] ?? 0, this.limitMs, threshold);
      }
    }
  }

  endSecond(t: number): void {
    if (this.verdict !== 'running' || t < this.nextTickS) return;
    const now = t * 1000;
    const observation = this.observation(this.windowStart * 1000, now);
    this.state = settle(tick(this.state, [observation], this.analysis, now), now);
    this.windowStart = t;
    this.nextTickS = t + Math.max(1, Math.round(nextIntervalMs(this.state) / 1000));
    const phase = releasePhase(this.state);
    if (phase === 'rolled-back') this.verdict = 'rolled-back';
    else if (phase === 'promoted') this.verdict = 'promoted';
  }

  private observation(from: number, to: number): Observation {
    const c = this.canary;
    const s = this.stable;
    const [canaryP99 = null] = nearestRanks(c.latencies.copy(), [0.99]);
    const [stableP50 = null, stableP99 = null] = nearestRanks(s.latencies.copy(), [0.5, 0.99]);
    const window = (w: WindowCounts, p99: number | null): RevisionWindow => ({
      requests: w.latencies.length,
      errors: w.errors,
      slow: w.slow,
      latencyP99Ms: p99,
      cpuCores: null,
      cpuCapacity: null,
      logLatency: w.moments(),
    });
    const edge =
      stableP99 !== null && s.latencies.length >= PREDICTED_MIN_STABLE_REQUESTS
        ? stableP99 * (1 + PREDICTED_TOLERANCE)
        : null;
    const observation: Observation = {
      service: SERVICE,
      from,
      to,
      weight: this.state.tracks[0]?.appliedWeight ?? 0,
      canary: window(c, canaryP99),
      stable: { ...window(s, stableP99), logLatencyBefore: this.stableBefore },
      crashLoop: false,
      risk: null,
      predicted:
        edge === null
          ? null
          : { latencyHighMs: edge, nominalTail: 0.01, above: c.latencies.countAbove(edge) },
      latencySplit:
        this.thresholdMs === null
          ? null
          : {
              thresholdMs: this.thresholdMs,
              marginMs: LATENCY_MARGIN_MS,
              canaryAbove: c.above,
              stableAbove: s.above,
            },
    };
    // The next window's threshold: this window's stable median, fixed before that window starts.
    this.thresholdMs = stableP50;
    this.stableBefore = s.moments();
    c.reset();
    s.reset();
    return observation;
  }
}
