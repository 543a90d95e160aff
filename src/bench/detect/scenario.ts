/**
 * The synthetic world of `bench:detect`: one service at a fixed request rate, a stable revision
 * with a 0.5% error rate and log-normal latency, and a canary that differs from it by one effect.
 * Every judge (Augur and the peers) sees the same requests and uses the same limits.
 */

/** Requests per second to the service, split between the revisions by the judge's weight. */
export const RATE = 100;
/** The stable revision's error rate. */
export const BASE_ERROR_RATE = 0.005;
/** Median latency of the stable revision, ms (log-latency ~ N(ln 50, σ²)). */
export const MEDIAN_MS = 50;
/** The release's false-rollback budget (Augur's α, the oracle's α). */
export const ALPHA = 0.01;
/** The oracle's miss probability (reference.md §2). */
export const BETA = 0.05;

/**
 * Limits every judge applies: the error rate a healthy revision stays under, and a p99 latency 10%
 * above the stable's true p99 (an operator who knows the baseline and allows 10%).
 */
export const ERROR_RATE_LIMIT = 0.01;
export const LATENCY_LIMIT_FACTOR = 1.1;

/** The tiered rollout every judge follows; one tier per bake (Flagger, Argo: one per interval). */
export const ROLLOUT_TIERS = [1, 5, 25, 50, 100] as const;
export const BAKE_S = 60;
/**
 * Augur's monitoring interval: its default (10 s) in the rollout; 1 s (the finest whole-second
 * window) on held tiers, whose figures are about the statistics rather than the interval. The peers
 * judge every minute (Flagger's default).
 */
export const AUGUR_INTERVAL_S = 10;
export const AUGUR_HELD_INTERVAL_S = 1;
export const PEER_INTERVAL_S = 60;
/** Kayenta's data points: one per metric per 10 s step. */
export const KAYENTA_STEP_S = 10;

/** Bad requests of a promoted bad canary are counted up to this time after the release starts. */
export const ROLLOUT_HORIZON_S = 3_600;
/** A held tier is watched this long. */
export const HELD_HORIZON_S = 900;

export interface Effect {
  readonly name: string;
  /** Canary error rate ÷ the stable's. */
  readonly errorRatio: number;
  /** Canary latency ÷ the stable's (a uniform slowdown: every request that much slower). */
  readonly latencyRatio: number;
  /** σ of log-latency; null for A/A rows, which alternate 0.5 and 1.0 between streams. */
  readonly sigmaLog: number | null;
}

export interface Plan {
  readonly name: string;
  /** held: the canary stays at one share; rollout: it walks ROLLOUT_TIERS. */
  readonly kind: 'held' | 'rollout';
  /** Percent of traffic: the held share, or the rollout's tiers. */
  readonly tiers: readonly number[];
  readonly horizonS: number;
  /** Augur's monitoring interval on this plan. */
  readonly augurIntervalS: number;
}

export interface BenchCase {
  readonly name: string;
  readonly effect: Effect;
  readonly plan: Plan;
}

export const AA: Effect = { name: 'A/A', errorRatio: 1, latencyRatio: 1, sigmaLog: null };

export const EFFECTS: readonly Effect[] = [
  AA,
  { name: 'errors ×1.5', errorRatio: 1.5, latencyRatio: 1, sigmaLog: 0.5 },
  { name: 'errors ×2', errorRatio: 2, latencyRatio: 1, sigmaLog: 0.5 },
  { name: 'errors ×5', errorRatio: 5, latencyRatio: 1, sigmaLog: 0.5 },
  { name: 'latency +10% σ0.5', errorRatio: 1, latencyRatio: 1.1, sigmaLog: 0.5 },
  { name: 'latency +25% σ0.5', errorRatio: 1, latencyRatio: 1.25, sigmaLog: 0.5 },
  { name: 'latency +10% σ1.0', errorRatio: 1, latencyRatio: 1.1, sigmaLog: 1 },
  { name: 'latency +25% σ1.0', errorRatio: 1, latencyRatio: 1.25, sigmaLog: 1 },
];

export const ROLLOUT: Plan = {
  name: 'tiers 1→100%',
  kind: 'rollout',
  tiers: ROLLOUT_TIERS,
  horizonS: ROLLOUT_HORIZON_S,
  augurIntervalS: AUGUR_INTERVAL_S,
};

export const PLANS: readonly Plan[] = [
  // No held 1%: at 1 req/s only gross effects show within any reasonable horizon, and the
  // rollout starts there anyway.
  ...[5, 25, 50].map((share): Plan => ({
    name: `held ${share}%`,
    kind: 'held',
    tiers: [share],
    horizonS: HELD_HORIZON_S,
    augurIntervalS: AUGUR_HELD_INTERVAL_S,
  })),
  ROLLOUT,
];

export const CASES: readonly BenchCase[] = PLANS.flatMap((plan) =>
  EFFECTS.map((effect) => ({ name: `${effect.name} @ ${plan.name}`, effect, plan })),
);

/** σ of log-latency of stream `index` of an effect (A/A alternates). */
export function sigmaOf(effect: Effect, index: number): number {
  return effect.sigmaLog ?? (index % 2 === 0 ? 0.5 : 1);
}

/** z_{0.99} of the standard normal. */
const Z99 = 2.3263478740408408;

/** The stable's true p99 latency, ms. */
export function stableP99Ms(sigmaLog: number): number {
  return MEDIAN_MS * Math.exp(Z99 * sigmaLog);
}

/** The p99 limit every judge applies, ms. */
export function latencyLimitMs(sigmaLog: number): number {
  return LATENCY_LIMIT_FACTOR * stableP99Ms(sigmaLog);
}

/** What one stream of a case is: the two revisions' behaviour. */
export interface StreamSpec {
  readonly sigmaLog: number;
  readonly stableErrorRate: number;
  readonly canaryErrorRate: number;
  readonly latencyRatio: number;
  readonly latencyLimitMs: number;
}

export function streamSpec(effect: Effect, index: number): StreamSpec {
  const sigmaLog = sigmaOf(effect, index);
  return {
    sigmaLog,
    stableErrorRate: BASE_ERROR_RATE,
    canaryErrorRate: BASE_ERROR_RATE * effect.errorRatio,
    latencyRatio: effect.latencyRatio,
    latencyLimitMs: latencyLimitMs(sigmaLog),
  };
}
