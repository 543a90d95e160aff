/**
 * What the prediction model learns from: one row per metrics window of a service × revision, the
 * simulator's prediction for that window's load and that revision's profile beside what production
 * then showed. The model learns the correction (observed against simulated), so a row's targets are
 * ratios on the log scale for latency and CPU, and the error rate on a log scale (the simulator's
 * own error rate is that of the profile, usually 0, so no ratio to it would do).
 */

/** The metrics the model gives ranges for. */
export const MODEL_METRICS = [
  'latencyP50Ms',
  'latencyP95Ms',
  'latencyP99Ms',
  'errorRate',
  'cpuCores',
] as const;
export type ModelMetric = (typeof MODEL_METRICS)[number];

/** Per metric: the simulated or observed value for one window (null when unknown). */
export type MetricValues = Readonly<Record<ModelMetric, number | null>>;

/** The feature vector's names, in order (a model version records them and is checked against them). */
export const FEATURE_NAMES = [
  'logRate',
  'replicas',
  'concurrency',
  'cpuAllocation',
  'logProfileP50',
  'profileSigma',
  'logProfileCpuMs',
  'logSimP50',
  'logSimP95',
  'logSimP99',
  'simSlotUtilisation',
  'simCpuUtilisation',
  'simErrorRate',
  'hourSin',
  'hourCos',
  'revisionAgeHours',
  'recentWindows',
  'recentOwn',
  ...MODEL_METRICS.flatMap((m) => [`recentLevel.${m}`, `recentSpread.${m}`, `recentLast.${m}`]),
] as const;

/** A metric's recent figures, in its target's scale (targetOf): 0 when none was known. */
export interface RecentFigures {
  /**
   * The typical target: the median. For errors too: a burst of errors an hour ago would hold a
   * rate pooled over the windows' requests up for the whole span.
   */
  readonly level: number;
  /** The middle half's spread: upper minus lower quartile. */
  readonly spread: number;
  /** The newest window's. */
  readonly last: number;
}

/** A service's (or revision's) recent record. */
export interface RecentRecord {
  /** Windows summarised (0: none; every other figure is then 0). */
  readonly windows: number;
  /** Whether they are the revision's own windows (else its service's, any revision). */
  readonly own: boolean;
  readonly figures: Readonly<Record<ModelMetric, RecentFigures>>;
}

const NOTHING: RecentFigures = { level: 0, spread: 0, last: 0 };

export const NO_RECENT: RecentRecord = {
  windows: 0,
  own: false,
  figures: {
    latencyP50Ms: NOTHING,
    latencyP95Ms: NOTHING,
    latencyP99Ms: NOTHING,
    errorRate: NOTHING,
    cpuCores: NOTHING,
  },
};

/** The record as features (the last of FEATURE_NAMES, from `recentWindows` on). */
export function recentFeatures(record: RecentRecord): number[] {
  return [
    Math.log1p(record.windows),
    record.own ? 1 : 0,
    ...MODEL_METRICS.flatMap((m) => {
      const f = record.figures[m];
      return [f.level, f.spread, f.last];
    }),
  ];
}

/** A revision's profile as measured before the window (never from the window itself). */
export interface WindowProfile {
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly cpuMsPerRequest: number;
}

/** What the simulator said for the window's load. */
export interface SimulatedWindow {
  readonly latencyP50Ms: number;
  readonly latencyP95Ms: number;
  readonly latencyP99Ms: number;
  readonly errorRate: number;
  /** Mean cores the window's requests need: rate × CPU per request. */
  readonly cpuCores: number;
  /** Busy slots over all slots (replicas × concurrency). */
  readonly slotUtilisation: number;
}

export interface FeatureInput {
  /** Window start, epoch ms. */
  readonly at: number;
  /** Requests per second the revision served in the window. */
  readonly ratePerSec: number;
  readonly replicas: number;
  readonly concurrency: number;
  /** CPU allocation per replica, cores. */
  readonly cpuPerReplica: number;
  readonly profile: WindowProfile;
  readonly simulated: SimulatedWindow;
  /** Hours since the revision was first seen serving. */
  readonly revisionAgeHours: number;
  /**
   * What production showed the service lately (RecentResiduals): windows before this one only.
   * NO_RECENT where nothing is remembered.
   */
  readonly recent: RecentRecord;
}

/** One training row as stored: enough to rebuild every target and to score any range later. */
export interface ModelRow {
  readonly service: string;
  readonly revision: string;
  /** Window start, epoch ms. */
  readonly at: number;
  /** Window length, ms. */
  readonly windowMs: number;
  readonly requests: number;
  readonly features: readonly number[];
  readonly simulated: MetricValues;
  readonly observed: MetricValues;
}

const DAY_MS = 86_400_000;
/** Floors that keep logarithms finite for idle windows and sub-millisecond latencies. */
const MIN_RATE = 1e-3;
const MIN_MS = 1e-3;
const MIN_CORES = 1e-4;

