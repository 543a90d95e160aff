import type { ServiceTimeDistribution } from './model.js';

/**
 * What a revision costs per request, measured in the sandbox (or from production observations).
 * The simulation turns it into a SimRevision.
 */
export interface ServiceProfile {
  readonly service: string;
  readonly revision: string;
  /** Time a request holds the revision's concurrency slot for its own work (calls excluded). */
  readonly serviceTime: ServiceTimeDistribution;
  /** Summary of the same distribution, for reports. */
  readonly serviceTimeMs: {
    readonly p50: number;
    readonly p95: number;
    readonly p99: number;
    readonly mean: number;
  };
  readonly errorProbability: number;
  readonly cpuMsPerRequest: number;
  /** Resident memory growth per 1,000 requests, in MiB (0 when flat). */
  readonly memoryGrowthMbPer1k: number;
  /** How many requests the figures rest on. */
  readonly requests: number;
  /** Where the figures came from. */
  readonly source: 'sandbox' | 'production' | 'configured';
}
