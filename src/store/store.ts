/**
 * The store port. Every method is async so that a PostgreSQL implementation can satisfy it;
 * the SQLite implementation (store/sqlite) is the embedded default.
 */

/** A child process the runtime started, recorded so that a restarted Augur can stop orphans. */
export interface ProcessRecord {
  readonly pid: number;
  readonly service: string;
  readonly revision: string;
  readonly replica: number;
  readonly port: number;
  /** Process start time from /proc/PID/stat (clock ticks since boot): guards against PID reuse. */
  readonly startTicks: number;
  /** Identifies the Augur run that started it. */
  readonly owner: string;
  readonly startedAt: number;
}

/** The traffic split the router applies for one service, so that no weight goes unrecorded. */
export interface TrafficRecord {
  readonly service: string;
  /** The revision serving the rest of the traffic; null while it is the configured `stable`. */
  readonly stableRevision?: string | null;
  readonly canaryRevision: string | null;
  /** Canary weight in basis points (0..10,000). */
  readonly canaryWeight: number;
  readonly updatedAt: number;
}

/** One minute of aggregated metrics for a service × revision. */
export interface MetricMinute {
  readonly service: string;
  readonly revision: string;
  /** Start of the minute, ms since epoch, aligned to 60,000. */
  readonly minute: number;
  readonly requests: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly latencyP50Ms: number | null;
  readonly latencyP95Ms: number | null;
  readonly latencyP99Ms: number | null;
  readonly latencyMeanMs: number | null;
  /** CPU cores used on average over the minute by the revision's processes. */
  readonly cpuCores: number | null;
  readonly rssBytes: number | null;
  /** Serialized DDSketch of latencies (ms), so that minutes can be merged later. */
  readonly sketch: Uint8Array | null;
}

export interface MetricHistoryQuery {
  readonly service?: string;
  readonly revision?: string;
  readonly from?: number;
  readonly to?: number;
}

/** A release's specification and its controller state, both as JSON-compatible values. */
export interface ReleaseRecord {
  readonly name: string;
  readonly application: string;
  readonly phase: string;
  readonly spec: unknown;
  readonly state: unknown;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One entry of a release's audit log. */
export interface StoredEvent {
  readonly release: string;
  readonly sequence: number;
  readonly at: number;
  readonly service: string | null;
  readonly type: string;
  readonly signal: string | null;
  readonly message: string;
  readonly data: unknown;
}

/** Roles of API tokens, weakest first: each role may do everything the previous one may. */
export type TokenRole = 'viewer' | 'operator' | 'admin';

/** An API token as stored: never the secret, only its SHA-256 hash (hex). */
export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly role: TokenRole;
  readonly hash: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
}

/**
 * A production request the router recorded, for replay in the sandbox: never a credential (the
 * router keeps only allow-listed headers and drops any whose name looks like one).
 */
export interface RequestSample {
  readonly method: string;
  /** Path and query, as sent by the client (query values of credential-like names redacted). */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The body, when it was small enough to keep; null when there was none. */
  readonly body: Uint8Array | null;
  readonly recordedAt: number;
}

/**
 * One training row of the prediction model (calibration/features.ts): a metrics window of a
 * service × revision, the simulator's values for it, production's, and — when a model was
 * current — the ranges it gave before the window was observed (so coverage is tracked over time).
 */
export interface StoredModelRow {
  readonly service: string;
  readonly revision: string;
  readonly at: number;
  readonly windowMs: number;
  readonly requests: number;
  readonly features: readonly number[];
  readonly simulated: Readonly<Record<string, number | null>>;
  readonly observed: Readonly<Record<string, number | null>>;
  readonly modelId: string | null;
  readonly ranges: Readonly<
    Record<string, { readonly low: number; readonly high: number; readonly source: string }>
  > | null;
}

