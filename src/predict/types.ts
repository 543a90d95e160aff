import type { ServiceProfile } from '../sim/profile.js';

/** The metrics a prediction gives a range for. */
export type PredictedMetric =
  'latencyP50Ms' | 'latencyP95Ms' | 'latencyP99Ms' | 'errorRate' | 'cpuUtilisation';

export const PREDICTED_METRICS: readonly PredictedMetric[] = [
  'latencyP50Ms',
  'latencyP95Ms',
  'latencyP99Ms',
  'errorRate',
  'cpuUtilisation',
];

/** Predicted low/high of one metric of one service's revision at one tier's traffic share. */
export interface PredictedRangeEntry {
  readonly service: string;
  /** The revision the range is for (the canary of a changed service, else the stable). */
  readonly revision: string;
  readonly metric: PredictedMetric;
  /** The tier's traffic share of the changed services, in percent. */
  readonly tier: number;
  readonly low: number;
  readonly high: number;
  /** The acceptable limit of this metric, when the application sets one. */
  readonly limit: number | null;
  /** Share of scenario-weighted runs in which the metric breached its limit at this tier. */
  readonly breachProbability: number;
  /**
   * Where the range comes from: the simulation corrected by the learned model ('learned'), or the
   * simulation widened by the cold-start rule (docs/model.md). Absent: the simulation's own spread.
   */
  readonly source?: 'learned' | 'simulation-conformal' | 'simulation-widened';
  /** The simulation's own range, before the model's correction (present with `source`). */
  readonly simulated?: { readonly low: number; readonly high: number };
}

export type FailureKind =
  'cpu-saturation' | 'concurrency-saturation' | 'limit-breach' | 'retry-amplification' | 'cascade';

/** Something that breaks first: which resource, at what load, under which scenario. */
export interface FailurePoint {
  readonly kind: FailureKind;
  readonly service: string;
  readonly revision: string;
  /** What saturates or breaches (e.g. "cpu", "concurrency", "latencyP99Ms"). */
  readonly resource: string;
  /** Multiple of the nominal load at which it happens; null when load is not what triggers it. */
  readonly loadMultiple: number | null;
  /** The first tier (percent) at which it happens in this scenario, when tier-dependent. */
  readonly tier: number | null;
  readonly scenario: string;
  /** One sentence for humans. */
  readonly detail: string;
}

export interface ScenarioSummary {
  readonly name: string;
  readonly weight: number;
  readonly runs: number;
  /** Share of this scenario's runs that breached some limit before 100%. */
  readonly breachProbability: number;
  readonly description: string;
}

/** Utilisation vs load of one service's revision, for the report's plots. */
export interface UtilisationCurve {
  readonly service: string;
  readonly revision: string;
  readonly points: readonly { readonly loadMultiple: number; readonly cpu: number; readonly slots: number }[];
}

export interface SimulationResult {
  readonly release: string;
  readonly application: string;
  /** Estimated probability of breaching an acceptable limit anywhere before 100%, in [0, 1]. */
  readonly riskScore: number;
  /** Confidence of the predicted ranges (e.g. 0.9: each range holds 90% of the runs). */
  readonly confidence: number;
  readonly tiers: readonly number[];
  readonly ranges: readonly PredictedRangeEntry[];
  readonly failurePoints: readonly FailurePoint[];
  readonly scenarios: readonly ScenarioSummary[];
  readonly seeds: readonly number[];
  readonly utilisation: readonly UtilisationCurve[];
  /** First tier at which the nominal scenario breaches a limit, or null. */
  readonly breachTier: number | null;
  /**
   * Changed services whose new revision's own figures breach a limit where the baseline does not,
   * under nominal load in at least half the seeds at some tier (a service that only sees another's
   * failure through its calls is not one, nor one breaching in a single noisy run).
   */
  readonly culprits?: readonly string[];
  /** What the numbers rest on. */
  readonly modelVersion: string;
  readonly provenance: {
    readonly profiles: readonly ServiceProfile[];
    /** Stored history the load profile came from, or null when there was none. */
    readonly history: { readonly minutes: number; readonly from: number; readonly to: number } | null;
    readonly nominalRatePerSec: number;
    readonly peakRatePerSec: number;
  };
  /** One line: "cart saturates its CPU at the 100% tier (1.3× allocation) under nominal load". */
  readonly summary: string;
}
