import type { RollbackPolicy } from '../../config/types.js';
/**
 * The rollout state machine's data. Everything here is plain JSON: the controller persists it with
 * every event and resumes from it after a crash, and a replay rebuilds it from recorded observations.
 */

export type TierStatus = 'pending' | 'active' | 'paused' | 'passed' | 'failed' | 'rolled-back';

export interface CanaryTier {
  /** Percent of the service's traffic, steps of 0.01. */
  readonly share: number;
  /** The same share in basis points, as the router applies it. */
  readonly weight: number;
  readonly bake: { readonly minDurationMs: number; readonly minRequests: number };
  status: TierStatus;
  /** When the tier was started, i.e. its weight requested. */
  startedAt: number | null;
  /**
   * When the router confirmed the tier's weight: the tier's bake (time and requests) counts from
   * here, since until then the canary ran at the weight before. Null until then; absent in states
   * stored before it existed (they count from `startedAt`).
   */
  confirmedAt?: number | null;
  endedAt: number | null;
  /** Canary requests observed at this tier's weight, in windows that began once it was confirmed. */
  requests: number;
}

/** What a tick concluded for one service. */
export type Signal = 'GREEN' | 'YELLOW' | 'RED' | 'HOLD' | 'OBSERVE';

export type TrackPhase =
  'progressing' | 'warning' | 'paused' | 'rolling-back' | 'rolled-back' | 'promoting' | 'promoted';

export const TERMINAL_PHASES: readonly TrackPhase[] = ['rolled-back', 'promoted'];

/** One changed service's canary track inside a release. */
export interface ServiceTrack {
  readonly service: string;
  readonly stable: string;
  readonly canary: string;
  readonly tiers: CanaryTier[];
  tierIndex: number;
  phase: TrackPhase;
  /** Canary weight (basis points) the router has confirmed. */
  appliedWeight: number;
  /** Canary weight the controller asked for; differs from appliedWeight until the router confirms. */
  targetWeight: number;
  /** When the current YELLOW deviation was first seen, and since when it has been clear. */
  warningSince: number | null;
  clearSince: number | null;
  /** Start of the current stretch of ticks without data, null when data arrives. */
  noDataSince: number | null;
  /** Set when an operator paused the track; auto-resume never lifts it. */
  pausedByOperator: boolean;
  /** Why the track ended or paused: the evidence, for people. */
  reason: string | null;
  /** Sequential tests' state, owned by the analysis (opaque JSON here). */
  analysis: unknown;
  lastTickAt: number | null;
  /** End of the last window analysed: the next window starts here, so none is counted twice. */
  observedUntil: number | null;
  /**
   * A rollback test has come at least half its way (tick.ts CLOSE_WATCH_FROM): the controller
   * watches this track at the warning interval. Absent in states stored before it existed.
   */
  closeWatch?: boolean;
  /** Held because another service of the release went RED under the 'hold' policy. */
  heldByRelease?: string | null;
  /**
   * The latest risk figure and its failure point: the prediction's before the rollout (`source`
   * 'prediction'), then each re-prediction of the later tiers from the canary's figures ('rollout').
   * A tier advances only while it is ≤ `risk.low` (the last tier excepted: nothing is left to
   * predict there). Absent in states stored before it existed.
   */
  risk?: {
    readonly value: number;
    readonly breachTier: number | null;
    readonly detail: string | null;
    readonly source?: 'prediction' | 'rollout';
  } | null;
  /**
   * The track's latest signalled event (a decision, a warning, a pause, a rollback, a promotion):
   * its signal and message, what the dashboard shows as the track's state. Set by
   * `Transition.event`. Absent in states stored before it existed.
   */
  decision?: { readonly signal: Signal; readonly message: string; readonly at: number } | null;
}

/** What a prediction made before the rollout said of the release, for each changed service. */
export interface PriorRisk {
  readonly value: number;
  readonly breachTier: number | null;
  readonly detail: string | null;
}

/**
 * What a restore threw away: the data written since the backup. A restore puts the whole backup
 * back, so rows the later traffic wrote soundly go with the harmed ones; this says how many, and
 * where a copy of the data as it stood before the restore was kept, so that they can be recovered.
 */
export interface DiscardedChanges {
  /** When the backup was taken: what the data received since then is replaced. */
  readonly since: number;
  /**
   * Rows present before the restore that the backup did not hold (written or changed since it),
   * over every restore of that backup: discarded. Null when the backup's kind cannot count them.
   */
  readonly rows: number | null;
  /** Rows the backup held that had been deleted or changed since: put back. Null when not counted. */
  readonly reverted: number | null;
  /** `rows` per table, tables with none left out. */
  readonly tables: Readonly<Record<string, number>>;
  /** Copies of the data as it stood before each restore of this backup (the discarded rows are there). */
  readonly kept: readonly string[];
  /** Why the rows were not counted, or what limits the count; null when nothing does. */
  readonly note: string | null;
}

/** A release's mitigations: the backups taken before its first tier and the step in progress. */
export interface MitigationState {
  readonly backups: readonly { readonly name: string; readonly path: string; readonly takenAt: number }[];
  /** Mitigations that restore by themselves when their check fails. */
  readonly auto: readonly string[];
  /** The step the engine must run next; null when none is due. Persisted: a restart runs it again. */
  pending: 'check' | 'restore' | 'recheck' | null;
  status: 'ready' | 'ok' | 'restored' | 'manual' | 'failed';
  /** How many rollbacks have triggered a check so far. */
  round: number;
  /** The service whose rollback started the current round. */
  trigger: string | null;
  /**
   * A service rolled back while a step was pending: its data is checked in another round once the
   * current one ends well (the running step may have read the data before that service's last
   * writes). Absent in states stored before it existed.
   */
  next?: string | null;
  /**
   * What the restores discarded, per mitigation (the latest restore of each: its count covers the
   * earlier restores of the same backup). Absent before a restore, and in states stored before it
   * existed.
   */
  discarded?: { readonly name: string; readonly at: number; readonly changes: DiscardedChanges }[];
}

export type ReleasePhase = 'running' | 'promoted' | 'rolled-back' | 'aborted' | 'mixed';

export interface ReleaseState {
  readonly release: string;
  readonly application: string;
  readonly createdAt: number;
  readonly alpha: number;
  readonly risk: { readonly low: number; readonly high: number };
  readonly monitoring: {
    readonly intervalMs: number;
    readonly warningIntervalMs: number;
    /** How long a deviation must stay clear before a YELLOW track resumes by itself. */
    readonly resumeAfterMs: number;
    /** How long without data before the outage action. */
    readonly outageAfterMs: number;
    readonly outageAction: 'hold' | 'rollback';
  };
  /** Delay between setting a rolled-back canary's weight to 0 and stopping it. */
  readonly stopCanaryAfterMs: number;
  /** What happens to the other services when one goes RED; absent in older states: 'service'. */
  readonly rollbackPolicy?: RollbackPolicy;
  /**
   * Every service's callees, direct and indirect (from the application's `calls`), for fault
   * attribution and the rollback order. Absent in older states: no attribution.
   */
  readonly callees?: Readonly<Record<string, readonly string[]>>;
  /** Absent when the release declares no backups (and in older states). */
  readonly mitigation?: MitigationState;
  readonly tracks: ServiceTrack[];
  /** Set by `abort`: the release ended by an operator. */
  aborted: boolean;
  /** Number of events so far: the next event's sequence number. */
  sequence: number;
}