export interface ModelRowQuery {
  readonly from?: number;
  readonly to?: number;
  /** The newest this many (returned oldest first). */
  readonly limit?: number;
  /** Skip this many of the newest first (paging back in time with `limit`). */
  readonly offset?: number;
}

/** A trained model version as stored: a summary for listings and the full body to load. */
export interface StoredModelVersion {
  readonly id: string;
  readonly createdAt: number;
  readonly summary: unknown;
  readonly body: unknown;
}

/** A risk score a prediction gave a release, kept to check the scores' calibration later. */
export interface StoredPrediction {
  readonly release: string;
  readonly predictedAt: number;
  readonly risk: number;
  readonly breachTier: number | null;
  readonly modelId: string | null;
}

/** How many request samples the store keeps per service by default: the newest. */
export const REQUEST_SAMPLES_KEPT = 1000;

export interface Store {
  readonly kind: string;

  recordProcess(record: ProcessRecord): Promise<void>;
  forgetProcess(pid: number): Promise<void>;
  listProcesses(): Promise<ProcessRecord[]>;

  saveTraffic(record: TrafficRecord): Promise<void>;
  listTraffic(): Promise<TrafficRecord[]>;

  /**
   * Stores a release's new state together with the events that led to it, atomically: either both
   * are durable or neither is. Event sequence numbers are unique per release.
   */
  saveRelease(record: ReleaseRecord, events: readonly StoredEvent[]): Promise<void>;
  getRelease(name: string): Promise<ReleaseRecord | null>;
  listReleases(): Promise<ReleaseRecord[]>;
  releaseEvents(name: string, afterSequence?: number): Promise<StoredEvent[]>;

  /** Inserts a new token; an id or hash already stored is refused. */
  saveToken(record: TokenRecord): Promise<void>;
  /** Records a token's last use; an unknown (e.g. revoked) id is left alone, never re-created. */
  touchToken(id: string, at: number): Promise<void>;
  findTokenByHash(hash: string): Promise<TokenRecord | null>;
  /** Every token, oldest first. */
  listTokens(): Promise<TokenRecord[]>;
  /** Deletes a token; false when no token has that id. */
  revokeToken(id: string): Promise<boolean>;

  saveMetricMinutes(rows: readonly MetricMinute[]): Promise<void>;
  metricHistory(query: MetricHistoryQuery): Promise<MetricMinute[]>;

  /**
   * Adds recorded requests of a service, then keeps only its newest `keep` samples (by
   * `recordedAt`, then insertion order); default REQUEST_SAMPLES_KEPT.
   */
  saveRequestSamples(service: string, samples: readonly RequestSample[], keep?: number): Promise<void>;
  /** A service's newest `limit` samples, oldest first. */
  requestSamples(service: string, limit: number): Promise<RequestSample[]>;

  /** Schema version after migrations. */
  saveModelRows(rows: readonly StoredModelRow[]): Promise<void>;
  modelRows(query?: ModelRowQuery): Promise<StoredModelRow[]>;
  countModelRows(since?: number): Promise<number>;
  saveModelVersion(version: StoredModelVersion): Promise<void>;
  /** Newest first; bodies only when asked (they are large). */
  listModelVersions(withBodies?: boolean): Promise<StoredModelVersion[]>;
  latestModelVersion(): Promise<StoredModelVersion | null>;
  saveCalibrationState(metric: string, modelId: string, state: unknown, at: number): Promise<void>;
  calibrationStates(): Promise<{ metric: string; modelId: string; state: unknown; updatedAt: number }[]>;
  savePrediction(prediction: StoredPrediction): Promise<void>;
  listPredictions(): Promise<StoredPrediction[]>;

  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}

/** The part of the store the request recorder needs. */
export type RequestSampleStore = Pick<Store, 'saveRequestSamples' | 'requestSamples'>;

/** The part of the store the metrics history needs. */
export type MetricHistoryStore = Pick<Store, 'saveMetricMinutes' | 'metricHistory'>;
