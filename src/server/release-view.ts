import type { ReleasePhase, ReleaseState, Signal, TrackPhase } from '../controller/core/types.js';
import type { ReleaseRecord, StoredEvent } from '../store/store.js';

/** One changed service of a release, as the API shows it (weights in percent). */
export interface TrackView {
  readonly service: string;
  readonly stable: string;
  readonly canary: string;
  readonly phase: TrackPhase;
  /** Share of the current tier, percent; null before the first. */
  readonly tier: number | null;
  readonly tierIndex: number;
  readonly tiers: readonly number[];
  /** Canary weight the router has confirmed, percent. */
  readonly weight: number;
  /** Canary weight the controller asked for, percent. */
  readonly targetWeight: number;
  readonly reason: string | null;
  /** The latest re-predicted risk of breaching a limit at a later tier, when one was made. */
  readonly risk: {
    readonly value: number;
    readonly breachTier: number | null;
    readonly detail: string | null;
  } | null;
  /** The latest signalled event of the track (GREEN, YELLOW, RED, HOLD …): its state, and why. */
  readonly decision: { readonly signal: Signal; readonly message: string; readonly at: number } | null;
}

export interface ReleaseView {
  readonly name: string;
  readonly application: string;
  readonly phase: ReleasePhase;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Sequence of the latest stored event (-1 before any). */
  readonly lastSequence: number;
  readonly services: readonly TrackView[];
}

/** The summary of a stored release: its state is the controller's, stored as JSON. */
export function releaseView(record: ReleaseRecord): ReleaseView {
  const state = record.state as Partial<ReleaseState> | null;
  const tracks = Array.isArray(state?.tracks) ? state.tracks : [];
  return {
    name: record.name,
    application: record.application,
    phase: record.phase as ReleasePhase,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    lastSequence: (state?.sequence ?? 0) - 1,
    services: tracks.map((t) => ({
      service: t.service,
      stable: t.stable,
      canary: t.canary,
      phase: t.phase,
      tier: t.tiers[t.tierIndex]?.share ?? null,
      tierIndex: t.tierIndex,
      tiers: t.tiers.map((tier) => tier.share),
      weight: t.appliedWeight / 100,
      targetWeight: t.targetWeight / 100,
      reason: t.reason,
      risk: t.risk ?? null,
      decision: t.decision ?? null,
    })),
  };
}

/** A stored event as the API sends it (also the `data:` of its SSE message). */
export type EventView = StoredEvent;
