/** What the controller observed of one changed service over one tick's window. */
export interface RevisionWindow {
  readonly requests: number;
  /** 5xx, resets and timeouts. */
  readonly errors: number;
  /** Requests slower than the service's latency limit (null when it has none). */
  readonly slow: number | null;
  readonly latencyP99Ms: number | null;
  /** Mean CPU cores used by all the revision's processes, and the cores they were given. */
  readonly cpuCores: number | null;
  readonly cpuCapacity: number | null;
  /**
   * Σ ln(latency ms) and Σ ln² over the window's successful requests (n of them): the latency
   * comparison with the stable on the log scale. Absent or null: the metrics source cannot say, and
   * the comparison falls back to `Observation.latencySplit`.
   */
  readonly logLatency?: LogLatencyMoments | null;
  /**
   * The same moments over the window just before this one (read for the stable revision only):
   * they seed the comparison's variance estimate, so that its first window is tested too. Kept in
   * the window so that the observation event records it and a replay sees it.
   */
  readonly logLatencyBefore?: LogLatencyMoments | null;
}

/** Moments of ln(latency ms) over successful requests (the metrics provider's LogLatencyMoments). */
export interface LogLatencyMoments {
  readonly n: number;
  readonly sum: number;
  readonly sumSq: number;
}

export interface Observation {
  readonly service: string;
  readonly from: number;
  readonly to: number;
  /** Canary weight (basis points) in force during the window. */
  readonly weight: number;
  /** null: the metrics source could not be read — never evidence of health. */
  readonly canary: RevisionWindow | null;
  /** Why the metrics could not be read, when they could not. */
  readonly unavailable?: string;
  readonly stable: RevisionWindow | null;
  /** The runtime reports the canary restarting in a loop. */
  readonly crashLoop: boolean;
  /** Updated probability of breaching a limit before 100% (null: no prediction available). */
  readonly risk: number | null;
  /** Where the risk comes from: the re-prediction of the later tiers, when one was made. */
  readonly forecast?: { readonly breachTier: number | null; readonly detail: string } | null;
  /**
   * The predicted range's harmful edge for the canary's latency, and how many canary requests
   * exceeded it in the window (null: no prediction for this window).
   */
  readonly predicted: {
    readonly latencyHighMs: number;
    readonly above: number;
    readonly nominalTail: number;
    /** How nominalTail is meant (PredictedRange.per); absent: per request. */
    readonly per?: 'request' | 'window';
  } | null;
  /**
   * The table the latency comparison with the stable needs: the stable's requests slower than a
   * threshold fixed before the window (the stable's median of the previous window), and the
   * canary's slower than `canaryThresholdMs` = that threshold × (1 + the release's tolerated
   * increase) plus `marginMs` — so the comparison asks "is the canary slower by more than it
   * tolerates", and sub-millisecond differences (a process at a tenth of the load wakes up more
   * slowly) are no regression. Absent or null: no threshold for this window, and the comparison
   * skips it.
   */
  readonly latencySplit?: {
    readonly thresholdMs: number;
    readonly marginMs: number;
    /** Absent in observations recorded before tolerances existed: threshold + margin. */
    readonly canaryThresholdMs?: number;
    readonly canaryAbove: number;
    readonly stableAbove: number;
  } | null;
}

/**
 * The canary's requests so far in the current, incomplete second [from, to): read every tick so
 * that the hard guard need not wait for the second to complete. Nothing else reads it.
 */
export interface PartialWindow {
  readonly service: string;
  readonly from: number;
  readonly to: number;
  readonly canary: { readonly requests: number; readonly errors: number };
}

/**
 * A canary request counts as slower than the stable's threshold only beyond this margin (the split
 * comparison). The log-scale comparison has its own, smaller tolerance (sequential.ts): it compares
 * means over many requests rather than single requests against a median.
 */
export const LATENCY_MARGIN_MS = 1;

export interface Finding {
  /** e.g. `error-rate-limit`, `latency-limit`, `error-vs-stable`, `predicted-range`, `hard-guard`. */
  readonly test: string;
  readonly message: string;
  /** The e-value (or ratio) behind the finding, for the audit log. */
  readonly evidence: number | null;
}

export interface AnalysisResult {
  readonly state: unknown;
  /** Limits breached with significance (or hard guards): RED. */
  readonly breaches: readonly Finding[];
  /** Significant harmful deviation from the predicted range, within limits: YELLOW. */
  readonly deviations: readonly Finding[];
  /** Every limit test is confident the canary is within its limits. */
  readonly withinLimits: boolean;
  /**
   * The canary's errors are shown not meaningfully worse than the stable's (or the analysis has
   * nothing to ask of them). Like withinLimits, the last two tiers wait for it. Absent: true.
   */
  readonly errorsNotWorse?: boolean;
  /**
   * The rollback test nearest to rolling back, and how far it has come: ln E ÷ ln(1/α) of its
   * e-process (1 at its threshold, ≤ 0 while the data speak against it). Absent: not known.
   */
  readonly closest?: { readonly test: string; readonly share: number } | null;
}

/**
 * The sequential analysis the decision core runs at each tick: pure, its state plain JSON.
 * `update` is fed every window in order; tiers change the weight, not the test.
 */
export interface Analysis {
  initial(service: string): unknown;
  update(state: unknown, observation: Observation): AnalysisResult;
}
