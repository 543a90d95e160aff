/**
 * The metrics provider port: what the rollout controller reads about a service × revision. Every
 * method is async so that a Prometheus-backed adapter can implement it as well as the builtin one.
 *
 * Time ranges are ms since the epoch, half-open [from, to), aligned to whole seconds.
 */
import { AugurError } from '../core/errors.js';

export interface RangeQuery {
  readonly service: string;
  readonly revision: string;
  readonly from: number;
  readonly to: number;
  /**
   * Count nothing from outside [from, to), even where the provider only keeps coarser windows that
   * straddle an end (the builtin provider's stored minutes): such a window is left out, so the
   * answer may miss requests but never counts one twice across consecutive ranges. For analysis,
   * where evidence counted twice would overstate it.
   */
  readonly exact?: boolean;
}

export interface QuantileQuery extends RangeQuery {
  /** In [0, 1]. */
  readonly q: number;
}

export interface ExceedanceQuery extends RangeQuery {
  readonly thresholdMs: number;
}

/** Latency summary in ms; every field is null when no request ended in the range. */
export interface LatencySummary {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly mean: number | null;
  readonly max: number | null;
}

/**
 * Moments of ln(latency in ms) over the successful requests of a range: what the latency comparison
 * on the log scale needs (a uniform slowdown shifts log-latency; src/stats/log-shift.ts). Failed
 * requests are left out (they are the error tests' business, and a timeout or a fast refusal would
 * dominate the sums). A Prometheus-backed adapter could derive them from summaries or histograms.
 */
export interface LogLatencyMoments {
  /** Successful requests summed. */
  readonly n: number;
  /** Σ ln(latency ms). */
  readonly sum: number;
  /** Σ ln²(latency ms). */
  readonly sumSq: number;
}

export interface WindowAggregate {
  readonly service: string;
  readonly revision: string;
  readonly from: number;
  readonly to: number;
  /** Requests that ended in the range. */
  readonly requests: number;
  /** 5xx responses, timeouts and resets: every request the client saw fail. */
  readonly errors: number;
  /** Included in `errors` as well. */
  readonly timeouts: number;
  /** Included in `errors` as well. */
  readonly resets: number;
  /** errors / requests; null when there were no requests, so that silence never reads as health. */
  readonly errorRate: number | null;
  readonly latency: LatencySummary;
  /** Highest number of requests in flight at once. */
  readonly inflightMax: number;
  /** Mean CPU cores used by the revision's processes; null when nothing was measured. */
  readonly cpuCores: number | null;
  /** Resident memory of the revision's processes at the last measurement; null when unknown. */
  readonly rssBytes: number | null;
  /**
   * How many 1-s windows in the range saw request activity. Like `resets` and `inflightMax`, the
   * builtin provider knows it only for the windows it still holds in memory, not for stored minutes.
   */
  readonly windows: number;
  /**
   * Log-latency moments of the range's successful requests. Absent or null when the provider does
   * not know them (the builtin one: when the range reaches into stored minutes, which keep none).
   */
  readonly logLatency?: LogLatencyMoments | null;
}

/** Requests whose latency was above a threshold: the indicator a Bernoulli latency-limit test needs. */
export interface Exceedances {
  readonly total: number;
  readonly above: number;
}

export interface RevisionSeen {
  readonly service: string;
  readonly revision: string;
  /** Last time (ms since epoch) a request or a process of this revision was observed. */
  readonly lastSeen: number;
}

export interface MetricsProvider {
  aggregate(query: RangeQuery): Promise<WindowAggregate>;
  /** Latency (ms) at quantile q; null when no request ended in the range. */
  quantile(query: QuantileQuery): Promise<number | null>;
  exceedances(query: ExceedanceQuery): Promise<Exceedances>;
  /**
   * One aggregate per window that has data, oldest first. Windows are 1 s long where the provider
   * still holds them at that resolution; older history may come back in coarser windows (the
   * builtin provider's store keeps minutes), each with its own from/to.
   */
  series(query: RangeQuery): Promise<WindowAggregate[]>;
  revisions(): Promise<RevisionSeen[]>;
}

/**
 * Rejects ranges that no adapter could answer consistently. A malformed range is a programming
 * error in the caller, so it throws rather than returning a result.
 */
export function checkRange(query: RangeQuery): void {
  const { from, to } = query;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from % 1000 !== 0 || to % 1000 !== 0) {
    throw new AugurError(
      'METRICS_RANGE_UNALIGNED',
      `metrics range [${from}, ${to}) must be aligned to whole seconds`,
    );
  }
  if (to < from) {
    throw new AugurError('METRICS_RANGE_INVERTED', `metrics range [${from}, ${to}) ends before it starts`);
  }
}

export function checkQuantile(q: number): void {
  if (!(q >= 0 && q <= 1)) {
    throw new AugurError('METRICS_QUANTILE_RANGE', `quantile ${q} is outside [0, 1]`);
  }
}
