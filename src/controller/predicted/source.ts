import type { ServiceConfig } from '../../config/types.js';
import type { MetricsProvider } from '../../metrics/provider.js';

/**
 * Where the canary's predicted ranges come from. The first source derives them from the stable
 * revision's live metrics with a tolerance; a simulation-based source will implement the same
 * interface.
 */
export interface PredictedRange {
  /** The harmful edge of the predicted range of the canary's latency in this window. */
  readonly latencyHighMs: number;
  /**
   * What the prediction allows above that edge: per request (the default), the share of requests;
   * per window, the probability that a window's p99 lies above it (the edge is the high end of a
   * calibrated range of the window's p99).
   */
  readonly nominalTail: number;
  readonly per?: 'request' | 'window';
}

export interface PredictionSource {
  predict(
    service: ServiceConfig,
    stable: string,
    canary: string,
    from: number,
    to: number,
  ): Promise<PredictedRange | null>;
}

/** Predicts "like the stable revision, up to `tolerance` slower at p99". */
export class StableBaselineSource implements PredictionSource {
  private readonly provider: MetricsProvider;
  private readonly tolerance: number;
  private readonly minStableRequests: number;

  constructor(provider: MetricsProvider, tolerance = 0.25, minStableRequests = 100) {
    this.provider = provider;
    this.tolerance = tolerance;
    this.minStableRequests = minStableRequests;
  }

  async predict(
    service: ServiceConfig,
    stable: string,
    _canary: string,
    from: number,
    to: number,
  ): Promise<PredictedRange | null> {
    const aggregate = await this.provider.aggregate({ service: service.name, revision: stable, from, to });
    const p99 = aggregate.latency.p99;
    if (p99 === null || aggregate.requests < this.minStableRequests) return null;
    return { latencyHighMs: p99 * (1 + this.tolerance), nominalTail: 0.01 };
  }
}

/** A re-prediction of the tiers still ahead from what the canary has shown so far. */
export interface Forecast {
  /** Probability of breaching an acceptable limit at a later tier, in [0, 1]. */
  readonly risk: number;
  /** The first later tier (percent) at which a breach is predicted, or null. */
  readonly breachTier: number | null;
  /** The failure point, for people: what breaks, by how much, at which tier. */
  readonly detail: string;
}

export interface ForecastRequest {
  readonly service: ServiceConfig;
  readonly stable: string;
  readonly canary: string;
  /** The release's tiers (percent) and the index of the current one. */
  readonly tiers: readonly number[];
  readonly tierIndex: number;
  /** The current tier's observations so far: from the router's confirmation of its weight to `to`. */
  readonly from: number;
  readonly to: number;
}

/**
 * Re-predicts the remaining tiers from the canary's observed profile. Null when there is not yet
 * enough to say (the controller then has no risk figure, which never promotes by itself).
 */
export interface Forecaster {
  forecast(request: ForecastRequest): Promise<Forecast | null>;
}