export function buildFeatures(input: FeatureInput): number[] {
  const { profile, simulated } = input;
  const phase = (2 * Math.PI * (((input.at % DAY_MS) + DAY_MS) % DAY_MS)) / DAY_MS;
  const sigma =
    profile.p95Ms > profile.p50Ms ? Math.log(profile.p95Ms / profile.p50Ms) / 1.6448536269514722 : 0;
  const capacity = input.replicas * input.cpuPerReplica;
  return [
    Math.log(Math.max(MIN_RATE, input.ratePerSec)),
    input.replicas,
    input.concurrency,
    input.cpuPerReplica,
    Math.log(Math.max(MIN_MS, profile.p50Ms)),
    sigma,
    Math.log(Math.max(MIN_MS, profile.cpuMsPerRequest)),
    Math.log(Math.max(MIN_MS, simulated.latencyP50Ms)),
    Math.log(Math.max(MIN_MS, simulated.latencyP95Ms)),
    Math.log(Math.max(MIN_MS, simulated.latencyP99Ms)),
    simulated.slotUtilisation,
    capacity > 0 ? simulated.cpuCores / capacity : 0,
    simulated.errorRate,
    Math.sin(phase),
    Math.cos(phase),
    Math.max(0, input.revisionAgeHours),
    ...recentFeatures(input.recent),
  ];
}

/** A simulated window's figures as a row's `simulated` values (CPU unknown without a CPU profile). */
export function simulatedValues(simulated: SimulatedWindow, cpuKnown = true): MetricValues {
  return {
    latencyP50Ms: simulated.latencyP50Ms,
    latencyP95Ms: simulated.latencyP95Ms,
    latencyP99Ms: simulated.latencyP99Ms,
    errorRate: simulated.errorRate,
    cpuCores: cpuKnown ? simulated.cpuCores : null,
  };
}

/** Whether a metric's target is a log ratio (observed over simulated) rather than the value itself. */
export function isRatioMetric(metric: ModelMetric): boolean {
  return metric !== 'errorRate';
}

/**
 * The error rate's offset on the log scale: a window without errors is ln(ERROR_RATE_FLOOR), and
 * rates well below it count about alike (a window of a few thousand requests cannot tell them
 * apart anyway).
 */
export const ERROR_RATE_FLOOR = 3e-4;

/**
 * The value the model learns for a metric: ln(observed / simulated) for latency and CPU,
 * ln(observed + ERROR_RATE_FLOOR) for the error rate. Null when a side it needs is missing (or
 * not positive for a ratio). On log scales one service's figures are learned from another's
 * whatever their size: a quiet service's error rate is not given a noisy one's spread.
 */
export function targetOf(
  metric: ModelMetric,
  simulated: number | null,
  observed: number | null,
): number | null {
  if (observed === null || !Number.isFinite(observed)) return null;
  if (!isRatioMetric(metric)) return observed < 0 ? null : Math.log(observed + ERROR_RATE_FLOOR);
  if (simulated === null || !Number.isFinite(simulated)) return null;
  const floor = metric === 'cpuCores' ? MIN_CORES : MIN_MS;
  if (observed < 0 || simulated <= 0) return null;
  return Math.log(Math.max(floor, observed) / Math.max(floor, simulated));
}

const LOG_FLOOR = Math.log(ERROR_RATE_FLOOR);

/**
 * A range of error rates whose low end, as a target, is under this (a rate under the floor's,
 * 0.03%) starts at 0: below the floor the log scale hardly tells rates apart, and a window shows
 * no errors at all long before it shows a rate that low.
 */
export const ZERO_LOW_TARGET = Math.log(2 * ERROR_RATE_FLOOR);

/**
 * The target a range's calibration judges an observation by: for error rates, a target under
 * ZERO_LOW_TARGET counts as at it, since every range reaching under it holds such a window, so
 * how far under it lies must not widen the ranges.
 */
export function judgedTarget(metric: ModelMetric, target: number): number {
  return isRatioMetric(metric) ? target : Math.max(target, ZERO_LOW_TARGET);
}

/** Rates closer to 0 are 0: what is left of rounding on the log scale, not a rate any window shows. */
const ZERO_RATE = 1e-12;

/**
 * The error rate of a target, in [0, 1]. A target at ln(ERROR_RATE_FLOOR) — a window without
 * errors, or a model's quantile at that point mass — maps to 0 exactly, not to a rounding error
 * above it that a window without errors would fall short of.
 */
function rateOf(target: number): number {
  const rate = ERROR_RATE_FLOOR * Math.expm1(target - LOG_FLOOR);
  return rate < ZERO_RATE ? 0 : Math.min(1, rate);
}

/** A range in the target's scale turned back into the metric's own. */
export function metricRange(
  metric: ModelMetric,
  simulated: number,
  target: { readonly low: number; readonly high: number },
): { readonly low: number; readonly high: number } {
  if (!isRatioMetric(metric))
    return { low: target.low < ZERO_LOW_TARGET ? 0 : rateOf(target.low), high: rateOf(target.high) };
  const floor = metric === 'cpuCores' ? MIN_CORES : MIN_MS;
  const base = Math.max(floor, simulated);
  return { low: base * Math.exp(target.low), high: base * Math.exp(target.high) };
}
