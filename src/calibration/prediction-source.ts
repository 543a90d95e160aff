import type { ServiceConfig } from '../config/types.js';
import type { PredictedRange, PredictionSource } from '../controller/predicted/source.js';
import type { MetricsProvider } from '../metrics/provider.js';
import type { CalibratedRanges } from './model-set.js';
import { windowRow } from './ingest.js';

export interface ModelPredictionOptions {
  /** How far back the stable's profile is measured, before the window; default 60 s. */
  readonly profileWindowMs?: number;
  /** Canary requests a window needs before it is predicted; default 5. */
  readonly minCanaryRequests?: number;
}

/** A window's p99 above the high end of its central 90% range: 5% of windows when calibrated. */
const WINDOW_TAIL = 0.05;
/** Canaries whose first window is remembered (a bound; forgetting only makes an age start over). */
const MAX_TRACKED = 1_000;

/**
 * The canary's predicted latency range for a window, from the model: the simulator at the
 * canary's load in that window, with the stable revision's profile measured just before (what the
 * release is expected to look like unless it changed something), corrected and calibrated by the
 * current model (or its cold-start rule). The harmful edge is the high end of the 90% range of p99,
 * which a calibrated range leaves a window's p99 above 5% of the time: YELLOW asks whether
 * significantly more of the canary's windows have their p99 beyond it. (Not its requests: the
 * range is of a window's p99, which in a window of 25 requests is about its slowest, and a model
 * a little narrow in its tail would put several requests of each missed window past the edge.)
 */
export class ModelPredictionSource implements PredictionSource {
  private readonly provider: MetricsProvider;
  private readonly ranges: () => CalibratedRanges;
  private readonly fallback: PredictionSource | null;
  private readonly options: Required<ModelPredictionOptions>;
  /** When each service × canary was first predicted: its age, as the training rows count it. */
  private readonly firstSeen = new Map<string, number>();

  constructor(
    provider: MetricsProvider,
    ranges: () => CalibratedRanges,
    fallback: PredictionSource | null = null,
    options: ModelPredictionOptions = {},
  ) {
    this.provider = provider;
    this.ranges = ranges;
    this.fallback = fallback;
    this.options = { profileWindowMs: 60_000, minCanaryRequests: 5, ...options };
  }

  async predict(
    service: ServiceConfig,
    stable: string,
    canary: string,
    from: number,
    to: number,
  ): Promise<PredictedRange | null> {
    const [window, before] = await Promise.all([
      this.provider.aggregate({ service: service.name, revision: canary, from, to }),
      this.provider.aggregate({
        service: service.name,
        revision: stable,
        from: from - this.options.profileWindowMs,
        to: from,
      }),
    ]);
    const ranges = this.ranges();
    const key = `${service.name}\u0000${canary}`;
    if (!this.firstSeen.has(key)) {
      if (this.firstSeen.size >= MAX_TRACKED) this.firstSeen.clear();
      this.firstSeen.set(key, from);
    }
    // The row the model would have made of this window: the same features as a training row,
    // including what production showed lately (the canary's own windows once it has a few, else
    // its service's). A row without them sits where no training row does, and the trees answer
    // such a row with whatever leaf it falls into.
    const row =
      window.requests < this.options.minCanaryRequests
        ? null
        : windowRow(service, canary, window, before, {
            revisionAgeHours: (from - (this.firstSeen.get(key) ?? from)) / 3_600_000,
            recent: ranges.recent(service.name, canary, from),
          });
    const simulated = row?.simulated.latencyP99Ms ?? null;
    if (row === null || simulated === null)
      return this.fallback?.predict(service, stable, canary, from, to) ?? null;
    const range = ranges.range('latencyP99Ms', simulated, row.features, service.name);
    return { latencyHighMs: range.high, nominalTail: WINDOW_TAIL, per: 'window' };
  }
}
