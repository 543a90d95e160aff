import type { ApplicationConfig, ReleaseConfig } from '../../config/types.js';
import { percentToBasisPoints } from '../../config/types.js';
import type { Action, ReleaseEvent, ReleaseEventType } from './events.js';
import type { Analysis } from './observation.js';
import type {
  CanaryTier,
  MitigationState,
  PriorRisk,
  ReleasePhase,
  ReleaseState,
  ServiceTrack,
  Signal,
} from './types.js';
import { TERMINAL_PHASES } from './types.js';

/** The result of every transition: the new state, the events to store, then the actions to apply. */
export interface Step {
  readonly state: ReleaseState;
  readonly events: readonly ReleaseEvent[];
  readonly actions: readonly Action[];
}

/** Collects a transition's events and actions; the state is a private deep copy. */
export class Transition {
  readonly state: ReleaseState;
  readonly events: ReleaseEvent[] = [];
  readonly actions: Action[] = [];
  readonly now: number;

  constructor(state: ReleaseState, now: number) {
    this.state = structuredClone(state);
    this.now = now;
  }

  event(
    type: ReleaseEventType,
    service: string | null,
    message: string,
    signal: Signal | null = null,
    data: Record<string, unknown> = {},
  ): void {
    this.events.push({
      sequence: this.state.sequence++,
      at: this.now,
      release: this.state.release,
      service,
      type,
      signal,
      message,
      data,
    });
    // A mitigation's signal is about the data, not the canary: it does not change the track's state.
    if (signal !== null && service !== null && type !== 'mitigation') {
      const track = this.track(service);
      if (track !== undefined) track.decision = { signal, message, at: this.now };
    }
  }

  track(service: string): ServiceTrack | undefined {
    return this.state.tracks.find((t) => t.service === service);
  }

  done(): Step {
    return { state: this.state, events: this.events, actions: this.actions };
  }
}

export interface ControllerSettings {
  readonly resumeAfterMs: number;
  readonly outageAfterMs: number;
  readonly outageAction: 'hold' | 'rollback';
  readonly stopCanaryAfterMs: number;
}

export const DEFAULT_SETTINGS: ControllerSettings = {
  resumeAfterMs: 30_000,
  outageAfterMs: 60_000,
  outageAction: 'hold',
  stopCanaryAfterMs: 30_000,
};

/** A new release: every changed service gets its track and starts at its first tier. */
export function createRelease(
  release: ReleaseConfig,
  app: ApplicationConfig,
  analysis: Analysis,
  now: number,
  settings: ControllerSettings = DEFAULT_SETTINGS,
  priors: Readonly<Record<string, PriorRisk>> = {},
  backups: MitigationState['backups'] = [],
): Step {
  const tracks: ServiceTrack[] = release.changes.map((change) => ({
    service: change.service,
    stable: app.services[change.service]?.stable ?? '',
    canary: change.revision,
    tiers: release.tiers.map((share) => ({
      share,
      weight: percentToBasisPoints(share),
      bake: release.bake,
      status: 'pending',
      startedAt: null,
      endedAt: null,
      requests: 0,
    })),
    tierIndex: 0,
    phase: 'progressing',
    appliedWeight: 0,
    targetWeight: 0,
    warningSince: null,
    clearSince: null,
    noDataSince: null,
    pausedByOperator: false,
    reason: null,
    analysis: analysis.initial(change.service),
    lastTickAt: null,
    observedUntil: null,
    risk: priorOf(priors, change.service),
  }));
  const initial: ReleaseState = {
    release: release.name,
    application: app.name,
    createdAt: now,
    alpha: release.alpha,
    risk: release.risk,
    monitoring: {
      intervalMs: release.monitoring.intervalMs,
      warningIntervalMs: release.monitoring.warningIntervalMs,
      resumeAfterMs: settings.resumeAfterMs,
      outageAfterMs: settings.outageAfterMs,
      outageAction: settings.outageAction,
    },
    stopCanaryAfterMs: settings.stopCanaryAfterMs,
    rollbackPolicy: release.rollback?.policy ?? 'service',
    callees: transitiveCallees(app),
    ...(backups.length === 0
      ? {}
      : {
          mitigation: {
            backups,
            auto: release.mitigations.filter((m) => m.restore === 'auto').map((m) => m.name),
            pending: null,
            status: 'ready' as const,
            round: 0,
            trigger: null,
          },
        }),
    tracks,
    aborted: false,
    sequence: 0,
  };
  const t = new Transition(initial, now);
  t.event('release-started', null, `release ${release.name} of ${app.name} started`, null, {
    changes: release.changes.map((c) => `${c.service} ${c.revision}`),
    tiers: release.tiers,
    ...(Object.keys(priors).length === 0 ? {} : { predicted: priors }),
    ...(backups.length === 0 ? {} : { backups }),
  });
  for (const track of t.state.tracks) startTier(t, track, 0);
  return t.done();
}

