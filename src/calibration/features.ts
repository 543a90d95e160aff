/**
 * What the prediction model learns from: one row per metrics window of a service × revision, the
 * simulator's prediction for that window's load and that revision's profile beside what production
 * then showed. The model learns the correction (observed against simulated), so a row's targets are
 * ratios on the log scale for latency and CPU, and the plain error rate (the simulator's own error
 * rate is that of the profile, usually 0).
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
] as const;

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
 * The value the model learns for a metric: ln(observed / simulated) for latency and CPU, the
 * observed error rate for errors. Null when either side is missing (or not positive for a ratio).
 */
export function targetOf(
  metric: ModelMetric,
  simulated: number | null,
  observed: number | null,
): number | null {
  if (observed === null || !Number.isFinite(observed)) return null;
  if (!isRatioMetric(metric)) return observed;
  if (simulated === null || !Number.isFinite(simulated)) return null;
  const floor = metric === 'cpuCores' ? MIN_CORES : MIN_MS;
  if (observed < 0 || simulated <= 0) return null;
  return Math.log(Math.max(floor, observed) / Math.max(floor, simulated));
}

/** A range in the target's scale turned back into the metric's own. */
export function metricRange(
  metric: ModelMetric,
  simulated: number,
  target: { readonly low: number; readonly high: number },
): { readonly low: number; readonly high: number } {
  if (!isRatioMetric(metric)) {
    return { low: Math.max(0, Math.min(1, target.low)), high: Math.max(0, Math.min(1, target.high)) };
  }
  const floor = metric === 'cpuCores' ? MIN_CORES : MIN_MS;
  const base = Math.max(floor, simulated);
  return { low: base * Math.exp(target.low), high: base * Math.exp(target.high) };
}
