import type { Step } from './release.js';
import { endIfDone, isTerminal, requestWeight, RISK_HOLD, startRollback, Transition } from './release.js';
import type { ReleaseState, ServiceTrack } from './types.js';
import { startMitigation } from './mitigation.js';

export type OperatorCommand =
  | { readonly type: 'pause'; readonly service?: string }
  | { readonly type: 'resume'; readonly service?: string }
  | { readonly type: 'promote'; readonly service?: string }
  | { readonly type: 'abort' }
  | { readonly type: 'rollback'; readonly service?: string };

/** An operator's command; `actor` names who gave it, for the audit log. */
export function command(state: ReleaseState, cmd: OperatorCommand, actor: string, now: number): Step {
  const t = new Transition(state, now);
  const service = 'service' in cmd ? cmd.service : undefined;
  const tracks = t.state.tracks.filter(
    (tr) => !isTerminal(tr) && (service === undefined || tr.service === service),
  );
  t.event(
    'operator',
    service ?? null,
    `${actor}: ${cmd.type}${service !== undefined ? ` ${service}` : ''}`,
    null,
    {
      command: cmd.type,
      actor,
    },
  );
  let aborts = false;
  for (const track of tracks) {
    switch (cmd.type) {
      case 'pause':
        pause(t, track, actor);
        break;
      case 'resume':
        resume(t, track, actor);
        break;
      case 'promote':
        if (track.phase === 'rolling-back') break;
        track.phase = 'promoting';
        for (const tier of track.tiers) if (tier.status !== 'passed') tier.status = 'passed';
        t.event('decision', track.service, `${track.service} ${track.canary}: promoted by ${actor}`, 'GREEN');
        t.actions.push({ type: 'make-stable', service: track.service, revision: track.canary });
        break;
      case 'abort':
        if (refusedWhilePromoting(t, track, cmd.type)) break;
        aborts = true;
        startRollback(t, track, `aborted by ${actor}`);
        break;
      case 'rollback':
        if (refusedWhilePromoting(t, track, cmd.type)) break;
        startRollback(t, track, `rolled back by ${actor}`);
        break;
    }
  }
  // An abort that could take nothing back (every track left is being promoted) does not mark the
  // release aborted: it ends as the promotions leave it.
  if (aborts) t.state.aborted = true;
  return t.done();
}

/**
 * A track being promoted is not rolled back: the data plane may already have made the canary the
 * stable revision, and weight 0 would then leave the new revision serving everything while the
 * release said it was rolled back. Going back takes a new release of the previous revision.
 */
function refusedWhilePromoting(t: Transition, track: ServiceTrack, cmd: 'abort' | 'rollback'): boolean {
  if (track.phase !== 'promoting') return false;
  t.event(
    'operator',
    track.service,
    `${track.service}: ${cmd} refused: ${track.canary} is being promoted to stable; to go back, release ${track.stable} again as a new release`,
    null,
    { command: cmd, refused: 'promoting' },
  );
  return true;
}

function pause(t: Transition, track: ServiceTrack, actor: string): void {
  if (track.phase !== 'progressing' && track.phase !== 'warning') return;
  track.phase = 'paused';
  track.pausedByOperator = true;
  track.reason = `paused by ${actor}`;
  const tier = track.tiers[track.tierIndex];
  if (tier !== undefined) tier.status = 'paused';
  t.event('paused', track.service, `${track.service}: paused by ${actor}`, 'HOLD');
}

/** A track `resume` changes: paused, YELLOW, or going on under the risk predicted before the rollout. */
export function resumable(track: ServiceTrack): boolean {
  return track.phase === 'paused' || track.phase === 'warning' || acceptsPredictedRisk(track);
}

function acceptsPredictedRisk(track: ServiceTrack): boolean {
  return track.phase === 'progressing' && track.risk?.source === 'prediction';
}

/**
 * Resumes a paused or YELLOW track. On a track that goes on only while the risk predicted before
 * the rollout is above `risk.low`, the operator accepts that risk: from here the canary's own
 * re-predictions are the only risk (a later one above `risk.low` holds the track again).
 */
function resume(t: Transition, track: ServiceTrack, actor: string): void {
  if (acceptsPredictedRisk(track)) {
    track.risk = null;
    if (track.reason?.startsWith(RISK_HOLD) === true) track.reason = null;
    t.event(
      'resumed',
      track.service,
      `${track.service}: the risk predicted before the rollout accepted by ${actor}; the canary's own figures decide from here`,
    );
    return;
  }
  if (track.phase !== 'paused' && track.phase !== 'warning') return;
  track.phase = 'progressing';
  track.pausedByOperator = false;
  track.heldByRelease = null;
  track.warningSince = null;
  track.clearSince = null;
  track.reason = null;
  const tier = track.tiers[track.tierIndex];
  if (tier !== undefined) tier.status = 'active';
  t.event('resumed', track.service, `${track.service}: resumed`);
}

/** The router confirmed a weight: a rollback completes only here, never before. */
export function weightApplied(state: ReleaseState, service: string, weight: number, now: number): Step {
  const t = new Transition(state, now);
  const track = t.track(service);
  if (track === undefined) return t.done();
  track.appliedWeight = weight;
  const tier = track.tiers[track.tierIndex];
  const tierWeight =
    !isTerminal(track) &&
    track.phase !== 'rolling-back' &&
    tier !== undefined &&
    weight === tier.weight &&
    track.targetWeight === weight;
  if (tierWeight && (tier.confirmedAt ?? null) === null) tier.confirmedAt = now;
  t.event('weight-applied', service, `${service}: router applied ${weight / 100}% to ${track.canary}`, null, {
    weight,
  });
  if (track.phase === 'rolling-back' && weight === 0 && track.targetWeight === 0) {
    track.phase = 'rolled-back';
    if (tier !== undefined) tier.status = 'rolled-back';
    t.event('rolled-back', service, `${service} ${track.canary} rolled back: ${track.reason ?? ''}`, 'RED');
    t.actions.push({
      type: 'stop-revision',
      service,
      revision: track.canary,
      notBefore: now + t.state.stopCanaryAfterMs,
    });
    startMitigation(t, service);
    endIfDone(t);
  }
  return t.done();
}

/** The data plane made the canary the stable revision. */
export function promotionApplied(state: ReleaseState, service: string, now: number): Step {
  const t = new Transition(state, now);
  const track = t.track(service);
  if (track === undefined || track.phase !== 'promoting') return t.done();
  track.phase = 'promoted';
  track.appliedWeight = 10_000;
  track.targetWeight = 10_000;
  t.event('promoted', service, `${service} ${track.canary} is now stable`, 'GREEN');
  endIfDone(t);
  return t.done();
}

/** The router refused or failed: recorded; the caller retries with backoff. */
export function routerFailed(
  state: ReleaseState,
  service: string,
  message: string,
  attempt: number,
  now: number,
): Step {
  const t = new Transition(state, now);
  t.event('router-failed', service, `${service}: router failed (attempt ${attempt}): ${message}`, null, {
    attempt,
  });
  return t.done();
}

/** Re-issues the weight the controller wants, e.g. after a restart found the router elsewhere. */
export function reassertWeight(state: ReleaseState, service: string, now: number): Step {
  const t = new Transition(state, now);
  const track = t.track(service);
  if (track !== undefined && !isTerminal(track)) requestWeight(t, track, track.targetWeight);
  return t.done();
}