/** Makes tier `index` the active one and asks the router for its weight. */
export function startTier(t: Transition, track: ServiceTrack, index: number): void {
  const tier = track.tiers[index];
  if (tier === undefined) return;
  track.tierIndex = index;
  tier.status = 'active';
  tier.startedAt = t.now;
  tier.confirmedAt = null;
  tier.requests = 0;
  track.targetWeight = tier.weight;
  t.event('tier-started', track.service, `${track.service} ${track.canary}: tier ${tier.share}%`, null, {
    tier: index,
    share: tier.share,
  });
  requestWeight(t, track, tier.weight);
}

export function requestWeight(t: Transition, track: ServiceTrack, weight: number): void {
  track.targetWeight = weight;
  t.event('weight-requested', track.service, `${track.service} ${track.canary} → ${weight / 100}%`, null, {
    weight,
  });
  t.actions.push({ type: 'set-weight', service: track.service, revision: track.canary, weight });
}

/** RED: weight to 0 at once; the track is rolled back when the router confirms it. */
export function startRollback(
  t: Transition,
  track: ServiceTrack,
  reason: string,
  data: Record<string, unknown> = {},
): void {
  if (track.phase === 'rolling-back' || TERMINAL_PHASES.includes(track.phase)) return;
  track.phase = 'rolling-back';
  track.reason = reason;
  const tier = track.tiers[track.tierIndex];
  if (tier !== undefined) {
    tier.status = 'failed';
    tier.endedAt = t.now;
  }
  t.event('rollback-started', track.service, `${track.service} ${track.canary}: ${reason}`, 'RED', data);
  requestWeight(t, track, 0);
}

/** A service's risk as the prediction before the rollout gave it, or none. */
function priorOf(
  priors: Readonly<Record<string, PriorRisk>>,
  service: string,
): NonNullable<ServiceTrack['risk']> | null {
  const prior = priors[service];
  return prior === undefined ? null : { ...prior, source: 'prediction' };
}

/** Each service's callees, direct and indirect, sorted (the configuration forbids cycles). */
export function transitiveCallees(app: ApplicationConfig): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const visit = (service: string, seen: Set<string>): void => {
    for (const call of app.services[service]?.calls ?? []) {
      if (seen.has(call.service)) continue;
      seen.add(call.service);
      visit(call.service, seen);
    }
  };
  for (const service of Object.keys(app.services)) {
    const seen = new Set<string>();
    visit(service, seen);
    out[service] = [...seen].sort();
  }
  return out;
}

export function isTerminal(track: ServiceTrack): boolean {
  return TERMINAL_PHASES.includes(track.phase);
}

/**
 * The router still has something to do for this track: a promotion to carry out, a weight not yet
 * confirmed, or a rollback. A rollback always sends weight 0 and waits for its confirmation, even
 * when 0 is the last weight confirmed: the request for the first tier's weight may still land, or
 * the data plane may restore it after a crash, and nothing else would take it back.
 */
export function routerPending(track: ServiceTrack): boolean {
  if (track.phase === 'promoting' || track.phase === 'rolling-back') return true;
  return !isTerminal(track) && track.appliedWeight !== track.targetWeight;
}

/** When the tier's weight took effect, so its bake counts from there; null while unconfirmed. */
export function bakeStart(tier: CanaryTier): number | null {
  return tier.confirmedAt === undefined ? tier.startedAt : tier.confirmedAt;
}

export function releasePhase(state: ReleaseState): ReleasePhase {
  if (state.tracks.some((t) => !isTerminal(t))) return 'running';
  // A data check or restore still to run keeps the release open until it is done.
  if ((state.mitigation?.pending ?? null) !== null) return 'running';
  if (state.aborted) return 'aborted';
  if (state.tracks.every((t) => t.phase === 'promoted')) return 'promoted';
  if (state.tracks.every((t) => t.phase === 'rolled-back')) return 'rolled-back';
  return 'mixed';
}

/** The release-ended event, once every track is done and no mitigation step is pending. */
export function endIfDone(t: Transition): void {
  const phase = releasePhase(t.state);
  if (phase !== 'running')
    t.event('release-ended', null, `release ${t.state.release} ended: ${phase}`, null, { phase });
}

/** How a track held by its risk (tick.ts) says so: the reason starts with it. */
export const RISK_HOLD = 'holding at tier';

/**
 * The controller watches more often while any track is in YELLOW, or a track's evidence is building
 * towards a rollback (`closeWatch`).
 */
export function nextIntervalMs(state: ReleaseState): number {
  const closer = state.tracks.some(
    (t) =>
      t.phase === 'warning' || (t.closeWatch === true && (t.phase === 'progressing' || t.phase === 'paused')),
  );
  return closer ? state.monitoring.warningIntervalMs : state.monitoring.intervalMs;
}
