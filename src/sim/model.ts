/**
 * The simulation's input: a queueing network built from a DeploymentConfiguration, measured
 * ServiceProfiles and one scenario. Pure data (structured-clone safe), so it crosses to worker
 * threads unchanged. Times are milliseconds of simulated time.
 */

/** How long a request holds a concurrency slot for its own work (dependency calls excluded). */
export type ServiceTimeDistribution =
  | { readonly kind: 'deterministic'; readonly ms: number }
  | { readonly kind: 'exponential'; readonly meanMs: number }
  /** exp(N(ln medianMs, sigma²)). */
  | { readonly kind: 'lognormal'; readonly medianMs: number; readonly sigma: number }
  /** Resampled uniformly from measured values (a sandbox profile's sample). */
  | { readonly kind: 'empirical'; readonly samplesMs: readonly number[] };

/** A revision of a service: its own pool of replicas receiving `share` of the service's requests. */
export interface SimRevision {
  readonly name: string;
  /** Fraction of the service's requests routed here, in [0, 1]; a service's shares sum to 1. */
  readonly share: number;
  readonly replicas: number;
  /** Requests one replica serves at once; further requests wait in that replica's FIFO queue. */
  readonly concurrency: number;
  /** CPU cores allocated per replica (`resources.cpu`): the denominator of CPU utilisation. */
  readonly cpuCores: number;
  readonly serviceTime: ServiceTimeDistribution;
  /** CPU time burnt per request, in milliseconds (accounting, not a second queue). */
  readonly cpuMsPerRequest: number;
  /** Probability that the revision answers an error after its own work (no dependency calls made). */
  readonly errorProbability: number;
}

export interface SimCall {
  /** Index into SimModel.services. */
  readonly service: number;
  /** Mean calls per request: floor(perRequest) calls, plus one more with probability of the fraction. */
  readonly perRequest: number;
  readonly mode: 'sequential' | 'parallel';
}

export interface SimService {
  readonly name: string;
  readonly revisions: readonly SimRevision[];
  /** A caller gives up on a call to this service after timeoutMs (the callee keeps working). */
  readonly timeoutMs: number;
  /** Failed or timed-out calls to this service are retried this many times. */
  readonly retries: number;
  /** Made in order after the request's own work, holding its concurrency slot meanwhile. */
  readonly calls: readonly SimCall[];
}

/** Arrival rate over time: Poisson arrivals whose rate is piecewise constant. */
export interface ArrivalProcess {
  /** Requests per second to the entrypoint before multipliers. */
  readonly ratePerSec: number;
  /**
   * Rate multipliers by time: from `fromMs` on (simulated time), the rate is ratePerSec × multiplier,
   * until the next segment. Empty: constant rate.
   */
  readonly segments: readonly { readonly fromMs: number; readonly multiplier: number }[];
}

export interface SimModel {
  readonly services: readonly SimService[];
  /** Index of the service external requests arrive at. */
  readonly entrypoint: number;
  readonly arrivals: ArrivalProcess;
  /** Simulated time measured (after warm-up). */
  readonly durationMs: number;
  /** Simulated time run before measuring, so queues reach steady state. */
  readonly warmupMs: number;
}

/** Per service × revision, over the measured period. */
export interface RevisionStats {
  readonly service: string;
  readonly revision: string;
  /** Attempts that reached the revision (retries included). */
  readonly requests: number;
  /** Attempts the revision answered with an error (own errors and failed dependencies). */
  readonly errors: number;
  /** Attempts whose caller gave up (timeout), counted at the callee. */
  readonly timeouts: number;
  /** Latency as the caller saw it (queueing + work + calls, capped at the timeout), in ms. */
  readonly latencyMs: {
    readonly p50: number;
    readonly p95: number;
    readonly p99: number;
    readonly mean: number;
  };
  /** errors+timeouts / requests. */
  readonly errorRate: number;
  /** CPU used / (replicas × cpuCores × duration). May exceed 1: demand beyond the allocation. */
  readonly cpuUtilisation: number;
  /** Mean busy slots / (replicas × concurrency). */
  readonly slotUtilisation: number;
  readonly meanQueueLength: number;
  readonly maxQueueLength: number;
  /** Mean time attempts waited in a replica's queue before getting a slot, in ms (simulate fills it). */
  readonly meanWaitMs?: number;
  /** Fraction of attempts that found no free slot and had to wait (simulate fills it). */
  readonly waitedFraction?: number;
}

export interface ServiceStats {
  readonly service: string;
  /** Calls made to the service by callers (first attempts only) or external arrivals. */
  readonly calls: number;
  /** Attempts including retries. */
  readonly attempts: number;
  /** attempts / calls: how much retries amplify load (1 = none). */
  readonly retryAmplification: number;
  readonly revisions: readonly RevisionStats[];
}

export interface SimRunResult {
  readonly seed: number;
  /** Events processed (arrivals, completions, timeouts …), for throughput figures. */
  readonly events: number;
  readonly services: readonly ServiceStats[];
  /** End-to-end at the entrypoint. */
  readonly entry: {
    readonly requests: number;
    readonly errorRate: number;
    readonly latencyMs: {
      readonly p50: number;
      readonly p95: number;
      readonly p99: number;
      readonly mean: number;
    };
  };
}
