import type { ModelMetric } from '../calibration/features.js';
import { buildFeatures } from '../calibration/features.js';
import type { CalibratedRanges } from '../calibration/model-set.js';
import { simulatedWindowOf } from '../calibration/simulate-window.js';
import type { RevisionStats } from '../sim/model.js';
import type { ServiceProfile } from '../sim/profile.js';
import type { RevisionMetrics } from './judge.js';
import type { PredictedMetric, PredictedRangeEntry } from './types.js';

/** The model's metric behind each predicted metric (CPU utilisation is cores over the allocation). */
const MODEL_METRIC: Readonly<Record<PredictedMetric, ModelMetric>> = {
  latencyP50Ms: 'latencyP50Ms',
  latencyP95Ms: 'latencyP95Ms',
  latencyP99Ms: 'latencyP99Ms',
  errorRate: 'errorRate',
  cpuUtilisation: 'cpuCores',
};

export interface EntryContext {
  /** The service and revision the entry's figures are of (their recent record is a feature). */
  readonly service: string;
  readonly revision: string;
  readonly at: number;
  /** Requests per second the subject revision gets at the entry's tier (nominal scenario). */
  readonly ratePerSec: number;
  readonly replicas: number;
  readonly concurrency: number;
  readonly cpuPerReplica: number;
  readonly profile: ServiceProfile;
  /** The nominal scenario's simulated figures of the revision at the tier. */
  readonly stats: RevisionStats;
}

/**
 * One predicted range through the model: the features of the nominal run at the tier give the
 * correction's range (observed over simulated, learned from production), which stretches the
 * simulation's own range — its low end by the correction's low, its high end by its high. Error
 * rates are absolute: the range covers both the simulation's and the model's.
 */
export function calibrateEntry(
  entry: PredictedRangeEntry,
  calibration: CalibratedRanges,
  context: EntryContext,
): PredictedRangeEntry {
  const { stats } = context;
  const metric = MODEL_METRIC[entry.metric];
  const { features, cpuCores } = featuresOf(context, calibration);
  const centre = metric === 'errorRate' ? stats.errorRate : simulatedValue(metric, stats, cpuCores);
  const simulated = { low: entry.low, high: entry.high };
  if (!(centre > 0) && metric !== 'errorRate') return entry;
  const range = calibration.range(metric, centre, features, entry.service);
  if (metric === 'errorRate') {
    return {
      ...entry,
      low: Math.min(entry.low, range.low),
      high: Math.max(entry.high, range.high),
      source: range.source,
      simulated,
    };
  }
  return {
    ...entry,
    low: entry.low * (range.low / centre),
    high: entry.high * (range.high / centre),
    source: range.source,
    simulated,
  };
}

/** The model's features for a revision's simulated figures at a tier, and its simulated CPU cores. */
function featuresOf(
  context: EntryContext,
  calibration: CalibratedRanges,
): { features: number[]; cpuCores: number } {
  const { stats, profile } = context;
  const simulated = simulatedWindowOf(stats, context.ratePerSec, profile.cpuMsPerRequest);
  const features = buildFeatures({
    at: context.at,
    ratePerSec: context.ratePerSec,
    replicas: context.replicas,
    concurrency: context.concurrency,
    cpuPerReplica: context.cpuPerReplica,
    profile: {
      p50Ms: profile.serviceTimeMs.p50,
      p95Ms: profile.serviceTimeMs.p95,
      cpuMsPerRequest: profile.cpuMsPerRequest,
    },
    simulated,
    revisionAgeHours: 0,
    recent: calibration.recent(context.service, context.revision, context.at),
  });
  return { features, cpuCores: simulated.cpuCores };
}

/**
 * A run's figures as the learned model expects production to show them: p99 and CPU as its median
 * model corrects them (the centre of their ranges), so a simulator that is systematically
 * optimistic does not hide a breach. Only a learned model corrects; the cold-start ranges are
 * centred on the simulation and leave it as it is. Error rates stay the simulation's.
 */
export function correctMetrics(
  calibration: CalibratedRanges,
  m: RevisionMetrics,
  context: EntryContext,
): RevisionMetrics {
  const { features, cpuCores } = featuresOf(context, calibration);
  const median = (metric: ModelMetric, value: number): number =>
    value > 0 ? (calibration.centre(metric, value, features) ?? value) : value;
  const cpu = median('cpuCores', cpuCores);
  return {
    ...m,
    latencyP99Ms: median('latencyP99Ms', m.latencyP99Ms),
    cpuUtilisation: cpuCores > 0 ? m.cpuUtilisation * (cpu / cpuCores) : m.cpuUtilisation,
  };
}

function simulatedValue(metric: ModelMetric, stats: RevisionStats, cpuCores: number): number {
  switch (metric) {
    case 'latencyP50Ms':
      return stats.latencyMs.p50;
    case 'latencyP95Ms':
      return stats.latencyMs.p95;
    case 'latencyP99Ms':
      return stats.latencyMs.p99;
    default:
      return cpuCores;
  }
}
